/**
 * `rerunFailures` on a deliberately flaky project, on the embedded pool and on the Lambda-like
 * fleet. The flaky file fails when it is the first file its environment runs: every file leaves a
 * marker named after its process in that environment's temporary folder (a setup file's
 * afterAll), and the flaky file passes only where such a marker exists. It is the largest file, so
 * Jest's order sends it first, to an environment that has run nothing: its first attempt fails
 * wherever it runs; any second attempt runs where a file ran before (another worker, or another
 * Lambda environment, each with its own /tmp; or the same one) and passes. Deterministic on both.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { consumerProject } from './support/pack';
import { startFleetStack, type FleetStack } from './support/offline';
import { comparable, runJest, type JestRun } from './support/run-jest';
import { readTimeline, type TraceEvent } from './support/timeline-check';

let work: string;
let project: string;

const FILES: Record<string, string> = {
  'jest.config.js': "module.exports = { runner: 'remote-lambda', setupFilesAfterEnv: ['<rootDir>/mark.js'] };\n",
  'mark.js': [
    "const fs = require('fs');",
    "const os = require('os');",
    "const path = require('path');",
    '// every file leaves a marker in its environment: "a file ran in this process"',
    'afterAll(() => {',
    '  const dir = path.join(os.tmpdir(), `jrl-flaky-${process.env.JRL_FLAKY_RUN}`);',
    '  fs.mkdirSync(dir, { recursive: true });',
    "  fs.writeFileSync(path.join(dir, String(process.pid)), '');",
    '});',
    '',
  ].join('\n'),
  'flaky.test.js': [
    "const fs = require('fs');",
    "const os = require('os');",
    "const path = require('path');",
    `// (the largest file, so that Jest's order sends it first: ${'padding '.repeat(40)})`,
    "test('passes where a file ran before', () => {",
    '  const marker = path.join(os.tmpdir(), `jrl-flaky-${process.env.JRL_FLAKY_RUN}`, String(process.pid));',
    '  expect(fs.existsSync(marker)).toBe(true);',
    '});',
    '',
  ].join('\n'),
  'always.test.js': "test('always fails', () => {\n  expect(1 + 1).toBe(3);\n});\n",
  'quick-1.test.js': "test('one', () => expect(1).toBe(1));\n",
  'quick-2.test.js': "test('two', () => expect(2).toBe(2));\n",
  'quick-3.test.js': "test('three', () => expect(3).toBe(3));\n",
};
const SNAPSHOT_FILE = "test('new snapshot', () => expect('x').toMatchSnapshot());\ntest('fails', () => expect(1).toBe(2));\n";

beforeAll(() => {
  ({ work, project } = consumerProject('jrl-rerun-', 'rerun-failures'));
  for (const [file, content] of Object.entries(FILES)) fs.writeFileSync(path.join(project, file), content);
}, 600_000);
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** A fresh flaky run (its own markers) with these files; the cache is the run's own too (no timings). */
const run = (runner: 'default' | 'remote-lambda', env: NodeJS.ProcessEnv = {}, args: string[] = []): JestRun => {
  const id = crypto.randomUUID();
  return runJest(project, {
    runner,
    args: ['-w', '2', `--cacheDirectory=${path.join(work, 'cache', id)}`, ...args],
    env: { JRL_FLAKY_RUN: id, JEST_REMOTE_LAMBDA_ENV: 'JRL_FLAKY_RUN', ...env },
  });
};
const byFile = (r: JestRun) => Object.fromEntries(r.json.testResults.map((t) => [path.basename(t.name), t]));
const logged = (r: JestRun, file: string) => r.console[`${path.join(project, file)}\0`] ?? [];

/** What every run with reruns must show: each file once, the flaky one passing with its first failure in its console. */
function checkFlaky(ours: JestRun, reference: JestRun, attempts: number, files = 5): void {
  expect(reference.json.numTotalTestSuites).toBe(files);
  expect(byFile(reference)['flaky.test.js']!.status).toBe('failed');
  // each file reported once; the flaky file passes; the failing one fails with its (last) failure
  expect(ours.json.testResults.map((t) => path.basename(t.name)).sort()).toEqual(reference.json.testResults.map((t) => path.basename(t.name)).sort());
  expect(ours.json.numTotalTests).toBe(reference.json.numTotalTests);
  expect(byFile(ours)['flaky.test.js']!.status).toBe('passed');
  expect(byFile(ours)['always.test.js']!.message).toBe(byFile(reference)['always.test.js']!.message);
  expect(ours.json.numFailedTestSuites).toBe(1);
  expect(ours.status).toBe(1);
  // the first failure, in the flaky file's console output
  const entries = logged(ours, 'flaky.test.js');
  expect(entries).toHaveLength(1);
  expect(entries[0]!.type).toBe('warn');
  expect(entries[0]!.message).toContain('this file is flaky: it failed once, then passed on attempt 2 (rerunFailures)');
  expect(entries[0]!.message).toContain('expect(received).toBe(expected)');
  expect(entries[0]!.message).toMatch(/Expected: true\n\s*Received: false/);
  expect(entries[0]!.message).toContain('> 7 |   expect(fs.existsSync(marker)).toBe(true);');
  // Jest's default reporter prints it with the file's output (Jest's --json file has no console output at all)
  expect(ours.stderr).toContain('this file is flaky: it failed once, then passed on attempt 2 (rerunFailures)');
  expect(ours.stderr).toContain(`remote-lambda: flaky: flaky.test.js (passed on attempt 2); failed on every attempt: always.test.js (${attempts} attempts).`);
}

