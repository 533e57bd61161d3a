/**
 * Every benchmark still runs: each in its quick mode (a few files, one run, results in a temporary
 * folder), ending with its figures as one JSON object on its last line. The figures are checked for
 * what must hold at any size; the speed targets themselves are measured by the full runs.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO } from './support/run-jest';

type Figures = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- each bench's own JSON

/** Each bench's check of its quick run's figures (and the flags it needs beside --quick). */
const CHECKS: Record<string, ((f: Figures) => void) & { args?: string[] }> = {
  'bundle.js': (f) => {
    expect(f.local.files).toBeGreaterThanOrEqual(f.modules + f.tests);
    expect(f.lambda.files).toBeGreaterThan(f.local.files); // node_modules shipped
    for (const side of [f.local, f.lambda]) expect(Math.min(side.coldFilesPerSecond, side.warmFilesPerSecond)).toBeGreaterThan(0);
  },
  'scale.js': (f) => {
    expect(f.suites).toEqual(['dayjs']);
    expect(f.points).toBe(2);
    expect(f.better + f.tie + f.worse).toBe(2);
    expect(f.medianOursOverFloor).toBeGreaterThanOrEqual(1);
  },
  'overhead.js': (f) => {
    expect(f.projects.map((p: Figures) => `${p.project}:${p.mode}`)).toEqual(['typescript-basics:cold', 'typescript-basics:warm']);
    for (const p of f.projects) expect(p.ratio).toBeGreaterThan(0);
  },
  'lambda-overhead.js': (f) => {
    expect(Object.keys(f.overheadMsPerFile).sort()).toEqual(['lambda', 'lambda, batched', 'local']);
    for (const ms of Object.values(f.overheadMsPerFile)) expect(Number.isFinite(ms)).toBe(true);
  },
  'fleet.js': Object.assign(
    (f: Figures) => {
      expect(f).toMatchObject({
        quick: true,
        stress: { files: 40, results: 40, lost: 0, duplicated: 0, mismatches: 0, leftoverProcesses: 0, leftoverTempDirs: 0 },
        concurrency: { files: 30, concurrency: 6 },
      });
      const { stress, concurrency, overhead } = f;
      expect(stress.faultsInjected).toBeGreaterThan(0);
      expect(stress.faultShare).toBeGreaterThanOrEqual(0.1);
      expect(stress.referenceFailedFiles).toBeGreaterThan(0);
      for (const key of ['wallMs', 'lowerBoundMs', 'moduloMs', 'modelMs']) expect(concurrency[key]).toBeGreaterThan(0);
      // the files' own time is inside the wall time, whatever the schedule
      expect(concurrency.wallMs).toBeGreaterThanOrEqual(Math.max(concurrency.longestMs, concurrency.sumMs / concurrency.concurrency));
      expect(overhead.warmInvokeMs).toBeGreaterThan(0);
      expect(overhead.coldInvokeMs).toBeGreaterThan(overhead.warmInvokeMs);
    },
    { args: ['--json'] },
  ),
  'cold-start.js': (f) => {
    expect(f.suites.map((s: Figures) => s.name)).toEqual(['typescript-basics']);
    const [suite] = f.suites;
    expect(suite.failedTests).toBe(0);
    expect(suite.failedTestsAllPackages).toBe(0);
    for (const key of ['coldBilledMs', 'warmBilledMs', 'coldBytesPerEnv', 'fullTreeBytes', 'coldBilledMsAllPackages']) expect(suite[key]).toBeGreaterThan(0);
    // an environment holds only what its files need: less than the whole tree
    expect(suite.coldBytesPerEnv).toBeLessThan(suite.fullTreeBytes);
    expect(f.clientMsPerResult).toBeGreaterThan(0);
  },
  'estimate.js': (f) => {
    expect(f).toMatchObject({ quick: true, files: 6, lambda: [{ concurrency: 2 }] });
    // measured and predicted wall times are whole runs: at least the longest file
    for (const ms of [
      f.local.measuredMs,
      f.local.predictedMs,
      f.lambda[0].measuredMs,
      f.lambda[0].predictedMs,
      f.lambda[0].warm.measuredMs,
      f.lambda[0].warm.predictedMs,
    ]) {
      expect(ms).toBeGreaterThanOrEqual(f.longestMs);
    }
    expect(f.lambda[0].predictedColdStartMs).toBeGreaterThan(0);
    expect(Number.isFinite(f.lambda[0].error)).toBe(true);
  },
  'shipping.js': (f) => {
    expect(f.first.uploadedBytes).toBeGreaterThan(0);
    expect(f.unchanged.uploadedBytes).toBe(0);
    expect(f.changed.uploadedBytes).toBeGreaterThan(0);
    expect(f.changed.uploadedBytes).toBeLessThan(f.first.uploadedBytes / 10);
    expect(f.inline.first.inlineBytes).toBeGreaterThan(0);
  },
};

test('every benchmark has a quick-mode check here', () => {
  const benches = fs.readdirSync(path.join(REPO, 'bench')).filter((f) => f.endsWith('.js'));
  expect(benches.sort()).toEqual(Object.keys(CHECKS).sort());
});

test.each(Object.keys(CHECKS))(
  'bench/%s --quick runs and prints its figures as JSON on its last line',
  (bench) => {
    // (fleet.js: stress with seeded faults, real concurrency and overhead on the Lambda-like fleet)
    const run = spawnSync(process.execPath, [path.join(REPO, 'bench', bench), '--quick', ...(CHECKS[bench]!.args ?? [])], {
      cwd: REPO,
      encoding: 'utf8',
      timeout: 900_000,
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, JEST_WORKER_ID: '' },
    });
    expect({ status: run.status, stderr: run.status === 0 ? '' : run.stderr.slice(-3000) }).toEqual({ status: 0, stderr: '' });
    const last = run.stdout.trim().split('\n').pop()!;
    CHECKS[bench]!(JSON.parse(last) as Figures);
  },
  900_000,
);
