'use strict';
// Seeded pseudo-random numbers, so that every run of the simulator is reproducible.
// The generator is mulberry32 (32-bit state, period 2^32): plenty for bootstrap sampling.

/** Mixes a string into a 32-bit seed (FNV-1a), so sub-streams can be named: seedFrom(7, 'luxon', 1000). */
function seedFrom(...parts) {
  let h = 0x811c9dc5;
  for (const ch of parts.join('|')) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Returns an object with uniform(), normal(), lognormal(sigma) and int(n), all from one seeded stream. */
function createRandom(seed) {
  let state = seed >>> 0;
  function uniform() {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  let spare = null;
  /** Standard normal variate (Box-Muller, both halves used). */
  function normal() {
    if (spare !== null) {
      const value = spare;
      spare = null;
      return value;
    }
    let u = 0;
    while (u === 0) u = uniform();
    const v = uniform();
    const radius = Math.sqrt(-2 * Math.log(u));
    spare = radius * Math.sin(2 * Math.PI * v);
    return radius * Math.cos(2 * Math.PI * v);
  }
  return {
    uniform,
    normal,
    /** exp(sigma * Z): a multiplicative noise factor with median 1. */
    lognormal: (sigma) => Math.exp(sigma * normal()),
    /** Integer in [0, n). */
    int: (n) => Math.floor(uniform() * n),
  };
}

module.exports = { createRandom, seedFrom };
