/**
 * Invariants of the Lambda fleet simulator (bench/scale), on small inputs with exact expectations.
 * The simulator is plain CommonJS JavaScript; it is loaded with require and used untyped.
 */
export {};

import type { Backend, InvokeOptions } from '../src/backends/types';
import { dispatch, type DispatchItem } from '../src/dispatch';
import { MAX_FILES_PER_REQUEST, PROTOCOL_VERSION, type FileResponse, type ProjectPayload, type RunRequest, type RunResponse } from '../src/protocol';

const { DEFAULTS, coldStartMs } = require('../bench/scale/params');
const { simulate, runStrategy, oursPlan, moduloPlan, staticPlan, sequencerOrder, takeBatch } = require('../bench/scale/simulate');
const { lowerBounds, minInvocations, capacityBoundMs, environmentReadyTimes } = require('../bench/scale/bounds');
const { StepBucket, ContinuousBucket } = require('../bench/scale/fleet');
const { makeSuite } = require('../bench/scale/suite');
const { createRandom } = require('../bench/scale/random');

type File = { index: number; durationMs: number; estimateMs: number | null; resultBytes: number };

/** Parameters with the client made free and round per-invocation costs (25 ms + 15 ms of network,
 * nothing per file), one file per invocation, so that times are sums of a few known terms. */
