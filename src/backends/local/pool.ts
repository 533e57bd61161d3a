/**
 * The embedded default backend: a pool of long-lived worker processes on this machine running the
 * handler code (or the handler in this very process, where Jest would run in band). With
 * `isolate`, the tree is materialized once per project into a private directory that all workers
 * share (as Jest's own workers share the project), from the local content store.
 */
import path from 'node:path';
import { execute } from '../../../handler/execute';
import { materialize, treeDir } from '../../../handler/materialize';
import { CancelledError } from '../../errors';
import type { ProjectPayload, RunRequest, RunResponse } from '../../protocol';
import { LocalBlobStore } from '../../ship/blob-store';
import type { Backend, InvokeOptions } from '../types';
import { RunDirectories } from './run-dirs';
import { WorkerProcess } from './worker-process';

export interface LocalBackendOptions {
  /**
   * Worker processes. 0 runs the handler in this process, as Jest's own runner does when it
   * decides to run in band (-i, one core, or few fast files): same handler code, no process hop,
   * and debuggers attached to `node --inspect-brk jest -i` stop in the tests.
   */
  workers: number;
  cacheDir: string;
  forceColor: boolean;
  /** Jest's `workerIdleMemoryLimit` (bytes): a worker whose heap grew past it after a file is replaced. */
  workerIdleMemoryLimit?: number;
}

export class LocalBackend implements Backend {
  readonly name = 'local';
  readonly #options: LocalBackendOptions;
  readonly #store: LocalBlobStore;
  readonly #workers: WorkerProcess[] = [];
  readonly #idle: WorkerProcess[] = [];
  readonly #waiting: Array<{ fits: (w: WorkerProcess) => boolean; take: (w: WorkerProcess) => void }> = [];
  readonly #runDirs: RunDirectories;
  #nextWorkerId = 1;

  constructor(options: LocalBackendOptions) {
    this.#options = options;
    this.#store = new LocalBlobStore(localStoreDir(options.cacheDir));
    this.#runDirs = new RunDirectories(options.cacheDir);
    // Start workers now: their start-up overlaps with mirroring and shipping.
    for (let i = 0; i < options.workers; i++) this.#release(this.#spawn());
  }

  /** The tree all workers share, from the blobs the ship stage put into the local store. */
  async prepare(project: ProjectPayload): Promise<ProjectPayload> {
    // In place: the files are where they run (the prefix '' maps every path to itself).
    if (project.inPlace) return { ...project, preparedRoot: '' };
    const prefix = this.#runDirs.prefixFor(project.localBase, String(project.config.id));
    materialize(treeDir(prefix, project.localBase), project.manifest, this.#store, { allowExternalLinks: true, statePath: `${prefix}.state.json` });
    return { ...project, preparedRoot: prefix };
  }

  async invoke(request: RunRequest, options: InvokeOptions): Promise<RunResponse> {
    if (this.#options.workers === 0) return this.#invokeInProcess(request, options);
    const worker = await this.#acquire(options.signal, options.avoid?.pid);
    // An abandoned file (watch-mode interrupt) finishes in its worker, as in Jest's own pool: the
    // worker stays warm and returns to the pool when it answers; only the caller stops waiting.
    const running = worker.run(request, options.onEvent);
    const settle = () => {
      const limit = this.#options.workerIdleMemoryLimit;
      if (worker.alive && limit && worker.heapUsed > limit) {
        // as jest-worker does: a worker over the limit is restarted between files
        void worker.stop();
        this.#replace(worker);
      } else if (worker.alive) this.#release(worker);
      else this.#replace(worker);
    };
    running.then(settle, settle);
    return abortable(running, options.signal);
  }

  async #invokeInProcess(request: RunRequest, options: InvokeOptions): Promise<RunResponse> {
    const cwd = process.cwd();
    try {
      // (in this process: built by our own code on both sides, so not validated again)
      return await execute(request, { root: { kind: 'prepared' }, onEvent: options.onEvent, trusted: true });
    } finally {
      // The handler moves into the run directory; Jest's own process must end up where it was.
      if (process.cwd() !== cwd) process.chdir(cwd);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.stop()));
    this.#workers.length = 0;
    this.#idle.length = 0;
    this.#runDirs.release();
  }

  #spawn(): WorkerProcess {
    const worker = new WorkerProcess(this.#nextWorkerId++, this.#options.forceColor);
    this.#workers.push(worker);
    return worker;
  }

  #replace(dead: WorkerProcess): void {
    const index = this.#workers.indexOf(dead);
    if (index !== -1) this.#workers.splice(index, 1);
    const fresh = new WorkerProcess(dead.id, this.#options.forceColor);
    this.#workers.push(fresh);
    this.#release(fresh);
  }

  /**
   * An idle worker (the most recently used: it is warm), or the next one released. `avoid`: the
   * pid of a worker not to take while the pool has another (a file running again after it failed
   * there); a pool of one takes it all the same.
   */
  #acquire(signal: AbortSignal, avoid?: number): Promise<WorkerProcess> {
    const fits = (w: WorkerProcess) => avoid === undefined || w.pid !== avoid || !this.#workers.some((o) => o !== w && o.alive && o.pid !== avoid);
    const index = this.#idle.findLastIndex(fits);
    if (index !== -1) return Promise.resolve(this.#idle.splice(index, 1)[0]!);
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const i = this.#waiting.indexOf(waiter);
        if (i !== -1) this.#waiting.splice(i, 1);
        reject(new CancelledError());
      };
      const waiter = {
        fits,
        take: (w: WorkerProcess) => {
          signal.removeEventListener('abort', onAbort);
          resolve(w);
        },
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#waiting.push(waiter);
    });
  }

  #release(worker: WorkerProcess): void {
    const index = this.#waiting.findIndex((w) => w.fits(worker));
    if (index !== -1) this.#waiting.splice(index, 1)[0]!.take(worker);
    else this.#idle.push(worker);
  }
}

/** Rejects as cancelled when `signal` aborts, else settles as `promise` does. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new CancelledError());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new CancelledError());
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** The content store that the ship stage fills (with `isolate`) and the shared tree is made from. */
export function localStoreDir(cacheDir: string): string {
  return path.join(cacheDir, 'blobs');
}
