'use strict';
// Discrete-event simulation of one Jest run on a Lambda fleet, for one scheduling strategy.
//
// Time 0 is the moment Jest hands the files to the runner. The runner needs clientStartMs before its
// first invoke. Each "slot" is one in-flight invocation at a time and, since Lambda reuses an idle
// environment, one execution environment: its first invoke creates the environment (a token from
// the burst bucket, then the cold start), later invokes are warm. An invocation carries one file or a
// batch of files (run one after another in its environment, answered all at once). Every invoke
// passes the account's request-rate limit. When an answer arrives, the client's one JS thread
// processes its results (FIFO); only then does that slot send its next request. Every strategy goes
// through this same code.
const { coldStartMs, clientStartMs } = require('./params');
const { FileQueue } = requireSchedule();

/** The runner's own scheduling rule (src/dispatch/schedule.ts), as built; the model runs that code itself. */
function requireSchedule() {
  try {
    return require('../../dist/src/dispatch/schedule.js');
  } catch (error) {
    throw new Error(`bench/scale runs the runner's scheduler from dist/src/dispatch/schedule.js: run \`npm run build\` first (${error.message})`, {
      cause: error,
    });
  }
}
const { burstBucket, rateBucket, EventQueue, MinHeap } = require('./fleet');

const DISPATCH = 0;
const ARRIVE = 1;

/** Fleet time of one warm invocation carrying `files` (without the S3 detour of a large answer). */
function invocationMs(files, p) {
  let ms = p.invokeOverheadMs + p.networkRttMs;
  for (const file of files) ms += p.fileOverheadMs + file.durationMs * p.remoteSlowdown;
  return ms;
}

/**
 * @param {{slots:number, next:(slot:number)=>object|object[]|null}} plan  which file (or batch of
 *   files) each slot runs next
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
  let files = 0;
  let s3Results = 0;
  let remoteBusyMs = 0;
  let clientBusyMs = 0;
  // Files the client has finished with, in the order it finished them: [doneMs, count].
  const clientDone = [];
  let clientDoneHead = 0;
  let finishedFiles = 0;

  for (let slot = 0; slot < plan.slots; slot++) queue.push(startMs, { type: DISPATCH, slot });

  while (queue.size > 0) {
    const { timeMs, event } = queue.pop();
    if (event.type === DISPATCH) {
      while (clientDoneHead < clientDone.length && clientDone[clientDoneHead][0] <= timeMs) finishedFiles += clientDone[clientDoneHead++][1];
      const next = plan.next(event.slot, { unfinished: plan.total - finishedFiles });
      if (!next) continue; // this slot has nothing left; its environment stays idle
      const batch = Array.isArray(next) ? next : [next];
      invocations++;
      files += batch.length;
      const admittedMs = rate.take(timeMs);
      let runStartMs = admittedMs;
      if (!hasEnvironment[event.slot]) {
        hasEnvironment[event.slot] = true;
        environments++;
        const grantedMs = burst.take(admittedMs);
        lastEnvironmentMs = Math.max(lastEnvironmentMs, grantedMs);
        runStartMs = grantedMs + coldMs;
      }
      let runMs = invocationMs(batch, p);
      const resultBytes = batch.reduce((sum, f) => sum + f.resultBytes, 0);
      if (resultBytes > p.responsePayloadLimitBytes) {
        // Too big for a synchronous response: the handler puts it in S3, the client fetches it.
        s3Results++;
        runMs += 2 * p.s3RequestLatencyMs + (resultBytes / p.s3BytesPerSecond) * 1000;
      }
      remoteBusyMs += runStartMs - admittedMs + runMs;
      queue.push(runStartMs + runMs, { type: ARRIVE, slot: event.slot, batch });
    } else {
      // The results of one answer, one after another on the client thread.
      let processMs = 0;
      for (const file of event.batch) processMs += p.clientPerFileMs + (file.resultBytes / p.clientDownloadBytesPerSecond) * 1000;
      const doneMs = Math.max(timeMs, clientFreeMs) + processMs;
      clientFreeMs = doneMs;
      clientBusyMs += processMs;
      clientDone.push([doneMs, event.batch.length]);
      makespanMs = Math.max(makespanMs, doneMs);
      queue.push(doneMs, { type: DISPATCH, slot: event.slot });
    }
  }
  return { makespanMs, environments, lastEnvironmentMs, invocations, files, s3Results, remoteBusyMs, clientBusyMs };
}

/**
 * One request's files by the runner's rule (src/schedule.ts) from `order` at `position`, with the
 * client not considered: the file at `position`, and if its estimate is under batchMs the following
 * files while each has an estimate and the estimates sum to at most batchMs (at most
 * maxFilesPerRequest), only while the files still queued number at least `concurrency`.
 * @returns {{batch: object[], position: number}} the batch and the position after it
 */
function takeBatch(order, position, p, concurrency = 1) {
  const batch = new FileQueue(order.slice(position), queueOptions(concurrency, p)).take();
  return { batch, position: position + batch.length };
}

function queueOptions(concurrency, p) {
  return { concurrency, batchMs: p.batchMs, maxFilesPerRequest: p.maxFilesPerRequest };
}

