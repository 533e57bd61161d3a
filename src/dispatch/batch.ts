/**
 * One request (often of one file) until every file in it has its outcome: the handler may ask for
 * the project or for blobs first (answered here, through the delivery), infrastructure faults are
 * retried with jittered backoff, a batch the handler stopped part-way is resent for the rest, and
 * each file is reported exactly once, as soon as its outcome is known.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { RemoteRunnerError, TransportError } from '../errors';
import { PROTOCOL_VERSION, type Environment, type FetchedPackages, type FileResponse, type RunRequest, type RunResponse, type TestEvent } from '../protocol';
import { infrastructureFailure, jitteredBackoff } from './backoff';
import type { DispatchItem, DispatchOptions } from './index';

/** need-blobs rounds in a row that may leave as many blobs missing as before. */
const MAX_STALLED_ROUNDS = 3;

export async function runBatch(batch: DispatchItem[], options: DispatchOptions, lane = 0): Promise<void> {
  const run = new BatchRun(batch, options, lane);
  let lastError: Error | undefined;
  for (let attempt = 0; attempt <= options.retries && run.pending.length > 0;) {
    if (options.signal.aborted) return;
    try {
      await run.attempt();
    } catch (error) {
      if (options.signal.aborted) return;
      const e = error instanceof Error ? error : new Error(String(error));
      lastError = e;
      if (!(e instanceof RemoteRunnerError) || !e.retryable || attempt === options.retries) break;
      for (const item of run.pending) options.onRetry?.(item, e);
      attempt++;
      run.restart();
      await sleep(jitteredBackoff(attempt));
    }
  }
  const fault = lastError instanceof TransportError ? lastError.scope : 'request';
  for (const item of run.pending) await options.onOutcome(item, { kind: 'failure', error: infrastructureFailure(lastError, options.retries), fault });
}

/** The state of one batch across its attempts. */
class BatchRun {
  pending: DispatchItem[];
  readonly #options: DispatchOptions;
  #sendProject = false;
  #supplied: Pick<RunRequest, 'pack' | 'piece'> = {};
  #lastMissing = Infinity;
  #lastHeld = 0;
  #stalls = 0;
  /** Packages an environment found the files need besides what they named (see need-blobs). */
  readonly #fetched = new Set<string>();

  readonly #lane: number;

  constructor(batch: DispatchItem[], options: DispatchOptions, lane: number) {
    this.pending = batch;
    this.#options = options;
    this.#lane = lane;
  }

  /** The next attempt may land on another container, with other blobs. */
  restart(): void {
    this.#lastMissing = Infinity;
    this.#lastHeld = 0;
    this.#stalls = 0;
  }

  /** Sends the pending files until they are answered (or the handler needs something first). */
  async attempt(): Promise<void> {
    for (;;) {
      const request = this.#request();
      // Events of a failed attempt are dropped with it; only the answered attempt's events count.
      // (Streamed events are per request: backends that stream run one file per request.)
      const events: TestEvent[] = [];
      const sentAt = performance.now();
      const items = this.pending;
      let response: RunResponse;
      try {
        response = await this.#options.backend.invoke(request, {
          signal: this.#options.signal,
          onEvent: (e) => void events.push(e),
          ...(this.#options.avoid ? { avoid: this.#options.avoid } : {}),
        });
      } catch (error) {
        this.#options.onRequest?.({ backend: this.#options.backend.name, lane: this.#lane, items, sentAt, endedAt: performance.now(), error: error as Error });
        throw error;
      }
      const endedAt = performance.now();
      this.#options.onRequest?.({ backend: this.#options.backend.name, lane: this.#lane, items, sentAt, endedAt, response });
      // The whole request as this side saw it (transport included), for the per-file overhead figure.
      const requestMs = Math.round((endedAt - sentAt) * 100) / 100;
      if (await this.#answered(request, response, events, requestMs)) return;
    }
  }

  #request(): RunRequest {
    const [first, ...rest] = this.pending as [DispatchItem, ...DispatchItem[]];
    const { store } = this.#options.delivery ?? {};
    return {
      protocolVersion: PROTOCOL_VERSION,
      runId: this.#options.runId,
      globalConfig: this.#options.globalConfig,
      mode: this.#options.mode,
      projectKey: first.project.key,
      ...(this.#sendProject ? { project: first.project } : {}),
      testPath: first.testPath,
      ...(rest.length > 0 ? { moreTestPaths: rest.map((i) => i.testPath) } : {}),
      ...this.#supplied,
      changedFiles: this.#options.changedFiles,
      sourcesRelatedToTestsInChangedFiles: this.#options.sourcesRelatedToTestsInChangedFiles,
      ...(store ? { store } : {}),
      ...this.#packages(),
      ...this.#transforms(first),
    };
  }

