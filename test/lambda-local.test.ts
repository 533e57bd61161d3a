/**
 * On the Lambda backend (the Lambda-like fleet and s3rver, through the real AWS SDK), a test file's
 * process looks like a Jest worker's, files that need this machine run here in the same run, and
 * a function that cannot be used falls back to this machine (or fails every file, when asked to).
 * Also: process.exit in a test on the embedded pool.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { consumerProject } from './support/pack';
import { startFleetStack, type FleetStack } from './support/offline';
import { comparable, runJest, type JestRun } from './support/run-jest';

let work: string;
let project: string;
let stack: FleetStack;

const FILES: Record<string, string> = {
  'jest.config.js': "module.exports = { runner: 'remote-lambda' };\n",
  'worker.test.js': [
    "const fs = require('fs');",
    "const os = require('os');",
    "const path = require('path');",
    "test('argv is a Jest worker\\'s: node and jest-worker\\'s child script', () => {",
    '  expect(process.argv.slice(2)).toEqual([]);',
    "  expect(path.basename(process.argv[1])).toBe('processChild.js');",
    '});',
    "test('HOME and the temporary folder are writable', () => {",
    "  fs.writeFileSync(path.join(os.homedir(), 'written.txt'), 'x');",
    "  fs.writeFileSync(path.join(os.tmpdir(), 'written.txt'), 'y');",
    "  expect(fs.readFileSync(path.join(os.homedir(), 'written.txt'), 'utf8')).toBe('x');",
    '});',
    "test('PATH starts with the project\\'s node_modules/.bin', () => {",
    '  console.log(`bin ${process.env.PATH.split(path.delimiter)[0]}`);',
    '});',
    '',
  ].join('\n'),
  'exit.test.js': "test('before', () => {});\ntest('exits', () => {\n  process.exit(3);\n});\ntest('after', () => {});\n",
  'after-exit.test.js': "test('runs after a file that called process.exit', () => expect(1 + 1).toBe(2));\n",
  'where.test.js': "test('where it runs', () => console.log(`lambda ${process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'none'}`));\n",
  // code under test that asks git and swallows the failure (a null where a path was due), as
  // lint-staged's resolveGitRepo does: asynchronously, and through a shell synchronously
  'quiet-git.test.js': [
    "const { execFile } = require('child_process');",
    "const root = () => new Promise((resolve) => execFile('git', ['rev-parse', '--show-toplevel'], (error, out) => resolve(error ? null : out.trim())));",
    "test('finds the repository root', async () => expect(await root()).toBe(require('fs').realpathSync(__dirname)));",
    '',
  ].join('\n'),
  'quiet-sh.test.js': [
    'function sha() {',
    '  try {',
    "    return require('child_process').execSync('git rev-parse HEAD', { stdio: 'pipe' }).toString().trim();",
    '  } catch {',
    '    return null;',
    '  }',
    '}',
    "test('knows its commit', () => expect(sha()).toMatch(/^[0-9a-f]{40}$/));",
    '',
  ].join('\n'),
  // a test that expects a program to be missing passes there, and stays there
  'expects-missing.test.js':
    "test('reports a missing program', (done) => {\n  require('child_process').execFile('jrl-no-such-program', (error) => {\n    expect(error.code).toBe('ENOENT');\n    done();\n  });\n});\n",
};

beforeAll(async () => {
  ({ work, project } = consumerProject('jrl-lambda-local-', 'lambda-local'));
  for (const [file, content] of Object.entries(FILES)) fs.writeFileSync(path.join(project, file), content);
  // a tool only this machine has (on the PATH of the Jest runs below; the function has its own PATH)
  fs.mkdirSync(path.join(work, 'tools'));
  fs.writeFileSync(path.join(work, 'tools', 'jrl-local-tool'), '#!/bin/sh\necho local tool\n', { mode: 0o755 });
  fs.writeFileSync(
    path.join(project, 'tool.test.js'),
    "const { execFileSync } = require('child_process');\ntest('runs a tool only this machine has', () => {\n  expect(execFileSync('jrl-local-tool').toString().trim()).toBe('local tool');\n});\n",
  );
  // a file that asks git about its checkout when it loads, as version banners and changelog tools do
  fs.writeFileSync(
    path.join(project, 'git.test.js'),
    "const sha = require('child_process').execSync('git rev-parse HEAD', { stdio: ['ignore', 'pipe', 'pipe'] }).toString().trim();\ntest('knows its commit', () => expect(sha).toMatch(/^[0-9a-f]{40}$/));\n",
  );
  fs.rmSync(path.join(project, '.git'), { recursive: true, force: true });
  execFileSync('git', ['init', '-q'], { cwd: project });
  execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', 'commit', '-q', '--allow-empty', '-m', 'start'], { cwd: project });
  stack = await startFleetStack(path.resolve(__dirname, '..'), work, 'jrl-local');
}, 600_000);

afterAll(async () => {
  await stack?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

/** Only these files of the project (a pattern: file arguments would be taken for reporters). */
const only = (...files: string[]) => [`--testPathPatterns=/(${files.map((f) => f.replace(/\./g, '\\.')).join('|')})$`];
const withTool = () => ({ PATH: `${path.join(work, 'tools')}${path.delimiter}${process.env.PATH}` });
const lambda = (env: NodeJS.ProcessEnv = {}, args: string[] = []): JestRun =>
  runJest(project, { runner: 'remote-lambda', env: { ...stack.env, JEST_REMOTE_LAMBDA_RETRIES: '0', ...withTool(), ...env }, args });
