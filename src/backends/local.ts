/**
 * The embedded default backend: a pool of long-lived worker processes on this machine running the
 * handler code. The tree is materialized once per project into a private directory that all
 * workers share (as Jest's own workers share the project), from the local content store.
 */
import { fork, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { execute } from '../../handler/execute';
import { materialize, treeDir } from '../../handler/materialize';
import type { Mirror } from '../bundle/mirror';
import {
  RunResponseSchema,
  WorkerOutboundSchema,
  checkAt,
  parseAt,
  type ProjectPayload,
  type RunRequest,
  type RunResponse,
  type TestEvent,
} from '../protocol';
import { LocalBlobStore, type ShipStats } from '../ship';
import { TransportError, type Backend, type InvokeOptions } from './types';

/** dist/handler/worker.js, from this module in dist/src/backends (tsc) or in the dist/src/index.cjs bundle. */
const WORKER_SCRIPT = [path.resolve(__dirname, '../handler/worker.js'), path.resolve(__dirname, '../../handler/worker.js')].find((f) => fs.existsSync(f)) ?? path.resolve(__dirname, '../../handler/worker.js');
const START_TIMEOUT_MS = 60_000;

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
  readonly #waiting: Array<(w: WorkerProcess) => void> = [];
  readonly #roots = new Map<string, { dir: string; lock: string }>();
  #nextWorkerId = 1;

  constructor(options: LocalBackendOptions) {
    this.#options = options;
    this.#store = new LocalBlobStore(path.join(options.cacheDir, 'blobs'));
    // Start workers now: their start-up overlaps with mirroring and shipping.
    for (let i = 0; i < options.workers; i++) this.#release(this.#spawn());
  }

  async ship(mirror: Mirror, project: Omit<ProjectPayload, 'preparedRoot'>): Promise<{ project: ProjectPayload; stats: ShipStats }> {
    // In place: the files are where they run (the prefix '' maps every path to itself).
    if (project.inPlace) return { project: { ...project, preparedRoot: '' }, stats: { newBlobs: 0, newBytes: 0, cachedBlobs: 0, cachedBytes: 0 } };
    const stats = this.#store.add(mirror.sources);
    const prefix = this.#prefixFor(project.localBase, String(project.config.id));
    materialize(treeDir(prefix, project.localBase), mirror.manifest, this.#store, { allowExternalLinks: true, statePath: `${prefix}.state.json` });
    return { project: { ...project, preparedRoot: prefix }, stats };
  }

  async invoke(request: RunRequest, options: InvokeOptions): Promise<RunResponse> {
    if (this.#options.workers === 0) return this.#invokeInProcess(request, options);
    const worker = await this.#acquire(options.signal);
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
    for (const { lock } of this.#roots.values()) fs.rmSync(lock, { force: true });
    this.#roots.clear();
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

  #acquire(signal: AbortSignal): Promise<WorkerProcess> {
    const idle = this.#idle.pop();
    if (idle) return Promise.resolve(idle);
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const i = this.#waiting.indexOf(take);
        if (i !== -1) this.#waiting.splice(i, 1);
        reject(new TransportError('cancelled', false));
      };
      const take = (w: WorkerProcess) => {
        signal.removeEventListener('abort', onAbort);
        resolve(w);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#waiting.push(take);
    });
  }

  #release(worker: WorkerProcess): void {
    const next = this.#waiting.shift();
    if (next) next(worker);
    else this.#idle.push(worker);
  }

  /** One private prefix per project and checkout; a concurrent run of the same checkout gets its own. */
  #prefixFor(localBase: string, configId: string): string {
    const key = `${localBase}\0${configId}`;
    const known = this.#roots.get(key);
    if (known) return known.dir;
    const name = crypto.createHash('sha256').update(key).digest('hex').slice(0, 16);
    const rootsDir = path.join(this.#options.cacheDir, 'roots');
    fs.mkdirSync(rootsDir, { recursive: true });
    for (const dir of [path.join(rootsDir, name), path.join(rootsDir, `${name}-${process.pid}`)]) {
      const lock = `${dir}.lock`;
      if (takeLock(lock)) {
        this.#roots.set(key, { dir, lock });
        return dir;
      }
    }
    throw new Error(`Could not lock a run directory under ${rootsDir}.`);
  }
}

