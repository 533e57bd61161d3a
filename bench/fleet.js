#!/usr/bin/env node
/**
 * Our runner on the local Lambda fleet (test/support/fleet), from a project that installed it from
 * its tarball, with s3rver as the bucket:
 *
 *  stress       a generated suite of small deterministic files on `--stress-envs` environments with
 *               seeded faults (kills, 429 bursts, frozen environments, garbage answers, crashes in
 *               init, slow cold starts) on at least 10 % of the invocations: every file must get
 *               exactly one result, equal to Jest's default runner's; no process or temp folder may
 *               be left behind.
 *  concurrency  a generated suite of files that mostly wait (timers), long-tailed durations, at
 *               concurrency C: the runner's wall time against the lower bound max(longest, sum/C) +
 *               one cold start, against modulo shards (file i on shard i mod C, each shard one
 *               environment running its files in turn) and against bench/scale's prediction for
 *               the same durations and measured fleet parameters. A first run primes Jest's timing
 *               cache (the runner orders by it, as on any repeat run); the fleet is then recycled so
 *               the measured run starts with every environment cold.
 *  overhead     per-invocation round trip of a warm environment (a ping through the AWS SDK) and a
 *               cold start: a new environment (process + init) and a new environment's first file.
 *
 *   npm run build && node bench/fleet.js [--json] [--quick] [--stress-files=N] [--concurrency-files=N]
 *
 * The last line with --json is one JSON object with `stress`, `concurrency` and `overhead`.
 * --quick: a few files and one run of each, so `npm test` can keep this script from rotting.
 */
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { LambdaClient, InvokeCommand } = require('@aws-sdk/client-lambda');
const { REPO, consumerProject, median } = require('./support/lambda-env');
const { startFleetStack } = require('../test/support/offline');
const { comparable } = require('../test/support/run-jest');
const { createRandom } = require('./scale/random');
const { DEFAULTS } = require('./scale/params');
const { runStrategy } = require('./scale/simulate');

const { parseArgs } = require('node:util');

const { values: args } = parseArgs({
  options: Object.fromEntries([
    ...['quick', 'json'].map((name) => [name, { type: 'boolean' }]),
    ...['stress-files', 'stress-envs', 'seed', 'fault-rate', 'concurrency-files', 'concurrency', 'only'].map((name) => [name, { type: 'string' }]),
  ]),
  strict: true,
});
const QUICK = Boolean(args.quick);
const JSON_OUT = Boolean(args.json);
const STRESS = {
  files: Number(args['stress-files'] ?? (QUICK ? 40 : 2000)),
  environments: Number(args['stress-envs'] ?? (QUICK ? 6 : 32)),
  seed: Number(args.seed ?? 13),
  // each invocation is hit with this probability (a throttle also refuses the next one)
  rate: Number(args['fault-rate'] ?? (QUICK ? 0.25 : 0.12)),
  // (a frozen environment holds its slot until the function's timeout: rare; none in quick mode,
  // where fleet.test and lambda.test cover it)
  weights: QUICK
    ? { kill: 2, garbage: 3, throttle: 3, 'init-crash': 1, 'slow-start': 1 }
    : { kill: 2, garbage: 4, throttle: 4, hang: 0.5, 'init-crash': 0.5, 'slow-start': 0.5 },
  // long enough for a new environment's first file while dozens start at once on this machine.
  // At full size 300 s was not: after the first kills, 30 environments starting together on 2
  // cores each took longer, timed out, were recycled and started cold again (107 timeouts, no
  // answer for 7 minutes, 2026-12-02); Lambda's own limit, as the concurrency bench uses.
  timeoutSec: QUICK ? 300 : 900,
};
const CONCURRENCY = {
  files: Number(args['concurrency-files'] ?? (QUICK ? 30 : 1000)),
  concurrency: Number(args.concurrency ?? (QUICK ? 6 : 50)),
  seed: Number(args.seed ?? 13),
  // durations: lognormal around the median, clipped to [min, max], a few files 10x longer
  medianMs: QUICK ? 300 : 700,
  sigma: 0.7,
  minMs: QUICK ? 100 : 200,
  maxMs: QUICK ? 800 : 3000,
  longShare: QUICK ? 0.04 : 0.01,
};
const log = (...m) => process.stderr.write(`[bench/fleet] ${m.join(' ')}\n`);

