/**
 * What happens before the first test starts (hashing the tree, uploading what the bucket lacks),
 * as a progress bar (cli-progress) on stderr. Only on a terminal, never in CI, with --silent or
 * --json, and cleared before Jest's reporter writes anything, so its output is never garbled.
 */
import type { SingleBar as Bar } from 'cli-progress';

export interface Progress {
  /** Starts (or switches to) a phase of `total` steps; `unit` names what is counted. */
  phase(name: string, total: number, unit: string): void;
  /** Advances the current phase; `bytes` adds to the bytes shown. */
  tick(steps?: number, bytes?: number): void;
  /** Removes the bar; safe to call more than once. */
  stop(): void;
}

const QUIET: Progress = { phase: () => {}, tick: () => {}, stop: () => {} };

export interface ProgressContext {
  silent?: boolean;
  json?: boolean;
  stream?: NodeJS.WriteStream;
  env?: NodeJS.ProcessEnv;
}

export function shouldShowProgress({ silent, json, stream = process.stderr, env = process.env }: ProgressContext): boolean {
  const ci = Boolean(env.CI) && env.CI !== 'false' && env.CI !== '0';
  return Boolean(stream.isTTY) && !ci && !silent && !json;
}

export function createProgress(context: ProgressContext): Progress {
  if (!shouldShowProgress(context)) return QUIET;
  // (loaded only where it shows)
  const { SingleBar } = require('cli-progress') as { SingleBar: typeof Bar };
  const bar = new SingleBar({
    stream: context.stream ?? process.stderr,
    format: 'remote-lambda {phase} [{bar}] {value}/{total} {unit}{bytes}',
    barsize: 24,
    hideCursor: true,
    clearOnComplete: true,
    stopOnComplete: false,
    // redraw from synchronous work too (hashing), at most this often
    synchronousUpdate: true,
    fps: 12,
  });
  let started = false;
  let bytes = 0;
  const payload = (phase: string, unit: string) => ({ phase, unit, bytes: bytes > 0 ? `, ${(bytes / 1024 / 1024).toFixed(1)} MB` : '' });
  let current = { phase: '', unit: '' };
  let value = 0;
  let limit = 0;
  return {
    phase(name, total, unit) {
      current = { phase: name, unit };
      bytes = 0;
      value = 0;
      limit = total;
      if (!started) {
        bar.start(total, 0, payload(name, unit));
        started = true;
      } else {
        bar.setTotal(total);
        bar.update(0, payload(name, unit));
      }
    },
    tick(steps = 1, add = 0) {
      if (!started) return;
      bytes += add;
      value += steps;
      // an estimated total (files hashed last time) grows when this run has more
      if (value > limit) bar.setTotal((limit = value));
      bar.increment(steps, payload(current.phase, current.unit));
    },
    stop() {
      if (!started) return;
      started = false;
      bar.stop();
    },
  };
}
