/**
 * Watch mode through the runner, in a pseudo-terminal as a developer runs it: `jest --watchAll`
 * re-runs after a real file edit with the same results as Jest's default runner, on warm caches
 * (the same worker processes answer; the lambda variant checks that only the edited file ships), and a
 * key press during a run interrupts it (Jest 30 interrupts on keys, not on file changes) without
 * reporting any file twice; the next run reports every file once.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO } from './support/run-jest';
import { SLOW_FILES, comparableRun, watchScenario, type WatchRecord } from './support/watch-scenario';

let work: string;
beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'jrl-watch-'));
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

test("watch mode re-runs after an edit with the default runner's results, warm; a key press interrupts a run cleanly", async () => {
  const referenceDir = path.join(work, 'reference');
  const oursDir = path.join(work, 'ours');
  const reference = await watchScenario(referenceDir, 'default', path.join(REPO, 'node_modules'));
  const ours = await watchScenario(oursDir, 'remote-lambda', path.join(REPO, 'node_modules'));
  const done = (r: { records: WatchRecord[] }) => r.records.filter((x) => x.type === 'complete');

  // first run, and the run after the edit that breaks `mul`
  for (const run of ['first', 'afterEdit', 'final'] as const)
    expect({ run, ...comparableRun(ours[run], oursDir) }).toEqual({ run, ...comparableRun(reference[run], referenceDir) });
  expect(ours.afterEdit.numFailedTests).toBe(1);
  // the run Enter interrupted says so, like Jest's, and left files out (which ones depends on timing)
  expect(reference.interrupted.interrupted).toBe(true);
  expect(ours.interrupted.interrupted).toBe(true);
  const interrupted = ours.interrupted.files!.map((f) => f.path);
  expect(new Set(interrupted).size).toBe(interrupted.length);
  expect(interrupted.length).toBeLessThan(1 + SLOW_FILES);
  // the next run has every file once, all passing, as with Jest's runner
  expect(ours.final.files!.map((f) => path.basename(f.path))).toEqual([
    'calc.test.js',
    ...Array.from({ length: SLOW_FILES }, (_, i) => `slow${i + 1}.test.js`),
  ]);
  expect(ours.final.numFailedTests).toBe(0);
  // the runner wrote nothing into the project (a write there would start another watch run)
  expect(ours.changed).toEqual(['src/calc.js']);

  // in place (the embedded backend's default): nothing is hashed or copied, run after run
  const debug = ours.stderr.match(/\[remote-lambda\] backend=[^\r\n]*/g) ?? [];
  expect(debug.length).toBeGreaterThanOrEqual(4);
  for (const line of debug) expect(line).toMatch(/ hashed=0 cached=0 blobs new=0 /);
  // ...and the same worker processes answered every run
  const pids = (r: WatchRecord) => new Set(r.files!.flatMap((f) => f.console));
  const firstPids = pids(ours.first);
  for (const run of done(ours)) for (const pid of pids(run)) expect(firstPids).toContain(pid);
}, 300_000);