function must(ok, message) {
  if (!ok) throw new Error(message);
}

/** Runs the project's own jest; returns status, --json output, stderr and wall time. */
function jest(cwd, env, extra = []) {
  const out = path.join(cwd, '..', `result-${Date.now()}.json`);
  const started = performance.now();
  const r = spawnSync(process.execPath, [require.resolve('jest/bin/jest', { paths: [cwd] }), '--ci', '--silent', '--json', `--outputFile=${out}`, ...extra], {
    cwd,
    env: { ...process.env, JEST_WORKER_ID: '', FORCE_COLOR: '0', ...env },
    encoding: 'utf8',
    maxBuffer: 512 * 1024 * 1024,
    timeout: 3_600_000,
  });
  const wallMs = performance.now() - started;
  must(fs.existsSync(out), `jest wrote no JSON in ${cwd} (status ${r.status}):\n${r.stderr?.slice(-3000)}`);
  const json = JSON.parse(fs.readFileSync(out, 'utf8'));
  fs.rmSync(out);
  const total = /\[remote-lambda\] backend=\S+ .*? total=(\d+)ms/.exec(r.stderr ?? '');
  return { status: r.status, json, stderr: r.stderr ?? '', wallMs, runnerMs: total ? Number(total[1]) : undefined };
}

/**
 * Starts the fleet's environments a few at a time: runs of `files` (paths relative to `dir`) at
 * concurrency step, 2 step, ... up to `count`, each run needing `step` new environments. Dozens of
 * environments starting at once on this 2-core machine would each take minutes (their CPU is
 * shared here, unlike on Lambda) and run past the function's timeout.
 */
function rampUp(dir, env, pattern, count, step) {
  for (let k = Math.min(step, count); ; k = Math.min(count, k + step)) {
    const run = jest(dir, { ...env, JEST_REMOTE_LAMBDA_CONCURRENCY: String(k), JEST_REMOTE_LAMBDA_BATCH_MS: '0' }, [
      `--testPathPatterns=${pattern}`,
      '--maxWorkers=2',
    ]);
    log(`ramp-up: concurrency ${k}: ${run.json.numTotalTestSuites} files in ${Math.round(run.wallMs)} ms`);
    if (k === count) return;
  }
}

// ---------------------------------------------------------------------------------------------

function writeStressSuite(dir, files) {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'stress', private: true }));
  fs.writeFileSync(path.join(dir, 'jest.config.js'), "module.exports = { runner: 'remote-lambda', testEnvironment: 'node' };\n");
  for (let i = 0; i < files; i++) {
    const sub = path.join(dir, `group-${i % 20}`);
    fs.mkdirSync(sub, { recursive: true });
    const lines = [
      `const n = ${i};`,
      "test('adds', () => expect(n + 1).toBe(" + (i + 1) + '));',
      "test('matches an object', () => expect({ id: n, tags: ['a', String(n % 7)] }).toEqual({ id: " + i + ", tags: ['a', '" + (i % 7) + "'] }));",
    ];
    if (i % 10 === 3) lines.push("test('fails on purpose', () => expect({ id: n }).toEqual({ id: n + 1 }));");
    if (i % 20 === 7) lines.push("test('logs', () => { console.log('file', n); expect(n).toBeGreaterThan(-1); });");
    if (i % 25 === 11) lines.push("test.skip('skipped', () => {});", "test.todo('to do');");
    fs.writeFileSync(path.join(sub, `s${String(i).padStart(4, '0')}.test.js`), `${lines.join('\n')}\n`);
  }
}

/** Folders the fleet makes in the temp dir (an environment's /tmp is a tmpfs in its own mount
 * namespace: it ends with the environment's processes, which are checked separately). */
function leftovers() {
  return fs.readdirSync(os.tmpdir()).filter((e) => e.startsWith('jrl-fleet'));
}

/** Frames inside Node's internals come and go with scheduling (whether a test was entered from a
 * microtask): as in the junit comparison, they are not compared. */
function withoutInternalFrames(file) {
  const strip = (m) =>
    m
      .split('\n')
      .filter((l) => !/^\s*at .*\(node:internal\/[^)]*\)$/.test(l))
      .join('\n');
  return { ...file, message: strip(file.message), tests: file.tests.map((t) => ({ ...t, failureMessages: t.failureMessages.map(strip) })) };
}

