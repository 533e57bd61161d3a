#!/usr/bin/env node
/**
 * How close `npx jest-runner-remote-lambda estimate` comes to measured runs: a project that
 * installed the runner from its tarball, with a generated suite of files that mostly wait (timers,
 * long-tailed durations, seeded), so that the local Lambda-like fleet (test/support/fleet) on this
 * 2-core machine gives each environment the CPU it needs, as Lambda would.
 *
 *  1. Jest's default runner runs the suite (this primes Jest's duration cache), then `--runs` more
 *     times: the measured local wall time (median), against estimate's local prediction.
 *  2. estimate --json --rtt-ms=0 (loopback: no network) at each concurrency, before any fleet run.
 *  3. On the fleet with s3rver: one run fills the bucket; then at each concurrency the fleet is
 *     recycled (every environment cold, as the estimate assumes) and the suite runs `--runs` times
 *     through our runner: the measured wall time of `npx jest` (median) against the prediction, and
 *     against the same model given the environments' start as measured in that run; then `--runs`
 *     runs more, every environment warm, against `estimate --warm`.
 *
 *   npm run build && node bench/estimate.js [--quick] [--files=N] [--concurrency=1,2,4] [--runs=N]
 *
 * The last line is one JSON object; full runs write bench/results/estimate.json and estimate.md.
 * --quick: 6 files, concurrency 2, one run, results in a temporary folder.
 */
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { performance } = require('node:perf_hooks');
const { parseArgs } = require('node:util');
const { REPO, consumerProject, median } = require('./support/lambda-env');
const { startFleetStack } = require('../test/support/offline');
const { createRandom } = require('./scale/random');

const { values: args } = parseArgs({
  options: { quick: { type: 'boolean' }, files: { type: 'string' }, concurrency: { type: 'string' }, runs: { type: 'string' }, seed: { type: 'string' } },
  strict: true,
});
const QUICK = Boolean(args.quick);
const FILES = Number(args.files ?? (QUICK ? 6 : 24));
const CONCURRENCIES = String(args.concurrency ?? (QUICK ? '2' : '1,2,4'))
  .split(',')
  .map(Number);
const RUNS = Number(args.runs ?? (QUICK ? 1 : 3));
const SEED = Number(args.seed ?? 17);
const CLI = path.join(REPO, 'dist/src/cli/main.js');

const log = (line) => process.stderr.write(`[estimate-bench] ${line}\n`);
const must = (ok, message) => {
  if (!ok) throw new Error(message);
};

/** Waits of 150 ms to 4 s, lognormal around 0.7 s. */
function durationsMs() {
  const random = createRandom(SEED);
  return Array.from({ length: FILES }, () => Math.round(Math.min(4000, Math.max(150, 700 * random.lognormal(0.8)))));
}

function writeSuite(project, waits) {
  // (Jest's cache in a folder of its own: its durations from the local run are kept for every estimate)
  const config = { runner: 'remote-lambda', testTimeout: 30000, cacheDirectory: jestCache(project) };
  fs.writeFileSync(path.join(project, 'jest.config.js'), `module.exports = ${JSON.stringify(config)};\n`);
  fs.mkdirSync(path.join(project, 'test'), { recursive: true });
  waits.forEach((ms, i) => {
    const name = `w${String(i).padStart(3, '0')}.test.js`;
    fs.writeFileSync(path.join(project, 'test', name), `test('waits ${ms} ms', () => new Promise((resolve) => setTimeout(resolve, ${ms})));\n`);
  });
}

const jestCache = (project) => path.join(project, '..', 'jest-cache');

/**
 * Jest's duration files as the local run left them; `restore` puts them back (each run rewrites
 * them, and a cold remote run's first files include their environment's start).
 */
function keepDurations(project) {
  const dir = jestCache(project);
  const kept = Object.fromEntries(
    fs
      .readdirSync(dir)
      .filter((f) => f.startsWith('perf-cache-'))
      .map((f) => [f, fs.readFileSync(path.join(dir, f))]),
  );
  must(Object.keys(kept).length > 0, `no perf-cache file in ${dir}`);
  return () => {
    for (const [f, bytes] of Object.entries(kept)) fs.writeFileSync(path.join(dir, f), bytes);
  };
}

