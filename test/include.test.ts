/**
 * Files read at runtime from outside the project's tree: without `include` the failure says which
 * file was not shipped and how to ship it; with `include` the suite passes as under local Jest.
 * Run on the embedded backend with `isolate` (a private mirror, what a remote run sees).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO, comparable, runJest } from './support/run-jest';
import { writeApp } from './support/temp-app';

const ISOLATE = { JEST_REMOTE_LAMBDA_ISOLATE: '1' };
let work: string;
let app: string;

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'jrl-include-'));
  fs.mkdirSync(path.join(work, 'shared'));
  fs.writeFileSync(path.join(work, 'shared', 'greeting.txt'), 'hello from outside\n');
  // (app is the repository root: the mirror does not climb above it)
  app = writeApp(path.join(work, 'app'), {
    name: 'include-app',
    files: {
      'test/outside.test.js': [
        "const fs = require('fs');",
        "const path = require('path');",
        "test('reads a file from a sibling folder', () => {",
        "  expect(fs.readFileSync(path.join(__dirname, '../../shared/greeting.txt'), 'utf8')).toBe('hello from outside\\n');",
        '});',
        '',
      ].join('\n'),
    },
  });
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

test('an unshipped file fails with a hint that names the file and the option', () => {
  const ours = runJest(app, { runner: 'remote-lambda', env: ISOLATE });
  expect(ours.json.numFailedTests).toBe(1);
  const message = ours.json.testResults[0]!.assertionResults[0]!.failureMessages[0] as string;
  expect(message).toContain(`ENOENT: no such file or directory, open '${path.join(work, 'shared', 'greeting.txt')}'`);
  expect(message).toContain('this file exists on this machine but was not shipped with the test:');
  expect(message).toContain('Add it (or its folder) to the "include" option');
});

test("with include, the result equals the default runner's", () => {
  const reference = runJest(app, { runner: 'default' });
  const ours = runJest(app, { runner: 'remote-lambda', env: { ...ISOLATE, JEST_REMOTE_LAMBDA_INCLUDE: '../shared' } });
  expect(reference.json.numPassedTests).toBe(1);
  expect(comparable(ours)).toEqual(comparable(reference));
});

test('folders a monorepo config points at (moduleNameMapper into a sibling package) are shipped', () => {
  const repo = path.join(work, 'mono');
  const pkg = path.join(repo, 'packages', 'app');
  fs.mkdirSync(path.join(pkg, 'test'), { recursive: true });
  fs.mkdirSync(path.join(repo, 'packages', 'shared'), { recursive: true });
  fs.mkdirSync(path.join(repo, '.git'));
  fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(repo, 'node_modules'));
  fs.writeFileSync(path.join(repo, 'package.json'), JSON.stringify({ name: 'mono', private: true }));
  fs.writeFileSync(path.join(repo, 'packages', 'shared', 'greet.js'), 'exports.greet = (n) => `hi ${n}`;\n');
  fs.writeFileSync(
    path.join(pkg, 'jest.config.js'),
    "module.exports = { runner: 'remote-lambda', moduleNameMapper: { '^@shared/(.*)$': '<rootDir>/../shared/$1' } };\n",
  );
  fs.writeFileSync(
    path.join(pkg, 'test', 'greet.test.js'),
    "const { greet } = require('@shared/greet');\ntest('greets', () => expect(greet('ada')).toBe('hi ada'));\n",
  );
  const reference = runJest(pkg, { runner: 'default' });
  const ours = runJest(pkg, { runner: 'remote-lambda', env: ISOLATE });
  expect(reference.json.numPassedTests).toBe(1);
  expect(comparable(ours)).toEqual(comparable(reference));
});

test("in place (the embedded backend's default), files outside the roots are read where they are, as with Jest", () => {
  const reference = runJest(app, { runner: 'default' });
  const ours = runJest(app, { runner: 'remote-lambda', env: { JEST_REMOTE_LAMBDA_DEBUG: '1' } });
  expect(ours.stderr).toMatch(/\[remote-lambda\] backend=local .* hashed=0 cached=0 blobs new=0 /);
  expect(comparable(ours)).toEqual(comparable(reference));
});
