'use strict';
// Discrete-event simulation of one Jest run on a Lambda fleet, for one scheduling strategy.
//
// Time 0 is the moment Jest hands the files to the runner. The runner needs clientStartMs before its
// first invoke. Each "slot" is one in-flight invocation at a time and, since Lambda reuses an idle
// environment, one execution environment: its first invoke creates the environment (a token from
// the burst bucket, then the cold start), later invokes are warm. Every invoke passes the account's
// request-rate limit. When a result arrives, the client's one JS thread processes it (FIFO); only
// then does that slot send its next request. Every strategy goes through this same code.
const { coldStartMs, clientStartMs } = require('./params');
const { burstBucket, rateBucket, EventQueue } = require('./fleet');

const DISPATCH = 0;
const ARRIVE = 1;

/**
 * @param {{slots:number, next:(slot:number)=>object|null}} plan  which file each slot runs next
 * @param {object} p  parameters (see params.js)
 */
function simulate(plan, p) {
  const startMs = clientStartMs(p);
  const coldMs = coldStartMs(p);
  const burst = burstBucket(p, startMs);
  const rate = rateBucket(p, startMs);
  const queue = new EventQueue();
  const hasEnvironment = new Array(plan.slots).fill(false);
  let clientFreeMs = startMs;
  let makespanMs = startMs;
  let environments = 0;
  let lastEnvironmentMs = startMs;
  let invocations = 0;
  let s3Results = 0;
  let remoteBusyMs = 0;
  let clientBusyMs = 0;

  for (let slot = 0; slot < plan.slots; slot++) queue.push(startMs, { type: DISPATCH, slot });

  while (queue.size > 0) {
    const { timeMs, event } = queue.pop();
    if (event.type === DISPATCH) {
      const file = plan.next(event.slot);
      if (!file) continue; // this slot has nothing left; its environment stays idle
      invocations++;
      const admittedMs = rate.take(timeMs);
      let runStartMs = admittedMs;
      if (!hasEnvironment[event.slot]) {
        hasEnvironment[event.slot] = true;
        environments++;
        const grantedMs = burst.take(admittedMs);
        lastEnvironmentMs = Math.max(lastEnvironmentMs, grantedMs);
        runStartMs = grantedMs + coldMs;
      }
      let runMs = p.invokeOverheadMs + file.durationMs * p.remoteSlowdown;
      if (file.resultBytes > p.responsePayloadLimitBytes) {
        // Too big for a synchronous response: the handler puts it in S3, the client fetches it.
        s3Results++;
        runMs += 2 * p.s3RequestLatencyMs + (file.resultBytes / p.s3BytesPerSecond) * 1000;
      }
      remoteBusyMs += runStartMs - admittedMs + runMs;
      queue.push(runStartMs + runMs, { type: ARRIVE, slot: event.slot, file });
    } else {
      const file = event.file;
      const processMs = p.clientPerFileMs + (file.resultBytes / p.clientDownloadBytesPerSecond) * 1000;
      const doneMs = Math.max(timeMs, clientFreeMs) + processMs;
      clientFreeMs = doneMs;
      clientBusyMs += processMs;
      makespanMs = Math.max(makespanMs, doneMs);
      queue.push(doneMs, { type: DISPATCH, slot: event.slot });
    }
  }
  return { makespanMs, environments, lastEnvironmentMs, invocations, s3Results, remoteBusyMs, clientBusyMs };
}

// ----- strategies: each returns a plan {slots, next(slot)} -----------------------------------------

/** The order Jest's default sequencer gives: files without a cached duration first (in file order),
 * then the longest estimate first. */
function sequencerOrder(suite) {
  const unknown = suite.filter((f) => f.estimateMs === null);
  const known = suite.filter((f) => f.estimateMs !== null).sort((a, b) => b.estimateMs - a.estimateMs || a.index - b.index);
  return unknown.concat(known);
}

/** Ours: one dynamic queue in the sequencer's order; a slot that frees up takes the next file. */
function oursPlan(suite, concurrency) {
  const order = sequencerOrder(suite);
  let position = 0;
  return {
    slots: Math.min(concurrency, suite.length),
    next: () => (position < order.length ? order[position++] : null),
  };
}

/** A plan where each slot runs a fixed list, in order. */
function fixedPlan(shards) {
  const positions = shards.map(() => 0);
  return {
    slots: shards.length,
    next: (slot) => (positions[slot] < shards[slot].length ? shards[slot][positions[slot]++] : null),
  };
}

/** Modulo sharding: file i (in file order) goes to shard i mod C; each shard is one sequential worker. */
function moduloPlan(suite, concurrency) {
  const count = Math.min(concurrency, suite.length);
  const shards = Array.from({ length: count }, () => []);
  for (const file of suite) shards[file.index % count].push(file);
  return fixedPlan(shards);
}

/** Static duration-balanced shards: greedy LPT on the estimates (plus the per-invoke overhead, which
 * the balancer knows); files without an estimate count as the mean known estimate. */
function staticPlan(suite, concurrency, p) {
  const count = Math.min(concurrency, suite.length);
  const known = suite.filter((f) => f.estimateMs !== null);
  const fallbackMs = known.length ? known.reduce((s, f) => s + f.estimateMs, 0) / known.length : 0;
  const weight = (f) => (f.estimateMs === null ? fallbackMs : f.estimateMs) + p.invokeOverheadMs;
  const files = [...suite].sort((a, b) => weight(b) - weight(a) || a.index - b.index);
  const shards = Array.from({ length: count }, () => []);
  // Min-heap of [load, shard] so each file goes to the least-loaded shard in O(log C).
  const heap = shards.map((_, i) => [0, i]);
  const less = (a, b) => a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);
  for (const file of files) {
    const top = heap[0];
    shards[top[1]].push(file);
    top[0] += weight(file);
    let i = 0; // sift down
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && less(heap[l], heap[m])) m = l;
      if (r < heap.length && less(heap[r], heap[m])) m = r;
      if (m === i) break;
      [heap[i], heap[m]] = [heap[m], heap[i]];
      i = m;
    }
  }
  return fixedPlan(shards);
}

/** Diagnostic only: the same dynamic queue, but in file order (no longest-first). */
function fileOrderQueuePlan(suite, concurrency) {
  let position = 0;
  return {
    slots: Math.min(concurrency, suite.length),
    next: () => (position < suite.length ? suite[position++] : null),
  };
}

const STRATEGIES = {
  ours: (suite, c) => oursPlan(suite, c),
  queueFileOrder: (suite, c) => fileOrderQueuePlan(suite, c),
  modulo: (suite, c) => moduloPlan(suite, c),
  static: (suite, c, p) => staticPlan(suite, c, p),
};

/** Runs one strategy on one suite. `concurrency` is capped by the account's concurrency quota. */
function runStrategy(name, suite, p) {
  const concurrency = Math.min(p.concurrency, p.accountConcurrency);
  return simulate(STRATEGIES[name](suite, concurrency, p), p);
}

module.exports = { simulate, runStrategy, sequencerOrder, oursPlan, moduloPlan, staticPlan, fileOrderQueuePlan, STRATEGIES };