const { running: alive } = require('../test/support/fleet/environment');

async function stress(project, work) {
  const dir = path.join(project, 'stress');
  writeStressSuite(dir, STRESS.files);
  log(`stress: ${STRESS.files} files, default runner`);
  const reference = jest(dir, {}, ['--runner=jest-runner', '--maxWorkers=2']);
  const before = leftovers();
  const stack = await startFleetStack(REPO, path.join(work, 'stress-stack'), 'jrl-bench-stress', {
    concurrency: STRESS.environments,
    timeoutSec: STRESS.timeoutSec,
    slowStartMs: 2000,
    killWithinMs: 400,
  });
  let ours;
  let stats;
  let pids = new Set();
  const note = (s) => s.environments.forEach((e) => [e.pid, e.runtimePid].filter(Boolean).forEach((pid) => pids.add(pid)));
  const watch = setInterval(() => stack.fleet.stats().then(note, () => undefined), 1000);
  try {
    if (!QUICK) rampUp(dir, stack.env, 'group-0/', STRESS.environments, 4);
    const warmUp = (await stack.fleet.stats()).invocations;
    await stack.fleet.setFaults({ random: { seed: STRESS.seed, rate: STRESS.rate, weights: STRESS.weights }, throttleBurst: 2 });
    log(`stress: ${STRESS.files} files on the fleet, ${STRESS.environments} environments, fault rate ${STRESS.rate}`);
    ours = jest(
      dir,
      {
        ...stack.env,
        JEST_REMOTE_LAMBDA_CONCURRENCY: String(STRESS.environments),
        JEST_REMOTE_LAMBDA_RETRIES: '10',
        JEST_REMOTE_LAMBDA_BATCH_MS: '0',
        JEST_REMOTE_LAMBDA_DEBUG: '1',
      },
      ['--maxWorkers=2'],
    );
    stats = await stack.fleet.stats();
    stats.invocations -= warmUp;
    note(stats);
  } finally {
    clearInterval(watch);
    await stack.stop();
  }
  const fleetDirLeft = fs.existsSync(stack.fleet.workDir);
  const left = [...pids].filter(alive);
  const after = leftovers();
  // (only this process's: a fleet another test file starts meanwhile has its own, and ends later)
  const ofThisRun = (d) => d === path.basename(stack.fleet.workDir) || d.startsWith(`jrl-fleet-options-${process.pid}-`);
  const tmpLeft = after.filter((d) => !before.includes(d) && ofThisRun(d));
  const names = ours.json.testResults.map((f) => f.name);
  const counts = new Map();
  for (const n of names) counts.set(n, (counts.get(n) ?? 0) + 1);
  const expected = reference.json.testResults.map((f) => f.name);
  const byName = (run) =>
    new Map(comparable({ status: 0, json: run.json, console: {}, caseResults: {} }).files.map((f) => [f.name, JSON.stringify(withoutInternalFrames(f))]));
  const refFiles = byName(reference);
  const ourFiles = byName(ours);
  const mismatched = expected.filter((n) => refFiles.get(n) !== ourFiles.get(n));
  if (mismatched.length) {
    const [a, b] = [ourFiles.get(mismatched[0]) ?? '', refFiles.get(mismatched[0]) ?? ''];
    let at = 0;
    while (at < a.length && a[at] === b[at]) at++;
    log(
      `stress: ${mismatched.length} mismatch(es); first ${mismatched[0]} at character ${at}:\n  ours:      ${a.slice(Math.max(0, at - 150), at + 250)}\n  reference: ${b.slice(Math.max(0, at - 150), at + 250)}`,
    );
  }
  if (tmpLeft.length) log(`stress: left in ${os.tmpdir()}: ${tmpLeft.join(' ')}`);
  const summary = [/remote-lambda: \d+ file.*$/m.exec(ours.stderr)?.[0], /\[remote-lambda\] backend=.*$/m.exec(ours.stderr)?.[0]].filter(Boolean).join(' | ');
  log(`stress: ${summary}`);
  return {
    files: STRESS.files,
    results: names.length,
    lost: expected.filter((n) => !counts.has(n)).length,
    duplicated: [...counts.values()].filter((c) => c > 1).length,
    mismatches: mismatched.length,
    faultsInjected: stats.faultsInjected.total,
    faultsByKind: stats.faultsInjected,
    invocations: stats.invocations,
    faultShare: Number((stats.faultsInjected.total / stats.invocations).toFixed(3)),
    environmentsStarted: stats.started,
    environmentsEnded: stats.ended,
    referenceFailedFiles: reference.json.numFailedTestSuites,
    wallMs: Math.round(ours.wallMs),
    referenceWallMs: Math.round(reference.wallMs),
    leftoverProcesses: left.length,
    leftoverTempDirs: tmpLeft.length + (fleetDirLeft && !tmpLeft.includes(path.basename(stack.fleet.workDir)) ? 1 : 0),
    runner: summary,
  };
}

