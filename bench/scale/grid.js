'use strict';
// Runs every strategy and the bounds over a grid of suite sizes (N) and concurrency limits (C).
const { makeSuite } = require('./suite');
const { runStrategy } = require('./simulate');
const { lowerBounds } = require('./bounds');
const { seedFrom } = require('./random');

const STRATEGY_NAMES = ['ours', 'modulo', 'static', 'queueFileOrder'];
/** The brief's target: where the bound is above this, ours must be within TARGET_RATIO of it. */
const TARGET_BOUND_ABOVE_MS = 30_000;
const TARGET_RATIO = 1.1;
/** Relative difference below which ours and modulo count as a tie (0.1 %). */
const TIE_TOLERANCE = 0.001;

/**
 * @param {object} distribution  one bench/data/<suite>.json
 * @param {{files:number[], concurrency:number[], reps:number, seed:number, params:object}} grid
 * @returns one row per (N, C): per-rep raw numbers and their medians, plus the target checks
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
        for (const name of STRATEGY_NAMES) {
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
  const row = {
    suite,
    files,
    concurrency,
    oursS: med((r) => r.ours) / 1000,
    moduloS: med((r) => r.modulo) / 1000,
    staticS: med((r) => r.static) / 1000,
    queueFileOrderS: med((r) => r.queueFileOrder) / 1000,
    boundS: med((r) => r.boundMs) / 1000,
    floorS: med((r) => r.floorMs) / 1000,
    oursOverBound: med((r) => r.ours / r.boundMs),
    oursOverFloor: med((r) => r.ours / r.floorMs),
    oursOverModulo: med((r) => r.ours / r.modulo),
    oursOverStatic: med((r) => r.ours / r.static),
    worstOursOverBound: Math.max(...reps.map((r) => r.ours / r.boundMs)),
    worstOursOverModulo: Math.max(...reps.map((r) => r.ours / r.modulo)),
    environments: med((r) => r.oursDetail.environments),
    clientBusyShare: med((r) => r.oursDetail.clientBusyMs / r.ours),
    s3Results: med((r) => r.oursDetail.s3Results),
  };
  // Target 1: wherever the bound is above 30 s (in every rep), ours <= 1.1 x bound (in every rep).
  row.boundTargetApplies = reps.every((r) => r.boundMs > TARGET_BOUND_ABOVE_MS);
  row.boundTargetMet = row.boundTargetApplies ? reps.every((r) => r.ours <= TARGET_RATIO * r.boundMs) : null;
  // Target 2: ours better than modulo everywhere. Within TIE_TOLERANCE of each other counts as a tie
  // (e.g. both pinned at the same floor, or N <= C where both give every file its own environment).
  const verdicts = reps.map((r) => (r.ours < r.modulo * (1 - TIE_TOLERANCE) ? 'better' : r.ours <= r.modulo * (1 + TIE_TOLERANCE) ? 'tie' : 'worse'));
  row.vsModulo = verdicts.includes('worse') ? 'worse' : verdicts.every((v) => v === 'better') ? 'better' : 'tie';
  row.reps = reps.map((r) => ({
    oursMs: round(r.ours),
    moduloMs: round(r.modulo),
    staticMs: round(r.static),
    queueFileOrderMs: round(r.queueFileOrder),
    boundMs: round(r.boundMs),
    floorMs: round(r.floorMs),
    floorParts: Object.fromEntries(Object.entries(r.parts).map(([k, v]) => [k, round(v)])),
  }));
  return row;
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

function round(x) {
  return Math.round(x * 10) / 10;
}

module.exports = { runGrid, STRATEGY_NAMES, TARGET_BOUND_ABOVE_MS, TARGET_RATIO, TIE_TOLERANCE };
