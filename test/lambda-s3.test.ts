/**
 * The lambda backend with a shared S3 content store, end to end: the real AWS SDK (Lambda and S3)
 * against the local Lambda fleet serving the built handler (each execution environment its own
 * isolated process with a private /tmp) and s3rver, both on 127.0.0.1, from a project that
 * installed the runner from its tarball. Every invocation passes a proxy that logs the status of
 * each answer and holds it to Lambda's 6 MB payload limits.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { consumerProject } from './support/pack';
import { startFaultProxy, startFleetStack, type FaultProxy, type FleetStack, type S3Emulator } from './support/offline';
import { REPO, comparable, runJest, runJestAsync, type JestRun } from './support/run-jest';

const BUCKET = 'jrl-test';
let work: string;
let project: string;
let stack: FleetStack;
let s3: S3Emulator;
let proxy: FaultProxy;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  ({ work, project } = consumerProject('jrl-s3-', 's3-consumer', [
    'ts-jest',
    'typescript',
    '@types/jest',
    'lodash',
    '@babel/preset-env',
    '@babel/preset-typescript',
  ]));
  for (const example of ['typescript-basics', 'mocking', 'fixtures']) {
    fs.cpSync(path.join(REPO, 'examples', example), path.join(project, example), { recursive: true });
  }
  writeLargeOutputExample(path.join(project, 'large-output'));

  stack = await startFleetStack(REPO, work, BUCKET);
  ({ s3 } = stack);
  proxy = await startFaultProxy(stack.offline.endpoint, [], 'pass', path.join(work, 'proxy.log'));
  env = { ...stack.env, JEST_REMOTE_LAMBDA_DEBUG: '1', AWS_ENDPOINT_URL_LAMBDA: proxy.endpoint };
}, 900_000);

afterAll(async () => {
  proxy?.stop();
  await stack?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

/** What the runner's debug line says it moved: packs uploaded and their bytes, packs already there. */
function shipped(run: JestRun): { uploaded: number; uploadedBytes: number; present: number } {
  const m = /blobs new=(\d+) \((\d+) B\) cached=(\d+)/.exec(run.stderr);
  if (!m) throw new Error(`no debug line in:\n${run.stderr}`);
  return { uploaded: Number(m[1]), uploadedBytes: Number(m[2]), present: Number(m[3]) };
}

const objectsIn = (prefix: string): string[] => {
  const dir = path.join(s3.directory, BUCKET, prefix);
  // s3rver keeps each object as `<key>._S3rver_object` beside its metadata
  return fs.existsSync(dir)
    ? fs
        .readdirSync(dir, { recursive: true })
        .map(String)
        .filter((f) => f.endsWith('._S3rver_object'))
    : [];
};

test.each(['typescript-basics', 'mocking', 'fixtures'])(
  "example %s gives the default runner's results; blobs reach the function through S3 only; a second run uploads nothing",
  (example) => {
    const cwd = path.join(project, example);
    const reference = runJest(cwd, { runner: 'default' });
    expect(reference.json).toMatchObject({ success: true, numFailedTestSuites: 0 });
    const before = proxy.log().length;
    const first = runJest(cwd, { runner: 'remote-lambda', env });
    expect(comparable(first)).toEqual(comparable(reference));
    expect(first.stderr).toMatch(/shipped uploaded [\d.]+ MB compressed \(\d+ packs?\), \d+ packs? already in s3:\/\/jrl-test/);
    // the containers fetched every blob from the bucket: none was ever asked of the runner
    expect(
      proxy
        .log()
        .slice(before)
        .filter((l) => !/^pass:(completed|failed|batch)$/.test(l)),
    ).toEqual([]);

    const second = runJest(cwd, { runner: 'remote-lambda', env });
    expect(comparable(second)).toEqual(comparable(reference));
    // at most the project description: --outputFile (part of Jest's global config) differs per run
    expect(shipped(second).uploaded).toBeLessThanOrEqual(1);
    expect(shipped(second).uploadedBytes).toBeLessThan(20_000);
    expect(shipped(second).present).toBeGreaterThan(100);
  },
);

