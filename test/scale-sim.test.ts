/**
 * Invariants of the Lambda fleet simulator (bench/scale), on small inputs with exact expectations.
 * The simulator is plain CommonJS JavaScript; it is loaded with require and used untyped.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
export {};

const { DEFAULTS, coldStartMs } = require('../bench/scale/params');
const { simulate, runStrategy, oursPlan, moduloPlan, staticPlan, sequencerOrder } = require('../bench/scale/simulate');
const { lowerBounds, capacityBoundMs, environmentReadyTimes } = require('../bench/scale/bounds');
const { StepBucket, ContinuousBucket } = require('../bench/scale/fleet');
const { makeSuite } = require('../bench/scale/suite');
const { createRandom } = require('../bench/scale/random');

type File = { index: number; durationMs: number; estimateMs: number | null; resultBytes: number };

/** Parameters with the client made free, so that times are sums of a few known terms. */
const base = { ...DEFAULTS, clientStartupMs: 0, clientPerFileMs: 0, estimateNoiseSigma: 0, newFileFraction: 0 };
const COLD = 250 + 2 * 30 + 750 + 270; // initMs + s3 round trips + 60 MB at 80 MB/s + jestBootMs
const OVERHEAD = 40;

/** A suite whose estimates are exact. */
const suiteOf = (durations: number[]): File[] => durations.map((durationMs, index) => ({ index, durationMs, estimateMs: durationMs, resultBytes: 0 }));

