'use strict';
// A synthetic suite of N test files, bootstrap-sampled from one measured per-file distribution,
// plus what the runner would *believe* about each file (its duration estimate from the previous run).
const { createRandom } = require('./random');

/**
 * @param {object} distribution  one bench/data/<suite>.json (uses perFileMs and, when present, perFileResultBytes)
 * @param {object} opts
 * @param {number} opts.files                 N, the number of files of the synthetic suite
 * @param {number} opts.seed                  32-bit seed
 * @param {number} opts.estimateNoiseSigma    sigma of the lognormal factor between this run and the previous one
 * @param {number} opts.newFileFraction       share of files with no cached duration (new since the last run)
 * @returns {{index:number, durationMs:number, estimateMs:number|null, resultBytes:number}[]}
 *   in "file order" (the order a glob would list them, i.e. unrelated to duration)
 */
function makeSuite(distribution, opts) {
  const random = createRandom(opts.seed);
  const durations = distribution.perFileMs;
  const resultBytes = distribution.perFileResultBytes || null;
  const suite = [];
  for (let index = 0; index < opts.files; index++) {
    const pick = random.int(durations.length); // bootstrap: sample a measured file with replacement
    const durationMs = durations[pick];
    const noise = random.lognormal(opts.estimateNoiseSigma);
    const isNew = random.uniform() < opts.newFileFraction;
    suite.push({
      index,
      durationMs,
      estimateMs: isNew ? null : durationMs * noise,
      resultBytes: resultBytes ? resultBytes[pick] : 0,
    });
  }
  return suite;
}

/** Summary numbers of a list of durations (ms). */
function summarize(durationsMs) {
  const sorted = [...durationsMs].sort((a, b) => a - b);
  const totalMs = sorted.reduce((sum, d) => sum + d, 0);
  const quantile = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  const maxMs = sorted[sorted.length - 1];
  return {
    files: sorted.length,
    totalMs: Math.round(totalMs),
    meanMs: round1(totalMs / sorted.length),
    medianMs: round1(quantile(0.5)),
    p90Ms: round1(quantile(0.9)),
    maxMs: round1(maxMs),
    maxShareOfTotal: Number((maxMs / totalMs).toFixed(4)),
  };
}

function round1(x) {
  return Math.round(x * 10) / 10;
}

module.exports = { makeSuite, summarize };