const base = {
  ...DEFAULTS,
  clientStartupMs: 0,
  clientPerFileMs: 0,
  estimateNoiseSigma: 0,
  newFileFraction: 0,
  invokeOverheadMs: 25,
  networkRttMs: 15,
  fileOverheadMs: 0,
  batchMs: 0,
};
const COLD = 250 + 2 * 30 + 750 + 270; // initMs + s3 round trips + 60 MB at 80 MB/s + jestBootMs
const OVERHEAD = 40; // per invocation: invokeOverheadMs + networkRttMs

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
    const p = { ...base, concurrency: 2, invokeOverheadMs: 0, networkRttMs: 0 };
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
    const distribution = {
      name: 'synthetic',
      perFileMs: [0, 5, 20, 35, 60, 90, 150, 400, 1200, 4000],
      perFileResultBytes: [1e3, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 7e6, 2e5],
    };
    for (let trial = 0; trial < 80; trial++) {
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
        invokeOverheadMs: random.uniform() * 40,
        networkRttMs: random.uniform() * 40,
        fileOverheadMs: random.uniform() * 10,
        batchMs: [0, 60, 250, 1000][random.int(4)],
        maxFilesPerRequest: 1 + random.int(32),
        firstRun: random.uniform() < 0.3,
      };
      const suite = makeSuite(distribution, { files, seed: trial, estimateNoiseSigma: 0.5, newFileFraction: 0.2 });
      const { boundMs, floorMs } = lowerBounds(suite, p);
      expect(floorMs).toBeGreaterThanOrEqual(boundMs);
      const fewest = minInvocations(suite, p);
      for (const name of ['ours', 'oursUnbatched', 'modulo', 'moduloBatched', 'static', 'queueFileOrder']) {
        const result = runStrategy(name, suite, p);
        expect(result.makespanMs).toBeGreaterThanOrEqual(floorMs - 1e-6);
        expect(result.files).toBe(files);
        if (['oursUnbatched', 'modulo', 'static'].includes(name) || p.batchMs === 0) expect(result.invocations).toBe(files);
        else expect(result.invocations).toBeGreaterThanOrEqual(fewest);
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
  describe('batching (src/dispatch.ts: small files several to one invocation)', () => {
    /** One slot, the default batching (250 ms, 32 files), 5 ms per file on the fleet, 2 ms per result on the client. */
    const p1 = { ...base, concurrency: 1, batchMs: 250, maxFilesPerRequest: 32, fileOverheadMs: 5, clientPerFileMs: 2 };
    const FILE = 5;
    const CLIENT = 2;

    test('four 50 ms files on one slot: one invocation overhead instead of four; per-file costs stay per file', () => {
      const suite = suiteOf([50, 50, 50, 50]);
      const batched = runStrategy('ours', suite, p1);
      expect(batched.invocations).toBe(1);
      expect(batched.files).toBe(4);
      // One request: overhead once, then the four files one after another; then four results on the client.
      expect(batched.makespanMs).toBe(COLD + OVERHEAD + 4 * (FILE + 50) + 4 * CLIENT);
      const alone = runStrategy('oursUnbatched', suite, p1);
      expect(alone.invocations).toBe(4);
      // Four requests; the slot sends the next only after the client processed the last result.
      expect(alone.makespanMs).toBe(COLD + 4 * (OVERHEAD + FILE + 50 + CLIENT));
      expect(alone.makespanMs - batched.makespanMs).toBe(3 * OVERHEAD);
      // batchMs = 0 is one file per invocation, the same as the unbatched strategy.
      expect(runStrategy('ours', suite, { ...p1, batchMs: 0 }).makespanMs).toBe(alone.makespanMs);
    });

    test('the budget: estimates may sum to batchMs exactly, not more; the first file must be under it', () => {
      const five = runStrategy('ours', suiteOf([50, 50, 50, 50, 50]), p1);
      expect(five.invocations).toBe(1);
      const six = runStrategy('ours', suiteOf([50, 50, 50, 50, 50, 50]), p1);
      expect(six.invocations).toBe(2); // 5 + 1
      const order = suiteOf([250, 10, 10]);
      expect(takeBatch(order, 0, p1).batch.map((f: File) => f.index)).toEqual([0]); // 250 is not under 250: alone
      expect(takeBatch(order, 1, p1).batch.map((f: File) => f.index)).toEqual([1, 2]);
      // Longest first: [300] alone (not under 250); [100, 100] (adding the 60 would make 260); [60, 40].
      const mixed = suiteOf([40, 300, 100, 60, 100]);
      const batches: number[][] = [];
      const plan = oursPlan(mixed, 1, p1);
      for (let b = plan.next(0); b; b = plan.next(0)) batches.push(b.map((f: File) => f.durationMs));
      expect(batches).toEqual([[300], [100, 100], [60, 40]]);
    });

    test('files without a cached duration go alone, and a batch stops before one', () => {
      const suite: File[] = [
        { index: 0, durationMs: 50, estimateMs: null, resultBytes: 0 },
        { index: 1, durationMs: 50, estimateMs: 50, resultBytes: 0 },
        { index: 2, durationMs: 50, estimateMs: 50, resultBytes: 0 },
        { index: 3, durationMs: 50, estimateMs: null, resultBytes: 0 },
      ];
      // Sequencer order: the two new files first (each alone), then the known ones together.
      const result = runStrategy('ours', suite, p1);
      expect(result.invocations).toBe(3);
      expect(result.makespanMs).toBe(COLD + 3 * OVERHEAD + 4 * (FILE + 50) + 4 * CLIENT);
      // A batch stops before a file without a duration; a file without one takes no followers.
      expect(takeBatch([suite[1], suite[3], suite[2]], 0, p1).batch.map((f: File) => f.index)).toEqual([1]);
      expect(takeBatch([suite[0], suite[1]], 0, p1).batch.map((f: File) => f.index)).toEqual([0]);
    });

    test('at most 32 files per invocation', () => {
      const suite = suiteOf(Array.from({ length: 70 }, () => 1));
      const result = runStrategy('ours', suite, p1);
      expect(result.invocations).toBe(3); // 32 + 32 + 6
      expect(result.makespanMs).toBe(COLD + 3 * OVERHEAD + 70 * (FILE + 1) + 70 * CLIENT);
      expect(minInvocations(suite, p1)).toBe(3);
      expect(DEFAULTS.maxFilesPerRequest).toBe(MAX_FILES_PER_REQUEST);
    });

    test('batches are made from the estimates, not the actual durations', () => {
      // Believed 50 ms each, but the second takes 2 s: it still rides along.
      const suite: File[] = [
        { index: 0, durationMs: 50, estimateMs: 50, resultBytes: 0 },
        { index: 1, durationMs: 2000, estimateMs: 50, resultBytes: 0 },
      ];
      const result = runStrategy('ours', suite, p1);
      expect(result.invocations).toBe(1);
      expect(result.makespanMs).toBe(COLD + OVERHEAD + 2 * FILE + 2050 + 2 * CLIENT);
    });

    test('a batch answer above the 6 MB response limit goes through S3 as a whole', () => {
      const p = { ...p1, fileOverheadMs: 0, clientPerFileMs: 0 };
      const file = (index: number) => ({ index, durationMs: 50, estimateMs: 50, resultBytes: 4_000_000 });
      const result = runStrategy('ours', [file(0), file(1)], p);
      expect(result.invocations).toBe(1);
      expect(result.s3Results).toBe(1);
      expect(result.makespanMs).toBeCloseTo(COLD + OVERHEAD + 100 + 2 * 30 + (8_000_000 / 80e6) * 1000 + (8_000_000 / 50e6) * 1000, 9);
    });

    test('the floor counts the fewest invocations the rule allows', () => {
      // 3 new files alone, 1 file above the budget alone; 10 files of 100 ms need at least 4 requests of 250 ms.
      const suite: File[] = [
        ...[0, 1, 2].map((index) => ({ index, durationMs: 10, estimateMs: null, resultBytes: 0 })),
        { index: 3, durationMs: 400, estimateMs: 400, resultBytes: 0 },
        ...Array.from({ length: 10 }, (_, i) => ({ index: 4 + i, durationMs: 100, estimateMs: 100, resultBytes: 0 })),
      ];
      expect(minInvocations(suite, p1)).toBe(3 + 1 + 4);
      expect(minInvocations(suite, { ...p1, batchMs: 0 })).toBe(14);
      expect(minInvocations(suite, { ...p1, maxFilesPerRequest: 2 })).toBe(3 + 1 + 5);
      // One slot, no burst delay: ours runs 9 invocations here (the 100 ms files go 2 per request), above that floor.
      const p = { ...p1, clientPerFileMs: 0, burstRefill: 'none' };
      const result = runStrategy('ours', suite, p);
      expect(result.invocations).toBe(3 + 1 + 5);
      const { floorMs } = lowerBounds(suite, p);
      expect(floorMs).toBe(COLD + 8 * OVERHEAD + 14 * FILE + 30 + 400 + 1000);
      expect(result.makespanMs).toBe(floorMs + OVERHEAD);
    });

    test('the default overheads reproduce the loopback measurement at C = 1 (16.1 ms/file alone, 10.0 batched by 4)', () => {
      const p = { ...DEFAULTS, networkRttMs: 0 };
      expect(p.invokeOverheadMs + p.fileOverheadMs + p.clientPerFileMs).toBeCloseTo(16.1, 1);
      expect(p.invokeOverheadMs / 4 + p.fileOverheadMs + p.clientPerFileMs).toBeCloseTo(10.0, 1);
    });

    test.each([
      ['the client not counted', 0],
      ['a client cost given (one slot is never client-aware: it runs in series whatever the order)', 3],
    ])('the model schedules exactly as src/dispatch.ts does, %s (random estimate lists, one slot)', async (_label, clientMs) => {
      const project = { key: 'a'.repeat(64) } as ProjectPayload;
      const random = createRandom(99);
      const sizes: number[] = [];
      let backwards = 0;
      for (let trial = 0; trial < 40; trial++) {
        const allTiny = trial % 5 === 0; // every fifth list: only files of at most 5 ms, so the 32-file cap binds
        const n = allTiny ? 64 + random.int(60) : 1 + random.int(120);
        const batchMs = allTiny ? 250 : [50, 250, 1000][random.int(3)]!;
        const tiny = allTiny ? 2 : 0.15 + 0.85 * random.uniform(); // share of small files
        const suite: File[] = Array.from({ length: n }, (_, index) => {
          const r = random.uniform();
          const estimateMs = allTiny
            ? random.uniform() * 5
            : r < 0.05
              ? null
              : r < 0.1
                ? batchMs
                : r < tiny
                  ? random.int(26)
                  : random.uniform() * 1.5 * batchMs; // whole ms: sums that hit batchMs exactly
          return { index, durationMs: 1, estimateMs, resultBytes: 0 };
        });
        // The model, one slot, in the order given (dispatch.ts takes Jest's order as it comes); with one
        // slot every earlier file is finished when the next request is made.
        const { queuePlan } = require('../bench/scale/simulate');
        const plan = queuePlan(suite, 1, { batchMs, maxFilesPerRequest: MAX_FILES_PER_REQUEST, clientPerFileMs: clientMs });
        const modelled: number[][] = [];
        let finished = 0;
        for (let b = plan.next(0, { unfinished: n }); b; b = plan.next(0, { unfinished: n - finished })) {
          modelled.push(b.map((f: File) => f.index));
          finished += b.length;
        }
        if (modelled.some((b, i) => i > 0 && b[0]! < modelled[i - 1]![0]!)) backwards++;
        // The runner, one slot, with a backend that answers every request at once.
        const sent: number[][] = [];
        const backend: Backend = {
          name: 'fake',
          ship: async () => {
            throw new Error('not used');
          },
          invoke: async (request: RunRequest, _options: InvokeOptions): Promise<RunResponse> => {
            const paths = [request.testPath, ...(request.moreTestPaths ?? [])];
            sent.push(paths.map((x) => Number(x.slice(3))));
            const one = (testPath: string): FileResponse => ({
              protocolVersion: PROTOCOL_VERSION,
              status: 'completed',
              result: { testFilePath: testPath, numFailingTests: 0, numPassingTests: 1, numPendingTests: 0, testResults: [] },
              writes: [],
              events: [],
              timing: {},
            });
            return paths.length === 1 ? one(request.testPath) : { protocolVersion: PROTOCOL_VERSION, status: 'batch', results: paths.map(one) };
          },
          close: async () => {},
        } as unknown as Backend;
        const items: DispatchItem[] = suite.map((f) => ({
          testPath: `/p/${f.index}`,
          project,
          ...(f.estimateMs === null ? {} : { estimateMs: f.estimateMs }),
        }));
        await dispatch(items, {
          backend,
          concurrency: 1,
          retries: 0,
          runId: 'r',
          globalConfig: {},
          mode: 'worker',
          signal: new AbortController().signal,
          batchMs,
          clientMsPerFile: clientMs,
          onStart: async () => {},
          onEvent: () => {},
          onOutcome: async () => {},
        });
        expect(modelled).toEqual(sent);
        sizes.push(...sent.map((b) => b.length));
      }
      // The cases cover single files, batches, and the 32-file cap.
      expect(sizes.filter((n) => n === 1).length).toBeGreaterThan(0);
      expect(sizes.filter((n) => n > 1).length).toBeGreaterThan(0);
      expect(Math.max(...sizes)).toBe(MAX_FILES_PER_REQUEST);
      expect(backwards).toBe(0);
    });
  });
});
