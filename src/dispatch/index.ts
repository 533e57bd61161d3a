/**
 * The queue: a free slot takes the next file or files (no static shards) by the rule of
 * ./schedule.ts: Jest's order (failed first, then new files, then longest first), small files
 * several to a request, shortest first while the client's thread is the bottleneck. Each request
 * runs to an outcome per file in ./batch.ts (retries of infrastructure faults, never of a test
 * failure); with rerunFailures a failed file runs again first (./reruns.ts). No transport code
 * lives here.
 */
import type { Backend } from '../backends/types';
import {
  MAX_FILES_PER_REQUEST,
  type Environment,
  type FetchedPackages,
  type TransformEntry,
  type FileWrite,
  type RunResponse,
  type Host,
  type ProcessOutput,
  type ProjectPayload,
  type SerializedError,
  type TestEvent,
} from '../protocol';
import type { Delivery } from '../ship/delivery';
import { runBatch } from './batch';
import { ClientMeter } from './client-meter';
import { Reruns } from './reruns';
import { FileQueue } from './schedule';

export type FileOutcome =
  | {
      kind: 'result';
      result: Record<string, unknown>;
      writes: FileWrite[];
      timing: Record<string, number>;
      host?: Host;
      /** Programs the tests tried to start that the remote side lacks (see environmental.ts). */
      missingPrograms?: string[];
      /** Where it ran. */
      environment?: Environment;
    }
  | {
      kind: 'failure';
      error: SerializedError;
      timing?: Record<string, number>;
      host?: Host;
      missingPrograms?: string[];
      environment?: Environment;
      /**
       * Set when no attempt got an answer: a fault of the runner or its backend, not of the test.
       * `backend`: the backend as a whole could not serve it (see TransportError's scope).
       */
      fault?: 'request' | 'backend';
    }
  | { kind: 'cancelled' };

export interface DispatchItem {
  testPath: string;
  project: ProjectPayload;
  /** How long the file took last time (Jest's duration cache), if known. */
  estimateMs?: number;
  /** Installed packages the file needs beyond its project's (`project.packages`). */
  packages?: string[];
}

export interface DispatchOptions {
  backend: Backend;
  /** Where a remote side that lacks blobs gets them (src/ship/); none when it shares this disk. */
  delivery?: Delivery;
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
   * The client's main-thread time per result for the schedule (./schedule.ts); measured when not
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
  /** Each request as it ended, answered or not (the run's timeline). */
  onRequest?: (request: RequestRecord) => void;
  /** A failing file runs again up to this many times (./reruns.ts); only its last outcome reaches onOutcome. */
  rerunFailures?: number;
  /** Whether a failed attempt may run again (not when it wrote snapshots, or when it runs here instead). */
  mayRerun?: (item: DispatchItem, outcome: FileOutcome) => boolean;
  /** A failed attempt that runs again: never reported; its test-case events are dropped with it. */
  onRerun?: (item: DispatchItem, outcome: FileOutcome, attempt: number) => void;
  /** For one request: the environment a rerun failed in (set by dispatch). */
  avoid?: Environment;
  /** Packages an environment had to bring in for a file (to send them up front next time). */
  onFetchedPackages?: (item: DispatchItem, fetched: FetchedPackages) => void;
  /** The key of the transform index of an item's project, in the shared store (see handler/transforms.ts). */
  transformsOf?: (item: DispatchItem) => string | undefined;
  /** Transforms an environment made and put into the shared store, while running `item` (and the files sent with it). */
  onTransforms?: (item: DispatchItem, entries: TransformEntry[]) => void;
}

/** One request of a lane: which files, when (performance.now()), and its answer or fault. */
export interface RequestRecord {
  /** The backend's name ('lambda', 'local'): a Lambda run's files that run here go through both. */
  backend: string;
  lane: number;
  items: DispatchItem[];
  sentAt: number;
  endedAt: number;
  response?: RunResponse;
  error?: Error;
}

export async function dispatch(items: DispatchItem[], options: DispatchOptions): Promise<void> {
  const queue = new FileQueue(items, { concurrency: options.concurrency, batchMs: options.batchMs ?? 0, maxFilesPerRequest: MAX_FILES_PER_REQUEST });
  const client = new ClientMeter(items.length, options.clientMsPerFile);
  const reruns = new Reruns(options.rerunFailures ?? 0);
  // With reruns, a file's test-case events wait for its outcome: those of a failed attempt that
  // runs again must never reach Jest.
  const held = new Map<DispatchItem, TestEvent[]>();
  const holding = (options.rerunFailures ?? 0) > 0;
  const optionsFor = (lane: number): DispatchOptions => ({
    ...options,
    onEvent: holding ? (item, event) => void held.set(item, [...(held.get(item) ?? []), event]) : options.onEvent,
    onOutcome: async (item, outcome) => {
      const events = held.get(item) ?? [];
      held.delete(item);
      const attempt = reruns.attempt(item);
      if (!options.signal.aborted && (options.mayRerun?.(item, outcome) ?? true) && reruns.again(item, outcome, lane)) {
        options.onRerun?.(item, outcome, attempt);
        wake();
        return;
      }
      for (const event of events) await options.onEvent(item, event);
      await options.onOutcome(item, outcome);
      client.finished();
    },
  });
  // Slots with nothing to take wait while others work: a failure there may queue a rerun.
  let busy = 0;
  let waiters: Array<() => void> = [];
  const wake = () => {
    const woken = waiters;
    waiters = [];
    for (const w of woken) w();
  };
  options.signal.addEventListener('abort', wake, { once: true });
  const lane = async (_: unknown, lane: number) => {
    const laneOptions = optionsFor(lane);
    for (;;) {
      if (options.signal.aborted) return;
      const rerun = reruns.take(lane, busy > 0);
      const batch = rerun ? [rerun.item] : queue.take(client.load());
      if (batch.length === 0) {
        if (reruns.pending === 0 && busy === 0) return wake();
        await new Promise<void>((resolve) => waiters.push(resolve));
        continue;
      }
      busy++;
      try {
        for (const item of batch) await options.onStart(item);
        await runBatch(batch, rerun?.avoid ? { ...laneOptions, avoid: rerun.avoid } : laneOptions, lane);
      } finally {
        busy--;
        wake();
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency, items.length)) }, lane));
  } finally {
    options.signal.removeEventListener('abort', wake);
  }
}
