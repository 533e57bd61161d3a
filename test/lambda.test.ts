/**
 * The lambda backend end to end: the real @aws-sdk/client-lambda invoking this package's built
 * handler on the local Lambda fleet on 127.0.0.1 (test/support/fleet: each execution environment
 * its own isolated process), from a project that installed the package from its tarball, without a
 * bucket: the whole tree (node_modules included) travels inline, as packs of content-addressed
 * blobs in rounds that fit Lambda's payload limit. One smoke test runs on serverless-offline, a
 * third-party emulator, as a reference.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { consumerProject } from './support/pack';
import { startFleet } from './support/fleet';
import { FUNCTION_NAME, startFaultProxy, startOffline, type FaultProxy, type Offline } from './support/offline';
import { REPO, comparable, runJest } from './support/run-jest';
import { readTimeline } from './support/timeline-check';

let work: string;
let project: string;
let offline: Offline;
let limits: FaultProxy;
let tarball: string;
let lambdaEnv: NodeJS.ProcessEnv;

beforeAll(async () => {
  ({ work, project, tarball } = consumerProject('jrl-lambda-', 'lambda-consumer'));
  for (const example of ['fixtures', 'failures']) fs.cpSync(path.join(REPO, 'examples', example), path.join(project, example), { recursive: true });

  offline = await startFleet({ code: { 'index.js': path.join(REPO, 'dist/handler/index.js') }, functionName: FUNCTION_NAME });
  // (the fleet enforces Lambda's 6 MB payload limits too; the proxy also logs each answer's status)
  limits = await startFaultProxy(offline.endpoint, [], 'pass', path.join(work, 'limits.log'));
  lambdaEnv = {
    JEST_REMOTE_LAMBDA_BACKEND: 'lambda',
    JEST_REMOTE_LAMBDA_FUNCTION: FUNCTION_NAME,
    AWS_ENDPOINT_URL_LAMBDA: limits.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'x',
    AWS_SECRET_ACCESS_KEY: 'x',
  };
}, 600_000);

afterAll(async () => {
  limits?.stop();
  await offline?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

test.each(['fixtures', 'failures'])("example %s gives the default runner's results on the emulated Lambda", (example) => {
  const cwd = path.join(project, example);
  const reference = runJest(cwd, { runner: 'default' });
  const ours = runJest(cwd, { runner: 'remote-lambda', env: lambdaEnv });
  expect(ours.stderr).toMatch(/remote-lambda: \d+ file\(s\) on Lambda \(Node v\d+[^)]*\), \d+ invocation\(s\)/);
  expect(reference.json.numTotalTests).toBeGreaterThan(0);
  expect(comparable(ours)).toEqual(comparable(reference));
  // the cold container got the tree (node_modules included) inline, in rounds inside the limits
  if (example === 'fixtures') expect(limits.log()).toContain('pass:need-blobs');
  expect(limits.log().filter((l) => l.endsWith('too-large'))).toEqual([]);
});

test('coloured matcher output (FORCE_COLOR=1) comes back coloured, also from a container that ran uncoloured before', () => {
  // the emulator's own environment says NO_COLOR=1 FORCE_COLOR=0, and earlier tests ran uncoloured
  const cwd = path.join(project, 'failures');
  const reference = runJest(cwd, { runner: 'default', env: { FORCE_COLOR: '1' }, args: ['-i'] });
  const ours = runJest(cwd, { runner: 'remote-lambda', env: { ...lambdaEnv, FORCE_COLOR: '1' }, args: ['-i'] });
  const messages = (run: typeof ours) => run.json.testResults.flatMap((f) => f.assertionResults.flatMap((t) => t.failureMessages)).join('\n');
  expect(messages(reference)).toContain('\u001b[');
  expect(comparable(ours)).toEqual(comparable(reference));
});

test("what the remote process prints outside the tests (a transformer's warning) is printed here, as a worker's would be", () => {
  const cwd = path.join(project, 'warns');
  fs.mkdirSync(cwd);
  fs.writeFileSync(
    path.join(cwd, 'jest.config.js'),
    "module.exports = { runner: 'remote-lambda', transform: { '\\\\.js$': '<rootDir>/warning-transform.js' } };\n",
  );
  fs.writeFileSync(
    path.join(cwd, 'warning-transform.js'),
    "module.exports = { process(source) { process.stderr.write('warning-transform: browserslist data is old\\n'); return { code: source }; } };\n",
  );
  fs.writeFileSync(path.join(cwd, 'a.test.js'), "test('runs', () => expect(1).toBe(1));\n");
  const reference = runJest(cwd, { runner: 'default', args: ['--no-cache'] });
  const ours = runJest(cwd, { runner: 'remote-lambda', env: lambdaEnv, args: ['--no-cache'] });
  expect(reference.stderr).toContain('warning-transform: browserslist data is old');
  expect(ours.stderr).toContain('warning-transform: browserslist data is old');
  expect(comparable(ours)).toEqual(comparable(reference));
});

test("a Jest 29 project (its own lockfile) gives the default runner's results on the emulated Lambda", () => {
  const cwd = path.join(work, 'jest29');
  fs.cpSync(path.join(REPO, 'examples', 'jest29'), cwd, { recursive: true, filter: (src) => !src.includes(`${path.sep}node_modules`) });
  fs.mkdirSync(path.join(cwd, '.git'));
  execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--prefer-offline'], { cwd, stdio: 'pipe', timeout: 300_000 });
  execFileSync('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--prefer-offline', tarball], { cwd, stdio: 'pipe', timeout: 300_000 });
  const reference = runJest(cwd, { runner: 'default' });
  const ours = runJest(cwd, { runner: 'remote-lambda', env: lambdaEnv });
  expect(JSON.parse(fs.readFileSync(path.join(cwd, 'node_modules', 'jest', 'package.json'), 'utf8')).version).toMatch(/^29\./);
  expect(reference.json.numTotalTests).toBeGreaterThan(0);
  expect(ours.stderr).toMatch(/remote-lambda: \d+ file\(s\) on Lambda/);
  expect(comparable(ours)).toEqual(comparable(reference));
}, 600_000);

test('a second run ships nothing new, sends its small files together (Jest timed them), and still matches', () => {
  const cwd = path.join(project, 'fixtures');
  const reference = runJest(cwd, { runner: 'default' });
  const before = limits.log().length;
  // (one slot: files are sent together only while they outnumber the free slots; a budget of 60 s,
  // the most allowed, so that the fixtures' timings from a loaded machine are still under it)
  const ours = runJest(cwd, { runner: 'remote-lambda', env: { ...lambdaEnv, JEST_REMOTE_LAMBDA_CONCURRENCY: '1', JEST_REMOTE_LAMBDA_BATCH_MS: '60000' } });
  expect(ours.stderr).toMatch(/shipped 0\.0 MB inline/);
  // (what the proxy saw, so a failure says why: an environment that has the blobs but not this
  // project's description asks for it first, `need-project`, which costs one more invocation)
  const answers = limits.log().slice(before);
  const invocations = Number(/3 file\(s\) on Lambda \([^)]*\), (\d+) invocation\(s\)/.exec(ours.stderr)?.[1]);
  expect({ invocations, answers }).toEqual({ invocations: answers.length, answers: expect.arrayContaining(['pass:batch']) });
  // the three files came back in fewer answers than files
  expect(answers.filter((a) => /^pass:(batch|completed|failed)$/.test(a)).length).toBeLessThan(3);
  expect(comparable(ours)).toEqual(comparable(reference));
});

test('without a bucket, files too large for one request even compressed travel in pieces: read whole by a test, or unread', () => {
  const cwd = path.join(project, 'big');
  fs.mkdirSync(path.join(cwd, 'test'), { recursive: true });
  fs.writeFileSync(path.join(cwd, 'jest.config.js'), "module.exports = { runner: 'remote-lambda', testEnvironment: 'node' };\n");
  // random bytes do not compress: 14 MB a test reads (3 pieces or more), 9 MB nothing reads (a
  // native binary of a compiler, say)
  const blob = crypto.randomBytes(14 * 1024 * 1024);
  fs.writeFileSync(path.join(cwd, 'test', 'blob.bin'), blob);
  fs.writeFileSync(path.join(cwd, 'unread.bin'), crypto.randomBytes(9 * 1024 * 1024));
  const digest = crypto.createHash('sha256').update(blob).digest('hex');
  fs.writeFileSync(
    path.join(cwd, 'test', 'big.test.js'),
    "const crypto = require('crypto');\nconst fs = require('fs');\n" +
      `test('the whole blob arrived', () => {\n  expect(crypto.createHash('sha256').update(fs.readFileSync(__dirname + '/blob.bin')).digest('hex')).toBe('${digest}');\n});\n`,
  );
  const reference = runJest(cwd, { runner: 'default' });
  const before = limits.log().length;
  const ours = runJest(cwd, { runner: 'remote-lambda', env: lambdaEnv });
  expect(reference.json.numPassedTests).toBe(1);
  expect(comparable(ours)).toEqual(comparable(reference));
  // 23 MB in pieces of about 4.4 MB: at least 6 rounds of need-blobs, none refused for its size
  expect(
    limits
      .log()
      .slice(before)
      .filter((l) => l === 'pass:need-blobs').length,
  ).toBeGreaterThanOrEqual(6);
  expect(limits.log().filter((l) => l.endsWith('too-large'))).toEqual([]);
  expect(ours.stderr).toMatch(/shipped (2[3-9]|[3-9]\d)\.\d MB inline/);
});

test('a function that does not exist, with fallback "fail": every file fails once with the fix', () => {
  const cwd = path.join(project, 'fixtures');
  const ours = runJest(cwd, {
    runner: 'remote-lambda',
    env: { ...lambdaEnv, JEST_REMOTE_LAMBDA_FUNCTION: 'jrl-test-missing', JEST_REMOTE_LAMBDA_FALLBACK: 'fail' },
  });
  expect(ours.json.numTotalTestSuites).toBe(3);
  expect(ours.json.numFailedTestSuites).toBe(3);
  for (const file of ours.json.testResults) {
    expect(file.message).toContain('Lambda function jrl-test-missing does not exist in this account and region');
    expect(file.message).toContain('JEST_REMOTE_LAMBDA_FUNCTION');
  }
});

describe('faults between the runner and Lambda', () => {
  const proxied = async (script: string[], then: string, env: NodeJS.ProcessEnv, example = 'fixtures') => {
    const proxy = await startFaultProxy(offline.endpoint, script, then, path.join(work, `proxy-${Date.now()}.log`));
    try {
      // one file per invocation (unless a test asks otherwise), so invocations can be counted per file;
      // fallback "fail", so that what a fault leaves is reported rather than run locally instead
      const run = runJest(path.join(project, example), {
        runner: 'remote-lambda',
        env: { ...lambdaEnv, AWS_ENDPOINT_URL_LAMBDA: proxy.endpoint, JEST_REMOTE_LAMBDA_BATCH_MS: '0', JEST_REMOTE_LAMBDA_FALLBACK: 'fail', ...env },
      });
      return { run, log: proxy.log() };
    } finally {
      proxy.stop();
    }
  };
  const fixturesReference = () => runJest(path.join(project, 'fixtures'), { runner: 'default' });
  // (these proxies stand in front of the emulator directly: each scripts its own faults)

  test('throttling, 5xx, resets, garbage and truncated answers are retried; results stay exact', async () => {
    const script = ['429', '500', '503', 'reset', 'garbage', 'truncated'];
    // one file at a time: the first file meets all six faults, then its seventh attempt passes
    const timeline = path.join(work, 'faults-timeline.json');
    const { run, log } = await proxied(script, 'pass', {
      JEST_REMOTE_LAMBDA_CONCURRENCY: '1',
      JEST_REMOTE_LAMBDA_RETRIES: '6',
      JEST_REMOTE_LAMBDA_TIMELINE: timeline,
    });
    expect(log.slice(0, script.length)).toEqual(script);
    expect(run.stderr).toMatch(/3 file\(s\) on Lambda \([^)]*\), \d+ invocation\(s\)(?: \(\+[^)]*\))?, 6 retries \(1 throttled\)/);
    expect(comparable(run)).toEqual(comparable(fixturesReference()));
    // the timeline shows the six faults as their own events, the file they hit sent seven times,
    // and the files on a Lambda environment's lane
    const { events, files, laneNames, totals } = readTimeline(timeline, run.json);
    expect(events.filter((e) => e.cat === 'fault')).toHaveLength(6);
    expect(files.map((f) => f.args!.attempts).sort()).toEqual([1, 1, 7]);
    expect(files.every((f) => laneNames.get(f.tid)!.startsWith('Lambda environment '))).toBe(true);
    expect(totals).toMatchObject({ files: 3, faults: 6, retriedFiles: 1 });
    expect(run.stderr).toContain('remote-lambda: timeline in ');
  });

  test('persistent throttling: each file is tried retries+1 times, then fails once saying what happened', async () => {
    const { run, log } = await proxied([], '429', { JEST_REMOTE_LAMBDA_RETRIES: '1' });
    expect(log).toEqual(Array(6).fill('429'));
    expect(run.json.numTotalTestSuites).toBe(3);
    expect(run.json.numFailedTestSuites).toBe(3);
    for (const file of run.json.testResults) {
      expect(file.message).toContain('could not get a result for this file after 2 attempt(s)');
      expect(file.message).toContain('is throttled (429 TooManyRequests)');
      expect(file.message).toContain('not of your test');
    }
    expect(run.status).toBe(1);
  });

  test('persistent throttling with the default fallback: the files run here instead, with the same results and one line saying why', async () => {
    const reference = runJest(path.join(project, 'fixtures'), { runner: 'default' });
    const { run, log } = await proxied([], '429', { JEST_REMOTE_LAMBDA_RETRIES: '1', JEST_REMOTE_LAMBDA_FALLBACK: 'local' });
    expect(log.length).toBeGreaterThan(0);
    expect(log.every((line) => line === '429')).toBe(true);
    expect(comparable(run)).toEqual(comparable(reference));
    expect(run.stderr).toMatch(
      /remote-lambda: 3 file\(s\) ran on this machine instead of Lambda: .*the function could not run it: .*is throttled \(429 TooManyRequests\)/,
    );
  });

  test('a crashed function (FunctionError Unhandled) is retried and then reported with its error', async () => {
    const { run, log } = await proxied([], 'unhandled', { JEST_REMOTE_LAMBDA_RETRIES: '1' });
    expect(log).toEqual(Array(6).fill('unhandled'));
    for (const file of run.json.testResults)
      expect(file.message).toContain('failed (Unhandled): Runtime.ExitError: RequestId: 1 Error: Runtime exited with error: signal: killed');
  });

  test('413 payload too large is not retried', async () => {
    const { run, log } = await proxied([], '413', { JEST_REMOTE_LAMBDA_RETRIES: '2' });
    expect(log).toEqual(Array(3).fill('413'));
    for (const file of run.json.testResults) expect(file.message).toContain('refused the request as too large (413)');
  });

  test('an answer that never arrives hits the per-invoke timeout', async () => {
    const { run, log } = await proxied([], 'hang', { JEST_REMOTE_LAMBDA_RETRIES: '0', JEST_REMOTE_LAMBDA_INVOKE_TIMEOUT_MS: '1500' });
    expect(log).toEqual(Array(3).fill('hang'));
    for (const file of run.json.testResults) expect(file.message).toContain(`No answer from Lambda function ${FUNCTION_NAME} within 1500 ms`);
  });

  test('files sent together meet a fault: the whole request is retried, and each file is reported once', async () => {
    // (the reference run times the fixtures files for Jest: small enough to travel together)
    const reference = fixturesReference();
    const { run, log } = await proxied(['503', 'reset'], 'pass', { JEST_REMOTE_LAMBDA_BATCH_MS: '60000', JEST_REMOTE_LAMBDA_CONCURRENCY: '1' });
    expect(log.slice(0, 2)).toEqual(['503', 'reset']);
    expect(log.at(-1)).toBe('pass:batch');
    expect(log.filter((l) => l === 'pass:completed' || l === 'pass:failed')).toEqual([]);
    expect(run.stderr).toMatch(/3 file\(s\) on Lambda \([^)]*\), \d+ invocation\(s\)(?: \(\+[^)]*\))?, 6 retries/);
    expect(comparable(run)).toEqual(comparable(reference));
  });

  test('billed time from the REPORT line of each log tail makes the cost line', async () => {
    // (no warm-ups: they would be billed at the emulator's own durations, which nothing here scripts)
    const { run, log } = await proxied([], 'report', { JEST_REMOTE_LAMBDA_PREWARM: '0' });
    // (one invocation per file, and one more per file wherever the warm emulator asked for the project first)
    expect(log.length).toBeGreaterThanOrEqual(3);
    expect(log.every((line) => line === 'report')).toBe(true);
    // n invocations x 1022 ms x 2 GB; x86_64 at $0.0000166667 per GB-s plus $0.20 per million requests
    const gbSeconds = (log.length * 1022 * 2048) / 1024 / 1000;
    const usd = gbSeconds * 0.0000166667 + (log.length + 1) * 0.2e-6;
    expect(run.stderr).toContain(`, ${log.length} invocation(s)`);
    expect(run.stderr).toMatch(
      new RegExp(
        `3 file\\(s\\) on Lambda \\([^)]*x86_64[^)]*\\), .*; billed ${gbSeconds.toFixed(2).replace('.', '\\.')} GB-s ≈ \\$${usd.toFixed(4).replace('.', '\\.')}`,
      ),
    );
    expect(comparable(run)).toEqual(comparable(fixturesReference()));
  });

  test('a function running another protocol version: no retry, the run stops sending, every file fails once saying to redeploy', async () => {
    const { run, log } = await proxied([], 'old-protocol', { JEST_REMOTE_LAMBDA_RETRIES: '2' });
    // (files already in flight when the first answer came are answered the same; none is retried)
    expect(log.length).toBeGreaterThanOrEqual(1);
    expect(log.length).toBeLessThanOrEqual(3);
    expect(log.every((line) => line === 'old-protocol')).toBe(true);
    expect(run.json.numFailedTestSuites).toBe(3);
    expect(run.stderr.match(/remote-lambda: the Lambda function cannot be used/g)).toHaveLength(1);
    for (const file of run.json.testResults) {
      expect(file.message).toContain(`Lambda function ${FUNCTION_NAME} runs a handler of protocol 1; this runner speaks protocol 2.`);
      expect(file.message).toContain('npx jest-runner-remote-lambda deploy');
    }
  });

  test('real test failures are never retried: one handler run per file', async () => {
    const { run, log } = await proxied([], 'pass', { JEST_REMOTE_LAMBDA_RETRIES: '2' }, 'failures');
    const ran = log.filter((l) => l === 'pass:completed' || l === 'pass:failed');
    expect(run.json.numFailedTestSuites).toBe(5);
    expect(ran).toHaveLength(5);
    expect(log.filter((l) => !l.startsWith('pass:'))).toEqual([]);
  });
});

describe('doctor', () => {
  const doctor = (env: NodeJS.ProcessEnv) => {
    const r = spawnSync(path.join(project, 'node_modules/.bin/jest-runner-remote-lambda'), ['doctor'], {
      cwd: path.join(project, 'fixtures'),
      env: { ...process.env, ...lambdaEnv, ...env, JEST_WORKER_ID: '' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    return { status: r.status, out: r.stdout };
  };

  test('a working set-up passes every check, with the round trip and versions; no secret is printed', () => {
    const r = doctor({ AWS_ACCESS_KEY_ID: 'AKIAEXAMPLEKEY1234', AWS_SECRET_ACCESS_KEY: 'very-secret-value' });
    expect(r.out).toMatch(/^✓ Node.js: v\d+/m);
    expect(r.out).toMatch(/^✓ Jest: 30\.\d+\.\d+/m);
    expect(r.out).toMatch(/^✓ AWS credentials: found \(access key …1234;/m);
    expect(r.out).not.toContain('AKIAEXAMPLE');
    expect(r.out).not.toContain('very-secret');
    expect(r.out).toMatch(
      new RegExp(`^✓ Function: ${FUNCTION_NAME}: handler \\d+\\.\\d+\\.\\d+ \\(protocol 2\\) on Node v\\d+\\S* x64, (warm|cold), round trip \\d+ ms`, 'm'),
    );
    expect(r.out).toContain('All checks passed.');
    expect(r.status).toBe(0);
  });

  test('a wrong function name fails with the fix', () => {
    const r = doctor({ JEST_REMOTE_LAMBDA_FUNCTION: 'jrl-test-missing' });
    expect(r.out).toMatch(/^✗ Function: jrl-test-missing in us-east-1: ResourceNotFoundException/m);
    expect(r.out).toContain(
      '  fix: Check the name (JEST_REMOTE_LAMBDA_FUNCTION, --function) and the region, or create it: npx jest-runner-remote-lambda deploy --function jrl-test-missing.',
    );
    expect(r.status).toBe(1);
  });

  test('missing credentials fail with the fix', () => {
    const r = doctor({
      AWS_ACCESS_KEY_ID: '',
      AWS_SECRET_ACCESS_KEY: '',
      AWS_PROFILE: '',
      AWS_SHARED_CREDENTIALS_FILE: path.join(work, 'no-credentials'),
      AWS_CONFIG_FILE: path.join(work, 'no-config'),
      AWS_EC2_METADATA_DISABLED: 'true',
    });
    expect(r.out).toMatch(/^✗ AWS credentials: none found/m);
    expect(r.out).toContain('  fix: Configure credentials as for the AWS CLI');
    expect(r.status).toBe(1);
  });

  test('a function running another protocol version fails with the fix', async () => {
    const proxy = await startFaultProxy(offline.endpoint, [], 'old-protocol', path.join(work, 'doctor-proxy.log'), undefined, { faultPings: true });
    try {
      const r = doctor({ AWS_ENDPOINT_URL_LAMBDA: proxy.endpoint });
      expect(r.out).toMatch(new RegExp(`^✗ Function: ${FUNCTION_NAME} runs a handler of protocol 1; this runner \\(\\S+\\) speaks protocol 2`, 'm'));
      expect(r.out).toContain(`  fix: Deploy the handler of this version: npx jest-runner-remote-lambda deploy --function ${FUNCTION_NAME}.`);
      expect(r.status).toBe(1);
    } finally {
      proxy.stop();
    }
  });
});

test("smoke, on serverless-offline (a third-party emulator, as a reference): example fixtures gives the default runner's results", async () => {
  const reference = await startOffline(REPO, path.join(work, 'offline-tmp'), path.join(work, 'offline-service'));
  try {
    const cwd = path.join(project, 'fixtures');
    // One invocation at a time: serverless-offline runs the handler inside its HTTP server's process,
    // so while one invocation's Jest works, another's 6 MB upload stalls past hapi's 10 s payload
    // timeout and the socket is closed (EPIPE here) on a loaded machine. Lambda has no such limit.
    const ours = runJest(cwd, {
      runner: 'remote-lambda',
      env: { ...lambdaEnv, AWS_ENDPOINT_URL_LAMBDA: reference.endpoint, JEST_REMOTE_LAMBDA_CONCURRENCY: '1' },
    });
    expect(ours.stderr).toMatch(/remote-lambda: 3 file\(s\) on Lambda/);
    expect(comparable(ours)).toEqual(comparable(runJest(cwd, { runner: 'default' })));
  } finally {
    await reference.stop();
  }
}, 600_000);
