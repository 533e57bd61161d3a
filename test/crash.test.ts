/**
 * A test file that kills its worker process yields exactly one failed result that says what
 * happened; the worker is replaced and every other file still runs and reports once.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runJest } from './support/run-jest';
import { writeApp } from './support/temp-app';

let app: string;

beforeAll(() => {
  const files: Record<string, string> = { 'crash.test.js': "test('kills its process', () => { process.kill(process.pid, 'SIGKILL'); });\n" };
  for (let i = 0; i < 4; i++) files[`ok${i}.test.js`] = `test('fine ${i}', () => expect(${i}).toBe(${i}));\n`;
  app = writeApp(fs.mkdtempSync(path.join(os.tmpdir(), 'jrl-crash-')), { name: 'crash-app', files });
});
afterAll(() => fs.rmSync(app, { recursive: true, force: true }));

test('the crashing file fails once with the reason; the others pass', () => {
  const run = runJest(app, { runner: 'remote-lambda', env: { JEST_REMOTE_LAMBDA_WORKERS: '2' } });
  const byName = Object.fromEntries(run.json.testResults.map((r) => [path.basename(r.name), r]));
  expect(Object.keys(byName).sort()).toEqual(['crash.test.js', 'ok0.test.js', 'ok1.test.js', 'ok2.test.js', 'ok3.test.js']);
  expect(run.json.numTotalTestSuites).toBe(5);
  expect(run.json.numFailedTestSuites).toBe(1);
  expect(byName['crash.test.js']!.status).toBe('failed');
  expect(byName['crash.test.js']!.message).toContain('Worker process');
  expect(byName['crash.test.js']!.message).toContain('exited unexpectedly (signal SIGKILL) during RUNNING state');
  for (let i = 0; i < 4; i++) expect(byName[`ok${i}.test.js`]!.status).toBe('passed');
  expect(run.status).toBe(1);
});
