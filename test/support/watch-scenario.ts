/**
 * A watch-mode session in a pseudo-terminal, as a developer runs it: a first run, an edit that
 * breaks a test (re-run), the fix, and Enter pressed while that run is busy (Jest 30 interrupts
 * on keys, not on file changes), then Enter again for a full run. Records every run through a
 * reporter so two runners can be compared run by run.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const REPORTER = path.join(__dirname, 'watch-reporter.js');
const IDLE_PLUGIN = path.join(__dirname, 'watch-idle-plugin.js');
// (a first run on Lambda ships and starts cold environments: minutes on a loaded 2-core machine)
const RUN_TIMEOUT_MS = 240_000;
/** More slow files than workers: an interruption leaves some of them unstarted. */
export const SLOW_FILES = 5;
/** How long Jest must stay quiet (no run starting) before a step counts it as settled. */
const QUIET_MS = 1500;

export type WatchRecord = {
  type: 'start' | 'complete' | 'idle';
  at?: number;
  interrupted?: boolean;
  numTotalTests?: number;
  numFailedTests?: number;
  files?: Array<{ path: string; tests: Array<{ name: string; status: string; failureMessages: string[] }>; console: string[] }>;
};

function writeProject(dir: string, nodeModules: string): void {
  fs.mkdirSync(path.join(dir, 'src'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'test'));
  fs.mkdirSync(path.join(dir, '.git'));
  fs.symlinkSync(nodeModules, path.join(dir, 'node_modules'));
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'watch-app', private: true }));
  fs.writeFileSync(
    path.join(dir, 'jest.config.js'),
    `module.exports = { runner: 'remote-lambda', testEnvironment: 'node', watchPlugins: [${JSON.stringify(IDLE_PLUGIN)}] };\n`,
  );
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

/** The runs a scenario compares, picked out of every record (Jest may start a run of its own besides them). */
export type WatchRuns = {
  /** the first run */
  first: WatchRecord;
  /** the last run after the edit that breaks `mul` (Jest settled) */
  afterEdit: WatchRecord;
  /** which run, counting from 0 in start order, was the first to begin after that edit (its debug line) */
  afterEditIndex: number;
  /** the run Enter interrupted */
  interrupted: WatchRecord;
  /** the last run after Enter once Jest settled: the fixed code, not interrupted */
  final: WatchRecord;
  records: WatchRecord[];
  stderr: string;
  /** files of the project that changed while Jest watched (relative paths): the scenario's edits only */
  changed: string[];
};

/**
 * Runs the scenario under one runner in `dir` (created), with `nodeModules` linked in and `extraEnv`
 * (the lambda backend's variables, say); returns the runs to compare, every reporter record and Jest's output.
 *
 * Jest's file watcher may report one write as two changes, the second after the run the first one
 * started (seen on a loaded CI machine): Jest then starts a run of its own, and a key press meant for
 * "no run" would interrupt that one. So each step waits for Jest to settle (as many runs started as
 * completed, Jest taking keys again, nothing new for a while) and picks its run by time, not by count.
 */
