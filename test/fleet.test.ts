/**
 * The local Lambda fleet itself (test/support/fleet), through the real @aws-sdk/client-lambda: the
 * wire formats the SDK accepts, what each execution environment looks like from inside, and how
 * the fleet scales, throttles, times out, recycles and injects faults.
 */
import { InvokeCommand, LambdaClient, ResourceNotFoundException, TooManyRequestsException, UpdateFunctionCodeCommand } from '@aws-sdk/client-lambda';
import { zipSync } from 'fflate';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isolationUnavailable, startFleet, type Fleet, type FleetOptions } from './support/fleet';

const unavailable = isolationUnavailable();
if (unavailable) process.stderr.write(`fleet.test: environment isolation is not possible here (${unavailable}); its tests are SKIPPED.\n`);
const describeIsolated = unavailable ? describe.skip : describe;

/** A handler that does what the event asks and reports what it sees. */
const PROBE = `
const fs = require('fs');
const os = require('os');
const { spawnSync } = require('child_process');
let invocations = 0;
const loadedAt = Date.now();
// (process.pid is 1 in every isolated environment: this tells environments apart)
const instance = Math.random().toString(36).slice(2);
exports.handler = async (event, context) => {
  invocations++;
  if (event.exit !== undefined) process.exit(event.exit);
  if (event.sleepMs) await new Promise((r) => setTimeout(r, event.sleepMs));
  if (event.throw) throw new RangeError(event.throw);
  if (event.allocateMb) { globalThis.hog = []; for (let i = 0; i < event.allocateMb; i++) globalThis.hog.push(Buffer.alloc(1 << 20, 1)); }
  if (event.print) console.log(event.print);
  if (event.write) {
    try { fs.writeFileSync(event.write.path, Buffer.alloc(event.write.bytes ?? 1)); return { wrote: true }; }
    catch (e) { return { code: e.code }; }
  }
  if (event.exists) return Object.fromEntries(event.exists.map((p) => [p, fs.existsSync(p)]));
  if (event.spawn) { const r = spawnSync(event.spawn[0], event.spawn.slice(1), { encoding: 'utf8' }); return { error: r.error && r.error.code, status: r.status, stdout: r.stdout }; }
  return { marker: MARKER, invocations, loadedAt, argv: process.argv, execArgv: process.execArgv, cwd: process.cwd(), uid: process.getuid(), home: os.homedir(), env: process.env, instance, remainingMs: context.getRemainingTimeInMillis(), requestId: context.awsRequestId };
};
`;

let work: string;
const fleets: Fleet[] = [];

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'jrl-fleet-test-'));
});

afterAll(async () => {
  await Promise.all(fleets.map((f) => f.stop()));
  fs.rmSync(work, { recursive: true, force: true });
});

function probeCode(marker: string): string {
  const file = path.join(work, `probe-${marker}.js`);
  fs.writeFileSync(file, `const MARKER = ${JSON.stringify(marker)};\n${PROBE}`);
  return file;
}

async function fleetWith(options: Partial<FleetOptions> = {}): Promise<{ fleet: Fleet; client: LambdaClient }> {
  const fleet = await startFleet({ code: { 'index.js': probeCode('v1') }, isolate: unavailable ? false : true, ...options });
  fleets.push(fleet);
  const client = new LambdaClient({ endpoint: fleet.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 });
  return { fleet, client };
}

interface Answer {
  functionError?: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the probe's JSON, read field by field
  body: any;
  log: string;
  version?: string;
}

async function invoke(client: LambdaClient, event: object, functionName = 'jrl-test-run', qualifier?: string): Promise<Answer> {
  const out = await client.send(
    new InvokeCommand({ FunctionName: functionName, Qualifier: qualifier, LogType: 'Tail', Payload: Buffer.from(JSON.stringify(event)) }),
  );
  const text = Buffer.from(out.Payload ?? new Uint8Array()).toString('utf8');
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: kept as text
  }
  return { functionError: out.FunctionError, body, log: Buffer.from(out.LogResult ?? '', 'base64').toString('utf8'), version: out.ExecutedVersion };
}

const REPORT =
  /^REPORT RequestId: ([0-9a-f-]{36})\tDuration: (\d+\.\d\d) ms\tBilled Duration: (\d+) ms\tMemory Size: (\d+) MB\tMax Memory Used: (\d+) MB\t(?:Init Duration: (\d+\.\d\d) ms\t)?(?:Status: (\w+)\t)?$/m;

