/**
 * Watch mode through the runner, in a pseudo-terminal as a developer runs it: `jest --watchAll`
 * re-runs after a real file edit with the same results as Jest's default runner, on warm caches
 * (only the changed file is hashed and shipped again, the same worker processes answer), and a
 * key press during a run interrupts it (Jest 30 interrupts on keys, not on file changes) without
 * reporting any file twice; the next run reports every file once.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO } from './support/run-jest';

const REPORTER = path.join(__dirname, 'support', 'watch-reporter.js');
const RUN_TIMEOUT_MS = 90_000;
/** More slow files than workers: an interruption leaves some of them unstarted. */
const SLOW_FILES = 5;

type Record = {
  type: 'start' | 'complete';
  interrupted?: boolean;
  numTotalTests?: number;
  numFailedTests?: number;
  files?: Array<{ path: string; tests: Array<{ name: string; status: string; failureMessages: string[] }>; console: string[] }>;
};

let work: string;
beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'jrl-watch-'));
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

function writeProject(dir: string): void {
  fs.mkdirSync(path.join(dir, 'src'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'test'));
  fs.mkdirSync(path.join(dir, '.git'));
  fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(dir, 'node_modules'));
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'watch-app', private: true }));
  fs.writeFileSync(path.join(dir, 'jest.config.js'), "module.exports = { runner: 'remote-lambda', testEnvironment: 'node' };\n");
  fs.writeFileSync(path.join(dir, 'src', 'calc.js'), 'exports.add = (a, b) => a + b;\nexports.mul = (a, b) => a * b;\n');
  fs.writeFileSync(
    path.join(dir, 'test', 'calc.test.js'),
    "const { add, mul } = require('../src/calc');\nconsole.log(`pid ${process.pid}`);\ntest('adds', () => expect(add(2, 3)).toBe(5));\ntest('multiplies', () => expect(mul(2, 3)).toBe(6));\n",
  );
  for (let i = 1; i <= SLOW_FILES; i++) {
    fs.writeFileSync(
      path.join(dir, 'test', `slow${i}.test.js`),
      `const { add } = require('../src/calc');\nconsole.log(\`pid \${process.pid}\`);\ntest('takes its time ${i}', async () => {\n  await new Promise((r) => setTimeout(r, 1500));\n  expect(add(${i}, 1)).toBe(${i + 1});\n});\n`,
    );
  }
}