test('the first run uploads node_modules as packs; after one file changes only it and the project description travel', () => {
  const cwd = path.join(project, 'typescript-basics');
  // (the runs above already uploaded everything: start from a fresh Jest cache so this machine
  // asks the bucket again instead of trusting what it remembers)
  const cache = path.join(work, 'jest-cache-change');
  const again = runJest(cwd, { runner: 'remote-lambda', env, args: [`--cacheDirectory=${cache}`] });
  expect(shipped(again).uploaded).toBeLessThanOrEqual(1);
  expect(again.json.numFailedTests).toBe(0);

  const file = path.join(cwd, 'src', 'stack.ts');
  fs.appendFileSync(file, '\n// a change of one line\n');
  const changed = runJest(cwd, { runner: 'remote-lambda', env, args: [`--cacheDirectory=${cache}`] });
  expect(changed.json.numFailedTests).toBe(0);
  const moved = shipped(changed);
  // the changed file, the manifest part that lists it and the project description, nothing else
  expect(moved.uploaded).toBe(3);
  expect(moved.uploadedBytes).toBeLessThan(fs.statSync(file).size + 40_000);
});

test('packs the bucket lost (a lifecycle rule) are uploaded again when a cold container asks', async () => {
  const cwd = path.join(project, 'fixtures');
  const reference = runJest(cwd, { runner: 'default' });
  runJest(cwd, { runner: 'remote-lambda', env }); // this machine now knows the packs are there
  fs.rmSync(path.join(s3.directory, BUCKET), { recursive: true, force: true });
  fs.mkdirSync(path.join(s3.directory, BUCKET));
  await stack.fleet.recycle(); // every environment retired: the next ones start with an empty /tmp
  const before = proxy.log().length;
  const run = runJest(cwd, { runner: 'remote-lambda', env });
  expect(comparable(run)).toEqual(comparable(reference));
  expect(proxy.log().slice(before)).toContain('pass:need-blobs');
  expect(run.stderr).toMatch(/\d+ re-uploaded/);
  expect(objectsIn('jest-runner-remote-lambda/packs').length).toBeGreaterThan(0);
});

test('answers too large for a Lambda response come back compressed, or through the bucket', () => {
  const cwd = path.join(project, 'large-output');
  const reference = runJest(cwd, { runner: 'default' });
  const before = proxy.log().length;
  // one file per invocation: each answer on its own is over the limit
  const run = runJest(cwd, { runner: 'remote-lambda', env: { ...env, JEST_REMOTE_LAMBDA_BATCH_MS: '0' } });
  expect(comparable(run)).toEqual(comparable(reference));
  expect(reference.console[`${path.join(cwd, 'noise.test.js')}\u0000`]![0]!.message.length).toBeGreaterThan(70_000);
  const statuses = proxy.log().slice(before);
  expect(statuses).toEqual(expect.arrayContaining(['pass:compressed', 'pass:offloaded']));
  expect(statuses).not.toContain('pass:response-too-large');
  // the runner deleted the answers it fetched
  expect(objectsIn('jest-runner-remote-lambda/results')).toEqual([]);
});

test('without a bucket, an answer too large even compressed fails once with the fix', () => {
  const cwd = path.join(project, 'large-output');
  const run = runJest(cwd, { runner: 'remote-lambda', env: { ...env, JEST_REMOTE_LAMBDA_BUCKET: '' }, args: ['--testPathPatterns=noise'] });
  expect(run.json.numTotalTestSuites).toBe(1);
  expect(run.json.testResults[0]!.message).toContain('a Lambda response holds at most 6 MB');
  expect(run.json.testResults[0]!.message).toContain('Set the "bucket" option (JEST_REMOTE_LAMBDA_BUCKET)');
  expect(run.stderr).toMatch(/0 retries/);
});

