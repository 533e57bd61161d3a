/**
 * `rerunFailures`: a file whose attempt failed goes back to the queue, ahead of the files not yet
 * sent, until it passes or has run 1 + rerunFailures times; only its last attempt is reported. A
 * rerun is taken by another slot than the one it failed on while another slot is still working (on
 * Lambda, a request sent while that environment is busy with its next file lands elsewhere), and
 * asks the backend to avoid the environment it failed in (the embedded pool can).
 */
import type { Environment } from '../protocol';
import type { DispatchItem, FileOutcome } from './index';

interface Rerun {
  item: DispatchItem;
  lane: number;
  avoid?: Environment;
}

export class Reruns {
  readonly #max: number;
  readonly #attempts = new Map<DispatchItem, number>();
  readonly #pending: Rerun[] = [];

  constructor(max: number) {
    this.#max = max;
  }

  get pending(): number {
    return this.#pending.length;
  }

  /** Which run of the file the outcome is (1 for its first). */
  attempt(item: DispatchItem): number {
    return (this.#attempts.get(item) ?? 0) + 1;
  }

  /** Queues the file again when this failed attempt may be followed by another; true if it was. */
  again(item: DispatchItem, outcome: FileOutcome, lane: number): boolean {
    const attempt = this.attempt(item);
    if (attempt > this.#max || !failed(outcome)) return false;
    this.#attempts.set(item, attempt);
    this.#pending.push({ item, lane, avoid: outcome.kind === 'cancelled' ? undefined : outcome.environment });
    return true;
  }

  /**
   * The next rerun for a free slot: one that failed on another slot; its own only when no other
   * slot is working (none would come for it).
   */
  take(lane: number, othersBusy: boolean): Rerun | undefined {
    const index = this.#pending.findIndex((r) => r.lane !== lane || !othersBusy);
    return index === -1 ? undefined : this.#pending.splice(index, 1)[0];
  }
}

/** A test failed, or the file could not run. */
export function failed(outcome: FileOutcome): boolean {
  if (outcome.kind === 'failure') return true;
  if (outcome.kind === 'cancelled') return false;
  const r = outcome.result as { numFailingTests?: number; testExecError?: unknown };
  return Boolean(r.testExecError) || (r.numFailingTests ?? 0) > 0;
}

/**
 * The attempt wrote snapshots (remotely: files to write here; in place: Jest wrote them already).
 * Running it again would read what this attempt wrote, or write a second time.
 */
export function wroteSnapshots(outcome: FileOutcome): boolean {
  if (outcome.kind !== 'result') return false;
  const s = (outcome.result as { snapshot?: { added?: number; updated?: number; fileDeleted?: boolean; unchecked?: number } }).snapshot;
  return outcome.writes.length > 0 || Boolean(s && ((s.added ?? 0) > 0 || (s.updated ?? 0) > 0 || s.fileDeleted));
}