/** Runs the scenario under one runner; returns every reporter record and Jest's stderr. */
async function scenario(dir: string, runner: 'default' | 'remote-lambda'): Promise<{ records: Record[]; stderr: string }> {
  writeProject(dir);
  const reportFile = path.join(dir, '..', `${path.basename(dir)}.watch.jsonl`);
  fs.writeFileSync(reportFile, '');
  const records = () =>
    fs
      .readFileSync(reportFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record);
  const env: NodeJS.ProcessEnv = { ...process.env, WATCH_REPORT_FILE: reportFile, FORCE_COLOR: '0', JEST_REMOTE_LAMBDA_DEBUG: '1' };
  delete env.JEST_WORKER_ID;
  const jest = [
    process.execPath,
    require.resolve('jest/bin/jest'),
    '--watchAll',
    '--maxWorkers=2',
    `--cacheDirectory=${path.join(dir, '..', `${path.basename(dir)}.cache`)}`,
    '--reporters=default',
    `--reporters=${REPORTER}`,
    ...(runner === 'default' ? ['--runner=jest-runner'] : []),
  ];
  // util-linux `script` gives Jest a terminal, so it reads key presses as it does for a developer
  const child = spawn('script', ['-qfec', jest.map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' '), '/dev/null'], { cwd: dir, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  // (in a terminal, Jest's stdout and stderr arrive together)
  child.stdout.on('data', (d) => (stderr += d));
  child.stderr.on('data', (d) => (stderr += d));
  const until = async (what: string, done: (r: Record[]) => boolean) => {
    const deadline = Date.now() + RUN_TIMEOUT_MS;
    while (!done(records())) {
      if (Date.now() > deadline) throw new Error(`watch (${runner}): no ${what} within ${RUN_TIMEOUT_MS} ms. Records: ${JSON.stringify(records())}\n${stderr}`);
      if (child.exitCode !== null) throw new Error(`watch (${runner}) exited (${child.exitCode}):\n${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const completes = (r: Record[]) => r.filter((x) => x.type === 'complete');
  const starts = (r: Record[]) => r.filter((x) => x.type === 'start');
  try {
    await until('first run', (r) => completes(r).length === 1);
    // a bug: the run after the edit fails one test
    fs.writeFileSync(path.join(dir, 'src', 'calc.js'), 'exports.add = (a, b) => a + b;\nexports.mul = (a, b) => a * b + 1;\n');
    await until('run after the edit', (r) => completes(r).length === 2);
    // the fix; while that run is still busy with the slow files, Enter interrupts it (files not yet
    // started are dropped); the next Enter starts a new run
    fs.writeFileSync(path.join(dir, 'src', 'calc.js'), 'exports.add = (a, b) => a + b;\nexports.mul = (a, b) => a * b;\n');
    await until('third run to start', (r) => starts(r).length === 3);
    await new Promise((r) => setTimeout(r, 700));
    child.stdin.write('\r');
    await until('the interrupted run to end', (r) => completes(r).length === 3);
    await new Promise((r) => setTimeout(r, 300));
    child.stdin.write('\r');
    await until('a run after the interruption', (r) => completes(r).length === 4);
    return { records: records(), stderr };
  } finally {
    child.stdin.write('q');
    await new Promise((r) => setTimeout(r, 500));
    child.kill('SIGTERM');
  }
}

/** What must match between the runners: statuses and first lines of failures, paths relative. */
const comparable = (record: Record, dir: string) => ({
  numTotalTests: record.numTotalTests,
  numFailedTests: record.numFailedTests,
  files: record.files!.map((f) => ({ path: path.relative(dir, f.path), tests: f.tests })),
});

test('watch mode re-runs after an edit with the default runner\'s results, warm; a key press interrupts a run cleanly', async () => {
  const referenceDir = path.join(work, 'reference');
  const oursDir = path.join(work, 'ours');
  const reference = await scenario(referenceDir, 'default');
  const ours = await scenario(oursDir, 'remote-lambda');
  const done = (r: { records: Record[] }) => r.records.filter((x) => x.type === 'complete');

  // first run, and the run after the edit that breaks `mul`
  expect(comparable(done(ours)[0]!, oursDir)).toEqual(comparable(done(reference)[0]!, referenceDir));
  expect(comparable(done(ours)[1]!, oursDir)).toEqual(comparable(done(reference)[1]!, referenceDir));
  expect(done(ours)[1]!.numFailedTests).toBe(1);
  // the run an edit interrupted says so, like Jest's, and left files out (which ones depends on timing)
  expect(done(reference)[2]!.interrupted).toBe(true);
  expect(done(ours)[2]!.interrupted).toBe(true);
  const interrupted = done(ours)[2]!.files!.map((f) => f.path);
  expect(new Set(interrupted).size).toBe(interrupted.length);
  expect(interrupted.length).toBeLessThan(1 + SLOW_FILES);
  // the next run has every file once, all passing, as with Jest's runner
  const last = done(ours)[3]!;
  expect(comparable(last, oursDir)).toEqual(comparable(done(reference)[3]!, referenceDir));
  expect(last.files!.map((f) => path.basename(f.path))).toEqual(['calc.test.js', ...Array.from({ length: SLOW_FILES }, (_, i) => `slow${i + 1}.test.js`)]);
  expect(last.numFailedTests).toBe(0);

  // warm: after the first run, each re-run hashed only the edited file and shipped only it
  const debug = ours.stderr.match(/\[remote-lambda\] backend=[^\r\n]*/g) ?? [];
  expect(debug.length).toBeGreaterThanOrEqual(4);
  expect(debug[0]).toMatch(/ hashed=9 cached=0 blobs new=9 /);
  expect(debug[1]).toMatch(/ hashed=1 cached=\d+ blobs new=1 /);
  // ...and the same worker processes answered every run
  const pids = (r: Record) => new Set(r.files!.flatMap((f) => f.console));
  const firstPids = pids(done(ours)[0]!);
  for (const run of done(ours)) for (const pid of pids(run)) expect(firstPids).toContain(pid);
}, 300_000);
