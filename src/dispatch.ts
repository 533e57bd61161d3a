/**
 * The queue: a free slot takes the next file (no static shards), retries infrastructure faults
 * with jittered backoff, never retries a test failure, and yields exactly one outcome per file.
 * No transport code lives here.
 */
import pLimit from 'p-limit';
import { setTimeout as sleep } from 'node:timers/promises';
import { TransportError, type Backend } from './backends/types';
import { PROTOCOL_VERSION, type FileWrite, type Host, type ProjectPayload, type RunRequest, type SerializedError, type TestEvent } from './protocol';

export type FileOutcome =
  | { kind: 'result'; result: Record<string, unknown>; writes: FileWrite[]; timing: Record<string, number>; host?: Host }
  | { kind: 'failure'; error: SerializedError; timing?: Record<string, number>; host?: Host }
  | { kind: 'cancelled' };

export interface DispatchItem {
  testPath: string;
  project: ProjectPayload;
}

export interface DispatchOptions {
  backend: Backend;
  concurrency: number;
  retries: number;
  runId: string;
  globalConfig: Record<string, unknown>;
  mode: 'in-band' | 'worker';
  signal: AbortSignal;
  changedFiles?: string[];
  sourcesRelatedToTestsInChangedFiles?: string[];
  onStart: (item: DispatchItem) => Promise<void>;
  onEvent: (item: DispatchItem, event: TestEvent) => Promise<void> | void;
  onOutcome: (item: DispatchItem, outcome: FileOutcome) => Promise<void>;
  /** Counts infrastructure retries for the summary. */
  onRetry?: (item: DispatchItem, error: Error) => void;
}

const BACKOFF_BASE_MS = 200;
/** need-blobs rounds in a row that may leave as many blobs missing as before. */
const MAX_STALLED_ROUNDS = 3;
const BACKOFF_CAP_MS = 5_000;

export async function dispatch(items: DispatchItem[], options: DispatchOptions): Promise<void> {
  const limit = pLimit(options.concurrency);
  await Promise.all(
    items.map((item) =>
      limit(async () => {
        if (options.signal.aborted) return;
        await options.onStart(item);
        const outcome = await runOne(item, options);
        if (outcome.kind !== 'cancelled') await options.onOutcome(item, outcome);
      }),
    ),
  );
}

async function runOne(item: DispatchItem, options: DispatchOptions): Promise<FileOutcome> {
  let sendProject = false;
  let supplied: Pick<RunRequest, 'pack'> = {};
  let lastMissing = Infinity;
  let stalls = 0;
  let lastError: Error | undefined;
  for (let attempt = 0; attempt <= options.retries; ) {
    if (options.signal.aborted) return { kind: 'cancelled' };
    const request: RunRequest = {
      protocolVersion: PROTOCOL_VERSION,
      runId: options.runId,
      globalConfig: options.globalConfig,
      mode: options.mode,
      projectKey: item.project.key,
      ...(sendProject ? { project: item.project } : {}),
      testPath: item.testPath,
      ...supplied,
      changedFiles: options.changedFiles,
      sourcesRelatedToTestsInChangedFiles: options.sourcesRelatedToTestsInChangedFiles,
    };
    // Events of a failed attempt are dropped with it; only the answered attempt's events count.
    const events: TestEvent[] = [];
    try {
      const response = await options.backend.invoke(request, { signal: options.signal, onEvent: (e) => void events.push(e) });
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
          for (const e of [...events, ...response.events]) await options.onEvent(item, e);
          return { kind: 'result', result: response.result, writes: response.writes, timing: response.timing, host: response.host };
        case 'failed':
          for (const e of [...events, ...response.events]) await options.onEvent(item, e);
          return { kind: 'failure', error: response.error, timing: response.timing, host: response.host };
      }
    } catch (error) {
      if (options.signal.aborted) return { kind: 'cancelled' };
      const e = error instanceof Error ? error : new Error(String(error));
      lastError = e;
      if (!(e instanceof TransportError) || !e.retryable || attempt === options.retries) break;
      options.onRetry?.(item, e);
      attempt++;
      // The next attempt may land on another container, with other blobs.
      lastMissing = Infinity;
      stalls = 0;
      await sleep(jitteredBackoff(attempt));
    }
  }
  return { kind: 'failure', error: infrastructureFailure(lastError, options.retries) };
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