describe('the Invoke API, as the AWS SDK sees it', () => {
  let client: LambdaClient;
  beforeAll(async () => {
    ({ client } = await fleetWith({ concurrency: 2, memoryMb: 512 }));
  });

  test('a cold then a warm invocation: the payload, the executed version, and log tails with REPORT lines (Init Duration only when cold)', async () => {
    const cold = await invoke(client, { print: 'hello from the probe' });
    const warm = await invoke(client, {});
    expect(cold.functionError).toBeUndefined();
    expect(cold.version).toBe('$LATEST');
    expect(cold.body).toMatchObject({ marker: 'v1', invocations: 1 });
    expect(warm.body).toMatchObject({ marker: 'v1', invocations: 2, instance: cold.body.instance });
    const coldReport = REPORT.exec(cold.log)!;
    expect(coldReport).not.toBeNull();
    expect(coldReport[1]).toBe(cold.body.requestId);
    expect(Number(coldReport[4])).toBe(512);
    expect(Number(coldReport[5])).toBeGreaterThan(10);
    expect(Number(coldReport[6])).toBeGreaterThan(0);
    // the INIT phase is billed (Lambda, since August 2025): billed = ceil(duration + init)
    expect(Number(coldReport[3])).toBe(Math.ceil(Number(coldReport[2]) + Number(coldReport[6])));
    expect(cold.log).toMatch(new RegExp(`^START RequestId: ${cold.body.requestId} Version: \\$LATEST$`, 'm'));
    expect(cold.log).toMatch(new RegExp(`^\\S+Z\\t${cold.body.requestId}\\tINFO\\thello from the probe$`, 'm'));
    const warmReport = REPORT.exec(warm.log)!;
    expect(warmReport[6]).toBeUndefined();
    expect(Number(warmReport[3])).toBe(Math.ceil(Number(warmReport[2])));
  });

  test('the function under its name, its ARN, an alias; another name is ResourceNotFoundException', async () => {
    expect((await invoke(client, {}, 'arn:aws:lambda:us-east-1:123456789012:function:jrl-test-run')).body.marker).toBe('v1');
    expect((await invoke(client, {}, 'jrl-test-run', 'live')).body.marker).toBe('v1');
    const missing = invoke(client, {}, 'jrl-no-such-function');
    await expect(missing).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(missing).rejects.toThrow('Function not found: arn:aws:lambda:us-east-1:123456789012:function:jrl-no-such-function');
  });

  test('beyond the concurrency (2), TooManyRequestsException with its Reason; the two in flight complete', async () => {
    const results = await Promise.allSettled([1, 2, 3].map(() => invoke(client, { sleepMs: 700 })));
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
    expect(rejected).toHaveLength(1);
    expect(rejected[0]!.reason).toBeInstanceOf(TooManyRequestsException);
    expect(rejected[0]!.reason.Reason).toBe('ReservedFunctionConcurrentInvocationLimitExceeded');
    expect(rejected[0]!.reason.$metadata.httpStatusCode).toBe(429);
  });

  test('an error the handler throws: Unhandled with errorType, errorMessage and trace; the environment stays warm', async () => {
    const before = await invoke(client, {});
    const failed = await invoke(client, { throw: 'out of range' });
    expect(failed.functionError).toBe('Unhandled');
    expect(failed.body).toMatchObject({ errorType: 'RangeError', errorMessage: 'out of range' });
    expect(failed.body.trace[0]).toBe('RangeError: out of range');
    expect(failed.body.trace[1]).toContain('/var/task/index.js');
    const after = await invoke(client, {});
    expect(after.body.instance).toBe(before.body.instance);
    expect(after.body.invocations).toBe(before.body.invocations + 2);
  });
});

