/**
 * The client's side of the schedule (src/dispatch/schedule.ts): how many files it has not finished
 * with, and its main-thread CPU time per finished file over the last window (a prior until the first
 * window closes).
 */
import type { ClientLoad } from './schedule';

/** Jest's main-thread CPU per finished file with our runner, measured (bench/results/scale.client-cpu.json). */
const CLIENT_MS_PER_FILE_PRIOR = 1.7;
/** Files per measurement of the client's CPU per file. */
const CLIENT_WINDOW = 50;

export class ClientMeter {
  #done = 0;
  #windowStart = { done: 0, cpu: process.cpuUsage() };
  #msPerFile: number;
  readonly #total: number;
  readonly #fixedMsPerFile: number | undefined;

  /** `fixedMsPerFile`: a known cost (0: the tests run on this thread, so keep Jest's order), not measured. */
  constructor(total: number, fixedMsPerFile?: number) {
    this.#total = total;
    this.#fixedMsPerFile = fixedMsPerFile;
    this.#msPerFile = fixedMsPerFile ?? CLIENT_MS_PER_FILE_PRIOR;
  }

  finished(): void {
    this.#done++;
    if (this.#fixedMsPerFile !== undefined || this.#done - this.#windowStart.done < CLIENT_WINDOW) return;
    const cpu = process.cpuUsage(this.#windowStart.cpu);
    this.#msPerFile = (cpu.user + cpu.system) / 1000 / (this.#done - this.#windowStart.done);
    this.#windowStart = { done: this.#done, cpu: process.cpuUsage() };
  }

  load(): ClientLoad {
    return { unfinished: this.#total - this.#done, clientMsPerFile: this.#msPerFile };
  }
}
