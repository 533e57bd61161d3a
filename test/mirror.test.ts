/** The manifest the mirror builds for remote backends: packs per installed package, links kept, cycles cut. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildMirror } from '../src/mirror/walk';
import { HashCache } from '../src/mirror/hash-cache';
import { packKey, packsOf } from '../src/ship/pack';
import { familyOf } from '../src/mirror/platform';

let work: string;
beforeEach(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'jrl-mirror-'));
});
afterEach(() => fs.rmSync(work, { recursive: true, force: true }));

const write = (rel: string, content: string) => {
  fs.mkdirSync(path.dirname(path.join(work, rel)), { recursive: true });
  fs.writeFileSync(path.join(work, rel), content);
};
const mirror = (root: string) =>
  buildMirror(
    { rootDir: root, roots: [root], cwd: root, include: [], exclude: [], skipDirs: [], configStrings: [], nodeModules: 'ship' },
    new HashCache(path.join(work, 'hashes.json')),
  );

test('installed packages travel as packs; a package linked from outside the repository is shipped as files', () => {
  const app = path.join(work, 'app');
  write('app/package.json', '{}');
  write('app/src/a.js', 'a');
  write('app/node_modules/left-pad/index.js', 'pad');
  write('app/node_modules/@scope/util/index.js', 'util');
  write('app/node_modules/@scope/util/node_modules/nested/index.js', 'nested');
  write('store/linked/index.js', 'linked'); // like a pnpm store or a workspace outside the repo
  fs.mkdirSync(path.join(app, '.git'));
  fs.symlinkSync(path.join(work, 'store', 'linked'), path.join(app, 'node_modules', 'linked'));
  const m = mirror(app);
  expect(m.manifest.packDirs).toEqual([
    'node_modules/@scope/util',
    'node_modules/@scope/util/node_modules/nested',
    'node_modules/left-pad',
    'node_modules/linked',
  ]);
  expect(m.manifest.files.map((f) => f.path)).toContain('node_modules/linked/index.js');
  // a nested package is its own pack; loose project files travel alone
  const packs = packsOf(m.manifest);
  const hashOf = (p: string) => m.manifest.files.find((f) => f.path === p)!.hash;
  expect(packs.get(packKey([hashOf('node_modules/@scope/util/index.js')]))).toEqual([hashOf('node_modules/@scope/util/index.js')]);
  expect(packs.get(packKey([hashOf('node_modules/@scope/util/node_modules/nested/index.js')]))).toBeDefined();
  expect(packs.get(packKey([hashOf('src/a.js')]))).toEqual([hashOf('src/a.js')]);
});

test('a link cycle (a package linking back to the repository) becomes a link, not an endless walk', () => {
  const repo = path.join(work, 'repo');
  write('repo/package.json', '{}');
  write('repo/src/a.js', 'a');
  write('app/package.json', '{}');
  fs.mkdirSync(path.join(work, 'app', '.git'));
  fs.mkdirSync(path.join(repo, 'node_modules'));
  fs.symlinkSync(repo, path.join(repo, 'node_modules', 'self')); // like `npm link` of the package itself
  fs.symlinkSync(path.join(repo, 'node_modules'), path.join(work, 'app', 'node_modules'));
  const m = mirror(path.join(work, 'app'));
  expect(m.manifest.files.map((f) => f.path).sort()).toEqual(['node_modules/self/package.json', 'node_modules/self/src/a.js', 'package.json']);
  expect(m.manifest.links).toEqual([{ path: 'node_modules/self/node_modules', target: '..' }]);
});

test('a workspace package linked into node_modules from inside the repository travels with the link', () => {
  write('repo/package.json', '{}');
  write('repo/packages/core/package.json', '{"name":"@mono/core"}');
  write('repo/packages/core/index.js', 'core');
  write('repo/packages/app/package.json', '{}');
  write('repo/packages/app/src/a.js', 'a');
  fs.mkdirSync(path.join(work, 'repo', '.git'));
  fs.mkdirSync(path.join(work, 'repo', 'packages', 'app', 'node_modules', '@mono'), { recursive: true });
  fs.symlinkSync('../../../core', path.join(work, 'repo', 'packages', 'app', 'node_modules', '@mono', 'core'));
  fs.symlinkSync('..', path.join(work, 'repo', 'packages', 'app', 'node_modules', 'self')); // holds the project: not walked again
  const m = mirror(path.join(work, 'repo', 'packages', 'app'));
  expect(m.manifest.links).toEqual([
    { path: 'packages/app/node_modules/@mono/core', target: '../../../core' },
    { path: 'packages/app/node_modules/self', target: '..' },
  ]);
  expect(m.manifest.files.map((f) => f.path)).toEqual(
    expect.arrayContaining(['packages/core/index.js', 'packages/core/package.json', 'packages/app/src/a.js']),
  );
});

test("pnpm's layout: packages reached through links into node_modules/.pnpm are shipped once, at their real place", () => {
  write('app/package.json', '{}');
  fs.mkdirSync(path.join(work, 'app', '.git'));
  write('app/node_modules/.pnpm/jest-circus@30/node_modules/jest-circus/index.js', 'circus');
  write('app/node_modules/.pnpm/jest-snapshot@30/node_modules/jest-snapshot/index.js', 'snapshot');
  fs.symlinkSync('../../jest-snapshot@30/node_modules/jest-snapshot', path.join(work, 'app/node_modules/.pnpm/jest-circus@30/node_modules/jest-snapshot'));
  fs.symlinkSync('.pnpm/jest-circus@30/node_modules/jest-circus', path.join(work, 'app/node_modules/jest-circus'));
  const m = mirror(path.join(work, 'app'));
  expect(m.manifest.files.map((f) => f.path).sort()).toEqual([
    'node_modules/.pnpm/jest-circus@30/node_modules/jest-circus/index.js',
    'node_modules/.pnpm/jest-snapshot@30/node_modules/jest-snapshot/index.js',
    'package.json',
  ]);
  expect(m.manifest.links).toEqual([
    { path: 'node_modules/.pnpm/jest-circus@30/node_modules/jest-snapshot', target: '../../jest-snapshot@30/node_modules/jest-snapshot' },
    { path: 'node_modules/jest-circus', target: '.pnpm/jest-circus@30/node_modules/jest-circus' },
  ]);
});

test("a platform package's sibling is of its own family, not another optional dependency of the same parent", () => {
  const same = (a: string, b: string) => familyOf(a) === familyOf(b);
  expect(same('@swc/core-darwin-arm64', '@swc/core-linux-x64-gnu')).toBe(true);
  expect(same('@esbuild/darwin-arm64', '@esbuild/linux-x64')).toBe(true);
  expect(same('@unrs/resolver-binding-darwin-arm64', '@unrs/resolver-binding-linux-arm64-gnu')).toBe(true);
  expect(same('lightningcss-darwin-arm64', 'lightningcss-linux-x64-musl')).toBe(true);
  expect(same('@img/sharp-darwin-arm64', '@img/sharp-linux-x64')).toBe(true);
  expect(same('@next/swc-win32-x64-msvc', '@next/swc-linux-x64-gnu')).toBe(true);
  // rollup lists fsevents beside its own binaries; swc's families differ from each other too
  expect(same('fsevents', '@rollup/rollup-linux-x64-gnu')).toBe(false);
  expect(same('@swc/core-darwin-arm64', '@swc/html-linux-x64-gnu')).toBe(false);
});
