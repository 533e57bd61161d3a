/**
 * The embedded backend's transport: one child process running dist/handler/worker.js, one request
 * at a time over Node's IPC channel, with test-case events streamed as they happen.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { TransportError } from '../../errors';
import { RunResponseSchema, WorkerOutboundSchema, checkAt, parseAt, type RunRequest, type RunResponse, type TestEvent } from '../../protocol';

import { builtHandler } from '../built-handler';

const WORKER_SCRIPT = builtHandler('worker.js');
const START_TIMEOUT_MS = 60_000;

type Pending = {
  id: number;
  onEvent: (e: TestEvent) => void;
  resolve: (r: RunResponse) => void;
  reject: (e: Error) => void;
};

export class WorkerProcess {
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

  /** The worker's process id (what its answers give as their environment's pid). */
  get pid(): number | undefined {
    return this.#child.pid;
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
