/**
 * The `timeline` option on the embedded backend (the Lambda side is in test/lambda.test.ts): a
 * trace per run with a lane per worker, each file's event with its result, its phases inside, and
 * the HTML picture; the summary names the three longest files.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runJest } from './support/run-jest';
import { writeApp } from './support/temp-app';
import { readTimeline } from './support/timeline-check';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jrl-timeline-'));
  const files: Record<string, string> = {
    'test/fails.test.js': "test('fails', () => expect(1).toBe(2));\n",
    'test/broken.test.js': "require('./missing-module');\ntest('never', () => {});\n",
    'test/skipped.test.js': "test.skip('later', () => {});\n",
  };
  for (let i = 1; i <= 4; i++) files[`test/slow${i}.test.js`] = `test('waits ${i}', () => new Promise((r) => setTimeout(r, ${i * 150})));\n`;
  writeApp(dir, { name: 'timeline-app', files });
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test('a run writes its timeline: one event per file with its result, a lane per worker, phases inside, the picture beside it', () => {
  const file = path.join(dir, 'out', 'timeline.json');
  const run = runJest(dir, { runner: 'remote-lambda', args: ['-w', '2'], env: { JEST_REMOTE_LAMBDA_TIMELINE: 'out/timeline.json' } });
  expect(run.json.numTotalTestSuites).toBe(7);
  const { events, files, laneNames, totals, html } = readTimeline(file, run.json);
  // two workers, each its own lane, each cold for its first file only
  const workers = [...laneNames.values()].filter((n) => n.startsWith('local worker'));
  expect(workers).toHaveLength(2);
  expect(workers.every((n) => n.endsWith('(cold at first)'))).toBe(true);
  expect(files.filter((f) => f.args!.cold)).toHaveLength(2);
  // the run phase of a file that ran, inside its file event
  const slow4 = files.find((f) => String(f.args!.testPath).endsWith('slow4.test.js'))!;
  const runPhase = events.find((e) => e.name === 'run' && e.tid === slow4.tid && e.ts >= slow4.ts && e.ts < slow4.ts + slow4.dur!)!;
  expect(runPhase.dur).toBeGreaterThanOrEqual(550_000);
  expect(runPhase.ts + runPhase.dur!).toBeLessThanOrEqual(slow4.ts + slow4.dur!);
  expect(files.find((f) => String(f.args!.testPath).endsWith('broken.test.js'))!.args!.status).toBe('error');
  expect(totals).toMatchObject({ files: 7, failedFiles: 2 });
  expect(html).toContain('slow4.test.js');
  // the summary line: where the trace is, and the three longest files of the trace, longest first
  expect(run.stderr).toMatch(
    /remote-lambda: timeline in .*out\/timeline\.json \(open it in https:\/\/ui\.perfetto\.dev; picture: .*out\/timeline\.html\); longest files: /,
  );
  const listed = /longest files: (.*)\./.exec(run.stderr)![1]!.split(', ');
  expect(listed.map((l) => l.replace(/ \(\d+\.\d s\)$/, ''))).toEqual(
    [...files]
      .sort((a, b) => b.dur! - a.dur!)
      .slice(0, 3)
      .map((f) => f.name),
  );
});
