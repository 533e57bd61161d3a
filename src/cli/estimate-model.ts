/**
 * The model behind `estimate`: a suite's wall time on this machine (Jest's own pool, or in band)
 * and on a Lambda fleet at a given concurrency, from each file's last duration (Jest's cache), and
 * what the Lambda run would be billed. Pure: no I/O.
 *
 * The Lambda side is the discrete-event model of bench/scale/simulate.js (which the benchmarks run
 * on real suites; test/estimate.test.ts checks that both give the same wall time), carried here so
 * that it ships with the package: each slot is one invocation at a time and one execution
 * environment; its first invocation waits for a token of the burst limit and for the cold start;
 * files go out by this package's own scheduler (../dispatch/schedule.ts); each answer's results are
 * processed one after another on the client's single thread, and only then does the slot send its
 * next request.
 */
import { FileQueue } from '../dispatch/schedule';
import { estimateUsd } from '../backends/lambda/billing';
import { MAX_FILES_PER_REQUEST } from '../protocol';

export interface LambdaParams {
  concurrency: number;
  memoryMb: number;
  architecture: 'x86_64' | 'arm64';
  /** Files under this many ms go several to one invocation (the `batchMs` option). */
  batchMs: number;
  /** Account concurrency quota (AWS default 1,000 per Region). */
  accountConcurrency: number;
  /** New environments per burst window, and the window (AWS: 1,000 per 10 s per function). */
  burstEnvironments: number;
  burstWindowMs: number;
  /** Invokes per second per unit of account concurrency (AWS: 10). */
  requestsPerSecondPerConcurrency: number;
  /** Time a new environment needs before its first file (init, fetching and materializing the tree, loading Jest). */
  coldStartMs: number;
  /** Per invocation, warm: the invoke's own work, and the network round trip. */
  invokeOverheadMs: number;
  networkRttMs: number;
  /** Per file inside an invocation, besides its own duration (the handler's per-file work). */
  fileOverheadMs: number;
  /** The client thread's work per result (mapping, Jest's reporters). */
  clientPerFileMs: number;
  /** Before the first invoke: hashing, and shipping what the store lacks (all of it on a first run). */
  clientStartMs: number;
  /** A file's duration there over its duration here (CPU share of the memory size). */
  remoteSlowdown: number;
  /** Of the cold start, the part Lambda bills (all of it: init and the handler's first work). */
  billColdStart: boolean;
}

export interface SuiteFile {
  /** Last duration (Jest's cache), ms; null when unknown (a new file). */
  estimateMs: number | null;
  /** The duration the model runs it for (the estimate, or a stand-in for unknown files). */
  durationMs: number;
}

export interface LambdaPrediction {
  wallMs: number;
  environments: number;
  invocations: number;
  /** Sum of billed milliseconds (each invocation rounded up to 1 ms) and the GB-seconds at memoryMb. */
  billedMs: number;
  gbSeconds: number;
  usd: number;
}

/** Lambda's CPU share grows with memory: one vCPU at 1,769 MB (AWS docs: Lambda memory and computing power). */
export const ONE_VCPU_MB = 1769;

/** A file's time at `memoryMb` over its time on a full core (single-threaded test files). */
export function slowdownAt(memoryMb: number): number {
  return Math.max(1, ONE_VCPU_MB / memoryMb);
}

/** Wall time and bill of one run on Lambda. */
export function predictLambda(files: SuiteFile[], p: LambdaParams): LambdaPrediction {
  const inFlight = Math.max(1, Math.min(p.concurrency, p.accountConcurrency));
  const concurrency = Math.min(inFlight, files.length);
  const order = sequencerOrder(files);
  const queue = new FileQueue(order, { concurrency: inFlight, batchMs: p.batchMs, maxFilesPerRequest: MAX_FILES_PER_REQUEST });
  const burst = new StepBucket(p.burstEnvironments, p.burstWindowMs, p.clientStartMs);
  const rate = new ContinuousBucket(p.requestsPerSecondPerConcurrency * p.accountConcurrency, p.clientStartMs);
  // Each slot has at most one pending event: its next dispatch, or its answer's arrival.
  const next: Array<{ at: number; seq: number; arrive?: SuiteFile[] } | undefined> = [];
  let seq = 0;
  for (let slot = 0; slot < concurrency; slot++) next.push({ at: p.clientStartMs, seq: seq++ });
  const hasEnvironment = new Array<boolean>(concurrency).fill(false);
  const clientDone: Array<[number, number]> = [];
  let clientDoneHead = 0;
  let finished = 0;
  let clientFreeMs = p.clientStartMs;
  let wallMs = p.clientStartMs;
  let environments = 0;
  let invocations = 0;
  let billedMs = 0;
  for (;;) {
    let slot = -1;
    for (let s = 0; s < concurrency; s++) {
      const e = next[s];
      if (e && (slot === -1 || e.at < next[slot]!.at || (e.at === next[slot]!.at && e.seq < next[slot]!.seq))) slot = s;
    }
    if (slot === -1) break;
    const event = next[slot]!;
    if (!event.arrive) {
      while (clientDoneHead < clientDone.length && clientDone[clientDoneHead]![0] <= event.at) finished += clientDone[clientDoneHead++]![1];
      const batch = queue.take({ unfinished: files.length - finished, clientMsPerFile: p.clientPerFileMs });
      if (batch.length === 0) {
        next[slot] = undefined;
        continue;
      }
      invocations++;
      let runStart = rate.take(event.at);
      let handlerMs = 0;
      if (!hasEnvironment[slot]) {
        hasEnvironment[slot] = true;
        environments++;
        runStart = burst.take(runStart) + p.coldStartMs;
        if (p.billColdStart) handlerMs += p.coldStartMs;
      }
      let runMs = p.invokeOverheadMs + p.networkRttMs;
      for (const file of batch) {
        const fileMs = p.fileOverheadMs + file.durationMs * p.remoteSlowdown;
        runMs += fileMs;
        handlerMs += fileMs;
      }
      billedMs += Math.ceil(handlerMs);
      next[slot] = { at: runStart + runMs, seq: seq++, arrive: batch };
    } else {
      const done = Math.max(event.at, clientFreeMs) + event.arrive.length * p.clientPerFileMs;
      clientFreeMs = done;
      clientDone.push([done, event.arrive.length]);
      wallMs = Math.max(wallMs, done);
      next[slot] = { at: done, seq: seq++ };
    }
  }
  const gbSeconds = (billedMs * p.memoryMb) / 1024 / 1000;
  const usd = estimateUsd({ billedMbMs: billedMs * p.memoryMb, invocations }, p.architecture);
  return { wallMs, environments, invocations, billedMs, gbSeconds, usd };
}

