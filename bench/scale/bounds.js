'use strict';
// Lower bounds on the makespan: no schedule, however clever, can finish earlier.
const { coldStartMs, clientStartMs } = require('./params');
const { burstBucket } = require('./fleet');

/**
 * When each of the first `count` environments can start running tests at the earliest, if all are
 * requested at the first possible moment: client start, a burst-bucket token, one cold start.
 */
function environmentReadyTimes(count, p) {
  const startMs = clientStartMs(p);
  const burst = burstBucket(p, startMs);
  const coldMs = coldStartMs(p);
  const ready = [];
  for (let k = 0; k < count; k++) ready.push(burst.take(startMs) + coldMs);
  return ready;
}

/**
 * Smallest T with sum_k max(0, T - ready_k) >= workMs: by T, environment k can have done at most
 * T - ready_k of work. With equal ready times this is ready + workMs / count.
 */
function capacityBoundMs(readyMs, workMs) {
  let sum = 0;
  for (let k = 0; k < readyMs.length; k++) {
    sum += readyMs[k];
    const t = (workMs + sum) / (k + 1); // the first k+1 environments share the work
    if (k === readyMs.length - 1 || t <= readyMs[k + 1]) return t;
  }
  return readyMs[0];
}

/**
 * The fewest invocations any split of the suite into requests can use under the batching rule
 * (src/dispatch.ts): a file without an estimate, or with an estimate above batchMs, travels alone; a
 * request of several files holds at most maxFilesPerRequest of them, with estimates summing to at
 * most batchMs. So the other files need at least max(sum of their estimates / batchMs, count / cap)
 * requests. With batchMs = 0 every file is one invocation.
 */
function minInvocations(suite, p) {
  if (!(p.batchMs > 0)) return suite.length;
  let alone = 0;
  let small = 0;
  let smallEstimateMs = 0;
  for (const f of suite) {
    if (f.estimateMs === null || f.estimateMs > p.batchMs) alone++;
    else {
      small++;
      smallEstimateMs += f.estimateMs;
    }
  }
  const bySum = Math.ceil(smallEstimateMs / p.batchMs - 1e-9);
  const byCount = Math.ceil(small / p.maxFilesPerRequest);
  return alone + Math.max(bySum, byCount, small > 0 ? 1 : 0);
}

/**
 * The bound of the brief: max(longest file, total / C) plus the unavoidable start-up (client start,
 * one cold start, and the later start of environments the burst limit holds back, via the capacity
 * profile). File durations only; per-invoke overhead, the client and the rate limit are left out.
 * Also returns a tighter "modelled floor" that adds what every schedule pays in this model: the
 * per-file overhead on every file, the per-invocation overhead (and round trip) on the fewest
 * invocations the batching rule allows, the client's serial work, and the request-rate limit.
 */
function lowerBounds(suite, p) {
  const concurrency = Math.min(p.concurrency, p.accountConcurrency, suite.length);
  const ready = environmentReadyTimes(concurrency, p);
  const durations = suite.map((f) => f.durationMs * p.remoteSlowdown);
  const totalMs = durations.reduce((s, d) => s + d, 0);
  const longestMs = Math.max(...durations);
  const shortestMs = Math.min(...durations);
  const boundMs = Math.max(ready[0] + longestMs, capacityBoundMs(ready, totalMs));

  const invocations = minInvocations(suite, p);
  const perInvocationMs = p.invokeOverheadMs + p.networkRttMs;
  const firstAnswerMs = perInvocationMs + p.fileOverheadMs; // the least any answer adds to its files
  const resultMs = (f) => p.clientPerFileMs + (f.resultBytes / p.clientDownloadBytesPerSecond) * 1000;
  const withOverhead = Math.max(
    ready[0] + longestMs + firstAnswerMs,
    capacityBoundMs(ready, totalMs + suite.length * p.fileOverheadMs + invocations * perInvocationMs),
  );
  const clientSerialMs = suite.reduce((s, f) => s + resultMs(f), 0);
  const clientFloorMs = ready[0] + firstAnswerMs + shortestMs + clientSerialMs;
  const perSecond = p.requestsPerSecondPerConcurrency * p.accountConcurrency;
  const rateFloorMs = clientStartMs(p) + (Math.max(0, invocations - perSecond) / perSecond) * 1000 + firstAnswerMs + shortestMs;
  return {
    boundMs,
    floorMs: Math.max(boundMs, withOverhead, clientFloorMs, rateFloorMs),
    parts: { withOverheadMs: withOverhead, clientFloorMs, rateFloorMs, totalMs, longestMs, minInvocations: invocations },
  };
}

module.exports = { lowerBounds, minInvocations, environmentReadyTimes, capacityBoundMs };