/** Attempt and file events of a file in the timeline, in time order. */
function attemptsOf(events: TraceEvent[], file: string): TraceEvent[] {
  return events.filter((e) => (e.cat === 'file' || e.cat === 'attempt') && String(e.args!.testPath).endsWith(file)).sort((a, b) => a.ts - b.ts);
}

describe('embedded pool', () => {
  test('rerunFailures 0 (the default): the results of Jest’s own runner, the flaky file failing', () => {
    const reference = run('default');
    const ours = run('remote-lambda');
    expect(byFile(reference)['flaky.test.js']!.status).toBe('failed');
    expect(comparable(ours)).toEqual(comparable(reference));
    expect(ours.stderr).not.toMatch(/remote-lambda: flaky|attempt/);
  });

  test('rerunFailures 2: the flaky file passes on another worker, the failing one fails three times; summary, timeline and its flaky list say so', () => {
    const reference = run('default');
    const timeline = path.join(work, 'embedded-timeline.json');
    const ours = run('remote-lambda', { JEST_REMOTE_LAMBDA_RERUN_FAILURES: '2', JEST_REMOTE_LAMBDA_TIMELINE: timeline });
    checkFlaky(ours, reference, 3);
    const { events } = readTimeline(timeline, ours.json);
    const flaky = attemptsOf(events, 'flaky.test.js');
    expect(flaky.map((e) => [e.cat, e.args!.status, e.args!.attempt, e.args!.flaky])).toEqual([
      ['attempt', 'failed', 1, true],
      ['file', 'passed', 2, true],
    ]);
    // another worker: another lane of the trace, another process
    expect(flaky[1]!.tid).not.toBe(flaky[0]!.tid);
    expect(flaky[1]!.args!.environment).not.toBe(flaky[0]!.args!.environment);
    expect(attemptsOf(events, 'always.test.js').map((e) => [e.cat, e.args!.status, e.args!.attempt])).toEqual([
      ['attempt', 'failed', 1],
      ['attempt', 'failed', 2],
      ['file', 'failed', 3],
    ]);
    const trace = JSON.parse(fs.readFileSync(timeline, 'utf8')) as { otherData: { flaky: unknown[]; totals: { flakyFiles: number } } };
    expect(trace.otherData.flaky).toEqual([
      { testPath: path.join(project, 'flaky.test.js'), passedOnAttempt: 2, firstFailure: 'expect(received).toBe(expected) // Object.is equality' },
    ]);
    expect(trace.otherData.totals.flakyFiles).toBe(1);
    expect(fs.readFileSync(timeline.replace(/\.json$/, '.html'), 'utf8')).toContain('Flaky files');
  });

  describe('snapshots', () => {
    beforeAll(() => fs.writeFileSync(path.join(project, 'snap.test.js'), SNAPSHOT_FILE));
    afterAll(() => {
      fs.rmSync(path.join(project, 'snap.test.js'));
      fs.rmSync(path.join(project, '__snapshots__'), { recursive: true, force: true });
    });
    const snapshotFile = () => path.join(project, '__snapshots__', 'snap.test.js.snap');

    test('an attempt that wrote a snapshot never runs again; with --ci nothing is written, so the file runs again', () => {
      // (--ci=false: the helper runs Jest with --ci, as CI does)
      const written = run('remote-lambda', { JEST_REMOTE_LAMBDA_RERUN_FAILURES: '2' }, ['--ci=false']);
      expect(written.json.snapshot.added).toBe(1);
      expect(byFile(written)['snap.test.js']!.status).toBe('failed');
      expect(written.stderr).toContain('failed on every attempt: always.test.js (3 attempts).');
      expect(written.stderr).not.toContain('snap.test.js (');
      fs.rmSync(snapshotFile());
      const ci = run('remote-lambda', { JEST_REMOTE_LAMBDA_RERUN_FAILURES: '1' }, ['--ci']);
      expect(fs.existsSync(snapshotFile())).toBe(false);
      expect(ci.json.snapshot.added).toBe(0);
      expect(ci.stderr).toMatch(
        /failed on every attempt: (always\.test\.js \(2 attempts\), snap\.test\.js \(2 attempts\)|snap\.test\.js \(2 attempts\), always\.test\.js \(2 attempts\))\./,
      );
    });

    test('with -u no file runs again (an update writes once): the results of Jest’s own runner', () => {
      const reference = run('default', {}, ['-u']);
      expect(fs.existsSync(snapshotFile())).toBe(true);
      fs.rmSync(snapshotFile());
      const ours = run('remote-lambda', { JEST_REMOTE_LAMBDA_RERUN_FAILURES: '2' }, ['-u']);
      expect(comparable(ours)).toEqual(comparable(reference));
      expect(byFile(ours)['flaky.test.js']!.status).toBe('failed');
      expect(ours.stderr).not.toContain('attempt');
    });
  });
});