describeIsolated(`an execution environment from inside${unavailable ? ` (SKIPPED: ${unavailable})` : ''}`, () => {
  let fleet: Fleet;
  let client: LambdaClient;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the probe's JSON, read field by field
  let seen: any;
  beforeAll(async () => {
    ({ fleet, client } = await fleetWith({ ephemeralMb: 8, memoryMb: 1024 }));
    seen = (await invoke(client, {})).body;
  });

  test("process.argv, execArgv and the working directory are the Node runtime's", () => {
    expect(seen.argv).toEqual(['/var/lang/bin/node', '/var/runtime/index.mjs']);
    expect(seen.execArgv).toEqual(['--expose-gc', '--max-http-header-size', '81920', '--max-semi-space-size=51', '--max-old-space-size=922']);
    expect(seen.cwd).toBe('/var/task');
    expect(seen.uid).toBe(993);
  });

  test("Lambda's environment variables, the role's credentials, and nothing of this machine's", () => {
    expect(seen.env).toMatchObject({
      AWS_LAMBDA_FUNCTION_NAME: 'jrl-test-run',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024',
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_RUNTIME_API: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
      LAMBDA_TASK_ROOT: '/var/task',
      LAMBDA_RUNTIME_DIR: '/var/runtime',
      AWS_REGION: 'us-east-1',
      AWS_EXECUTION_ENV: expect.stringMatching(/^AWS_Lambda_nodejs\d+\.x$/),
      _HANDLER: 'index.handler',
      TZ: ':UTC',
      LANG: 'en_US.UTF-8',
      PATH: '/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin',
      AWS_ACCESS_KEY_ID: expect.any(String),
      AWS_SECRET_ACCESS_KEY: expect.any(String),
      AWS_SESSION_TOKEN: expect.any(String),
    });
    for (const key of Object.keys(process.env).filter((k) => k.startsWith('JEST') || k.startsWith('npm_') || k === 'HOME' || k === 'NODE_OPTIONS')) {
      expect({ key, value: seen.env[key] }).toEqual({ key, value: undefined });
    }
  });

  test('only /tmp is writable: code, root, /etc and HOME are not; /tmp is full at the ephemeral storage size (ENOSPC)', async () => {
    const write = async (p: string, bytes = 1) => (await invoke(client, { write: { path: p, bytes } })).body;
    expect(await write('/var/task/new.js')).toEqual({ code: 'EROFS' });
    expect(await write('/var/task/index.js')).toEqual({ code: 'EROFS' });
    expect(await write('/new-file')).toEqual({ code: 'EROFS' });
    expect(await write('/etc/passwd')).toEqual({ code: 'EROFS' });
    expect(await write(path.join(seen.home, 'x'))).toEqual({ code: 'ENOENT' });
    expect(await write('/tmp/ok', 1024)).toEqual({ wrote: true });
    expect(await write('/tmp/too-big', 9 * 1024 * 1024)).toEqual({ code: 'ENOSPC' });
  });

  test("this machine is not there: no git (nor at /usr/bin/git), no checkout, not the fleet's own folders; basic tools are", async () => {
    expect(fs.existsSync('/usr/bin/git')).toBe(true); // (the host has it)
    const exists = (
      await invoke(client, {
        exists: ['/usr/bin/git', '/usr/lib/git-core', REPO_MARKER, fleet.workDir, work, '/usr/bin/node', '/usr/local/bin', '/var/task/index.js'],
      })
    ).body;
    expect(exists).toEqual({
      '/usr/bin/git': false,
      '/usr/lib/git-core': false,
      [REPO_MARKER]: false,
      [fleet.workDir]: false,
      [work]: false,
      '/usr/bin/node': false,
      '/usr/local/bin': false,
      '/var/task/index.js': true,
    });
    expect((await invoke(client, { spawn: ['git', '--version'] })).body).toMatchObject({ error: 'ENOENT' });
    expect((await invoke(client, { spawn: ['sh', '-c', 'command -v git; echo "$PATH"; ls /'] })).body.stdout).toBe(
      '/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin\nbin\ndev\netc\nhome\nlib\nlib64\nopt\nproc\nroot\nsbin\ntmp\nusr\nvar\n',
    );
  });

  test('each environment has its own /tmp: what one writes, another never sees', async () => {
    await invoke(client, { write: { path: '/tmp/mine', bytes: 1 } });
    const [a, b] = await Promise.all([invoke(client, { sleepMs: 300 }), invoke(client, { exists: ['/tmp/mine'] })]);
    expect(a.body.marker).toBe('v1');
    expect(b.body).toEqual({ '/tmp/mine': false });
    expect((await fleet.stats()).environments.length).toBe(2);
  });
});

const REPO_MARKER = path.resolve(__dirname, '..');

