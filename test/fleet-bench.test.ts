/**
 * bench/fleet.js in its quick mode (a few files, one run of each part), so the benchmark keeps
 * working: its last line is the JSON object the full run prints, with every file answered once,
 * nothing left behind, and figures that hang together.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { REPO } from './support/run-jest';

test('node bench/fleet.js --quick --json: stress and concurrency figures, no file lost or doubled, nothing left behind', () => {
  const r = spawnSync(process.execPath, [path.join(REPO, 'bench/fleet.js'), '--quick', '--json'], {
    cwd: REPO,
    env: { ...process.env, JEST_WORKER_ID: '' },
    encoding: 'utf8',
    timeout: 900_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  expect({ status: r.status, stderr: r.status === 0 ? '' : r.stderr.slice(-4000) }).toEqual({ status: 0, stderr: '' });
  const last = r.stdout.trim().split('\n').at(-1)!;
  const result = JSON.parse(last);
  expect(result).toMatchObject({
    quick: true,
    stress: { files: 40, results: 40, lost: 0, duplicated: 0, mismatches: 0, leftoverProcesses: 0, leftoverTempDirs: 0 },
    concurrency: { files: 30, concurrency: 6 },
  });
  const { stress, concurrency, overhead } = result;
  expect(stress.faultsInjected).toBeGreaterThan(0);
  expect(stress.faultShare).toBeGreaterThanOrEqual(0.1);
  expect(stress.referenceFailedFiles).toBeGreaterThan(0);
  for (const key of ['wallMs', 'lowerBoundMs', 'moduloMs', 'modelMs']) expect(concurrency[key]).toBeGreaterThan(0);
  // the files' own time is inside the wall time, whatever the schedule
  expect(concurrency.wallMs).toBeGreaterThanOrEqual(Math.max(concurrency.longestMs, concurrency.sumMs / concurrency.concurrency));
  expect(overhead.warmInvokeMs).toBeGreaterThan(0);
  expect(overhead.coldInvokeMs).toBeGreaterThan(overhead.warmInvokeMs);
}, 900_000);