/** The project's own jest, end to end (the process's wall time, as a person waits for it). */
function jest(cwd, env, extra = []) {
  const out = path.join(cwd, '..', `result-${process.pid}-${Date.now()}.json`);
  const started = performance.now();
  const r = spawnSync(process.execPath, [require.resolve('jest/bin/jest', { paths: [cwd] }), '--ci', '--silent', '--json', `--outputFile=${out}`, ...extra], {
    cwd,
    env: { ...process.env, JEST_WORKER_ID: '', FORCE_COLOR: '0', ...env },
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    timeout: 1_800_000,
  });
  const wallMs = performance.now() - started;
  must(fs.existsSync(out), `jest wrote no JSON in ${cwd} (status ${r.status}):\n${r.stderr?.slice(-3000)}`);
  const json = JSON.parse(fs.readFileSync(out, 'utf8'));
  fs.rmSync(out);
  must(json.numFailedTestSuites === 0, `jest failed in ${cwd}:\n${r.stderr.slice(-3000)}`);
  return { wallMs, stderr: r.stderr };
}

function estimate(cwd, concurrency, extra = []) {
  const r = spawnSync(process.execPath, [CLI, 'estimate', '--json', `--concurrency=${concurrency}`, '--rtt-ms=0', ...extra], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, JEST_WORKER_ID: '' },
  });
  must(r.status === 0, `estimate failed (status ${r.status}):\n${r.stdout}\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

/**
 * The start of a new environment in a run, from its timeline: the setup phases inside each cold
 * file's event (fetch, materialize, prepare, project), median over environments, plus the fleet's
 * median Init Duration of that run.
 */
function observedStartMs(timeline, initsMs) {
  const { traceEvents } = JSON.parse(fs.readFileSync(timeline, 'utf8'));
  const cold = traceEvents.filter((e) => e.cat === 'file' && e.args.cold);
  const setup = cold.map((f) =>
    traceEvents
      .filter((e) => e.cat === 'setup-phase' && e.tid === f.tid && e.ts >= f.ts && e.ts + e.dur <= f.ts + f.dur)
      .reduce((sum, e) => sum + e.dur / 1000, 0),
  );
  return Math.round((setup.length ? median(setup) : 0) + (initsMs.length ? median(initsMs) : 0));
}

const error = (predicted, measured) => Number(((predicted - measured) / measured).toFixed(3));

async function main() {
  must(fs.existsSync(CLI) && fs.existsSync(path.join(REPO, 'dist/handler/index.js')), 'Run `npm run build` first.');
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'jrl-bench-estimate-'));
  try {
    log(`a project with the packed runner and jest, ${FILES} waiting files`);
    const project = consumerProject(path.join(work, 'project'));
    const waits = durationsMs();
    writeSuite(project, waits);

    log('local: a first run with Jest’s default runner (primes Jest’s durations), then the measured runs');
    jest(project, {}, ['--runner=jest-runner']);
    const local = Array.from({ length: RUNS }, () => jest(project, {}, ['--runner=jest-runner']).wallMs);
    const restore = keepDurations(project);
    const predictions = Object.fromEntries(CONCURRENCIES.map((c) => [c, estimate(project, c)]));
    const warmPredictions = Object.fromEntries(CONCURRENCIES.map((c) => [c, estimate(project, c, ['--warm'])]));
    const first = predictions[CONCURRENCIES[0]];
    log(`estimate: ${JSON.stringify(first)}`);

    const maxC = Math.max(...CONCURRENCIES);
    const stack = await startFleetStack(REPO, path.join(work, 'stack'), 'jrl-bench-estimate', { concurrency: maxC, timeoutSec: 900 });
    const points = [];
    try {
      const env = { ...stack.env, JEST_REMOTE_LAMBDA_CACHE_DIRECTORY: path.join(work, 'runner-cache') };
      log(`fleet: a run that fills the bucket (concurrency ${maxC})`);
      jest(project, { ...env, JEST_REMOTE_LAMBDA_CONCURRENCY: String(maxC) });
      for (const c of CONCURRENCIES) {
        const runs = [];
        for (let i = 0; i < RUNS; i++) {
          await stack.fleet.recycle();
          await new Promise((r) => setTimeout(r, 500));
          const before = (await stack.fleet.stats()).initDurationsMs.length;
          const timeline = path.join(work, `timeline-c${c}-${i}.json`);
          const run = jest(project, { ...env, JEST_REMOTE_LAMBDA_CONCURRENCY: String(c), JEST_REMOTE_LAMBDA_TIMELINE: timeline });
          const inits = (await stack.fleet.stats()).initDurationsMs.slice(before);
          runs.push({ wallMs: run.wallMs, startMs: observedStartMs(timeline, inits) });
          log(`fleet: concurrency ${c}, run ${i + 1}: ${Math.round(run.wallMs)} ms (environments started in ${runs.at(-1).startMs} ms)`);
        }
        // then as a run minutes later finds them: every environment warm
        const warm = [];
        for (let i = 0; i < RUNS; i++) {
          warm.push(jest(project, { ...env, JEST_REMOTE_LAMBDA_CONCURRENCY: String(c) }).wallMs);
          log(`fleet: concurrency ${c}, warm run ${i + 1}: ${Math.round(warm.at(-1))} ms`);
        }
        const warmMs = Math.round(median(warm));
        const warmPredicted = warmPredictions[c].predictedWallMs.lambda;
        const measuredMs = Math.round(median(runs.map((r) => r.wallMs)));
        const startMs = Math.round(median(runs.map((r) => r.startMs)));
        const predicted = predictions[c];
        restore();
        const withStart = estimate(project, c, [`--cold-start-ms=${startMs}`]);
        points.push({
          concurrency: c,
          measuredMs,
          runsMs: runs.map((r) => Math.round(r.wallMs)),
          predictedMs: predicted.predictedWallMs.lambda,
          error: error(predicted.predictedWallMs.lambda, measuredMs),
          predictedColdStartMs: predicted.coldStartMs,
          measuredStartMs: startMs,
          predictedWithMeasuredStartMs: withStart.predictedWallMs.lambda,
          errorWithMeasuredStart: error(withStart.predictedWallMs.lambda, measuredMs),
          warm: { measuredMs: warmMs, runsMs: warm.map(Math.round), predictedMs: warmPredicted, error: error(warmPredicted, warmMs) },
        });
      }
    } finally {
      await stack.stop();
    }
    const localMs = Math.round(median(local));
    const result = {
      quick: QUICK,
      files: FILES,
      sumMs: first.sumMs,
      longestMs: first.longestMs,
      shipped: first.shipped,
      local: {
        workers: first.workers,
        measuredMs: localMs,
        runsMs: local.map(Math.round),
        predictedMs: first.predictedWallMs.local,
        error: error(first.predictedWallMs.local, localMs),
      },
      lambda: points,
      // (the machine is shared: its load over the last minute when the runs ended says how much)
      machine: { cores: os.cpus().length, node: process.version, loadAverage1m: Number(os.loadavg()[0].toFixed(1)) },
    };
    if (!QUICK) {
      const dir = path.join(REPO, 'bench/results');
      fs.writeFileSync(path.join(dir, 'estimate.json'), `${JSON.stringify({ ...result, estimate: first }, null, 1)}\n`);
      fs.writeFileSync(path.join(dir, 'estimate.md'), markdown(result));
    }
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

function markdown(r) {
  const pct = (e) => `${e >= 0 ? '+' : ''}${(e * 100).toFixed(1)} %`;
  const s = (ms) => `${(ms / 1000).toFixed(1)}`;
  return [
    `estimate: \`npm run build && node bench/estimate.js --files=${r.files} --concurrency=${CONCURRENCIES.join(',')} --runs=${RUNS}\`,`,
    `${r.machine.cores} cores (load average ${r.machine.loadAverage1m} at the end: the machine is shared), Node ${r.machine.node}, ${new Date().toISOString().slice(0, 10)}. ${r.files} files that wait (seed ${SEED}), ${s(r.sumMs)} s in all, the longest ${s(r.longestMs)} s;`,
    `the project ships ${r.shipped.files} files (${(r.shipped.bytes / 1e6).toFixed(0)} MB). Wall time is the whole \`npx jest\` process; medians of ${RUNS} runs.`,
    '',
    '| where | measured (s) | predicted (s) | error | predicted with the start measured in the run (s) | error |',
    '| --- | --- | --- | --- | --- | --- |',
    `| this machine, Jest's default runner, ${r.local.workers} worker(s) | ${s(r.local.measuredMs)} | ${s(r.local.predictedMs)} | ${pct(r.local.error)} | | |`,
    ...r.lambda.map(
      (p) =>
        `| local fleet, concurrency ${p.concurrency}, every environment cold | ${s(p.measuredMs)} | ${s(p.predictedMs)} | ${pct(p.error)} | ${s(p.predictedWithMeasuredStartMs)} | ${pct(p.errorWithMeasuredStart)} |`,
    ),
    ...r.lambda.map(
      (p) =>
        `| local fleet, concurrency ${p.concurrency}, every environment warm (\`--warm\`) | ${s(p.warm.measuredMs)} | ${s(p.warm.predictedMs)} | ${pct(p.warm.error)} | | |`,
    ),
    '',
    `Start of a new environment: predicted ${s(r.lambda[0].predictedColdStartMs)} s (init + 0.78 ms per shipped file + loading Jest); measured in the runs: ${r.lambda.map((p) => `${s(p.measuredStartMs)} s at ${p.concurrency}`).join(', ')}.`,
    '',
  ].join('\n');
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
