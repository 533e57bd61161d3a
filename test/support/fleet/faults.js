/**
 * Faults at the environment level, scripted (the n-th invocation gets script[n], later ones
 * `then`) or random with a seed (each invocation is hit with probability `rate`, the kind drawn by
 * weight). Kinds:
 *   kill        the environment is killed (SIGKILL) while it runs the invocation -> Runtime.ExitError
 *   hang        the environment freezes (SIGSTOP): no answer; the function's timeout ends it
 *   garbage     the environment's answer arrives, but as bytes that are not its JSON
 *   throttle    a burst of 429s: this and the next `throttleBurst - 1` invocations are refused
 *   init-crash  the invocation gets a new environment that crashes during init
 *   slow-start  the invocation gets a new environment whose cold start takes `slowStartMs` more
 *   pass        nothing
 */
const { createRandom } = require('../../../bench/scale/random');

const KINDS = ['kill', 'hang', 'garbage', 'throttle', 'init-crash', 'slow-start', 'pass'];

class FaultPlan {
  /**
   * @param {{ script?: string[], then?: string, random?: { seed: number, rate: number, weights: Record<string, number> },
   *   throttleBurst?: number }} plan
   */
  constructor(plan = {}) {
    for (const kind of [...(plan.script ?? []), plan.then ?? 'pass', ...Object.keys(plan.random?.weights ?? {})]) {
      if (!KINDS.includes(kind)) throw new Error(`Unknown fault "${kind}"; expected one of ${KINDS.join(', ')}.`);
    }
    this.plan = plan;
    this.count = 0;
    this.throttleLeft = 0;
    this.random = plan.random ? createRandom(plan.random.seed >>> 0) : undefined;
    this.injected = Object.fromEntries(KINDS.filter((k) => k !== 'pass').map((k) => [k, 0]));
  }

  /** The fault for the next invocation. */
  next() {
    const n = this.count++;
    let kind;
    if (this.throttleLeft > 0) {
      this.throttleLeft--;
      this.injected.throttle++;
      return 'throttle';
    }
    if (n < (this.plan.script ?? []).length) {
      kind = this.plan.script[n];
    } else if (this.random && this.random.uniform() < this.plan.random.rate) {
      kind = this.#draw();
    } else {
      kind = this.plan.then ?? 'pass';
    }
    if (kind === 'throttle') this.throttleLeft = Math.max(0, (this.plan.throttleBurst ?? 1) - 1);
    if (kind !== 'pass') this.injected[kind]++;
    return kind;
  }

  #draw() {
    const weights = Object.entries(this.plan.random.weights);
    const total = weights.reduce((s, [, w]) => s + w, 0);
    let x = this.random.uniform() * total;
    for (const [kind, w] of weights) {
      if ((x -= w) < 0) return kind;
    }
    return weights.at(-1)[0];
  }

  /** A number in [0, 1) from the plan's stream (or Math.random without a seed). */
  uniform() {
    return this.random ? this.random.uniform() : Math.random();
  }

  total() {
    return Object.values(this.injected).reduce((a, b) => a + b, 0);
  }
}

module.exports = { FaultPlan, KINDS };