describe('bench/scale simulator', () => {
  test('the default cold start is the sum of its parts', () => {
    expect(coldStartMs(base)).toBe(COLD);
  });

  test('one file: makespan = cold start + invoke overhead + its duration', () => {
    const p = { ...base, concurrency: 10 };
    for (const name of ['ours', 'modulo', 'static']) {
      expect(runStrategy(name, suiteOf([500]), p).makespanMs).toBe(COLD + OVERHEAD + 500);
    }
    // The client's start-up, its per-result work and the result's download come on top.
    const withClient = { ...p, clientStartupMs: 30, clientPerFileMs: 2 };
    const file = { index: 0, durationMs: 500, estimateMs: 500, resultBytes: 1_000_000 };
    expect(runStrategy('ours', [file], withClient).makespanMs).toBeCloseTo(30 + COLD + OVERHEAD + 500 + 2 + 20, 9);
  });

  test('with C >= N and no burst limit, ours = start-up + the longest file', () => {
    const durations = [120, 3000, 45, 800, 45, 2999, 10];
    const p = { ...base, concurrency: 50, burstRefill: 'none', clientStartupMs: 25 };
    const suite = suiteOf(durations);
    expect(runStrategy('ours', suite, p).makespanMs).toBe(25 + COLD + OVERHEAD + 3000);
    expect(lowerBounds(suite, p).boundMs).toBe(25 + COLD + 3000);
  });

  test('the burst limit: environment 1,001 waits for the next 10 s window, 2,001 for the one after', () => {
    const p = { ...base, accountConcurrency: 3000, concurrency: 2500 };
    const long = (n: number) => suiteOf(Array.from({ length: n }, () => 60_000));
    const at1000 = runStrategy('ours', long(1000), { ...p, concurrency: 1000 });
    expect(at1000.environments).toBe(1000);
    expect(at1000.lastEnvironmentMs).toBe(0);
    expect(at1000.makespanMs).toBe(COLD + OVERHEAD + 60_000);

    const at1001 = runStrategy('ours', long(1001), { ...p, concurrency: 1001 });
    expect(at1001.lastEnvironmentMs).toBe(10_000);
    expect(at1001.makespanMs).toBe(10_000 + COLD + OVERHEAD + 60_000);

    const at2001 = runStrategy('ours', long(2001), p);
    expect(at2001.lastEnvironmentMs).toBe(20_000);
    expect(at2001.makespanMs).toBe(20_000 + COLD + OVERHEAD + 60_000);

    // Refilled continuously (100 per second), environment 1,001 waits 10 ms instead.
    const continuous = runStrategy('ours', long(1001), { ...p, concurrency: 1001, burstRefill: 'continuous' });
    expect(continuous.lastEnvironmentMs).toBeCloseTo(10, 9);

    // Modulo and static shards meet the same limit.
    expect(runStrategy('modulo', long(1001), { ...p, concurrency: 1001 }).makespanMs).toBe(at1001.makespanMs);
    expect(runStrategy('static', long(1001), { ...p, concurrency: 1001 }).makespanMs).toBe(at1001.makespanMs);
  });

  test('the bound counts environments held back by the burst limit through the capacity profile', () => {
    const p = { ...base, accountConcurrency: 2000, concurrency: 1500 };
    const ready = environmentReadyTimes(1500, p);
    expect(ready[999]).toBe(COLD);
    expect(ready[1000]).toBe(10_000 + COLD);
    // 1,500 files of 60 s: T such that 1000 (T - ready0) + 500 (T - ready1000) = 90,000,000 ms.
    const suite = suiteOf(Array.from({ length: 1500 }, () => 60_000));
    expect(lowerBounds(suite, p).boundMs).toBeCloseTo((90_000_000 + 1000 * COLD + 500 * (10_000 + COLD)) / 1500, 6);
  });

  test('capacity bound: equal ready times give ready + work / C; staggered ones are filled first', () => {
    expect(capacityBoundMs([0, 0, 0, 0], 100)).toBe(25);
    expect(capacityBoundMs([5, 5], 10)).toBe(10);
    expect(capacityBoundMs([0, 10], 10)).toBe(10);
    expect(capacityBoundMs([0, 10], 30)).toBe(20);
  });

  test('modulo, static and ours on a hand-made skewed suite', () => {
    // Files 0 and 4 are long; i mod 2 puts both on shard 0.
    const suite = suiteOf([1000, 10, 10, 10, 1000, 10]);
    const p = { ...base, concurrency: 2 };
    expect(simulate(moduloPlan(suite, 2), p).makespanMs).toBe(COLD + 1000 + 10 + 1000 + 3 * OVERHEAD);
    // Longest first: each slot runs one long file, then two short ones.
    expect(simulate(oursPlan(suite, 2), p).makespanMs).toBe(COLD + 1000 + 10 + 10 + 3 * OVERHEAD);
    expect(simulate(staticPlan(suite, 2, p), p).makespanMs).toBe(COLD + 1000 + 10 + 10 + 3 * OVERHEAD);
  });

  test('static shards are balanced on estimates, so a wrong estimate costs them and not the queue', () => {
    // File 1 is believed long (500 ms) but takes 100 ms.
    const suite: File[] = [
      { index: 0, durationMs: 300, estimateMs: 300, resultBytes: 0 },
      { index: 1, durationMs: 100, estimateMs: 500, resultBytes: 0 },
      { index: 2, durationMs: 400, estimateMs: 400, resultBytes: 0 },
      { index: 3, durationMs: 200, estimateMs: 200, resultBytes: 0 },
    ];
    const p = { ...base, concurrency: 2, invokeOverheadMs: 0 };
    // LPT on estimates: 500 (file 1) -> A, 400 (file 2) -> B, 300 (file 0) -> B, 200 (file 3) -> A.
    // Actual: A = 100 + 200, B = 400 + 300.
    expect(simulate(staticPlan(suite, 2, p), p).makespanMs).toBe(COLD + 700);
    // Queue: A runs file 1 (0-100), then file 0 (100-400), then file 3 (400-600); B runs file 2 (0-400).
    expect(simulate(oursPlan(suite, 2), p).makespanMs).toBe(COLD + 600);
  });

  test("ours follows Jest's sequencer: files without a duration first, then longest estimate first", () => {
    const suite: File[] = [
      { index: 0, durationMs: 1, estimateMs: 5, resultBytes: 0 },
      { index: 1, durationMs: 1, estimateMs: null, resultBytes: 0 },
      { index: 2, durationMs: 1, estimateMs: 50, resultBytes: 0 },
      { index: 3, durationMs: 1, estimateMs: null, resultBytes: 0 },
    ];
    expect(sequencerOrder(suite).map((f: File) => f.index)).toEqual([1, 3, 2, 0]);
  });

  test('the client is one thread: results wait for it, FIFO', () => {
    // 4 files of 100 ms on 4 slots arrive together; 50 ms each to process, one after another.
    const p = { ...base, concurrency: 4, clientPerFileMs: 50 };
    expect(runStrategy('ours', suiteOf([100, 100, 100, 100]), p).makespanMs).toBe(COLD + OVERHEAD + 100 + 4 * 50);
  });

  test('a result above the 6 MB response limit goes through S3', () => {
    const p = { ...base, concurrency: 1 };
    const big = { index: 0, durationMs: 100, estimateMs: 100, resultBytes: 8_000_000 };
    expect(runStrategy('ours', [big], p).makespanMs).toBeCloseTo(COLD + OVERHEAD + 100 + 2 * 30 + 100 + (8_000_000 / 50e6) * 1000, 9);
  });

  test('buckets: step refills at window boundaries, continuous at a rate; both serve in order', () => {
    const step = new StepBucket(2, 1000);
    expect([0, 0, 0, 0, 2500].map((t) => step.take(t))).toEqual([0, 0, 1000, 1000, 2500]);
    const cont = new ContinuousBucket(2, 0.01); // 10 per second
    const times = [0, 0, 0, 0].map((t) => cont.take(t));
    expect(times[0]).toBe(0);
    expect(times[1]).toBe(0);
    expect(times[2]).toBeCloseTo(100, 9);
    expect(times[3]).toBeCloseTo(200, 9);
  });

  test('no strategy beats the lower bound or the modelled floor (random small cases)', () => {
    const random = createRandom(12345);
    const distribution = { name: 'synthetic', perFileMs: [5, 20, 35, 60, 90, 150, 400, 1200, 4000], perFileResultBytes: [1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 7e6, 2e5] };
    for (let trial = 0; trial < 60; trial++) {
      const files = 1 + random.int(80);
      const p = {
        ...DEFAULTS,
        concurrency: 1 + random.int(30),
        accountConcurrency: 1 + random.int(40),
        requestsPerSecondPerConcurrency: 1 + random.int(10),
        burstEnvironments: 1 + random.int(6),
        burstWindowMs: 200 + random.int(2000),
        burstRefill: random.uniform() < 0.5 ? 'step' : 'continuous',
        clientPerFileMs: random.uniform() * 5,
        invokeOverheadMs: random.uniform() * 60,
        firstRun: random.uniform() < 0.3,
      };
      const suite = makeSuite(distribution, { files, seed: trial, estimateNoiseSigma: 0.5, newFileFraction: 0.2 });
      const { boundMs, floorMs } = lowerBounds(suite, p);
      expect(floorMs).toBeGreaterThanOrEqual(boundMs);
      for (const name of ['ours', 'modulo', 'static']) {
        const result = runStrategy(name, suite, p);
        expect(result.makespanMs).toBeGreaterThanOrEqual(floorMs - 1e-6);
        expect(result.invocations).toBe(files);
      }
    }
  });

  test('suites are reproducible from the seed and bootstrap the measured durations', () => {
    const distribution = { name: 'd', perFileMs: [10, 20, 30] };
    const a = makeSuite(distribution, { files: 200, seed: 7, estimateNoiseSigma: 0.3, newFileFraction: 0.05 });
    const b = makeSuite(distribution, { files: 200, seed: 7, estimateNoiseSigma: 0.3, newFileFraction: 0.05 });
    const c = makeSuite(distribution, { files: 200, seed: 8, estimateNoiseSigma: 0.3, newFileFraction: 0.05 });
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(new Set(a.map((f: File) => f.durationMs))).toEqual(new Set([10, 20, 30]));
    const unknown = a.filter((f: File) => f.estimateMs === null).length;
    expect(unknown).toBeGreaterThan(0);
    expect(unknown).toBeLessThan(40);
  });
});