describe('limits: timeout, exit, memory', () => {
  let client: LambdaClient;
  beforeAll(async () => {
    ({ client } = await fleetWith({ timeoutSec: 1, memoryMb: 192 }));
  });

  test('past the timeout: Sandbox.Timedout "Task timed out after 1.00 seconds", and the environment is recycled', async () => {
    const first = await invoke(client, {});
    const timedOut = await invoke(client, { sleepMs: 3000 });
    expect(timedOut.functionError).toBe('Unhandled');
    expect(timedOut.body).toEqual({
      errorType: 'Sandbox.Timedout',
      errorMessage: expect.stringMatching(/^RequestId: [0-9a-f-]{36} Error: Task timed out after 1\.00 seconds$/),
    });
    expect(REPORT.exec(timedOut.log)![7]).toBe('timeout');
    const next = await invoke(client, {});
    expect(next.body.instance).not.toBe(first.body.instance);
    expect(next.body.invocations).toBe(1);
  });

  test('process.exit ends the environment: Runtime.ExitError with the exit status; the next invocation is cold', async () => {
    const exited = await invoke(client, { exit: 7 });
    expect(exited.functionError).toBe('Unhandled');
    expect(exited.body).toEqual({
      errorType: 'Runtime.ExitError',
      errorMessage: expect.stringMatching(/^RequestId: [0-9a-f-]{36} Error: Runtime exited with error: exit status 7$/),
    });
    const next = await invoke(client, {});
    expect(next.body.invocations).toBe(1);
    expect(REPORT.exec(next.log)![6]).toBeDefined();
    expect((await invoke(client, { exit: 0 })).body.errorMessage).toMatch(/Error: Runtime exited without providing a reason$/);
  });

  test('over the memory size: killed, Runtime.OutOfMemory, Max Memory Used over Memory Size', async () => {
    // (its own fleet: filling 400 MB can take longer than the 1 s timeout on a loaded machine)
    const { client } = await fleetWith({ timeoutSec: 60, memoryMb: 192 });
    const hog = await invoke(client, { allocateMb: 400, sleepMs: 500 });
    expect(hog.functionError).toBe('Unhandled');
    expect(hog.body).toEqual({ errorType: 'Runtime.OutOfMemory', errorMessage: expect.stringMatching(/Error: Runtime exited with error: signal: killed$/) });
    const report = REPORT.exec(hog.log)!;
    expect(Number(report[5])).toBeGreaterThan(192);
  });
});

describe('scaling', () => {
  test('idle environments are reclaimed after the TTL', async () => {
    const { fleet, client } = await fleetWith({ idleTtlMs: 300 });
    const first = await invoke(client, {});
    expect((await fleet.stats()).environments).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 1200));
    const stats = await fleet.stats();
    expect(stats.environments).toHaveLength(0);
    expect(stats.ended).toEqual({ idle: 1 });
    const again = await invoke(client, {});
    expect(again.body.invocations).toBe(1);
    expect(again.body.instance).not.toBe(first.body.instance);
  });

  test('new environments beyond the burst bucket get 429 FunctionInvocationRateLimitExceeded; warm ones serve meanwhile', async () => {
    const { fleet, client } = await fleetWith({ concurrency: 10, burst: { initial: 2, perSecond: 0.001 } });
    const results = await Promise.allSettled([1, 2, 3, 4].map(() => invoke(client, { sleepMs: 500 })));
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(rejected.map((r) => [r.reason.name, r.reason.Reason])).toEqual([
      ['TooManyRequestsException', 'FunctionInvocationRateLimitExceeded'],
      ['TooManyRequestsException', 'FunctionInvocationRateLimitExceeded'],
    ]);
    expect((await invoke(client, {})).body.marker).toBe('v1');
    expect((await fleet.stats()).started).toBe(2);
  });

  test('a code update (UpdateFunctionCode, as deploy does) retires the old environments; one busy finishes on the old code first', async () => {
    const { fleet, client } = await fleetWith();
    const [busy] = await Promise.all([invoke(client, { sleepMs: 1500 }), invoke(client, {})]);
    void busy;
    const running = invoke(client, { sleepMs: 1500 });
    await new Promise((r) => setTimeout(r, 300));
    const zip = zipSync({ 'index.js': fs.readFileSync(probeCode('v2')) });
    const updated = await client.send(new UpdateFunctionCodeCommand({ FunctionName: 'jrl-test-run', ZipFile: zip }));
    expect(updated).toMatchObject({ FunctionName: 'jrl-test-run', LastUpdateStatus: 'Successful' });
    const fresh = await invoke(client, {});
    expect(fresh.body).toMatchObject({ marker: 'v2', invocations: 1 });
    expect((await running).body.marker).toBe('v1');
    await new Promise((r) => setTimeout(r, 200));
    const stats = await fleet.stats();
    expect(stats.environments.map((e) => e.version)).toEqual([2]);
    expect(stats.ended).toEqual({ 'code update': 1, retired: 1 });
  });
});