/**
 * Two branches of one repository at the same path on two machines, run at the same time against
 * one function: each run must see only its own files. Mount namespaces give the two runs the
 * same path with different contents on this one machine.
 */
test('two runs at once with different contents at the same paths each get their own results', async () => {
  // (the branches link node_modules from outside the checkout: the tree holds it under the checkout)
  const probe = spawnSync('unshare', ['-m', '--propagation', 'private', 'true']);
  if (probe.status !== 0) throw new Error(`This test needs mount namespaces (unshare -m), which failed here: ${probe.stderr}`);
  const shared = path.join(work, 'checkout'); // the path both "machines" use
  fs.mkdirSync(shared);
  const branches = { a: path.join(work, 'branch-a'), b: path.join(work, 'branch-b') };
  for (const [name, dir] of Object.entries(branches)) writeBranch(dir, name, path.join(project, 'node_modules'));
  const runs = await Promise.all(
    Object.entries(branches).map(([name, dir]) =>
      runJestAsync(shared, {
        runner: 'remote-lambda',
        resolveFrom: dir,
        env: { ...env, JEST_REMOTE_LAMBDA_CONCURRENCY: '3', JEST_REMOTE_LAMBDA_ENV: 'BRANCH', BRANCH: name },
        args: [`--cacheDirectory=${path.join(work, `cache-${name}`)}`],
        wrap: ['unshare', '-m', '--propagation', 'private', 'sh', '-c', 'mount --bind "$0" "$1" && cd "$1" && shift && exec "$@"', dir, shared],
      }),
    ),
  );
  for (const run of runs) {
    expect(run.json.numTotalTests).toBe(BRANCH_FILES * 3);
    expect(run.json.testResults.flatMap((f) => f.assertionResults.filter((t) => t.status !== 'passed').map((t) => t.failureMessages))).toEqual([]);
  }
  // the emulator serves both runs from one container: its tree switched between them
  expect(proxy.log().filter((l) => l === 'pass:completed').length).toBeGreaterThanOrEqual(2 * BRANCH_FILES);
}, 600_000);

const BRANCH_FILES = 6;

/**
 * A branch: `src/branch.js` says which branch it is; branch b has a file a lacks. Each test file
 * checks it sees its own branch's code and files, none of the other's, and that a scratch file it
 * writes into its tree is never there when it starts (another run's would be).
 */
function writeBranch(dir: string, name: string, nodeModules: string): void {
  fs.mkdirSync(path.join(dir, 'src'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'test'));
  fs.mkdirSync(path.join(dir, '.git'));
  fs.symlinkSync(nodeModules, path.join(dir, 'node_modules'));
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'branches', private: true }));
  fs.writeFileSync(path.join(dir, 'jest.config.js'), "module.exports = { runner: 'remote-lambda', testEnvironment: 'node' };\n");
  fs.writeFileSync(path.join(dir, 'src', 'branch.js'), `module.exports = ${JSON.stringify(name)};\n`);
  if (name === 'b') fs.writeFileSync(path.join(dir, 'src', 'only-in-b.js'), 'module.exports = true;\n');
  for (let i = 0; i < BRANCH_FILES; i++) {
    fs.writeFileSync(
      path.join(dir, 'test', `t${i}.test.js`),
      [
        "const fs = require('fs');",
        "const path = require('path');",
        `const scratch = path.join(__dirname, 'scratch-${i}.txt');`,
        "test('runs its own branch', async () => {",
        "  expect(require('../src/branch')).toBe(process.env.BRANCH);",
        '  await new Promise((r) => setTimeout(r, 150));',
        "  expect(require('../src/branch')).toBe(process.env.BRANCH);",
        '});',
        "test('sees only its own files', () => {",
        "  const expected = process.env.BRANCH === 'b' ? ['branch.js', 'only-in-b.js'] : ['branch.js'];",
        "  expect(fs.readdirSync(path.join(__dirname, '../src')).sort()).toEqual(expected);",
        '});',
        "test('never finds what another run wrote', () => {",
        '  expect(fs.existsSync(scratch)).toBe(false);',
        '  fs.writeFileSync(scratch, process.env.BRANCH);',
        '});',
        '',
      ].join('\n'),
    );
  }
}