export async function watchScenario(
  dir: string,
  runner: 'default' | 'remote-lambda',
  nodeModules: string,
  extraEnv: NodeJS.ProcessEnv = {},
): Promise<WatchRuns> {
  writeProject(dir, nodeModules);
  const reportFile = path.join(dir, '..', `${path.basename(dir)}.watch.jsonl`);
  fs.writeFileSync(reportFile, '');
  const records = () =>
    fs
      .readFileSync(reportFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as WatchRecord);
  const env: NodeJS.ProcessEnv = { ...process.env, WATCH_REPORT_FILE: reportFile, FORCE_COLOR: '0', JEST_REMOTE_LAMBDA_DEBUG: '1', ...extraEnv };
  delete env.JEST_WORKER_ID;
  const jest = [
    process.execPath,
    require.resolve('jest/bin/jest', { paths: [nodeModules] }),
    '--watchAll',
    '--maxWorkers=2',
    `--cacheDirectory=${path.join(dir, '..', `${path.basename(dir)}.cache`)}`,
    '--reporters=default',
    `--reporters=${REPORTER}`,
    ...(runner === 'default' ? ['--runner=jest-runner'] : []),
  ];
  const changed = new Set<string>();
  const watcher = fs.watch(dir, { recursive: true }, (_event, file) => {
    if (file) changed.add(file.toString());
  });
  // util-linux `script` gives Jest a terminal, so it reads key presses as it does for a developer
  const child = spawn('script', ['-qfec', jest.map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' '), '/dev/null'], {
    cwd: dir,
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  // (in a terminal, Jest's stdout and stderr arrive together)
  child.stdout.on('data', (d) => (stderr += d));
  child.stderr.on('data', (d) => (stderr += d));
  const until = async (what: string, done: (r: WatchRecord[]) => boolean) => {
    const deadline = Date.now() + RUN_TIMEOUT_MS;
    while (!done(records())) {
      if (Date.now() > deadline) throw new Error(`watch (${runner}): no ${what} within ${RUN_TIMEOUT_MS} ms. Records: ${JSON.stringify(records())}\n${stderr}`);
      if (child.exitCode !== null) throw new Error(`watch (${runner}) exited (${child.exitCode}):\n${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const completes = (r: WatchRecord[]) => r.filter((x) => x.type === 'complete');
  const starts = (r: WatchRecord[]) => r.filter((x) => x.type === 'start');
  const idles = (r: WatchRecord[]) => r.filter((x) => x.type === 'idle');
  const startedAfter = (at: number) => (r: WatchRecord[]) => starts(r).some((x) => x.at! > at);
  /**
   * Waits until Jest has completed at least `runs` runs, finished every run it started, takes keys
   * again, and has been quiet for a while.
   */
  const settle = async (what: string, runs: number) => {
    let seen = -1;
    let since = Date.now();
    await until(what, (r) => {
      if (r.length !== seen) [seen, since] = [r.length, Date.now()];
      const n = completes(r).length;
      return n >= runs && starts(r).length === n && idles(r).length === n && Date.now() - since >= QUIET_MS;
    });
    return completes(records());
  };
  /** The complete record of the first run that started after `at`. */
  const runStartedAfter = (at: number) => {
    const r = records().filter((x) => x.type !== 'idle');
    return r.slice(r.findIndex((x) => x.type === 'start' && x.at! > at)).find((x) => x.type === 'complete')!;
  };
  try {
    const [first] = await settle('first run', 1);
    // a bug: the run after the edit fails one test
    const editAt = Date.now();
    const afterEditIndex = starts(records()).length;
    const before = completes(records()).length;
    fs.writeFileSync(path.join(dir, 'src', 'calc.js'), 'exports.add = (a, b) => a + b;\nexports.mul = (a, b) => a * b + 1;\n');
    await until('run after the edit', startedAfter(editAt));
    const afterEdit = (await settle('run after the edit', before + 1)).at(-1)!;
    // the fix; while that run is still busy with the slow files, Enter interrupts it (files not yet
    // started are dropped)
    const fixAt = Date.now();
    fs.writeFileSync(path.join(dir, 'src', 'calc.js'), 'exports.add = (a, b) => a + b;\nexports.mul = (a, b) => a * b;\n');
    await until('run after the fix to start', startedAfter(fixAt));
    await new Promise((r) => setTimeout(r, 700));
    child.stdin.write('\r');
    await settle('the interrupted run to end', before + 2);
    const interrupted = runStartedAfter(fixAt);
    // Enter starts a full run (pressed again if a run Jest started on its own took the key)
    let final: WatchRecord | undefined;
    for (let press = 1; !final; press++) {
      const recorded = records().length;
      const done = completes(records()).length;
      const pressAt = Date.now();
      child.stdin.write('\r');
      await until('Jest to take Enter', (r) => r.length > recorded);
      const last = (await settle('a run after the interruption', done + 1)).at(-1)!;
      if (!last.interrupted && startedAfter(pressAt)(records())) final = last;
      else if (press === 3) throw new Error(`watch (${runner}): three presses of Enter gave no whole run. Records: ${JSON.stringify(records())}\n${stderr}`);
    }
    return { first: first!, afterEdit, afterEditIndex, interrupted, final, records: records(), stderr, changed: [...changed].sort() };
  } finally {
    child.stdin.write('q');
    await new Promise((r) => setTimeout(r, 500));
    child.kill('SIGTERM');
    watcher.close();
  }
}

/** What must match between the runners: statuses and first lines of failures, paths relative. */
export const comparableRun = (record: WatchRecord, dir: string) => ({
  interrupted: record.interrupted,
  numTotalTests: record.numTotalTests,
  numFailedTests: record.numFailedTests,
  files: record.files!.map((f) => ({ path: path.relative(dir, f.path), tests: f.tests })),
});
