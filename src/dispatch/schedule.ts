/**
 * Which file a free slot takes next. Pure (no I/O): src/dispatch.ts runs it, and bench/scale
 * simulates a Lambda fleet with this same code.
 *
 * The files come in Jest's order (failed first, then new files, then the longest first). A free slot
 * normally takes the next file from the front: the longest files start first, so none of them ends
 * the run alone. Small files go several to one request (`batchMs`) while the queued files outnumber
 * the slots, to save per-request overhead.
 *
 * At high concurrency the fleet can outrun the client: every result costs the client's one JS thread
 * about a millisecond or two (Jest's reporters, our bookkeeping), so N files cannot finish in less
 * than N times that, whatever the fleet does. When the client's remaining work is the larger of the
 * two, longest-first is the wrong order: the slots sit on long files while the client idles, and the
 * short files' results then queue behind the client at the end. So while the client is the
 * bottleneck, a free slot takes the *shortest* queued files instead, as long as the longest queued
 * file can still wait: it starts at the latest when its estimate reaches half of the client's
 * remaining work, which leaves it time to finish before the client does.
 */
export interface Schedulable {
  /** How long the file took last time (Jest's duration cache); undefined or null if unknown. */
  estimateMs?: number | null;
  /** Files of different projects never share a request. */
  project?: unknown;
}

export interface ScheduleOptions {
  concurrency: number;
  /** Files known to take less than this go several to a request, up to this much estimated time. */
  batchMs: number;
  maxFilesPerRequest: number;
}

/** What the caller knows about its client thread when a slot frees up. */
export interface ClientLoad {
  /** Files whose results the client has not finished with: queued, running or waiting for it. */
  unfinished: number;
  /** Client main-thread time per result, in ms. */
  clientMsPerFile: number;
}

/** The longest queued file waits only while its estimate is under this share of the client's remaining work. */
export const CLIENT_SLACK = 0.5;

export class FileQueue<T extends Schedulable> {
  private head = 0;
  private tail: number;
  /** Sum of the known estimates of the files still queued. */
  private queuedWorkMs = 0;

  constructor(
    private readonly items: readonly T[],
    private readonly options: ScheduleOptions,
  ) {
    this.tail = items.length;
    for (const item of items) this.queuedWorkMs += known(item) ? item.estimateMs : 0;
  }

  get queued(): number {
    return this.tail - this.head;
  }

  /** The next request's files (empty when the queue is empty). */
  take(load?: ClientLoad): T[] {
    if (this.head >= this.tail) return [];
    const batch = this.takeRun(this.fromTail(load) ? 'tail' : 'head');
    for (const item of batch) this.queuedWorkMs -= known(item) ? item.estimateMs : 0;
    return batch;
  }

  /** Whether the client is the bottleneck and the longest queued file can still wait. */
  private fromTail(load: ClientLoad | undefined): boolean {
    // One slot runs in series whatever the order: nothing to win, and Jest's order stays.
    if (!load || load.clientMsPerFile <= 0 || this.options.concurrency <= 1) return false;
    const first = this.items[this.head]!;
    const last = this.items[this.tail - 1]!;
    if (!known(first) || !known(last)) return false;
    const clientMs = load.unfinished * load.clientMsPerFile;
    // The fleet's side counts test time only: counting the per-file overhead too made the simulated
    // makespans worse (bench/scale: it keeps longest-first where the two sides are close, and the
    // client then idles early).
    const fleetMs = this.queuedWorkMs / this.options.concurrency;
    return clientMs > fleetMs && first.estimateMs < CLIENT_SLACK * clientMs;
  }

  /**
   * The file at one end of the queue (head: the next in Jest's order; tail: the shortest), and the
   * files after it from the same end while they fit one request: only while the files queued after
   * it number at least the slots (with slots to spare, a small run or its end, each file on its own
   * slot finishes sooner), each with an estimate, of the same project, their estimates summing to
   * at most batchMs, at most maxFilesPerRequest.
   */
  private takeRun(end: 'head' | 'tail'): T[] {
    const peek = () => (end === 'head' ? this.items[this.head] : this.items[this.tail - 1])!;
    const remove = () => (end === 'head' ? this.head++ : this.tail--);
    const first = peek();
    remove();
    const batch = [first];
    const { batchMs, concurrency, maxFilesPerRequest } = this.options;
    if (!(batchMs > 0 && this.queued >= concurrency && known(first) && first.estimateMs < batchMs)) return batch;
    let sum = first.estimateMs;
    while (this.queued > 0 && batch.length < maxFilesPerRequest) {
      const candidate = peek();
      if (candidate.project !== first.project || !known(candidate) || sum + candidate.estimateMs > batchMs) break;
      batch.push(candidate);
      sum += candidate.estimateMs;
      remove();
    }
    return batch;
  }
}

function known<T extends Schedulable>(item: T): item is T & { estimateMs: number } {
  return typeof item.estimateMs === 'number';
}
