/**
 * Nothing secret leaves this machine: a git checkout holding the usual ignored credential files
 * (each with its own canary value), a tracked `.env.test` a test reads, a source file with an AWS
 * key id and a fake key fixture listed in `include`. On both backends (the embedded one with
 * `isolate`, whose private tree and store we grep; the emulated Lambda with an s3rver bucket,
 * where we grep every stored object and every request body, inflated) no canary appears, the
 * included fixture and `.env.test` do, and the summary names what was held back.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { holdBack, ScanCache } from '../src/mirror/hold-back';
import { credentialName, scanContent } from '../src/mirror/secrets';
import { buildMirror } from '../src/mirror/walk';
import { HashCache } from '../src/mirror/hash-cache';
import { consumerProject } from './support/pack';
import { startFaultProxy, startFleetStack, type FaultProxy, type FleetStack } from './support/offline';
import { REPO, comparable, runJest } from './support/run-jest';

/** Held-back files (relative to the project folder) and the canary value inside each. */
const SECRET_FILES: Record<string, [content: string, canary: string]> = {
  '.env': ['SECRET=canary-root-dotenv-i9\n', 'canary-root-dotenv-i9'],
  'app/.env': ['SECRET=canary-dotenv-a1\n', 'canary-dotenv-a1'],
  'app/.env.local': ['SECRET=canary-dotenv-local-b2\n', 'canary-dotenv-local-b2'],
  'app/.npmrc': ['save-exact=true\n//registry.npmjs.org/:_authToken=canary-npmrc-c3\n', 'canary-npmrc-c3'],
  'app/.aws/credentials': ['[default]\naws_secret_access_key = canary-aws-d4\n', 'canary-aws-d4'],
  'app/key.pem': ['-----BEGIN PRIVATE KEY-----\ncanary-pem-e5\n-----END PRIVATE KEY-----\n', 'canary-pem-e5'],
  'app/id_ed25519': ['canary-ssh-f6\n', 'canary-ssh-f6'],
  'app/credentials.json': ['{"token":"canary-credjson-g7"}\n', 'canary-credjson-g7'],
  // tracked, but its content holds an AWS access key id
  'app/src/settings.js': ["module.exports = { key: 'AKIAQ7CANARYZZZZABCD' };\n", 'AKIAQ7CANARYZZZZABCD'],
};
/** Values that must travel: the tracked .env.test and the fixture listed in `include`. */
const SHIPPED = ['hello-from-env-test', 'included-fixture-key-h8'];
const INCLUDE = { JEST_REMOTE_LAMBDA_INCLUDE: 'fixtures/fake-key.pem' };
const BUCKET = 'jrl-secrets';

let work: string;
let project: string;
let app: string;

beforeAll(() => {
  ({ work, project } = consumerProject('jrl-secrets-', 'secrets-consumer'));
  app = path.join(project, 'app');
  const files: Record<string, string> = {
    'app/package.json': JSON.stringify({ name: 'app', private: true }),
    'app/jest.config.js': "module.exports = { runner: 'remote-lambda', testEnvironment: 'node' };\n",
    'app/.env.test': 'GREETING=hello-from-env-test\n',
    'app/generated/out.js': 'module.exports = 1;\n',
    'app/fixtures/fake-key.pem': '-----BEGIN PRIVATE KEY-----\nincluded-fixture-key-h8\n-----END PRIVATE KEY-----\n',
    'app/test/env-test.test.js': readTest('.env.test', 'GREETING=hello-from-env-test'),
    'app/test/fixture.test.js': readTest('fixtures/fake-key.pem', 'included-fixture-key-h8'),
    'app/test/dotenv.test.js': readTest('.env', 'SECRET='),
    '.gitignore': ['node_modules/', 'generated/', '.env', '.env.local', '.npmrc', '.aws/', '*.pem', 'id_ed25519', 'credentials.json', ''].join('\n'),
    ...Object.fromEntries(Object.entries(SECRET_FILES).map(([file, [content]]) => [file, content])),
  };
  for (const [file, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(project, file)), { recursive: true });
    fs.writeFileSync(path.join(project, file), content);
  }
  // a real repository: the .git marker becomes one, everything not ignored is tracked
  fs.rmSync(path.join(project, '.git'), { recursive: true });
  execFileSync('git', ['init', '-q'], { cwd: project });
  execFileSync('git', ['add', '-A'], { cwd: project });
  const tracked = execFileSync('git', ['ls-files'], { cwd: project, encoding: 'utf8' }).split('\n');
  expect(tracked).toEqual(expect.arrayContaining(['app/.env.test', 'app/src/settings.js']));
  expect(tracked).not.toContain('app/.env');
}, 600_000);

afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

function readTest(file: string, expected: string): string {
  return [
    "const fs = require('fs');",
    "const path = require('path');",
    `test('reads ${file}', () => {`,
    `  expect(fs.readFileSync(path.join(__dirname, '..', ${JSON.stringify(file)}), 'utf8')).toContain(${JSON.stringify(expected)});`,
    '});',
    '',
  ].join('\n');
}

/** Every text under `dir` (files as they are, and gzip ones inflated). */
function textsUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    out.push(...texts(fs.readFileSync(path.join(entry.parentPath, entry.name))));
  }
  return out;
}

/** A buffer as text, inflated if gzip; JSON lines' base64 strings decoded (and inflated) too. */
function texts(bytes: Buffer): string[] {
  const inflated = (b: Buffer) => (b[0] === 0x1f && b[1] === 0x8b ? zlib.gunzipSync(b) : b).toString('latin1');
  const text = inflated(bytes);
  const out = [text];
  for (const s of text.match(/"[A-Za-z0-9+/=]{40,}"/g) ?? []) out.push(inflated(Buffer.from(s.slice(1, -1), 'base64')));
  return out;
}

/** No canary in `haystack`; with `mustFind`, what travels is found there (so the search could fail). */
function expectNoCanary(haystack: string[], where: string, mustFind = true): void {
  const joined = haystack.join('\n');
  const found = Object.values(SECRET_FILES)
    .map(([, canary]) => canary)
    .filter((c) => joined.includes(c));
  expect({ where, found }).toEqual({ where, found: [] });
  if (mustFind) for (const value of SHIPPED) expect({ where, value, found: joined.includes(value) }).toEqual({ where, value, found: true });
}