  #transforms(item: DispatchItem): Pick<RunRequest, 'transforms'> {
    const key = this.#options.delivery?.store && this.#options.transformsOf?.(item);
    return key ? { transforms: key } : {};
  }

  /** The installed packages the pending files need beyond their project's. */
  #packages(): Pick<RunRequest, 'packages'> {
    const packages = new Set(this.#fetched);
    for (const item of this.pending) for (const p of item.packages ?? []) packages.add(p);
    return packages.size > 0 ? { packages: [...packages].sort() } : {};
  }

  /** Handles one answer: true when the files it was for have their outcomes, false to ask again. */
  async #answered(request: RunRequest, response: RunResponse, events: TestEvent[], requestMs: number): Promise<boolean> {
    switch (response.status) {
      case 'need-project':
        if (this.#sendProject) throw new TransportError('The handler asked for the project twice in a row.', true);
        this.#sendProject = true;
        return false;
      case 'need-blobs':
        if (response.fetchedPackages) this.#fetchedFor(response.fetchedPackages);
        await this.#supply(request, response.missing, response.partial ?? {});
        return false;
      case 'crashed':
        // (a final fault of the handler, such as a store it may not read, stops every file alike,
        // unless it concerns only this request)
        throw new TransportError(`The handler failed: ${response.error.message}`, !response.final, {
          scope: response.final && response.scope !== 'request' ? 'backend' : 'request',
        });
      case 'completed':
      case 'failed':
        if (response.transforms) this.#options.onTransforms?.(this.pending[0]!, response.transforms);
        if (response.output) this.#options.onOutput?.(response.output);
        await this.#finish(this.pending[0]!, { ...response, timing: { ...response.timing, request: requestMs } }, events, response.environment);
        this.pending = [];
        return true;
      case 'batch': {
        if (response.transforms) this.#options.onTransforms?.(this.pending[0]!, response.transforms);
        if (response.output) this.#options.onOutput?.(response.output);
        if (response.results.length > this.pending.length)
          throw new TransportError(`The handler answered ${response.results.length} results for ${this.pending.length} files.`, true);
        for (const [i, result] of response.results.entries()) {
          const environment = response.environment && { ...response.environment, filesBefore: response.environment.filesBefore + i };
          await this.#finish(this.pending[i]!, i === 0 ? { ...result, timing: { ...result.timing, request: requestMs } } : result, [], environment);
        }
        this.pending = this.pending.slice(response.results.length);
        this.#supplied = {};
        // (a later file needed blobs this environment lacks: not a fault; the rest is sent again and asks for them)
        if (this.pending.length > 0 && response.stopped?.code === 'MISSING_BLOBS' && response.results.length > 0) return false;
        if (this.pending.length > 0) {
          throw new TransportError(
            `The handler stopped after ${response.results.length} of the files sent together: ${response.stopped?.message ?? 'no reason given'}`,
            true,
          );
        }
        return true;
      }
    }
  }

  /**
   * The remote side lacks bytes (a cold container): make them reachable and ask again, in as many
   * rounds as the payload limit needs, as long as every round makes progress. (Another container
   * than the one supplied may answer next: allow a few rounds without progress.)
   */
  async #supply(request: RunRequest, missing: string[], partial: Record<string, number>): Promise<void> {
    // (progress: fewer blobs missing, or more bytes of those that come in pieces)
    const held = Object.values(partial).reduce((sum, n) => sum + n, 0);
    this.#stalls = missing.length >= this.#lastMissing && held <= this.#lastHeld ? this.#stalls + 1 : 0;
    const delivery = this.#options.delivery;
    if (!delivery?.supply || this.#stalls > MAX_STALLED_ROUNDS) {
      throw new TransportError(`The handler still lacks ${missing.length} blob(s) after they were shipped ${this.#stalls} time(s).`, true);
    }
    this.#lastMissing = missing.length;
    this.#lastHeld = held;
    const { pack: _pack, piece: _piece, ...bare } = request;
    this.#supplied = await delivery.supply(bare, missing, partial);
  }

  /** Packages a file's tests touched: every later request of this batch names them, and the runner remembers them. */
  #fetchedFor(fetched: FetchedPackages & { testPath: string }): void {
    for (const p of [...fetched.file, ...fetched.project]) this.#fetched.add(p);
    const item = this.pending.find((i) => i.testPath === fetched.testPath);
    if (item) this.#options.onFetchedPackages?.(item, fetched);
  }

  async #finish(item: DispatchItem, response: FileResponse, events: TestEvent[], environment?: Environment): Promise<void> {
    if (response.fetchedPackages) this.#options.onFetchedPackages?.(item, response.fetchedPackages);
    const missing = {
      ...(response.missingPrograms?.length ? { missingPrograms: response.missingPrograms } : {}),
      ...(environment ? { environment } : {}),
    };
    for (const e of [...events, ...response.events]) await this.#options.onEvent(item, e);
    await this.#options.onOutcome(
      item,
      response.status === 'completed'
        ? { kind: 'result', result: response.result, writes: response.writes, timing: response.timing, host: response.host, ...missing }
        : { kind: 'failure', error: response.error, timing: response.timing, host: response.host, ...missing },
    );
  }
}