// ---------------------------------------------------------------------------------------------

function durationsMs() {
  const random = createRandom(CONCURRENCY.seed);
  return Array.from({ length: CONCURRENCY.files }, () => {
    const base = Math.min(CONCURRENCY.maxMs, Math.max(CONCURRENCY.minMs, CONCURRENCY.medianMs * random.lognormal(CONCURRENCY.sigma)));
    return Math.round(random.uniform() < CONCURRENCY.longShare ? base * 10 : base);
  });
}

function writeWaitingSuite(dir, waits) {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'waits', private: true }));
  fs.writeFileSync(path.join(dir, 'jest.config.js'), "module.exports = { runner: 'remote-lambda', testEnvironment: 'node' };\n");
  waits.forEach((ms, i) => {
    fs.writeFileSync(
      path.join(dir, `w${String(i).padStart(4, '0')}.test.js`),
      `test('waits ${ms} ms', async () => {\n  await new Promise((r) => setTimeout(r, ${ms}));\n  expect(${ms}).toBeGreaterThan(0);\n}, ${ms + 60_000});\n`,
    );
  });
}

/** Makespan of modulo shards: file i on shard i mod C, each shard's files one after another. */
function moduloMs(durations, c) {
  const shards = new Array(Math.min(c, durations.length)).fill(0);
  durations.forEach((d, i) => (shards[i % shards.length] += d));
  return Math.max(...shards);
}

async function pingMs(client, functionName) {
  const started = performance.now();
  const out = await client.send(new InvokeCommand({ FunctionName: functionName, Payload: Buffer.from(JSON.stringify({ protocolVersion: 2, kind: 'ping' })) }));
  must(!out.FunctionError, `ping failed: ${Buffer.from(out.Payload ?? []).toString()}`);
  return performance.now() - started;
}

async function overhead(project, work) {
  const stack = await startFleetStack(REPO, path.join(work, 'overhead-stack'), 'jrl-bench-overhead', { concurrency: 4 });
  try {
    const client = new LambdaClient({
      endpoint: stack.fleet.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      maxAttempts: 1,
    });
    const coldPings = [];
    const warmPings = [];
    for (let round = 0; round < (QUICK ? 2 : 5); round++) {
      await stack.fleet.recycle();
      await new Promise((r) => setTimeout(r, 200));
      coldPings.push(await pingMs(client, stack.fleet.functionName));
      for (let i = 0; i < (QUICK ? 10 : 50); i++) warmPings.push(await pingMs(client, stack.fleet.functionName));
    }
    const stats = await stack.fleet.stats();
    // a new environment's first test file, against the same file warm (runner totals of one file)
    const dir = path.join(project, 'one');
    writeWaitingSuite(dir, [1]);
    const env = { ...stack.env, JEST_REMOTE_LAMBDA_DEBUG: '1' };
    const cold = [];
    const warm = [];
    for (let round = 0; round < (QUICK ? 1 : 3); round++) {
      await stack.fleet.recycle();
      await new Promise((r) => setTimeout(r, 200));
      cold.push(jest(dir, env).runnerMs);
      warm.push(jest(dir, env).runnerMs);
    }
    client.destroy();
    return {
      warmInvokeMs: Number(median(warmPings).toFixed(1)),
      coldInvokeMs: Math.round(median(coldPings)),
      initDurationMs: Math.round(median(stats.initDurationsMs)),
      firstFileColdMs: Math.round(median(cold)),
      firstFileWarmMs: Math.round(median(warm)),
      coldStartMs: Math.round(median(cold) - median(warm)),
    };
  } finally {
    await stack.stop();
  }
}

