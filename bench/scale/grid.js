'use strict';
// Runs every strategy and the bounds over a grid of suite sizes (N) and concurrency limits (C).
const { makeSuite } = require('./suite');
const { runStrategy } = require('./simulate');
const { lowerBounds } = require('./bounds');
const { seedFrom } = require('./random');

const STRATEGY_NAMES = ['ours', 'oursUnbatched', 'modulo', 'moduloBatched', 'static', 'queueFileOrder'];
/** What the sensitivity runs need (the rest are diagnostics of the main grid). */
const CORE_STRATEGIES = ['ours', 'oursUnbatched', 'modulo'];
/** The brief's target: where the bound is above this, ours must be within TARGET_RATIO of it. */
const TARGET_BOUND_ABOVE_MS = 30_000;
const TARGET_RATIO = 1.1;
/** Relative difference below which ours and modulo count as a tie (0.1 %). */
const TIE_TOLERANCE = 0.001;

/**
 * @param {object} distribution  one bench/data/<suite>.json
 * @param {{files:number[], concurrency:number[], reps:number, seed:number, params:object, strategies?:string[]}} grid
 * @returns one row per (N, C): per-rep raw numbers and their medians, plus the target checks
 *   (for ours, and for ours with one file per invocation)
 */
function runGrid(distribution, grid) {
  const rows = [];
  for (const files of grid.files) {
    const suites = [];
    for (let rep = 0; rep < grid.reps; rep++) {
      suites.push(
        makeSuite(distribution, {
          files,
          seed: seedFrom(grid.seed, distribution.name, files, rep),
          estimateNoiseSigma: grid.params.estimateNoiseSigma,
          newFileFraction: grid.params.newFileFraction,
        }),
      );
    }
    for (const concurrency of grid.concurrency) {
      const p = { ...grid.params, concurrency };
      const reps = suites.map((suite) => {
        const bounds = lowerBounds(suite, p);
        const rep = { boundMs: bounds.boundMs, floorMs: bounds.floorMs, parts: bounds.parts };
        for (const name of grid.strategies || STRATEGY_NAMES) {
          const result = runStrategy(name, suite, p);
          rep[name] = result.makespanMs;
          if (name === 'ours') rep.oursDetail = result;
        }
        return rep;
      });
      rows.push(summarizeRow(distribution.name, files, concurrency, reps));
    }
  }
  return rows;
}

function summarizeRow(suite, files, concurrency, reps) {
  const med = (f) => median(reps.map(f));
  const has = (name) => reps[0][name] !== undefined;
  const seconds = (name) => (has(name) ? med((r) => r[name]) / 1000 : null);
  const row = {
    suite,
    files,
    concurrency,
    oursS: seconds('ours'),
    oursUnbatchedS: seconds('oursUnbatched'),
    moduloS: seconds('modulo'),
    moduloBatchedS: seconds('moduloBatched'),
    staticS: seconds('static'),
    queueFileOrderS: seconds('queueFileOrder'),
    boundS: med((r) => r.boundMs) / 1000,
    floorS: med((r) => r.floorMs) / 1000,
    oursOverBound: med((r) => r.ours / r.boundMs),
    oursOverFloor: med((r) => r.ours / r.floorMs),
    oursOverModulo: med((r) => r.ours / r.modulo),
    oursOverStatic: has('static') ? med((r) => r.ours / r.static) : null,
    oursOverModuloBatched: has('moduloBatched') ? med((r) => r.ours / r.moduloBatched) : null,
    oursOverUnbatched: has('oursUnbatched') ? med((r) => r.ours / r.oursUnbatched) : null,
    worstOursOverBound: Math.max(...reps.map((r) => r.ours / r.boundMs)),
    worstOursOverModulo: Math.max(...reps.map((r) => r.ours / r.modulo)),
    environments: med((r) => r.oursDetail.environments),
    invocations: med((r) => r.oursDetail.invocations),
    minInvocations: med((r) => r.parts.minInvocations),
    clientBusyShare: med((r) => r.oursDetail.clientBusyMs / r.ours),
    s3Results: med((r) => r.oursDetail.s3Results),
  };
  Object.assign(row, targets(reps, 'ours'));
  if (has('oursUnbatched')) {
    const t = targets(reps, 'oursUnbatched');
    row.unbatched = {
      overBound: med((r) => r.oursUnbatched / r.boundMs),
      worstOverBound: Math.max(...reps.map((r) => r.oursUnbatched / r.boundMs)),
      overModulo: med((r) => r.oursUnbatched / r.modulo),
      worstOverModulo: Math.max(...reps.map((r) => r.oursUnbatched / r.modulo)),
      ...t,
    };
  }
  row.reps = reps.map((r) => ({
    oursMs: round(r.ours),
    ...(r.oursUnbatched !== undefined ? { oursUnbatchedMs: round(r.oursUnbatched) } : {}),
    moduloMs: round(r.modulo),
    ...(r.moduloBatched !== undefined ? { moduloBatchedMs: round(r.moduloBatched) } : {}),
    ...(r.static !== undefined ? { staticMs: round(r.static) } : {}),
    ...(r.queueFileOrder !== undefined ? { queueFileOrderMs: round(r.queueFileOrder) } : {}),
    boundMs: round(r.boundMs),
    floorMs: round(r.floorMs),
    invocations: r.oursDetail.invocations,
    floorParts: Object.fromEntries(Object.entries(r.parts).map(([k, v]) => [k, round(v)])),
  }));
  return row;
}

/** The brief's two targets for one strategy, over the reps of one grid point. */
function targets(reps, name) {
  // Target 1: wherever the bound is above 30 s (in every rep), ours <= 1.1 x bound (in every rep).
  const boundTargetApplies = reps.every((r) => r.boundMs > TARGET_BOUND_ABOVE_MS);
  const boundTargetMet = boundTargetApplies ? reps.every((r) => r[name] <= TARGET_RATIO * r.boundMs) : null;
  // Target 2: better than modulo everywhere. Within TIE_TOLERANCE of each other counts as a tie
  // (e.g. both pinned at the same floor, or N <= C where both give every file its own environment).
  const verdicts = reps.map((r) => (r[name] < r.modulo * (1 - TIE_TOLERANCE) ? 'better' : r[name] <= r.modulo * (1 + TIE_TOLERANCE) ? 'tie' : 'worse'));
  const vsModulo = verdicts.includes('worse') ? 'worse' : verdicts.every((v) => v === 'better') ? 'better' : 'tie';
  return { boundTargetApplies, boundTargetMet, vsModulo };
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

function round(x) {
  return Math.round(x * 10) / 10;
}

module.exports = { runGrid, STRATEGY_NAMES, CORE_STRATEGIES, TARGET_BOUND_ABOVE_MS, TARGET_RATIO, TIE_TOLERANCE };
