/**
 * The snapshot workflow (first write, --ci with a missing snapshot, a mismatch, -u, obsolete
 * snapshots and snapshot files, inline snapshots rewritten into the test file) on the embedded
 * backend, in band and on the worker pool: every step leaves the same results and the same files
 * as Jest's default runner. (The same workflow runs on the emulated Lambda in lambda-workflows.test.ts.)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SNAPSHOT_STEPS, checkSnapshotSteps, snapshotWorkflow, type StepOutcome } from './support/snapshot-workflow';
import { runJest } from './support/run-jest';
import { writeApp } from './support/temp-app';

let work: string;
beforeAll(() => {
  work = writeApp(fs.mkdtempSync(path.join(os.tmpdir(), 'jrl-snapshots-')), { name: 'snapshot-workflow', jestConfig: null });
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

// In band: Jest's choice for two small files. Pool: two workers and no timings (a fresh cache per run).
describe.each([
  ['in band', () => []],
  ['on the worker pool', () => ['--maxWorkers=2', `--cacheDirectory=${fs.mkdtempSync(path.join(work, 'cache-'))}`]],
] as Array<[string, () => string[]]>)('%s', (mode, extraArgs) => {
  let outcomes: StepOutcome[];
  beforeAll(() => {
    outcomes = snapshotWorkflow(path.join(work, mode.replace(/\W+/g, '-')), (cwd, runner, args) =>
      runJest(cwd, { runner, args: [...args, ...extraArgs()], env: { JEST_REMOTE_LAMBDA_DEBUG: '1' } }),
    );
  }, 600_000);

  test.each(SNAPSHOT_STEPS)('%s: same results and same files as the default runner', (name) => {
    const outcome = outcomes.find((o) => o.step === name)!;
    expect(outcome.ours.result).toEqual(outcome.reference.result);
    expect(outcome.ours.tree).toEqual(outcome.reference.tree);
  });

  test('the steps did what they are meant to, in the mode meant', () => {
    checkSnapshotSteps(outcomes);
    // (with one test file left, the last two steps run in band either way, as Jest decides)
    const expected = mode === 'in band' ? 'workers=in-band' : 'workers=2';
    const modes = outcomes.slice(0, 6).map((o) => /\[remote-lambda\] backend=local (workers=\S+) /.exec(o.oursRun.stderr)?.[1]);
    expect(modes).toEqual(Array(6).fill(expected));
  });
});