/** Test files whose answers are larger than a Lambda response: compressible, and noise-like. */
function writeLargeOutputExample(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'large-output', private: true }));
  fs.writeFileSync(path.join(dir, 'jest.config.js'), "module.exports = { runner: 'remote-lambda', testEnvironment: 'node' };\n");
  fs.writeFileSync(
    path.join(dir, 'chatty.test.js'),
    "test('logs 8 MB of text', () => {\n  for (let i = 0; i < 80; i++) console.log(`line ${i} ` + 'abc'.repeat(35000));\n});\n",
  );
  // a seeded generator: the same bytes under both runners, but gzip cannot shrink them below 6 MB
  fs.writeFileSync(
    path.join(dir, 'noise.test.js'),
    [
      'let x = 42;',
      'const next = () => {',
      '  x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;',
      '  return x & 255;',
      '};',
      "test('logs 9 MB of noise', () => {",
      '  for (let i = 0; i < 90; i++) {',
      '    const bytes = Buffer.alloc(75000);',
      '    for (let j = 0; j < bytes.length; j++) bytes[j] = next();',
      "    console.log(bytes.toString('base64'));",
      '  }',
      '});',
      '',
    ].join('\n'),
  );
}

test('on a terminal, the packs being checked and uploaded show as progress before the tests start', () => {
  const cwd = path.join(project, 'fixtures');
  // a fresh Jest cache: this machine no longer knows what the bucket holds, so it checks every pack
  const jest = [process.execPath, require.resolve('jest/bin/jest', { paths: [cwd] }), `--cacheDirectory=${path.join(work, 'jest-cache-progress')}`]
    .map((a) => `'${a}'`)
    .join(' ');
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  delete childEnv.JEST_WORKER_ID;
  delete childEnv.CI;
  const r = spawnSync('script', ['-qfec', jest, '/dev/null'], { cwd, env: childEnv, encoding: 'utf8', timeout: 300_000 });
  // eslint-disable-next-line no-control-regex -- terminal escape sequences
  const out = r.stdout.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
  expect(out).toMatch(/remote-lambda checking and uploading \[[^\]]*\] \d+\/\d+ packs/);
  expect(out.indexOf('remote-lambda checking and uploading')).toBeLessThan(out.indexOf('PASS'));
  expect(out).toMatch(/remote-lambda: 3 file\(s\) on Lambda/);
  expect(r.status).toBe(0);
});

test('a checkout at another path (another workspace) reuses the warm tree, moved, with results of its own', async () => {
  // (this checkout links node_modules from outside it: the tree holds it under the checkout)
  const original = path.join(project, 'fixtures');
  const other = path.join(work, 'elsewhere');
  fs.mkdirSync(path.join(other, '.git'), { recursive: true });
  fs.copyFileSync(path.join(project, 'package.json'), path.join(other, 'package.json'));
  fs.symlinkSync(path.join(project, 'node_modules'), path.join(other, 'node_modules'));
  fs.cpSync(original, path.join(other, 'fixtures'), { recursive: true });
  const elsewhere = path.join(other, 'fixtures');
  for (const cwd of [elsewhere, original, elsewhere]) {
    const reference = runJest(cwd, { runner: 'default' });
    const ours = runJest(cwd, { runner: 'remote-lambda', env });
    expect(reference.json.numPassedTests).toBeGreaterThan(0);
    expect(comparable(ours)).toEqual(comparable(reference));
  }
}, 600_000);