describe('Lambda (the local fleet)', () => {
  let stack: FleetStack;
  beforeAll(async () => {
    stack = await startFleetStack(path.resolve(__dirname, '..'), path.join(work, 'fleet'), 'jrl-rerun');
  }, 600_000);
  afterAll(async () => stack?.stop());

  test('rerunFailures 2: the flaky file fails in a new environment and passes on its second attempt, the failing one fails three times', async () => {
    await stack.fleet.recycle();
    const reference = run('default');
    const timeline = path.join(work, 'fleet-timeline.json');
    const ours = run('remote-lambda', {
      ...stack.env,
      JEST_REMOTE_LAMBDA_CONCURRENCY: '2',
      JEST_REMOTE_LAMBDA_BATCH_MS: '0',
      JEST_REMOTE_LAMBDA_RETRIES: '0',
      // (the fleet's invocations are counted: no warm-ups)
      JEST_REMOTE_LAMBDA_PREWARM: '0',
      JEST_REMOTE_LAMBDA_RERUN_FAILURES: '2',
      JEST_REMOTE_LAMBDA_TIMELINE: timeline,
    });
    checkFlaky(ours, reference, 3);
    expect(ours.stderr).toMatch(/remote-lambda: 5 file\(s\) on Lambda/);
    expect(ours.stderr).not.toContain('ran on this machine');
    // 5 files, 1 + 2 more attempts of always.test.js, 1 more of flaky.test.js
    expect(/(\d+) invocation\(s\)/.exec(ours.stderr)?.[1]).toBe('8');
    const { events } = readTimeline(timeline, ours.json);
    const flaky = attemptsOf(events, 'flaky.test.js');
    expect(flaky.map((e) => [e.cat, e.args!.status, e.args!.attempt, e.args!.flaky])).toEqual([
      ['attempt', 'failed', 1, true],
      ['file', 'passed', 2, true],
    ]);
    expect(flaky[0]!.args!.cold).toBe(true);
    // (which environment the second attempt lands in is the function's choice: another one when
    // the first is busy with its next file as the other slot sends it; here, often the same one)
    expect(flaky[1]!.ts).toBeGreaterThanOrEqual(flaky[0]!.ts + flaky[0]!.dur!);
    expect(attemptsOf(events, 'always.test.js').map((e) => [e.cat, e.args!.status, e.args!.attempt])).toEqual([
      ['attempt', 'failed', 1],
      ['attempt', 'failed', 2],
      ['file', 'failed', 3],
    ]);
    // (and a ping before the first file)
    expect((await stack.fleet.stats()).invocations).toBe(9);
  });

  test('a file that fails there for want of this machine runs here once (rerunLocally), not again there', async () => {
    // a program only this machine has (on the PATH of these Jest runs; the function has its own)
    const tools = path.join(work, 'tools');
    fs.mkdirSync(tools, { recursive: true });
    fs.writeFileSync(path.join(tools, 'jrl-rerun-tool'), '#!/bin/sh\necho here\n', { mode: 0o755 });
    const file = path.join(project, 'tool.test.js');
    fs.writeFileSync(file, "test('runs a local tool', () => expect(require('child_process').execFileSync('jrl-rerun-tool').toString()).toBe('here\\n'));\n");
    try {
      await stack.fleet.recycle();
      const PATH = `${tools}${path.delimiter}${process.env.PATH}`;
      const reference = run('default', { PATH });
      const before = (await stack.fleet.stats()).invocations;
      const ours = run('remote-lambda', {
        ...stack.env,
        PATH,
        JEST_REMOTE_LAMBDA_CONCURRENCY: '2',
        JEST_REMOTE_LAMBDA_BATCH_MS: '0',
        JEST_REMOTE_LAMBDA_RETRIES: '0',
        JEST_REMOTE_LAMBDA_PREWARM: '0',
        JEST_REMOTE_LAMBDA_RERUN_FAILURES: '2',
        JEST_REMOTE_LAMBDA_CACHE_DIRECTORY: path.join(work, 'runner-cache-tool'),
      });
      checkFlaky(ours, reference, 3, 6);
      expect(byFile(ours)['tool.test.js']!.status).toBe('passed');
      expect(ours.stderr).toMatch(/ran on this machine instead of Lambda: tool\.test\.js \(failed remotely: spawn jrl-rerun-tool ENOENT/);
      // 6 files, 2 more attempts of always.test.js, 1 more of flaky.test.js; tool.test.js once there
      expect((await stack.fleet.stats()).invocations - before).toBe(9 + 1);
    } finally {
      fs.rmSync(file);
    }
  });
});