/** Rejects as cancelled when `signal` aborts, else settles as `promise` does. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new TransportError('cancelled', false));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new TransportError('cancelled', false));
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

function takeLock(lock: string): boolean {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: 'wx' });
      return true;
    } catch {
      const owner = Number(fs.readFileSync(lock, 'utf8'));
      if (owner === process.pid) return true;
      if (owner > 0 && isAlive(owner)) return false;
      fs.rmSync(lock, { force: true }); // stale: its process is gone
    }
  }
  return false;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

type Pending = {
  id: number;
  onEvent: (e: TestEvent) => void;
  resolve: (r: RunResponse) => void;
  reject: (e: Error) => void;
};

/** Transport only: one child process, one request at a time. */
class WorkerProcess {
  readonly id: number;
  readonly #child: ChildProcess;
  readonly #ready: Promise<void>;
  #pending: Pending | undefined;
  #exited = false;
  /** Heap after the last file, as the worker reported it. */
  heapUsed = 0;
  #nextRequest = 1;
  #stderrTail = '';

  constructor(id: number, forceColor: boolean) {
    this.id = id;
    this.#child = fork(WORKER_SCRIPT, [], {
      env: { ...process.env, JEST_WORKER_ID: String(id), ...(forceColor ? { FORCE_COLOR: '1' } : {}) },
      execArgv: process.execArgv.filter((a) => !/^--(debug|inspect)/.test(a)),
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
    });
    // Like jest-worker: whatever a test writes straight to stdout/stderr reaches the terminal.
    this.#child.stdout!.pipe(process.stdout);
    this.#child.stderr!.on('data', (chunk: Buffer) => {
      process.stderr.write(chunk);
      this.#stderrTail = (this.#stderrTail + chunk.toString()).slice(-2000);
    });
    this.#child.unref();
    (this.#child.stdout as unknown as { unref?: () => void }).unref?.();
    (this.#child.stderr as unknown as { unref?: () => void }).unref?.();
    this.#ready = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new TransportError(`Worker ${id} did not start within ${START_TIMEOUT_MS} ms`, true)), START_TIMEOUT_MS);
      timer.unref();
      this.#child.once('message', () => {
        clearTimeout(timer);
        this.#channelRef(false);
        resolve();
      });
      this.#child.once('exit', () => reject(this.#exitError('STARTING')));
    });
    this.#ready.catch(() => {});
    this.#child.on('message', (raw) => this.#onMessage(raw));
    this.#child.on('exit', () => {
      this.#exited = true;
      const pending = this.#pending;
      this.#pending = undefined;
      pending?.reject(this.#exitError('RUNNING'));
    });
    // Starting counts as busy: a run waiting for its workers must keep the process alive.
    this.#channelRef(true);
  }

  get alive(): boolean {
    return !this.#exited;
  }

  async run(request: RunRequest, onEvent: (event: TestEvent) => void): Promise<RunResponse> {
    await this.#ready;
    if (this.#exited) throw this.#exitError('IDLE');
    const id = this.#nextRequest++;
    this.#channelRef(true);
    try {
      return await new Promise<RunResponse>((resolve, reject) => {
        this.#pending = { id, onEvent, resolve, reject };
        this.#child.send({ type: 'run', id, request }, (error) => {
          if (error) reject(new TransportError(`Could not send the request to worker ${this.id}: ${error.message}`, true, { cause: error }));
        });
      });
    } finally {
      this.#pending = undefined;
      this.#channelRef(false);
    }
  }

  async stop(): Promise<void> {
    if (this.#exited) return;
    // Waiting for the exit must keep this process alive (the child is unref'd while idle).
    this.#child.ref();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.#child.kill('SIGKILL');
        resolve();
      }, 2_000);
      timer.unref();
      this.#child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      this.#child.disconnect();
    });
  }

  #onMessage(raw: unknown): void {
    const message = parseAt(WorkerOutboundSchema, raw, `message from worker ${this.id}`);
    const pending = this.#pending;
    if (message.type === 'ready' || !pending || message.id !== pending.id) return;
    if (message.type === 'event') pending.onEvent(message.event);
    else {
      this.heapUsed = message.heapUsed ?? 0;
      try {
        pending.resolve(checkAt(RunResponseSchema, message.response, `response from worker ${this.id}`));
      } catch (error) {
        pending.reject(new TransportError((error as Error).message, true));
      }
    }
  }

  #exitError(state: string): TransportError {
    const { exitCode, signalCode } = this.#child;
    const how = signalCode ? `signal ${signalCode}` : `code ${exitCode}`;
    const tail = this.#stderrTail.trim() ? `\nLast output on stderr:\n${this.#stderrTail.trim()}` : '';
    return new TransportError(`Worker process ${this.id} exited unexpectedly (${how}) during ${state} state.${tail}`, false);
  }

  #channelRef(busy: boolean): void {
    const channel = this.#child.channel as unknown as { ref?: () => void; unref?: () => void } | undefined;
    if (busy) channel?.ref?.();
    else channel?.unref?.();
  }
}