/** Busy CPU time of this whole machine so far (ms), from /proc/stat; undefined where there is none. */
function machineBusyMs() {
  try {
    const [, ...ticks] = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).map(Number);
    const idle = ticks[3] + (ticks[4] ?? 0);
    // (USER_HZ is 100 on Linux: a tick is 10 ms)
    return (ticks.slice(0, 8).reduce((a, b) => a + b, 0) - idle) * 10;
  } catch {
    return undefined;
  }
}

/**
 * Runs `run` and adds what the fleet and the machine saw meanwhile: how long an environment's start
 * took in this run (the median first invocation of an environment beyond the median later one,
 * plus the median init of those started) and the machine's CPU floor (busy time / cores).
 */
async function observed(fleet, run) {
  const before = await fleet.stats();
  const busyBefore = machineBusyMs();
  const result = run();
  const busy = machineBusyMs() - busyBefore;
  const after = await fleet.stats();
  const times = after.invocationTimes.slice(before.invocationTimes.length);
  const seen = new Set();
  const first = [];
  const later = [];
  for (const t of times) {
    (seen.has(t.env) ? later : first).push(t.ms);
    seen.add(t.env);
  }
  const inits = after.initDurationsMs.slice(before.initDurationsMs.length);
  const startMs = Math.max(0, Math.round((first.length ? median(first) : 0) - (later.length ? median(later) : 0) + (inits.length ? median(inits) : 0)));
  return { ...result, observed: { startMs, environments: first.length, cpuFloorMs: Number.isFinite(busy) ? Math.round(busy / os.cpus().length) : undefined } };
}

