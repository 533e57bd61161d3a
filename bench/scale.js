#!/usr/bin/env node
'use strict';
// Simulated makespan of a Jest suite on a Lambda fleet: our dynamic queue (small files batched, as
// src/dispatch.ts does, and one file per invocation) vs modulo sharding vs static duration-balanced
// shards vs a lower bound, over suite sizes N and concurrency limits C.
//
//   node bench/scale.js                      the default grid, every suite in bench/data, 3 reps
//   node bench/scale.js --seed=7 --reps=5 --files=1000,10000 --concurrency=10,100 --suites=luxon
//   node bench/scale.js --networkRttMs=80 --out=/tmp/scale-far   any parameter of bench/scale/params.js
//   node bench/scale.js --quick              one suite, two points, one rep (what npm test runs)
//
// Writes <out>.md, <out>.json and <out>.png (default bench/results/scale.*). See bench/results/scale.md.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { parseArgs } = require('node:util');
const { DEFAULTS } = require('./scale/params');
const { runGrid, CORE_STRATEGIES } = require('./scale/grid');
const report = require('./scale/report');
const { renderPng } = require('./scale/plot');

const DATA_DIR = path.join(__dirname, 'data');
const FLAGS = {
  seed: 1,
  reps: 3,
  files: [1000, 5000, 10000, 50000],
  concurrency: [10, 50, 100, 500, 1000],
  suites: null, // all of bench/data
  main: 'stylelint',
  sensitivity: true,
  plot: true,
  out: path.join(__dirname, 'results', 'scale'),
};
/** --quick: one suite, two points, one rep, results in a temporary folder (what `npm test` runs). */
const QUICK = {
  reps: 1,
  files: [1000],
  concurrency: [10, 100],
  suites: ['dayjs'],
  main: 'dayjs',
  sensitivity: false,
  plot: false,
  out: path.join(os.tmpdir(), 'jrl-bench-quick', 'scale'),
};

/** --name=value for every flag above and every parameter of bench/scale/params.js; --no-<name> turns a boolean off. */
function parseFlags(argv) {
  const options = {};
  for (const [name, value] of [...Object.entries(FLAGS), ...Object.entries(DEFAULTS)]) {
    if (typeof value === 'boolean') {
      options[name] = { type: 'boolean' };
      options[`no-${name}`] = { type: 'boolean' };
    } else options[name] = { type: 'string' };
  }
  options.quick = { type: 'boolean' };
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options, strict: true }));
  } catch (error) {
    throw new Error(`${error.message}\nflags: ${Object.keys(FLAGS).join(', ')}, quick; parameters: ${Object.keys(DEFAULTS).join(', ')}`, { cause: error });
  }
  const flags = { ...FLAGS, ...(values.quick ? QUICK : {}) };
  const params = { ...DEFAULTS };
  for (const [name, raw] of Object.entries(values)) {
    if (name === 'quick') continue;
    const key = name.startsWith('no-') ? name.slice(3) : name;
    const value = name.startsWith('no-') ? !raw : raw;
    const target = key in FLAGS ? flags : params;
    const fallback = key in FLAGS ? FLAGS[key] : DEFAULTS[key];
    if (key === 'files' || key === 'concurrency') target[key] = String(value).split(',').map(Number);
    else if (key === 'suites') target[key] = String(value).split(',');
    else if (typeof fallback === 'number') {
      target[key] = Number(value);
      if (Number.isNaN(target[key])) throw new Error(`--${key} needs a number`);
    } else target[key] = value;
  }
  return { flags, params, quick: Boolean(values.quick) };
}

function loadDistributions(names) {
  const all = fs
    .readdirSync(DATA_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(fs.readFileSync(path.join(DATA_DIR, f), 'utf8')));
  if (!names) return all;
  return names.map((n) => {
    const d = all.find((x) => x.name === n);
    if (!d) throw new Error(`no bench/data/${n}.json (have: ${all.map((x) => x.name).join(', ')})`);
    return d;
  });
}

/** Parameter variants re-run on every suite (1 rep each), to show which conclusions are robust.
 * A variant is a function of the suite's data, so a measured value can be used. */
const SENSITIVITY = [
  ['as above (1 rep)', () => ({})],
  ['networkRttMs = 0 (the loopback calibration as measured, no network)', () => ({ networkRttMs: 0 })],
  ['networkRttMs = 30 (slow end of in-Region)', () => ({ networkRttMs: 30 })],
  ['networkRttMs = 80 (a far-away client)', () => ({ networkRttMs: 80 })],
  ['calibration with 5 files per batch: invokeOverheadMs = 7.6, fileOverheadMs = 6.8', () => ({ invokeOverheadMs: 7.6, fileOverheadMs: 6.8 })],
  ["the measured per-file overhead on the client's thread: fileOverheadMs = 0, clientPerFileMs = 8.0", () => ({ fileOverheadMs: 0, clientPerFileMs: 8.0 })],
  ['clientPerFileMs = 0 (client never a bottleneck)', () => ({ clientPerFileMs: 0 })],
  ['clientPerFileMs = 3 (e.g. AWS SDK work per request)', () => ({ clientPerFileMs: 3 })],
  ['batchMs = 1000', () => ({ batchMs: 1000 })],
  ['clientAware = false (always longest first: the queue before the client-aware rule)', () => ({ clientAware: false })],
  ['estimateNoiseSigma = 0.8, newFileFraction = 0.2', () => ({ estimateNoiseSigma: 0.8, newFileFraction: 0.2 })],
  ['projectBytes = 300 MB (cold start +3 s)', () => ({ projectBytes: 300e6 })],
  [
    "containerWarmupMs = the suite's measured cold-minus-warm transform cost",
    (d) => ({ containerWarmupMs: Math.max(0, d.runs.cold.sumOfFilesMs - d.runs.warm.sumOfFilesMs) }),
  ],
  ['firstRun = true (upload 60 MB at 12.5 MB/s first)', () => ({ firstRun: true })],
  ['remoteSlowdown = 1.5', () => ({ remoteSlowdown: 1.5 })],
];