const invocations = (run: JestRun) => Number(/(\d+) invocation\(s\)/.exec(run.stderr)?.[1]);
const byFile = (run: JestRun) => Object.fromEntries(run.json.testResults.map((r) => [path.basename(r.name), r]));
const logged = (run: JestRun, file: string) => (run.console[`${path.join(project, file)}\0`] ?? []).map((c) => c.message);

test('the test process looks like a Jest worker: argv, PATH with node_modules/.bin in front, a writable HOME and tmp', () => {
  const ours = lambda({}, only('worker.test.js'));
  expect(byFile(ours)['worker.test.js']!.status).toBe('passed');
  expect(ours.json.numPassedTests).toBe(3);
  // (the remote tree's folder, mapped back to this checkout)
  expect(logged(ours, 'worker.test.js')).toEqual([`bin ${path.join(project, 'node_modules', '.bin')}`]);
});

test("Jest's cacheDirectory is a folder of the developer's machine (a Mac's is under /var/folders): the function caches transforms in a folder of its own", () => {
  // (outside /tmp: nothing the function may create)
  const cacheDirectory = path.join(os.homedir(), '.cache', `jrl-cache-directory-${process.pid}`);
  try {
    const files = [...only('after-exit.test.js', 'expects-missing.test.js'), `--cacheDirectory=${cacheDirectory}`];
    const reference = runJest(project, { runner: 'default', args: files });
    expect(reference.json.numPassedTests).toBe(2);
    const ours = lambda({ JEST_REMOTE_LAMBDA_CACHE_DIRECTORY: path.join(work, 'cache-directory') }, files);
    expect(comparable(ours)).toEqual(comparable(reference));
    expect(ours.stderr).not.toContain('ran on this machine');
  } finally {
    fs.rmSync(cacheDirectory, { recursive: true, force: true });
  }
});

test('a file that calls process.exit fails as Jest reports it, once, and the environment runs the next file', () => {
  const ours = lambda({ JEST_REMOTE_LAMBDA_CONCURRENCY: '1' }, only('exit.test.js', 'after-exit.test.js'));
  const files = byFile(ours);
  expect(files['exit.test.js']!.status).toBe('failed');
  expect(files['exit.test.js']!.message).toContain('process.exit called with "3"');
  // the code frame and stack point at the line that called it
  expect(files['exit.test.js']!.message).toContain('> 3 |   process.exit(3);');
  expect(files['exit.test.js']!.message).toMatch(/at Object\.exit \(exit\.test\.js:3:11\)/);
  expect(files['after-exit.test.js']!.status).toBe('passed');
  // not retried as an infrastructure fault: one invocation per file
  expect(invocations(ours)).toBe(2);
});

