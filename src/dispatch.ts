/**
 * The queue: a free slot takes the next file or files (no static shards) by the rule of
 * src/schedule.ts: Jest's order (failed first, then new files, then longest first), small files
 * several to a request, shortest first while the client's thread is the bottleneck. Retries
 * infrastructure faults with jittered backoff, never retries a test failure, and yields exactly one
 * outcome per file. No transport code lives here.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { TransportError, type Backend } from './backends/types';
import { FileQueue, type ClientLoad } from './schedule';
import {
  MAX_FILES_PER_REQUEST,
  PROTOCOL_VERSION,
  type FileResponse,
  type FileWrite,
  type Host,
  type ProcessOutput,
  type ProjectPayload,
  type RunRequest,
  type SerializedError,
  type TestEvent,
} from './protocol';

export type FileOutcome =
  | { kind: 'result'; result: Record<string, unknown>; writes: FileWrite[]; timing: Record<string, number>; host?: Host }
  | { kind: 'failure'; error: SerializedError; timing?: Record<string, number>; host?: Host }
  | { kind: 'cancelled' };

export interface DispatchItem {
  testPath: string;
  project: ProjectPayload;
  /** How long the file took last time (Jest's duration cache), if known. */
  estimateMs?: number;
}

export interface DispatchOptions {
  backend: Backend;
  concurrency: number;
  retries: number;
  runId: string;
  globalConfig: Record<string, unknown>;
  mode: 'in-band' | 'worker';
  signal: AbortSignal;
  /**
   * Files known to take less than this go several to a request, up to this much estimated time
   * per request. 0 (the default) sends one file per request.
   */
  batchMs?: number;
  /**
   * The client's main-thread time per result for the schedule (src/schedule.ts); measured when not
   * given. 0 keeps Jest's order (the caller runs the tests on this thread itself).
   */
  clientMsPerFile?: number;
  changedFiles?: string[];
  sourcesRelatedToTestsInChangedFiles?: string[];
  onStart: (item: DispatchItem) => Promise<void>;
  onEvent: (item: DispatchItem, event: TestEvent) => Promise<void> | void;
  onOutcome: (item: DispatchItem, outcome: FileOutcome) => Promise<void>;
  /** Counts infrastructure retries for the summary. */
  onRetry?: (item: DispatchItem, error: Error) => void;
  /** What the remote process printed outside the tests' console (answered requests only). */
  onOutput?: (output: ProcessOutput) => void;
}

const BACKOFF_BASE_MS = 200;
const BACKOFF_CAP_MS = 5_000;
/** need-blobs rounds in a row that may leave as many blobs missing as before. */
const MAX_STALLED_ROUNDS = 3;
/** Jest's main-thread CPU per finished file with our runner, measured (bench/results/scale.client-cpu.json). */
const CLIENT_MS_PER_FILE_PRIOR = 1.7;
/** Files per measurement of the client's CPU per file. */
const CLIENT_WINDOW = 50;

export async function dispatch(items: DispatchItem[], options: DispatchOptions): Promise<void> {
  const queue = new FileQueue(items, { concurrency: options.concurrency, batchMs: options.batchMs ?? 0, maxFilesPerRequest: MAX_FILES_PER_REQUEST });
  const client = new ClientMeter(items.length, options.clientMsPerFile);
  const batchOptions: DispatchOptions = {
    ...options,
    onOutcome: async (item, outcome) => {
      await options.onOutcome(item, outcome);
      client.finished();
    },
  };
  const take = () => (options.signal.aborted ? [] : queue.take(client.load()));
  const lane = async () => {
    for (let batch = take(); batch.length > 0; batch = take()) {
      for (const item of batch) await options.onStart(item);
      await runBatch(batch, batchOptions);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency, items.length)) }, lane));
}

/**
 * The client's side of the schedule: how many files it has not finished with, and its main-thread
 * CPU time per finished file over the last window (a prior until the first window closes).
 */
class ClientMeter {
  private done = 0;
  private windowStart = { done: 0, cpu: process.cpuUsage() };
  private msPerFile: number;

  constructor(
    private readonly total: number,
    private readonly fixedMsPerFile?: number,
  ) {
    this.msPerFile = fixedMsPerFile ?? CLIENT_MS_PER_FILE_PRIOR;
  }

  finished(): void {
    this.done++;
    if (this.fixedMsPerFile !== undefined || this.done - this.windowStart.done < CLIENT_WINDOW) return;
    const cpu = process.cpuUsage(this.windowStart.cpu);
    this.msPerFile = (cpu.user + cpu.system) / 1000 / (this.done - this.windowStart.done);
    this.windowStart = { done: this.done, cpu: process.cpuUsage() };
  }

  load(): ClientLoad {
    return { unfinished: this.total - this.done, clientMsPerFile: this.msPerFile };
  }
}