describe('what looks like a secret', () => {
  test.each([
    ['.env', 'an environment file'],
    ['config/.env.production', 'an environment file'],
    ['.aws/credentials', 'in a .aws/ folder'],
    ['home/.ssh/config', 'in a .ssh/ folder'],
    ['.docker/config.json', 'Docker credentials'],
    ['certs/server.key', 'a key file (.key)'],
    ['id_rsa', 'an SSH private key'],
    ['gcp-service-account.json', 'a cloud credentials file'],
    ['.git-credentials', 'a credentials file'],
    ['src/environment.ts', undefined],
    ['id_rsa.pub', undefined],
    ['.npmrc', undefined], // (only with a token: by content)
  ])('%s: %s', (file, reason) => {
    expect(credentialName(file)).toBe(reason);
  });

  test('high-confidence formats are found with their line, masked; examples, binaries and references are not', () => {
    const ghp = `ghp_${'a1B2'.repeat(9)}`;
    const npm = `npm_${'Z9y8'.repeat(9)}`;
    const text = ['const a = 1;', `token: "${ghp}"`, `export NPM=${npm}`, 'xoxb-123456789012-abcdefghij', '-----BEGIN OPENSSH PRIVATE KEY-----'].join('\n');
    const findings = scanContent(Buffer.from(text));
    expect(findings).toEqual([
      { line: 2, what: 'GitHub token ghp_…(40 chars)' },
      { line: 3, what: 'npm token npm_…(40 chars)' },
      { line: 4, what: expect.stringMatching(/^Slack token xoxb…\(\d+ chars\)$/) },
      { line: 5, what: 'private key block' },
    ]);
    expect(JSON.stringify(findings)).not.toContain(ghp);
    expect(scanContent(Buffer.from('AKIAIOSFODNN7EXAMPLE wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'))).toEqual([]);
    expect(scanContent(Buffer.from('//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n'))).toEqual([]);
    expect(scanContent(Buffer.concat([Buffer.from([0]), Buffer.from(ghp)]))).toEqual([]);
  });

  test('without git every credential-like name is held back; content verdicts are cached by hash', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jrl-holdback-'));
    fs.writeFileSync(path.join(dir, 'package.json'), '{}');
    fs.writeFileSync(path.join(dir, '.env.test'), 'A=1\n');
    fs.writeFileSync(path.join(dir, 'a.js'), `exports.t = 'npm_${'Q'.repeat(36)}';\n`);
    fs.writeFileSync(path.join(dir, 'b.js'), 'exports.b = 1;\n');
    const input = { rootDir: dir, roots: [dir], cwd: dir, include: [], exclude: [], skipDirs: [], nodeModules: 'link' as const };
    const mirror = buildMirror(input, new HashCache(path.join(dir, '.cache', 'h.json')));
    const scans = new ScanCache(path.join(dir, '.cache', 's.json'));
    const held = holdBack(mirror, { rootDir: dir, include: [], scans });
    expect(held.heldBack.map((h) => [h.key, h.reason])).toEqual([
      ['.env.test', 'an environment file, not tracked by git'],
      ['a.js', 'npm token npm_…(40 chars) at line 1'],
    ]);
    expect(held.mirror.manifest.files.map((f) => f.path)).toEqual(['b.js', 'package.json']);
    expect(scans.scanned).toBe(4);
    scans.save();
    const again = new ScanCache(path.join(dir, '.cache', 's.json'));
    const included = holdBack(mirror, { rootDir: dir, include: [path.join(dir, 'a.js')], scans: again });
    expect(again.scanned).toBe(0);
    expect(included.heldBack.map((h) => h.key)).toEqual(['.env.test']);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

test('embedded backend with isolate: nothing secret reaches its store or tree; a second run scans nothing', () => {
  const cache = path.join(work, 'cache-local');
  const env = { ...INCLUDE, JEST_REMOTE_LAMBDA_ISOLATE: '1', JEST_REMOTE_LAMBDA_CACHE_DIRECTORY: cache, JEST_REMOTE_LAMBDA_DEBUG: '1' };
  const run = runJest(app, { runner: 'remote-lambda', env });
  const byFile = Object.fromEntries(run.json.testResults.map((r) => [path.relative(app, r.name), r]));
  expect(byFile['test/env-test.test.js']!.status).toBe('passed');
  expect(byFile['test/fixture.test.js']!.status).toBe('passed');
  const message = byFile['test/dotenv.test.js']!.assertionResults[0]!.failureMessages[0]!;
  expect(message).toContain(`ENOENT: no such file or directory, open '${path.join(app, '.env')}'`);
  expect(message).toContain('this file was held back on this machine because it looks like a secret:');
  expect(message).toContain('list it in the "include" option, e.g. JEST_REMOTE_LAMBDA_INCLUDE=.env');
  expect(run.stderr).toContain('remote-lambda: 9 file(s) held back on this machine because they look like secrets: ');
  expect(run.stderr).toContain('.npmrc (npm auth token can…(15 chars) at line 2)');
  expect(run.stderr).toContain('e.g. JEST_REMOTE_LAMBDA_INCLUDE=.aws/credentials');
  expect(run.stderr).toContain('To ship one a test needs, list it in "include"');
  expect(run.stderr).toMatch(/ scanned=\d+ \(\d+ B, \d+ms\) held-back=9\n/);
  expect(run.stderr).not.toMatch(/ scanned=0 /);
  expectNoCanary([run.stderr, run.stdout], 'output', false);
  expectNoCanary(textsUnder(cache), 'cache');

  const warm = runJest(app, { runner: 'remote-lambda', env });
  expect(warm.stderr).toMatch(/ scanned=0 \(0 B, 0ms\) held-back=9\n/);
  expect(warm.json.numFailedTests).toBe(1);
});

test('ls lists what travels by folder, what git ignores but is shipped, and what is held back and why', () => {
  const cli = path.join(project, 'node_modules/jest-runner-remote-lambda/dist/src/cli.js');
  const started = Date.now();
  const out = execFileSync(process.execPath, [cli, 'ls'], { cwd: app, encoding: 'utf8', env: { ...process.env, ...INCLUDE } });
  const ms = Date.now() - started;
  expect(out).toContain(`What a run on Lambda ships for rootDir ${app} (paths relative to ${project}):`);
  expect(out).toMatch(/^ {2}node_modules\/ +\d+ files +[\d.]+ MB {2}\(\d+ packages, one pack each\)$/m);
  expect(out).toMatch(/^ {2}app\/ +\d+ files +[\d.]+ KB$/m);
  expect(out).toMatch(/Ignored by git but shipped[^\n]*\n(?: {2}\S+ +\d+ files? +[\d.]+ KB\n)* {2}app\/generated\/ +1 file +0\.0 KB\n/);
  expect(out).toContain('Held back on this machine (9, they look like secrets; list one in "include" or JEST_REMOTE_LAMBDA_INCLUDE to ship it):');
  expect(out).toContain('  .env  an environment file, not tracked by git');
  expect(out).toContain('  src/settings.js  AWS access key id AKIA…(20 chars) at line 1');
  expect(out).not.toMatch(/^ {2}fixtures\/fake-key\.pem/m);
  expectNoCanary([out], 'ls', false);
  console.log(`ls took ${ms} ms`);
});

describe('the lambda backend with a bucket', () => {
  let stack: FleetStack;
  let proxy: FaultProxy;
  const bodies = () => path.join(work, 'bodies.log');

  beforeAll(async () => {
    stack = await startFleetStack(REPO, work, BUCKET, { workDir: path.join(work, 'fleet') });
    proxy = await startFaultProxy(stack.offline.endpoint, [], 'pass', path.join(work, 'proxy.log'), bodies());
  }, 600_000);
  afterAll(async () => {
    proxy?.stop();
    await stack?.stop();
  });

  test("nothing secret reaches the bucket or a request; a test reading a held-back file passes through its local re-run, as with Jest's runner", () => {
    // a test file that itself holds a (fake) token: held back, so it runs here
    const token = `ghp_${'CanaryTokenInATestFile0123456789abcd'}`;
    const tokenTest = path.join(app, 'test', 'token.test.js');
    fs.writeFileSync(tokenTest, `test('parses a token', () => {\n  expect('${token}'.startsWith('ghp_')).toBe(true);\n});\n`);
    const reference = runJest(app, { runner: 'default' });
    expect(reference.json.numPassedTests).toBe(4);
    const env = { ...stack.env, ...INCLUDE, AWS_ENDPOINT_URL_LAMBDA: proxy.endpoint, JEST_REMOTE_LAMBDA_CACHE_DIRECTORY: path.join(work, 'cache-lambda') };
    const run = runJest(app, { runner: 'remote-lambda', env });
    expect(comparable(run)).toEqual(comparable(reference));
    expect(run.stderr).toContain('remote-lambda: 2 file(s) ran on this machine instead of Lambda: ');
    expect(run.stderr).toContain('test/token.test.js (held back: it looks like it holds a secret)');
    expect(run.stderr).toContain(`test/dotenv.test.js (failed remotely: ENOENT ${path.join(app, '.env')} (held back here: it looks like a secret))`);
    expect(run.stderr).toContain('remote-lambda: 10 file(s) held back on this machine because they look like secrets: ');
    expect(run.stderr).toMatch(/shipped uploaded [\d.]+ MB compressed/);
    expectNoCanary([run.stderr, run.stdout], 'output', false);
    const stored = textsUnder(path.join(stack.s3.directory, BUCKET));
    expect(stored.length).toBeGreaterThan(10);
    expectNoCanary(stored, 'bucket');
    const sent = fs.readFileSync(bodies()).toString('latin1').split('\n').filter(Boolean);
    expect(sent.length).toBeGreaterThan(0);
    const haystack = sent.flatMap((line) => texts(Buffer.from(line, 'latin1')));
    // (with a bucket the files travel through it, not inside requests; the fleet's environments are gone by now)
    expectNoCanary(haystack, 'requests', false);
    expectNoCanary(textsUnder(path.join(work, 'fleet')), 'fleet', false);
    for (const text of [...stored, ...haystack]) expect(text.includes(token)).toBe(false);
    fs.rmSync(tokenTest);
  });
});
