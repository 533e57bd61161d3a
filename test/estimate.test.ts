/**
 * `npx jest-runner-remote-lambda estimate`: its model gives bench/scale's wall times (the same
 * discrete-event model, shipped in the package), and the command, run on real example projects
 * after a real Jest run (Jest 30, and Jest 29 in examples/jest29), reads Jest's durations and
 * prints predictions that hold together. How close they come to measured runs: bench/estimate.js.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { predictLambda, predictLocal, slowdownAt, type LambdaParams, type SuiteFile } from '../src/cli/estimate-model';
import { REPO, runJest } from './support/run-jest';
import { writeApp } from './support/temp-app';

const { runStrategy } = require('../bench/scale/simulate') as {
  runStrategy: (name: string, suite: unknown[], p: Record<string, unknown>) => { makespanMs: number; invocations: number; environments: number };
};
const { DEFAULTS, coldStartMs, clientStartMs } = require('../bench/scale/params') as {
  DEFAULTS: Record<string, number | string | boolean>;
  coldStartMs: (p: unknown) => number;
  clientStartMs: (p: unknown) => number;
};
const { createRandom } = require('../bench/scale/random') as { createRandom: (seed: number) => { lognormal: (s: number) => number; uniform: () => number } };

const CLI = path.join(REPO, 'dist/src/cli/main.js');

function suiteOf(n: number, seed: number): Array<SuiteFile & { index: number; resultBytes: number }> {
  const random = createRandom(seed);
  return Array.from({ length: n }, (_, index) => {
    const durationMs = 20 + 300 * random.lognormal(1.2);
    // (a few new files: no estimate, as Jest's cache lacks them)
    return { index, durationMs, estimateMs: random.uniform() < 0.05 ? null : durationMs * random.lognormal(0.3), resultBytes: 0 };
  });
}

describe('the model', () => {
  test.each([
    [200, 1, 250],
    [200, 16, 250],
    [2000, 100, 250],
    [3000, 1000, 0],
    [1500, 500, 250],
  ])('%i files at concurrency %i (batchMs %i): the wall time, environments and invocations of bench/scale', (files, concurrency, batchMs) => {
    const suite = suiteOf(files, files + concurrency);
    // (a small burst bucket, so that the burst limit shapes the run too)
    const p: Record<string, number | string | boolean> = { ...DEFAULTS, concurrency, batchMs, burstEnvironments: 200 };
    const bench = runStrategy('ours', suite, p);
    const ours = predictLambda(suite, {
      concurrency,
      memoryMb: 2048,
      architecture: 'x86_64',
      batchMs,
      accountConcurrency: p.accountConcurrency as number,
      burstEnvironments: 200,
      burstWindowMs: p.burstWindowMs as number,
      requestsPerSecondPerConcurrency: p.requestsPerSecondPerConcurrency as number,
      coldStartMs: coldStartMs(p),
      invokeOverheadMs: p.invokeOverheadMs as number,
      networkRttMs: p.networkRttMs as number,
      fileOverheadMs: p.fileOverheadMs as number,
      clientPerFileMs: p.clientPerFileMs as number,
      clientStartMs: clientStartMs(p),
      remoteSlowdown: p.remoteSlowdown as number,
      billColdStart: true,
    });
    expect(ours.wallMs).toBeCloseTo(bench.makespanMs, 6);
    expect(ours.invocations).toBe(bench.invocations);
    expect(ours.environments).toBe(bench.environments);
  });

  const params = (concurrency: number): LambdaParams => ({
    concurrency,
    memoryMb: 1024,
    architecture: 'arm64',
    batchMs: 0,
    accountConcurrency: 1000,
    burstEnvironments: 1000,
    burstWindowMs: 10_000,
    requestsPerSecondPerConcurrency: 10,
    coldStartMs: 1000,
    invokeOverheadMs: 10,
    networkRttMs: 0,
    fileOverheadMs: 0,
    clientPerFileMs: 0,
    clientStartMs: 0,
    remoteSlowdown: 1,
    billColdStart: true,
  });

  test('bills what the environments ran: cold starts and files, at the memory size', () => {
    const files = [1000, 500, 250].map((ms) => ({ estimateMs: ms, durationMs: ms }));
    const one = predictLambda(files, params(1));
    // one environment: one cold start, the files one after another
    expect(one.wallMs).toBe(1000 + 3 * 10 + 1750);
    expect(one.billedMs).toBe(1000 + 1750);
    expect(one.gbSeconds).toBeCloseTo((2750 * 1024) / 1024 / 1000, 9);
    const three = predictLambda(files, params(3));
    expect(three.wallMs).toBe(1000 + 10 + 1000);
    expect(three.billedMs).toBe(3 * 1000 + 1750);
    expect(three.usd).toBeGreaterThan(one.usd);
    expect(slowdownAt(1769)).toBe(1);
    expect(slowdownAt(884.5)).toBe(2);
  });

  test('this machine: in band as Jest decides (≤ 20 files all under a second), else the files longest first on the workers', () => {
    const fast = [300, 200, 100].map((ms) => ({ estimateMs: ms, durationMs: ms }));
    expect(predictLocal(fast, { workers: 4, startMs: 100, perFileMs: 5 })).toEqual({ wallMs: 100 + 600 + 15, inBand: true });
    const slow = [3000, 2000, 1000, 1000].map((ms) => ({ estimateMs: ms, durationMs: ms }));
    // worker 1: 3000; worker 2: 2000 + 1000 + 1000
    expect(predictLocal(slow, { workers: 2, startMs: 0, perFileMs: 0 })).toEqual({ wallMs: 4000, inBand: false });
  });
});

describe('the command', () => {
  const estimate = (cwd: string, args: string[] = []) =>
    spawnSync(process.execPath, [CLI, 'estimate', ...args], { cwd, encoding: 'utf8', env: { ...process.env, JEST_WORKER_ID: '' } });

  test.each(['typescript-basics', 'mocking', 'jest29'])(
    'examples/%s after a real Jest run: every file known, predictions that hold together, one JSON line',
    (example) => {
      const cwd = path.join(REPO, 'examples', example);
      const run = runJest(cwd, { runner: 'remote-lambda' });
      expect(run.json.numFailedTestSuites).toBe(0);
      const files = run.json.numTotalTestSuites;
      const r = estimate(cwd, ['--json', '--concurrency=8', '--memory=1024']);
      expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
      const e = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
      expect(e).toMatchObject({ files, knownFiles: files, concurrency: 8, memoryMb: 1024, architecture: 'x86_64' });
      expect(Object.keys(e.predictedWallMs).sort()).toEqual(['lambda', 'local']);
      // Jest's durations of the run just made: the longest at most the run's whole wall time
      const durations = run.json.testResults.map(
        (t) => (t as unknown as { endTime: number; startTime: number }).endTime - (t as unknown as { startTime: number }).startTime,
      );
      expect(e.sumMs).toBeGreaterThan(0);
      expect(e.longestMs).toBeLessThanOrEqual(Math.max(...durations) + 50);
      // here: at least the longest file and the files shared over the workers, at most all in a row plus Jest's start
      expect(e.predictedWallMs.local).toBeGreaterThanOrEqual(Math.max(e.longestMs, e.sumMs / e.workers));
      expect(e.predictedWallMs.local).toBeLessThanOrEqual(e.jestStartMs + e.sumMs + files * 10);
      // Lambda: a cold start, then at least the longest file (slower at 1024 MB: 1,769 MB is one vCPU)
      expect(e.predictedWallMs.lambda).toBeGreaterThanOrEqual(e.coldStartMs + e.longestMs * (1769 / 1024));
      expect(e.environments).toBe(Math.min(8, files));
      expect(e.shipped.files).toBeGreaterThan(files);
      expect(e.gbSeconds).toBeGreaterThan(0);
      expect(e.usd).toBeCloseTo(e.usdByArchitecture.x86_64, 9);
      expect(e.usdByArchitecture.arm64).toBeLessThan(e.usdByArchitecture.x86_64);
      expect(e.plateau.concurrency).toBeLessThanOrEqual(files);
      expect(e.sweep.map((s: { concurrency: number }) => s.concurrency)).toContain(8);
      // without --json: a short table
      const human = estimate(cwd, ['--concurrency=8']);
      expect(human.stdout).toMatch(/this machine\s+\d+\.\d s/);
      expect(human.stdout).toMatch(/Lambda at 8\s+\d+(\.\d)? s \(/);
      expect(human.stdout).toMatch(/billed per run\s+[\d.]+ GB-s in \d+ invocations: \$[\d.]+ on x86_64, \$[\d.]+ on arm64/);
    },
  );

  test('before any Jest run: says what to do', () => {
    const dir = writeApp(fs.mkdtempSync(path.join(os.tmpdir(), 'jrl-estimate-')), { name: 'never-ran', files: { 'a.test.js': "test('a', () => {});\n" } });
    try {
      const r = estimate(dir, ['--json']);
      expect(r.status).toBe(1);
      expect(r.stdout).toMatch(/Jest's cache has no duration for any of the 1 test files .*\nRun npx jest once \(with any runner\), then estimate again\./);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