async function main() {
  const started = Date.now();
  const { flags, params } = parseFlags(process.argv.slice(2));
  const distributions = loadDistributions(flags.suites);
  const mainSuite = distributions.some((d) => d.name === flags.main) ? flags.main : distributions[0].name;
  const grid = { files: flags.files, concurrency: flags.concurrency, reps: flags.reps, seed: flags.seed, params };

  const bySuite = {};
  for (const d of distributions) bySuite[d.name] = runGrid(d, grid);
  const rows = Object.values(bySuite).flat();

  const sensitivity = [];
  if (flags.sensitivity) {
    for (const [label, variant] of SENSITIVITY) {
      const entry = { label, bySuite: {} };
      for (const d of distributions) {
        const change = variant(d);
        const variantRows = runGrid(d, { ...grid, reps: 1, strategies: CORE_STRATEGIES, params: { ...params, ...change } });
        entry.bySuite[d.name] = {
          change,
          summary: report.targetSummary(variantRows),
          unbatchedSummary: report.targetSummary(variantRows, 'unbatched'),
          rows: variantRows.map(({ reps, ...r }) => r),
        };
      }
      sensitivity.push(entry);
    }
  }

  // Beyond the default grid: C above 1,000, where the burst limit binds (account quota raised; the
  // client made free so that it does not hide the burst limit).
  const burst = [];
  if (flags.sensitivity) {
    const d = distributions.find((x) => x.name === mainSuite);
    for (const burstRefill of ['step', 'continuous']) {
      const burstRows = runGrid(d, {
        ...grid,
        files: [10000, 50000],
        concurrency: [1000, 2000, 3000],
        reps: 1,
        strategies: CORE_STRATEGIES,
        params: { ...params, accountConcurrency: 3000, clientPerFileMs: 0, burstRefill },
      });
      for (const { reps, ...r } of burstRows) burst.push({ burstRefill, ...r });
    }
  }

  console.log(`main suite: ${mainSuite} (median of ${flags.reps} reps, seed ${flags.seed}); times in seconds\n`);
  console.log(report.consoleTable(bySuite[mainSuite]));
  console.log(`\nall suites:\n${report.summaryTable(bySuite)}`);
  if (sensitivity.length)
    console.log(
      `\nsensitivity (1 rep per point; per suite: target met / points where the bound > 30 s, then better/tie/worse than modulo), ours:\n${report.sensitivityTable(sensitivity)}\nours, one file per invocation:\n${report.sensitivityTable(sensitivity, 'unbatched')}`,
    );

  fs.mkdirSync(path.dirname(flags.out), { recursive: true });
  // Sensitivity: summaries and, per point, only the makespans and ratios (the full rows are large).
  const sensitivitySummary = sensitivity.map((v) => ({
    label: v.label,
    bySuite: Object.fromEntries(
      Object.entries(v.bySuite).map(([name, x]) => [
        name,
        {
          change: x.change,
          summary: x.summary,
          unbatchedSummary: x.unbatchedSummary,
          points: x.rows.map((r) => ({
            files: r.files,
            concurrency: r.concurrency,
            oursS: r.oursS,
            oursUnbatchedS: r.oursUnbatchedS,
            moduloS: r.moduloS,
            boundS: r.boundS,
            floorS: r.floorS,
            vsModulo: r.vsModulo,
            boundTargetMet: r.boundTargetMet,
            unbatchedVsModulo: r.unbatched.vsModulo,
            unbatchedBoundTargetMet: r.unbatched.boundTargetMet,
          })),
        },
      ]),
    ),
  }));
  const json = {
    generatedBy: 'node bench/scale.js',
    argv: process.argv.slice(2),
    flags,
    params,
    mainSuite,
    suites: distributions.map(({ perFileMs, perFileResultBytes, runs, ...d }) => d),
    rows,
    sensitivity: sensitivitySummary,
    burst,
  };
  fs.writeFileSync(
    `${flags.out}.json`,
    `${JSON.stringify(json, (k, v) => (typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(6)) : v), 1)}\n`,
  );
  const md = require('./scale/markdown').render({ flags, params, distributions, bySuite, mainSuite, sensitivity, burst, grid });
  fs.writeFileSync(`${flags.out}.md`, md);
  if (flags.plot) await renderPng(rows, mainSuite, `${flags.out}.png`);
  console.log(`\nwrote ${flags.out}.{md,json${flags.plot ? ',png' : ''}} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const summary = report.targetSummary(rows);
  console.log(JSON.stringify({ suites: Object.keys(bySuite), ...summary }));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