export interface LocalParams {
  /** Jest's --maxWorkers. */
  workers: number;
  /** Jest's own start before the first file (config, haste map, reporters). */
  startMs: number;
  /** Per file besides its duration (the worker round trip, result handling). */
  perFileMs: number;
  /** Jest's runInBand decision inputs. */
  runInBand?: boolean;
}

/**
 * Wall time of Jest's own run on this machine: in band where Jest would decide so (one worker or
 * file, or at most 20 files all known under a second), else the same order on `workers` workers,
 * each taking the next file when it is free.
 */
export function predictLocal(files: SuiteFile[], p: LocalParams): { wallMs: number; inBand: boolean } {
  const known = files.filter((f) => f.estimateMs !== null);
  const inBand =
    Boolean(p.runInBand) ||
    p.workers <= 1 ||
    files.length <= 1 ||
    (files.length <= 20 && known.length > 0 && known.every((f) => f.estimateMs! < SLOW_TEST_TIME_MS));
  const order = sequencerOrder(files);
  if (inBand) return { wallMs: p.startMs + order.reduce((sum, f) => sum + f.durationMs + p.perFileMs, 0), inBand };
  const free = new Array<number>(Math.min(p.workers, files.length)).fill(p.startMs);
  for (const file of order) {
    let w = 0;
    for (let i = 1; i < free.length; i++) if (free[i]! < free[w]!) w = i;
    free[w]! += file.durationMs + p.perFileMs;
  }
  return { wallMs: Math.max(...free), inBand };
}

/** Jest's (@jest/core) threshold for "fast" files in its in-band decision. */
const SLOW_TEST_TIME_MS = 1000;

/** Jest's order: files without a duration first, then the longest first. */
export function sequencerOrder(files: SuiteFile[]): Array<SuiteFile & { estimateMs?: number }> {
  const unknown = files.filter((f) => f.estimateMs === null);
  const known = files.filter((f) => f.estimateMs !== null).sort((a, b) => b.estimateMs! - a.estimateMs!);
  // (the scheduler reads estimateMs; unknown files have none)
  return [...unknown.map((f) => ({ durationMs: f.durationMs, estimateMs: undefined })), ...known] as Array<SuiteFile & { estimateMs?: number }>;
}

/**
 * Burst scaling, nominal form: `capacity` new environments, refilled to `capacity` at each window
 * boundary counted from `startMs` (AWS: 1,000 per 10 s per function).
 */
class StepBucket {
  #window = 0;
  #tokens: number;
  #last: number;

  constructor(
    private readonly capacity: number,
    private readonly windowMs: number,
    private readonly startMs: number,
  ) {
    this.#tokens = capacity;
    this.#last = startMs;
  }

  take(at: number): number {
    let t = Math.max(at, this.#last);
    const window = Math.floor((t - this.startMs) / this.windowMs);
    if (window > this.#window) {
      this.#window = window;
      this.#tokens = this.capacity;
    }
    if (this.#tokens === 0) {
      this.#window++;
      this.#tokens = this.capacity;
      t = this.startMs + this.#window * this.windowMs;
    }
    this.#tokens--;
    this.#last = t;
    return t;
  }
}

/** The account's invoke rate: `perSecond` tokens refilled continuously, one second's worth at most. */
class ContinuousBucket {
  #tokens: number;
  #last: number;

  constructor(
    private readonly perSecond: number,
    startMs: number,
  ) {
    this.#tokens = perSecond;
    this.#last = startMs;
  }

  take(at: number): number {
    let t = Math.max(at, this.#last);
    this.#tokens = Math.min(this.perSecond, this.#tokens + ((t - this.#last) * this.perSecond) / 1000);
    if (this.#tokens >= 1) this.#tokens--;
    else {
      t += ((1 - this.#tokens) * 1000) / this.perSecond;
      this.#tokens = 0;
    }
    this.#last = t;
    return t;
  }
}
