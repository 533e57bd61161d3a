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

test('the tarball holds the built runner and handler, and no sources, tests or examples', () => {
  const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).trim().split('\n');
  expect(files).toEqual(
    expect.arrayContaining(['package/package.json', 'package/README.md', 'package/dist/src/index.js', 'package/dist/src/index.d.ts', 'package/dist/handler/worker.js']),
  );
  expect(files.filter((f) => /^package\/(src|test|examples|bench|handler)\//.test(f) || /\.test\.[jt]s$/.test(f))).toEqual([]);
});

test('installed from the tarball into another project, `npx jest` gives the default runner\'s results', () => {
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
