'use strict';
// Shared limits of the Lambda fleet, as token buckets, and a small binary heap for the event queue.

/**
 * The burst scaling limit, nominal form: the bucket holds `capacity` new environments and is filled
 * back to `capacity` at every `windowMs` boundary (counted from `startMs`). Unused tokens don't accrue.
 */
class StepBucket {
  constructor(capacity, windowMs, startMs = 0) {
    this.capacity = capacity;
    this.windowMs = windowMs;
    this.startMs = startMs;
    this.window = 0;
    this.tokens = capacity;
    this.lastMs = startMs;
  }

  /** Takes one token at `atMs` or later (requests are served in order); returns when it was granted. */
  take(atMs) {
    let t = Math.max(atMs, this.lastMs);
    const window = Math.floor((t - this.startMs) / this.windowMs);
    if (window > this.window) {
      this.window = window;
      this.tokens = this.capacity;
    }
    if (this.tokens === 0) {
      this.window += 1;
      this.tokens = this.capacity;
      t = this.startMs + this.window * this.windowMs;
    }
    this.tokens -= 1;
    this.lastMs = t;
    return t;
  }
}

/** A token bucket refilled continuously at `perMs` tokens per ms up to `capacity`, full at `startMs`. */
class ContinuousBucket {
  constructor(capacity, perMs, startMs = 0) {
    this.capacity = capacity;
    this.perMs = perMs;
    this.tokens = capacity;
    this.lastMs = startMs;
  }

  take(atMs) {
    let t = Math.max(atMs, this.lastMs);
    this.tokens = Math.min(this.capacity, this.tokens + (t - this.lastMs) * this.perMs);
    if (this.tokens >= 1) {
      this.tokens -= 1;
    } else {
      t += (1 - this.tokens) / this.perMs;
      this.tokens = 0;
    }
    this.lastMs = t;
    return t;
  }
}

/** The bucket for new execution environments, per the `burstRefill` parameter. */
function burstBucket(p, startMs) {
  if (p.burstRefill === 'continuous') {
    return new ContinuousBucket(p.burstEnvironments, p.burstEnvironments / p.burstWindowMs, startMs);
  }
  if (p.burstRefill === 'step') return new StepBucket(p.burstEnvironments, p.burstWindowMs, startMs);
  if (p.burstRefill === 'none') return { take: (atMs) => atMs };
  throw new Error(`burstRefill must be step, continuous or none, not ${p.burstRefill}`);
}

/** The account's invoke rate limit (requests per second = factor x account concurrency), 1 s of burst. */
function rateBucket(p, startMs) {
  const perSecond = p.requestsPerSecondPerConcurrency * p.accountConcurrency;
  if (!Number.isFinite(perSecond)) return { take: (atMs) => atMs };
  return new ContinuousBucket(perSecond, perSecond / 1000, startMs);
}

/** Binary min-heap under a strict total order `less` (hand-written: a few lines, no dependency for a benchmark). */
class MinHeap {
  constructor(less, items = []) {
    this.less = less;
    this.items = [];
    for (const item of items) this.push(item);
  }

  get size() {
    return this.items.length;
  }

  push(item) {
    const items = this.items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(items[i], items[parent])) break;
      [items[i], items[parent]] = [items[parent], items[i]];
      i = parent;
    }
  }

  pop() {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < items.length && this.less(items[left], items[smallest])) smallest = left;
        if (right < items.length && this.less(items[right], items[smallest])) smallest = right;
        if (smallest === i) break;
        [items[i], items[smallest]] = [items[smallest], items[i]];
        i = smallest;
      }
    }
    return top;
  }
}

/** Events ordered by time, then by insertion order (so equal times are FIFO). */
class EventQueue {
  constructor() {
    this.heap = new MinHeap((a, b) => a.timeMs < b.timeMs || (a.timeMs === b.timeMs && a.seq < b.seq));
    this.seq = 0;
  }

  get size() {
    return this.heap.size;
  }

  push(timeMs, event) {
    this.heap.push({ timeMs, seq: this.seq++, event });
  }

  pop() {
    return this.heap.pop();
  }
}

module.exports = { StepBucket, ContinuousBucket, burstBucket, rateBucket, EventQueue, MinHeap };