test('a file that fails remotely for want of this machine runs again here; the local result counts, and it stays here next time', () => {
  const reference = runJest(project, { runner: 'default', env: withTool(), args: only('tool.test.js', 'after-exit.test.js') });
  const first = lambda({}, only('tool.test.js', 'after-exit.test.js'));
  expect(comparable(first)).toEqual(comparable(reference));
  expect(first.stderr).toMatch(
    /remote-lambda: 1 file\(s\) ran on this machine instead of Lambda: tool\.test\.js \(failed remotely: spawn jrl-local-tool ENOENT/,
  );
  expect(invocations(first)).toBe(2);
  const second = lambda({}, only('tool.test.js', 'after-exit.test.js'));
  expect(comparable(second)).toEqual(comparable(reference));
  expect(second.stderr).toMatch(/tool\.test\.js \(remembered: spawn jrl-local-tool ENOENT/);
  expect(invocations(second)).toBe(1);
});

test("a file that runs git when it loads (the function has no git, and no .git travels) runs here, with the default runner's result", () => {
  const reference = runJest(project, { runner: 'default', args: only('git.test.js') });
  const ours = lambda({ JEST_REMOTE_LAMBDA_CACHE_DIRECTORY: path.join(work, 'cache-git') }, only('git.test.js'));
  expect(reference.json.numPassedTests).toBe(1);
  expect(comparable(ours)).toEqual(comparable(reference));
  expect(ours.stderr).toMatch(
    /ran on this machine instead of Lambda: git\.test\.js \(failed remotely: (git: command not found|spawn git ENOENT|not a git repository)/,
  );
});

test('a file whose code swallows a failed git (async or through a shell) and then fails runs here; one that expects a missing program stays there', () => {
  const files = ['quiet-git.test.js', 'quiet-sh.test.js', 'expects-missing.test.js'];
  const reference = runJest(project, { runner: 'default', args: only(...files) });
  expect(reference.json.numPassedTests).toBe(3);
  const ours = lambda({ JEST_REMOTE_LAMBDA_CACHE_DIRECTORY: path.join(work, 'cache-quiet-git') }, only(...files));
  expect(comparable(ours)).toEqual(comparable(reference));
  expect(ours.stderr).toMatch(/quiet-git\.test\.js \(failed remotely: git could not be started there \(not on the function\)\)/);
  expect(ours.stderr).toMatch(/quiet-sh\.test\.js \(failed remotely: git could not be started there \(not on the function\)\)/);
  expect(ours.stderr).toMatch(/remote-lambda: 2 file\(s\) ran on this machine instead of Lambda/);
  expect(ours.stderr).not.toMatch(/expects-missing\.test\.js \(/);
});

test("with coverage on, a file that passed after meeting a missing program runs here: there it took another branch, so its coverage would not be this machine's", () => {
  const ours = lambda({ JEST_REMOTE_LAMBDA_CACHE_DIRECTORY: path.join(work, 'cache-missing-coverage') }, [
    ...only('expects-missing.test.js'),
    '--coverage',
    `--coverageDirectory=${path.join(work, 'coverage-missing')}`,
  ]);
  expect(ours.json.numPassedTests).toBe(1);
  expect(ours.stderr).toMatch(
    /expects-missing\.test\.js \(passed remotely, but jrl-no-such-program could not be started there \(not on the function\), so its coverage would differ\)/,
  );
});

test('runLocally sends files here from the start; with rerunLocally off a remote environmental failure is reported as it is', () => {
  const local = lambda(
    { JEST_REMOTE_LAMBDA_RUN_LOCALLY: 'where.test.js', JEST_REMOTE_LAMBDA_CACHE_DIRECTORY: path.join(work, 'cache-a') },
    only('where.test.js', 'after-exit.test.js'),
  );
  expect(logged(local, 'where.test.js')).toEqual(['lambda none']);
  expect(local.stderr).toContain('ran on this machine instead of Lambda: where.test.js (runLocally)');
  expect(invocations(local)).toBe(1);
  const remote = lambda({ JEST_REMOTE_LAMBDA_RERUN_LOCALLY: '0', JEST_REMOTE_LAMBDA_CACHE_DIRECTORY: path.join(work, 'cache-b') }, only('tool.test.js'));
  expect(byFile(remote)['tool.test.js']!.status).toBe('failed');
  expect(byFile(remote)['tool.test.js']!.message).toContain('ENOENT');
  expect(remote.stderr).not.toContain('ran on this machine');
});

test('a function that does not exist: every file runs here with one line saying why, or (fallback "fail") each fails with the error', () => {
  const files = only('where.test.js', 'after-exit.test.js');
  const reference = runJest(project, { runner: 'default', args: files });
  const missing = { JEST_REMOTE_LAMBDA_FUNCTION: 'no-such-function', JEST_REMOTE_LAMBDA_CACHE_DIRECTORY: path.join(work, 'cache-c') };
  const fallback = lambda(missing, files);
  expect(comparable(fallback)).toEqual(comparable(reference));
  expect(fallback.stderr.match(/the Lambda function cannot be used/g)).toHaveLength(1);
  expect(fallback.stderr).toMatch(
    /remote-lambda: the Lambda function cannot be used \(.*no-such-function.*\); running the remaining files locally\. Set "fallback": "fail" to stop instead\./,
  );
  const failing = lambda({ ...missing, JEST_REMOTE_LAMBDA_FALLBACK: 'fail' }, files);
  expect(failing.json.numTotalTestSuites).toBe(2);
  expect(failing.json.numFailedTestSuites).toBe(2);
  for (const file of Object.values(byFile(failing))) expect(file.message).toMatch(/no-such-function|cannot be used/);
  expect(failing.status).toBe(1);
});

describe('native ESM (--experimental-vm-modules here)', () => {
  const ESM = { NODE_OPTIONS: '--experimental-vm-modules --no-warnings' };
  let esm: string;
  beforeAll(() => {
    esm = path.join(project, 'esm');
    fs.cpSync(path.join(path.resolve(__dirname, '..'), 'examples', 'native-esm'), esm, { recursive: true });
  });

  test('a function without VM modules is refused before the first file: the files run here, with the fix', () => {
    const reference = runJest(esm, { runner: 'default', env: ESM });
    const ours = runJest(esm, { runner: 'remote-lambda', env: { ...stack.env, ...ESM, JEST_REMOTE_LAMBDA_CACHE_DIRECTORY: path.join(work, 'cache-esm') } });
    expect(reference.json.numPassedTests).toBeGreaterThan(0);
    expect(comparable(ours)).toEqual(comparable(reference));
    expect(ours.stderr).toContain('This Jest runs with --experimental-vm-modules (native ESM)');
    expect(ours.stderr).toContain('running the remaining files locally');
    for (const file of ours.json.testResults) expect(file.message).not.toMatch(/unexpected token|Cannot use import statement/i);
    const failing = runJest(esm, {
      runner: 'remote-lambda',
      env: { ...stack.env, ...ESM, JEST_REMOTE_LAMBDA_FALLBACK: 'fail', JEST_REMOTE_LAMBDA_CACHE_DIRECTORY: path.join(work, 'cache-esm') },
    });
    expect(failing.status).toBe(1);
    expect(failing.json.numTotalTestSuites).toBe(reference.json.numTotalTestSuites);
    for (const file of failing.json.testResults) {
      expect(file.status).toBe('failed');
      expect(file.message).toContain('npx jest-runner-remote-lambda deploy --function jrl-test-run --node-options=--experimental-vm-modules');
    }
  });

  test("a function with VM modules runs them, with the default runner's results", async () => {
    const withFlag = await startFleetStack(path.resolve(__dirname, '..'), path.join(work, 'esm-stack'), 'jrl-esm', { environment: ESM });
    try {
      const reference = runJest(esm, { runner: 'default', env: ESM });
      const ours = runJest(esm, {
        runner: 'remote-lambda',
        env: { ...withFlag.env, ...ESM, JEST_REMOTE_LAMBDA_CACHE_DIRECTORY: path.join(work, 'cache-esm-2') },
      });
      expect(comparable(ours)).toEqual(comparable(reference));
      expect(ours.stderr).toMatch(/remote-lambda: 3 file\(s\) on Lambda/);
      expect(ours.stderr).not.toContain('ran on this machine');
    } finally {
      await withFlag.stop();
    }
  });
});

test("embedded pool: process.exit in a test fails its file with Jest's message, and the worker serves the next file", () => {
  const run = runJest(project, { runner: 'remote-lambda', env: { JEST_REMOTE_LAMBDA_WORKERS: '1' }, args: only('exit.test.js', 'after-exit.test.js') });
  const files = byFile(run);
  expect(files['exit.test.js']!.status).toBe('failed');
  expect(files['exit.test.js']!.message).toContain('process.exit called with "3"');
  expect(files['exit.test.js']!.message).not.toContain('exited unexpectedly');
  expect(files['after-exit.test.js']!.status).toBe('passed');
});
