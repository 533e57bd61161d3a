/**
 * The package as users get it: `npm pack`, installed into a separate project next to its own Jest,
 * selected with `runner: 'remote-lambda'` and run with plain `npx jest`.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { installWithJest, packRunner } from './support/pack';
import { REPO, comparable, runJest } from './support/run-jest';

let work: string;
let tarball: string;

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'jrl-pack-'));
  tarball = packRunner(work);
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

test('the tarball holds the built runner, the CLI and the handler, the license and changelog, and nothing else', () => {
  const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).trim().split('\n');
  expect(files).toEqual(
    expect.arrayContaining([
      'package/package.json',
      'package/README.md',
      'package/LICENSE',
      'package/CHANGELOG.md',
      'package/dist/src/index.cjs',
      'package/dist/src/index.d.ts',
      'package/dist/src/cli.js',
      'package/dist/handler/worker.js',
      'package/dist/handler/index.js',
      'package/dist/handler/index.js.LEGAL.txt',
    ]),
  );
  expect(files.filter((f) => /^package\/(src|test|examples|bench|handler|scripts)\//.test(f) || /\.test\.[jt]s$/.test(f))).toEqual([]);
  // the bundles' own source maps are left out (5 MB of the 7.5 MB otherwise)
  expect(files.filter((f) => /dist\/(handler\/(index|worker)\.js|src\/index\.cjs)\.map$/.test(f))).toEqual([]);
  const size = fs.statSync(tarball).size;
  console.log(`tarball: ${(size / 1024).toFixed(0)} KB, ${files.length} files`);
  // (a guard against shipping what must not travel, such as source maps or fixtures: 717 KB at 0.1.0
  // with the secret guard and ls; the three bundles are 2.4 MB of its 3.4 MB unpacked)
  expect(size).toBeLessThan(800 * 1024);
  const manifest = JSON.parse(execFileSync('tar', ['-xzOf', tarball, 'package/package.json'], { encoding: 'utf8' })) as {
    bin: unknown;
    engines: unknown;
    exports: Record<string, unknown>;
  };
  expect(manifest.bin).toEqual({ 'jest-runner-remote-lambda': 'dist/src/cli.js' });
  expect(manifest.engines).toEqual({ node: '>=20' });
  expect(manifest.exports['.']).toEqual({ types: './dist/src/index.d.ts', default: './dist/src/index.cjs' });
});

test("installed from the tarball into another project, `npx jest` gives the default runner's results", () => {
  const project = path.join(work, 'project');
  fs.cpSync(path.join(REPO, 'examples', 'fixtures'), project, { recursive: true });
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'pack-consumer', private: true }));
  installWithJest(project, tarball);
  expect(fs.realpathSync(path.join(project, 'node_modules', 'jest-runner-remote-lambda'))).toBe(
    path.join(project, 'node_modules', 'jest-runner-remote-lambda'),
  );

  const reference = runJest(project, { runner: 'default' });
  const ours = runJest(project, { runner: 'remote-lambda', env: { JEST_REMOTE_LAMBDA_DEBUG: '1' } });
  expect(ours.stderr).toContain('[remote-lambda] backend=local');
  expect(reference.json.numPassedTests).toBeGreaterThan(0);
  expect(comparable(ours)).toEqual(comparable(reference));
});
