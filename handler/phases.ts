/** Milliseconds per phase of one request (parse, fetch, materialize, prepare, run), as the answer reports them. */
import { performance } from 'node:perf_hooks';

export class PhaseClock {
  readonly timing: Record<string, number>;
  #mark = performance.now();

  constructor(timing: Record<string, number> = {}) {
    this.timing = timing;
  }

  /** Adds the time since the last lap (or the start) to `phase`. */
  lap(phase: string): void {
    const now = performance.now();
    this.timing[phase] = (this.timing[phase] ?? 0) + Math.round((now - this.#mark) * 100) / 100;
    this.#mark = now;
  }

  restart(): void {
    this.#mark = performance.now();
  }
}