describe('faults at the environment level', () => {
  test('scripted: killed mid-invocation, frozen until the timeout, garbage, a throttle burst, a crash during init, a slow cold start', async () => {
    const { fleet, client } = await fleetWith({
      timeoutSec: 1,
      slowStartMs: 1500,
      // (a throttle burst of 2 takes the next slot of the script too: 'pass' there)
      faults: { script: ['pass', 'kill', 'hang', 'garbage', 'throttle', 'pass', 'init-crash', 'slow-start'], then: 'pass', throttleBurst: 2 },
    });
    expect((await invoke(client, {})).body.marker).toBe('v1');
    const killed = await invoke(client, { sleepMs: 200 });
    expect(killed.body).toEqual({ errorType: 'Runtime.ExitError', errorMessage: expect.stringMatching(/Error: Runtime exited with error: signal: killed$/) });
    const hung = await invoke(client, {});
    expect(hung.body.errorType).toBe('Sandbox.Timedout');
    const garbage = await invoke(client, {});
    expect(garbage.functionError).toBeUndefined();
    expect(typeof garbage.body).toBe('string');
    expect(() => JSON.parse(garbage.body)).toThrow();
    for (let i = 0; i < 2; i++) await expect(invoke(client, {})).rejects.toBeInstanceOf(TooManyRequestsException);
    const crashed = await invoke(client, {});
    expect(crashed.body).toEqual({ errorType: 'Runtime.ExitError', errorMessage: expect.stringMatching(/Error: Runtime exited with error: signal: killed$/) });
    const started = Date.now();
    const slow = await invoke(client, {});
    expect(slow.body.invocations).toBe(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
    const stats = await fleet.stats();
    expect(stats.faultsInjected).toMatchObject({ kill: 1, hang: 1, garbage: 1, throttle: 2, 'init-crash': 1, 'slow-start': 1, total: 7 });
    expect(await fleet.log()).toEqual([
      'cold env=1 response',
      'warm env=1 exit fault=kill',
      'cold env=2 timeout fault=hang',
      'cold env=3 response fault=garbage',
      'throttle',
      'throttle',
      'cold env=4 exit fault=init-crash',
      'cold env=5 response fault=slow-start',
    ]);
  });

  test('random faults with a seed: the same seed, the same faults', async () => {
    const plan = { random: { seed: 42, rate: 0.5, weights: { garbage: 1, throttle: 1 } } };
    const outcomes = async () => {
      const { fleet, client } = await fleetWith({ faults: plan });
      const seen: string[] = [];
      for (let i = 0; i < 12; i++) {
        seen.push(
          await invoke(client, {}).then(
            (a) => (typeof a.body === 'string' ? 'garbage' : 'ok'),
            (e: Error) => e.name,
          ),
        );
      }
      return { seen, injected: (await fleet.stats()).faultsInjected.total };
    };
    const a = await outcomes();
    expect(a.seen).toContain('TooManyRequestsException');
    expect(a.seen).toContain('garbage');
    expect(a.injected).toBe(a.seen.filter((s) => s !== 'ok').length);
    expect(await outcomes()).toEqual(a);
  });
});

test('stopping a fleet ends every environment process and removes its folder; so does killing the fleet outright', async () => {
  const { fleet, client } = await fleetWith();
  await Promise.all([invoke(client, { sleepMs: 300 }), invoke(client, {})]);
  const environments = (await fleet.stats()).environments;
  expect(environments).toHaveLength(2);
  const pids = environments.flatMap((e) => [e.pid, e.runtimePid!]);
  if (!unavailable) expect(pids.every((pid) => Number.isInteger(pid) && pid > 1)).toBe(true);
  await fleet.stop();
  expect(pids.filter(isAlive)).toEqual([]);
  expect(fs.existsSync(fleet.workDir)).toBe(false);

  // SIGKILL to the fleet: its environments die with it (a busy one and a frozen one too)
  const second = await fleetWith({ faults: { script: ['pass', 'hang'] } });
  await invoke(second.client, {});
  const busy = invoke(second.client, { sleepMs: 60_000 }).catch(() => undefined);
  const frozen = invoke(second.client, {}).catch(() => undefined);
  await new Promise((r) => setTimeout(r, 1000));
  const inside = (await second.fleet.stats()).environments.flatMap((e) => [e.pid, e.runtimePid!]).filter(Boolean);
  expect(inside.length).toBeGreaterThanOrEqual(unavailable ? 2 : 4);
  process.kill(second.fleet.pid, 'SIGKILL');
  await Promise.all([busy, frozen]);
  await new Promise((r) => setTimeout(r, 1000));
  expect(inside.filter(isAlive)).toEqual([]);
  // (a killed fleet cannot remove its folder: the one who killed it does)
  fs.rmSync(second.fleet.workDir, { recursive: true, force: true });
});

/** A live process (a zombie, dead but not yet reaped by its parent, is not). */
function isAlive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