async function concurrency(project, work, measured) {
  const dir = path.join(project, 'waits');
  const waits = durationsMs();
  writeWaitingSuite(dir, waits);
  const c = CONCURRENCY.concurrency;
  // (Lambda's longest timeout: the measured run starts every environment at once, see rampUp)
  const stack = await startFleetStack(REPO, path.join(work, 'concurrency-stack'), 'jrl-bench-concurrency', { concurrency: c, timeoutSec: 900 });
  const env = { ...stack.env, JEST_REMOTE_LAMBDA_CONCURRENCY: String(c), JEST_REMOTE_LAMBDA_DEBUG: '1' };
  const runs = {};
  let fleetStats;
  try {
    if (!QUICK) {
      rampUp(dir, stack.env, 'w00', c, 5);
      log(`concurrency: ${waits.length} files at concurrency ${c}, first run (primes Jest's timings)`);
      runs.first = jest(dir, env);
      log(`concurrency: warm run (every environment warm)`);
      runs.warm = await observed(stack.fleet, () => jest(dir, env));
      await stack.fleet.recycle();
      await new Promise((r) => setTimeout(r, 500));
    }
    log(`concurrency: ${waits.length} files at concurrency ${c}, measured run (every environment cold)`);
    runs.cold = await observed(stack.fleet, () => jest(dir, env));
    fleetStats = await stack.fleet.stats();
  } finally {
    await stack.stop();
  }
  const names = waits.map((_, i) => `w${String(i).padStart(4, '0')}.test.js`);
  const runtime = (run) => {
    must(run.json.numPassedTests === waits.length, `concurrency: ${run.json.numPassedTests} of ${waits.length} tests passed:\n${run.stderr.slice(-2000)}`);
    const byName = new Map(run.json.testResults.map((f) => [path.basename(f.name), f.endTime - f.startTime]));
    return names.map((n) => byName.get(n));
  };
  const estimates = runs.first ? runtime(runs.first) : undefined;
  const coldMs = measured.coldStartMs;
  // bench/scale for the same suite, with the start of an environment as measured in this run (its
  // first invocation beyond a later one's, plus init: many environments starting together on this
  // machine share its cores and the one S3 emulator, which Lambda's do not)
  const modelFor = (suite, startMs) =>
    runStrategy('ours', suite, {
      ...DEFAULTS,
      concurrency: c,
      initMs: startMs,
      projectBytes: 0,
      s3RoundTrips: 0,
      jestBootMs: 0,
      networkRttMs: 0,
      invokeOverheadMs: measured.warmInvokeMs,
    }).makespanMs;
  // bench/scale for the same suite: the run's measured per-file durations, the previous run's as
  // estimates, the fleet's measured cold start and warm round trip, no network beyond the loopback
  const figures = (run, withCold) => {
    const durations = runtime(run);
    const totalMs = durations.reduce((a, b) => a + b, 0);
    const longestMs = Math.max(...durations);
    const startMs = withCold ? coldMs : 0;
    const lowerBoundMs = Math.max(longestMs, totalMs / c) + startMs;
    const modulo = moduloMs(durations, c) + startMs;
    const suite = durations.map((durationMs, index) => ({ index, durationMs, estimateMs: estimates ? estimates[index] : null, resultBytes: 0 }));
    const model = modelFor(suite, startMs);
    const modelInRun = modelFor(suite, run.observed.startMs);
    const handler = /\[remote-lambda\] handler \(sum over files[^)]*\): (.*?);/.exec(run.stderr)?.[1];
    return {
      wallMs: run.runnerMs,
      processWallMs: Math.round(run.wallMs),
      lowerBoundMs: Math.round(lowerBoundMs),
      moduloMs: Math.round(modulo),
      modelMs: Math.round(model),
      wallOverBound: Number((run.runnerMs / lowerBoundMs).toFixed(3)),
      wallOverModulo: Number((run.runnerMs / modulo).toFixed(3)),
      modelError: Number(((model - run.runnerMs) / run.runnerMs).toFixed(3)),
      environmentStartInRunMs: run.observed.startMs,
      modelInRunMs: Math.round(modelInRun),
      modelInRunError: Number(((modelInRun - run.runnerMs) / run.runnerMs).toFixed(3)),
      // the machine's CPU time over the run (every environment, the S3 emulator, Jest) spread over
      // its cores: a run near this floor measured this machine, not the scheduler
      hostCpuFloorMs: run.observed.cpuFloorMs,
      wallOverHostCpuFloor: Number((run.runnerMs / run.observed.cpuFloorMs).toFixed(3)),
      sumMs: Math.round(totalMs),
      longestMs: Math.round(longestMs),
      handlerPhases: handler,
    };
  };
  return {
    files: waits.length,
    concurrency: c,
    ...figures(runs.cold, true),
    coldStartMs: coldMs,
    environmentsStarted: fleetStats.started,
    throttled: fleetStats.throttled,
    initDurationMedianMs: Math.round(median(fleetStats.initDurationsMs)),
    runner: /\[remote-lambda\] backend=.*$/m.exec(runs.cold.stderr)?.[0],
    ...(runs.warm ? { warm: figures(runs.warm, false) } : {}),
  };
}

async function main() {
  must(
    fs.existsSync(path.join(REPO, 'dist/handler/index.js')) && fs.existsSync(path.join(REPO, 'dist/src/dispatch/schedule.js')),
    'Run `npm run build` first: the fleet runs dist/handler/index.js.',
  );
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'jrl-bench-fleet-'));
  try {
    log(`consumer project in ${work}`);
    const project = consumerProject(path.join(work, 'project'));
    const only = args.only ? String(args.only).split(',') : ['overhead', 'stress', 'concurrency'];
    const overheadFigures = only.includes('overhead') || only.includes('concurrency') ? await overhead(project, work) : undefined;
    log(`overhead: ${JSON.stringify(overheadFigures)}`);
    let stressFigures;
    let concurrencyFigures;
    // (in the order --only names them)
    for (const part of only.filter((o) => o !== 'overhead')) {
      if (part === 'stress') log(`stress: ${JSON.stringify((stressFigures = await stress(project, work)))}`);
      if (part === 'concurrency') log(`concurrency: ${JSON.stringify((concurrencyFigures = await concurrency(project, work, overheadFigures)))}`);
    }
    const result = { quick: QUICK, stress: stressFigures, concurrency: concurrencyFigures, overhead: overheadFigures };
    if (JSON_OUT) process.stdout.write(`${JSON.stringify(result)}\n`);
    else process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error) => {
  process.stderr.write(`${error.stack}\n`);
  process.exit(1);
});