/**
 * A dynamic queue over `order`, run by src/schedule.ts: a slot that frees up takes the next file or
 * batch, and, unless p.clientAware is false, the shortest ones while the client thread is the
 * bottleneck (the runner measures its client's CPU per file; the model gives it clientPerFileMs).
 */
function queuePlan(order, concurrency, p) {
  const queue = new FileQueue(order, queueOptions(concurrency, p));
  const clientAware = p.clientAware !== false && p.clientPerFileMs > 0;
  return {
    slots: Math.min(concurrency, order.length),
    total: order.length,
    next: (_slot, state) => {
      const batch = queue.take(clientAware && state ? { unfinished: state.unfinished, clientMsPerFile: p.clientPerFileMs } : undefined);
      return batch.length > 0 ? batch : null;
    },
  };
}

// ----- strategies: each returns a plan {slots, next(slot)} -----------------------------------------

/** The order Jest's default sequencer gives: files without a cached duration first (in file order),
 * then the longest estimate first. */
function sequencerOrder(suite) {
  const unknown = suite.filter((f) => f.estimateMs === null);
  const known = suite.filter((f) => f.estimateMs !== null).sort((a, b) => b.estimateMs - a.estimateMs || a.index - b.index);
  return unknown.concat(known);
}

/** Ours: one dynamic queue in the sequencer's order; a slot that frees up takes the next file, and
 * with batchMs > 0 the small files after it by the batching rule (src/dispatch.ts). */
function oursPlan(suite, concurrency, p = { batchMs: 0 }) {
  return queuePlan(sequencerOrder(suite), concurrency, p);
}

/** A plan where each slot runs a fixed list, in order; with batchMs > 0 a slot sends the next files
 * of its list by the batching rule. */
function fixedPlan(shards, p = { batchMs: 0 }) {
  const queues = shards.map((shard) => new FileQueue(shard, queueOptions(1, { maxFilesPerRequest: 1, ...p })));
  return {
    slots: shards.length,
    total: shards.reduce((sum, shard) => sum + shard.length, 0),
    next: (slot) => {
      const batch = queues[slot].take();
      return batch.length > 0 ? batch : null;
    },
  };
}

/** Modulo sharding: file i (in file order) goes to shard i mod C; each shard is one sequential worker. */
function moduloPlan(suite, concurrency, p = { batchMs: 0 }) {
  const count = Math.min(concurrency, suite.length);
  const shards = Array.from({ length: count }, () => []);
  for (const file of suite) shards[file.index % count].push(file);
  return fixedPlan(shards, p);
}

/** Static duration-balanced shards: greedy LPT on the estimates (plus the per-file overhead of one
 * file per invocation, which the balancer knows); files without an estimate count as the mean known
 * estimate. One file per invocation. */
function staticPlan(suite, concurrency, p) {
  const count = Math.min(concurrency, suite.length);
  const known = suite.filter((f) => f.estimateMs !== null);
  const fallbackMs = known.length ? known.reduce((s, f) => s + f.estimateMs, 0) / known.length : 0;
  const weight = (f) => (f.estimateMs === null ? fallbackMs : f.estimateMs) + p.invokeOverheadMs + p.networkRttMs + p.fileOverheadMs;
  const files = [...suite].sort((a, b) => weight(b) - weight(a) || a.index - b.index);
  const shards = Array.from({ length: count }, () => []);
  // [load, shard], least loaded first (ties: the lower shard), so each file goes to it in O(log C).
  const loads = new MinHeap(
    (a, b) => a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]),
    shards.map((_, i) => [0, i]),
  );
  for (const file of files) {
    const [load, shard] = loads.pop();
    shards[shard].push(file);
    loads.push([load + weight(file), shard]);
  }
  return fixedPlan(shards);
}

/** Diagnostic only: the same dynamic queue (batched like ours), but in file order (no longest-first). */
function fileOrderQueuePlan(suite, concurrency, p = { batchMs: 0 }) {
  // (Not client-aware: its tail is not the shortest files.)
  return queuePlan(suite, concurrency, { ...p, clientAware: false });
}

const unbatched = (p) => ({ ...p, batchMs: 0 });

/** Every strategy: (suite, concurrency, p) -> plan. Only ours, its file-order diagnostic and
 * "modulo, batched" use p.batchMs; the others send one file per invocation whatever it is. */
const STRATEGIES = {
  ours: (suite, c, p) => oursPlan(suite, c, p),
  oursUnbatched: (suite, c, p) => oursPlan(suite, c, unbatched(p)),
  queueFileOrder: (suite, c, p) => fileOrderQueuePlan(suite, c, p),
  modulo: (suite, c, p) => moduloPlan(suite, c, unbatched(p)),
  moduloBatched: (suite, c, p) => moduloPlan(suite, c, p),
  static: (suite, c, p) => staticPlan(suite, c, p),
};

/** Runs one strategy on one suite. `concurrency` is capped by the account's concurrency quota. */
function runStrategy(name, suite, p) {
  const concurrency = Math.min(p.concurrency, p.accountConcurrency);
  return simulate(STRATEGIES[name](suite, concurrency, p), p);
}

module.exports = {
  simulate,
  runStrategy,
  invocationMs,
  takeBatch,
  queuePlan,
  sequencerOrder,
  oursPlan,
  moduloPlan,
  staticPlan,
  fileOrderQueuePlan,
  STRATEGIES,
};
