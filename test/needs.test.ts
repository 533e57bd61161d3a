/**
 * Which installed packages a test file needs (src/mirror/needs.ts) and how both sides find
 * packages in a manifest (src/ship/packages.ts): on real Jest contexts (jest-config and
 * jest-runtime, as a run gets them), npm's nested layout and pnpm's links.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Test } from '@jest/test-result';
import type { Config } from '@jest/types';
import { readConfig } from 'jest-config';
import Runtime from 'jest-runtime';
import { HashCache } from '../src/mirror/hash-cache';
import { PackageNeeds } from '../src/mirror/needs';
import { buildMirror, type Mirror } from '../src/mirror/walk';
import { PackageIndex, packageNameOf } from '../src/ship/packages';

let work: string;
beforeEach(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'jrl-needs-'));
});
afterEach(() => fs.rmSync(work, { recursive: true, force: true }));

const write = (rel: string, content: string) => {
  fs.mkdirSync(path.dirname(path.join(work, rel)), { recursive: true });
  fs.writeFileSync(path.join(work, rel), content);
};
const pkg = (dir: string, dependencies: Record<string, string> = {}, files: Record<string, string> = { 'index.js': 'module.exports = 1;\n' }) => {
  write(`${dir}/package.json`, JSON.stringify({ name: path.basename(dir), version: '1.0.0', dependencies }));
  for (const [file, content] of Object.entries(files)) write(`${dir}/${file}`, content);
};

describe('PackageIndex', () => {
  const manifest = {
    links: [
      { path: 'node_modules/foo', target: '.pnpm/foo@1.0.0/node_modules/foo' },
      { path: 'node_modules/.pnpm/foo@1.0.0/node_modules/bar', target: '../../bar@2.0.0/node_modules/bar' },
    ],
    packDirs: [
      'node_modules/.pnpm/foo@1.0.0/node_modules/foo',
      'node_modules/.pnpm/bar@2.0.0/node_modules/bar',
      'node_modules/a',
      'node_modules/a/node_modules/b',
      'node_modules/b',
    ],
  };
  const index = new PackageIndex(manifest);

  test('a path lies in the deepest package above it, links followed as the tree resolves them', () => {
    expect(index.packOf('node_modules/a/node_modules/b/lib/x.js')).toBe('node_modules/a/node_modules/b');
    expect(index.packOf('node_modules/a/lib/x.js')).toBe('node_modules/a');
    expect(index.packOf('node_modules/foo/data.json')).toBe('node_modules/.pnpm/foo@1.0.0/node_modules/foo');
    expect(index.packOf('src/a.js')).toBeUndefined();
  });

  test("a bare require lands where Node's climbing resolution lands: nested first, pnpm's sibling links", () => {
    expect(index.lookup('node_modules/a', 'b')).toBe('node_modules/a/node_modules/b');
    expect(index.lookup('src/deep', 'b')).toBe('node_modules/b');
    expect(index.lookup('src', 'foo')).toBe('node_modules/.pnpm/foo@1.0.0/node_modules/foo');
    expect(index.lookup('node_modules/.pnpm/foo@1.0.0/node_modules/foo', 'bar')).toBe('node_modules/.pnpm/bar@2.0.0/node_modules/bar');
    expect(index.lookup('src', 'missing')).toBeUndefined();
  });

  test('a manifest of only some packages leaves the others out, folders included, links kept', () => {
    const full = {
      files: [
        { path: 'src/a.js', hash: 'a'.repeat(64), size: 1 },
        { path: 'node_modules/a/index.js', hash: 'b'.repeat(64), size: 2 },
        { path: 'node_modules/a/node_modules/b/index.js', hash: 'c'.repeat(64), size: 3 },
        { path: 'node_modules/b/index.js', hash: 'd'.repeat(64), size: 4 },
      ],
      links: manifest.links,
      dirs: ['src', 'node_modules', 'node_modules/a', 'node_modules/a/node_modules', 'node_modules/a/node_modules/b', 'node_modules/b'],
      packDirs: manifest.packDirs,
    };
    const only = index.only(full, new Set(['node_modules/a']));
    expect(only.files.map((f) => f.path)).toEqual(['src/a.js', 'node_modules/a/index.js']);
    // (the folders of packages left out stay, empty: a listing of node_modules reads the same)
    expect(only.dirs).toEqual(full.dirs);
    const none = index.only(full, new Set());
    expect(none.files.map((f) => f.path)).toEqual(['src/a.js']);
    expect(none.dirs).toEqual(['src', 'node_modules', 'node_modules/a', 'node_modules/b']);
    expect(only.links).toEqual(manifest.links);
  });

  test('package names of requests', () => {
    expect(packageNameOf('@scope/name/sub/path')).toBe('@scope/name');
    expect(packageNameOf('lodash/fp')).toBe('lodash');
    expect(packageNameOf('./local')).toBeUndefined();
    expect(packageNameOf('node:fs')).toBeUndefined();
    expect(packageNameOf('/abs/path')).toBeUndefined();
  });
});

describe('PackageNeeds', () => {
  async function contextOf(root: string): Promise<{ tests: (files: string[]) => Test[]; mirror: Mirror }> {
    const { projectConfig } = await readConfig({ $0: 'jest', _: [] } as unknown as Config.Argv, root);
    const context = await Runtime.createContext(projectConfig, { maxWorkers: 1, watchman: false });
    const mirror = buildMirror(
      { rootDir: root, roots: [root], cwd: root, include: [], exclude: [], skipDirs: [], configStrings: [], nodeModules: 'ship' },
      new HashCache(path.join(work, 'hashes.json')),
    );
    return { tests: (files) => files.map((f) => ({ context, path: path.join(root, f), duration: undefined }) as unknown as Test), mirror };
  }

  function project(): string {
    const root = path.join(work, 'app');
    fs.mkdirSync(path.join(root, '.git'), { recursive: true });
    write(
      'app/jest.config.js',
      "module.exports = { setupFiles: ['<rootDir>/setup.js'], moduleNameMapper: { '^@app/(.*)$': '<rootDir>/src/$1', '^virtual$': 'real-pkg' } };\n",
    );
    write('app/package.json', '{ "name": "app" }');
    write('app/setup.js', "require('setup-pkg');\n");
    write('app/src/a.ts', "import leftPad from 'left-pad';\nimport type { T } from 'type-only';\nexport const a: T = leftPad;\n");
    write('app/src/b.js', "module.exports = [require('dep-a'), require('virtual')];\n");
    // Flow: esbuild cannot parse it; Jest's own dependency extractor read its imports
    write('app/src/c.js', "// @flow\nconst flow = require('flow-pkg');\nfunction f(x: number): string { return String(x); }\nmodule.exports = { flow, f };\n");
    write('app/t.test.ts', "import { a } from './src/a';\nimport b from '@app/b';\ntest('t', () => expect([a, b]).toBeTruthy());\n");
    write('app/flow.test.js', "const c = require('./src/c');\ntest('c', () => expect(c).toBeTruthy());\n");
    write('app/plain.test.js', "test('p', () => {});\n");
    for (const name of ['left-pad', 'type-only', 'real-pkg', 'setup-pkg', 'flow-pkg', 'unused-pkg']) pkg(`app/node_modules/${name}`);
    pkg('app/node_modules/dep-a', { 'dep-b': '2' });
    pkg('app/node_modules/dep-a/node_modules/dep-b', { 'dep-c': '1' });
    pkg('app/node_modules/dep-b');
    pkg('app/node_modules/dep-c');
    return root;
  }

  test("each file's packages: its graph through Jest's resolution (moduleNameMapper, TypeScript's type-only imports left out), files esbuild cannot parse read by Jest's extractor, closed over declared dependencies", async () => {
    const root = project();
    const { tests, mirror } = await contextOf(root);
    const needs = await new PackageNeeds(path.join(work, 'needs.json')).of(mirror, tests(['t.test.ts', 'flow.test.js', 'plain.test.js']), []);
    expect(needs.base).toEqual(['node_modules/setup-pkg']);
    expect(needs.files.get(path.join(root, 't.test.ts'))).toEqual([
      'node_modules/dep-a',
      'node_modules/dep-a/node_modules/dep-b',
      'node_modules/dep-c',
      'node_modules/left-pad',
      'node_modules/real-pkg',
    ]);
    expect(needs.files.get(path.join(root, 'flow.test.js'))).toEqual(['node_modules/flow-pkg']);
    expect(needs.files.get(path.join(root, 'plain.test.js'))).toEqual([]);
    expect(needs.unknown).toBe(0);
  });

  test('graphs are cached by content: an unchanged project parses nothing, an edit parses what reaches the edited file; learned packages join', async () => {
    const root = project();
    const file = path.join(work, 'needs.json');
    const first = new PackageNeeds(file);
    const all = ['t.test.ts', 'flow.test.js', 'plain.test.js'];
    let { tests, mirror } = await contextOf(root);
    expect((await first.of(mirror, tests(all), [])).parsed).toBe(4);
    first.learn(mirror.localBase, path.join(root, 'plain.test.js'), ['node_modules/unused-pkg']);
    first.learn(mirror.localBase, undefined, ['node_modules/type-only']);
    first.save();

    const again = await new PackageNeeds(file).of(mirror, tests(all), []);
    expect(again.parsed).toBe(0);
    expect(again.files.get(path.join(root, 'plain.test.js'))).toEqual(['node_modules/unused-pkg']);
    expect(again.base).toEqual(['node_modules/setup-pkg', 'node_modules/type-only']);

    write('app/src/a.ts', "import leftPad from 'left-pad';\nimport 'unused-pkg';\nexport const a = leftPad;\n");
    ({ tests, mirror } = await contextOf(root));
    const edited = await new PackageNeeds(file).of(mirror, tests(all), []);
    expect(edited.parsed).toBe(1);
    expect(edited.files.get(path.join(root, 't.test.ts'))).toContain('node_modules/unused-pkg');
  });
});
