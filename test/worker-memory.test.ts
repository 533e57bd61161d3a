/**
 * Jest's `workerIdleMemoryLimit`: a worker whose heap is over the limit after a file is replaced
 * before it takes another, as jest-worker does; without a limit the workers stay.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runJest } from './support/run-jest';
import { writeApp } from './support/temp-app';

let app: string;
beforeAll(() => {
  const files: Record<string, string> = {};
  for (let i = 0; i < 6; i++) files[`m${i}.test.js`] = `test('reports its worker ${i}', () => console.log(\`pid \${process.pid}\`));\n`;
  app = writeApp(fs.mkdtempSync(path.join(os.tmpdir(), 'jrl-memory-')), { name: 'memory-app', files });
});
afterAll(() => fs.rmSync(app, { recursive: true, force: true }));

const pids = (args: string[]) => {
  const run = runJest(app, { runner: 'remote-lambda', args: ['--maxWorkers=2', ...args], env: { JEST_REMOTE_LAMBDA_WORKERS: '2' } });
  expect(run.json.numPassedTests).toBe(6);
  return new Set(
    Object.values(run.console)
      .flat()
      .map((c) => c.message),
  );
};

test('over the limit, every file gets a fresh worker; without one, two workers serve all six', () => {
  expect(pids(['--workerIdleMemoryLimit=1KB']).size).toBe(6);
  expect(pids([]).size).toBeLessThanOrEqual(2);
});