/** Runs a batch (often of one) until every file has its outcome; reports each as it is known. */
async function runBatch(batch: DispatchItem[], options: DispatchOptions): Promise<void> {
  let pending = batch;
  let sendProject = false;
  let supplied: Pick<RunRequest, 'pack'> = {};
  let lastMissing = Infinity;
  let stalls = 0;
  let lastError: Error | undefined;
  const finish = async (item: DispatchItem, response: FileResponse, events: TestEvent[]) => {
    for (const e of [...events, ...response.events]) await options.onEvent(item, e);
    await options.onOutcome(
      item,
      response.status === 'completed'
        ? { kind: 'result', result: response.result, writes: response.writes, timing: response.timing, host: response.host }
        : { kind: 'failure', error: response.error, timing: response.timing, host: response.host },
    );
  };
  for (let attempt = 0; attempt <= options.retries && pending.length > 0; ) {
    if (options.signal.aborted) return;
    const [first, ...rest] = pending as [DispatchItem, ...DispatchItem[]];
    const request: RunRequest = {
      protocolVersion: PROTOCOL_VERSION,
      runId: options.runId,
      globalConfig: options.globalConfig,
      mode: options.mode,
      projectKey: first.project.key,
      ...(sendProject ? { project: first.project } : {}),
      testPath: first.testPath,
      ...(rest.length > 0 ? { moreTestPaths: rest.map((i) => i.testPath) } : {}),
      ...supplied,
      changedFiles: options.changedFiles,
      sourcesRelatedToTestsInChangedFiles: options.sourcesRelatedToTestsInChangedFiles,
    };
    // Events of a failed attempt are dropped with it; only the answered attempt's events count.
    // (Streamed events are per request: backends that stream run one file per request.)
    const events: TestEvent[] = [];
    const sentAt = performance.now();
    try {
      const response = await options.backend.invoke(request, { signal: options.signal, onEvent: (e) => void events.push(e) });
      // The whole request as this side saw it (transport included), for the per-file overhead figure.
      const requestMs = Math.round((performance.now() - sentAt) * 100) / 100;
      switch (response.status) {
        case 'need-project':
          if (sendProject) throw new TransportError('The handler asked for the project twice in a row.', true);
          sendProject = true;
          continue;
        case 'need-blobs': {
          // The remote side lacks bytes (a cold container): make them reachable and ask again, in
          // as many rounds as the payload limit needs, as long as every round makes progress.
          // (Another container than the one supplied may answer next: allow a few rounds without progress.)
          const missing = response.missing.length;
          stalls = missing >= lastMissing ? stalls + 1 : 0;
          if (!options.backend.supply || stalls > MAX_STALLED_ROUNDS) {
            throw new TransportError(`The handler still lacks ${missing} blob(s) after they were shipped ${stalls} time(s).`, true);
          }
          lastMissing = missing;
          const { pack: _previous, ...bare } = request;
          supplied = await options.backend.supply(bare, response.missing);
          continue;
        }
        case 'crashed':
          throw new TransportError(`The handler failed: ${response.error.message}`, !response.final);
        case 'completed':
        case 'failed':
          if (response.output) options.onOutput?.(response.output);
          await finish(first, { ...response, timing: { ...response.timing, request: requestMs } }, events);
          return;
        case 'batch': {
          if (response.output) options.onOutput?.(response.output);
          if (response.results.length > pending.length) throw new TransportError(`The handler answered ${response.results.length} results for ${pending.length} files.`, true);
          for (const [i, result] of response.results.entries()) await finish(pending[i]!, i === 0 ? { ...result, timing: { ...result.timing, request: requestMs } } : result, []);
          pending = pending.slice(response.results.length);
          supplied = {};
          if (pending.length > 0) {
            throw new TransportError(`The handler stopped after ${response.results.length} of the files sent together: ${response.stopped?.message ?? 'no reason given'}`, true);
          }
          return;
        }
      }
    } catch (error) {
      if (options.signal.aborted) return;
      const e = error instanceof Error ? error : new Error(String(error));
      lastError = e;
      if (!(e instanceof TransportError) || !e.retryable || attempt === options.retries) break;
      for (const item of pending) options.onRetry?.(item, e);
      attempt++;
      // The next attempt may land on another container, with other blobs.
      lastMissing = Infinity;
      stalls = 0;
      await sleep(jitteredBackoff(attempt));
    }
  }
  for (const item of pending) await options.onOutcome(item, { kind: 'failure', error: infrastructureFailure(lastError, options.retries) });
}

/** "Full jitter" exponential backoff. */
export function jitteredBackoff(attempt: number): number {
  return Math.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt);
}

function infrastructureFailure(error: Error | undefined, retries: number): SerializedError {
  const message = error?.message ?? 'unknown error';
  const retried = error instanceof TransportError && error.retryable ? ` after ${retries + 1} attempt(s)` : '';
  return {
    message:
      `jest-runner-remote-lambda could not get a result for this file${retried}: ${message}\n` +
      'This is a fault of the runner or its backend, not of your test. Re-run the file; if it persists, ' +
      'run it with the default runner (npx jest --runner=jest-runner <file>) and report the output above.',
    type: 'Error',
  };
}
