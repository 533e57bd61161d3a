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

export type WatchRecord = {
  type: 'start' | 'complete' | 'idle';
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

/**
 * Runs the scenario under one runner in `dir` (created), with `nodeModules` linked in and `extraEnv`
 * (the lambda backend's variables, say); returns every reporter record and Jest's output.
 */
export async function watchScenario(
  dir: string,
  runner: 'default' | 'remote-lambda',
  nodeModules: string,
  extraEnv: NodeJS.ProcessEnv = {},
): Promise<{ records: WatchRecord[]; stderr: string }> {
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
    // (Enter while Jest still counts the run as running would only interrupt it again)
    await until('Jest to take keys again', (r) => idles(r).length === 3);
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
export const comparableRun = (record: WatchRecord, dir: string) => ({
  interrupted: record.interrupted,
  numTotalTests: record.numTotalTests,
  numFailedTests: record.numFailedTests,
  files: record.files!.map((f) => ({ path: path.relative(dir, f.path), tests: f.tests })),
});
