/**
 * The scheduling rule (src/schedule.ts): longest first and small files batched; shortest first while
 * the client's thread is the bottleneck, without letting a long file start too late.
 */
import type { Backend } from '../src/backends/types';
import { dispatch, type DispatchItem } from '../src/dispatch';
import { PROTOCOL_VERSION, type ProjectPayload, type RunRequest, type RunResponse } from '../src/protocol';
import { CLIENT_SLACK, FileQueue } from '../src/dispatch/schedule';

type F = { name: string; estimateMs?: number | null; project?: string };

const files = (...estimates: Array<number | null>): F[] => estimates.map((estimateMs, i) => ({ name: `f${i}`, estimateMs, project: 'p' }));
const drain = (queue: FileQueue<F>, load?: (queued: number) => { unfinished: number; clientMsPerFile: number }): string[][] => {
  const out: string[][] = [];
  for (let batch = queue.take(load?.(queue.queued)); batch.length > 0; batch = queue.take(load?.(queue.queued))) out.push(batch.map((f) => f.name));
  return out;
};

describe('FileQueue', () => {
  test('without a client load: Jest order, one file per request when batchMs is 0', () => {
    const queue = new FileQueue(files(null, 300, 100, 10), { concurrency: 2, batchMs: 0, maxFilesPerRequest: 32 });
    expect(drain(queue)).toEqual([['f0'], ['f1'], ['f2'], ['f3']]);
  });

  test('small files batch up to batchMs, only while the queued files outnumber the slots, never across projects', () => {
    const items = [...files(300, 100, 100, 60, 40, 30, 20, 10)];
    items[6]!.project = 'q';
    const queue = new FileQueue(items, { concurrency: 1, batchMs: 250, maxFilesPerRequest: 32 });
    // [300] is not under 250; [100, 100] (+60 would make 260); [60, 40, 30] (the 20 is of project q);
    // [20] (the 10 is of project p); [10] (nothing queued after it).
    expect(drain(queue)).toEqual([['f0'], ['f1', 'f2'], ['f3', 'f4', 'f5'], ['f6'], ['f7']]);
    const wide = new FileQueue(files(10, 10, 10), { concurrency: 2, batchMs: 250, maxFilesPerRequest: 32 });
    // Two slots, two files queued after the first: it batches.
    expect(drain(wide)).toEqual([['f0', 'f1', 'f2']]);
    const spare = new FileQueue(files(10, 10, 10), { concurrency: 3, batchMs: 250, maxFilesPerRequest: 32 });
    expect(drain(spare)).toEqual([['f0'], ['f1'], ['f2']]);
  });

  test('fleet-bound (queued work per slot above the client work): longest first', () => {
    const queue = new FileQueue(files(1000, 500, 20, 10), { concurrency: 2, batchMs: 0, maxFilesPerRequest: 32 });
    // client work 4 files x 1 ms = 4 ms < fleet 1530 / 2
    expect(drain(queue, (queued) => ({ unfinished: queued, clientMsPerFile: 1 }))).toEqual([['f0'], ['f1'], ['f2'], ['f3']]);
  });

  test('client-bound: the shortest files first, the long one once its estimate reaches half the remaining client work', () => {
    // 100 files: one of 40 ms and 99 of 1 ms, 10 slots, 2 ms of client per file: the client needs
    // 200 ms, the fleet (139 ms of work on 10 slots) 14 ms.
    const items = files(40, ...Array.from({ length: 99 }, () => 1));
    const queue = new FileQueue(items, { concurrency: 10, batchMs: 0, maxFilesPerRequest: 32 });
    const order = drain(queue, (queued) => ({ unfinished: queued, clientMsPerFile: 2 })).flat();
    // Taken from the back while 40 < 0.5 x queued x 2, i.e. while more than 40 files are queued.
    const longAt = order.indexOf('f0');
    expect(order.slice(0, 3)).toEqual(['f99', 'f98', 'f97']);
    expect(100 - longAt).toBe(40 / (CLIENT_SLACK * 2));
    expect(new Set(order).size).toBe(100);
  });

  test('one slot keeps the Jest order, client-bound or not', () => {
    const queue = new FileQueue(files(40, 1, 1, 1), { concurrency: 1, batchMs: 0, maxFilesPerRequest: 32 });
    expect(drain(queue, () => ({ unfinished: 100, clientMsPerFile: 10 })).flat()).toEqual(['f0', 'f1', 'f2', 'f3']);
  });

  test('files without an estimate at either end keep the Jest order', () => {
    const queue = new FileQueue(files(null, 5, 5, 5), { concurrency: 4, batchMs: 0, maxFilesPerRequest: 32 });
    expect(drain(queue, () => ({ unfinished: 100, clientMsPerFile: 10 }))[0]).toEqual(['f0']);
  });

  test('shortest-first batches go backwards through the queue under the same budget and cap', () => {
    const queue = new FileQueue(files(200, ...Array.from({ length: 40 }, () => 1)), { concurrency: 2, batchMs: 250, maxFilesPerRequest: 32 });
    const first = queue.take({ unfinished: 41, clientMsPerFile: 20 });
    expect(first.map((f) => f.name)).toEqual(Array.from({ length: 32 }, (_, i) => `f${40 - i}`));
  });
});

describe('dispatch() feeds the queue its client load', () => {
  /** The order in which dispatch() sends files: one long file and 99 short ones, client-bound at 2 ms per file. */
  async function sentOrder(mode: 'in-band' | 'worker', concurrency: number, clientMsPerFile?: number): Promise<number[]> {
    const project = { key: 'a'.repeat(64) } as ProjectPayload;
    const items: DispatchItem[] = [40, ...Array.from({ length: 99 }, () => 1)].map((estimateMs, i) => ({ testPath: `/p/${i}`, project, estimateMs }));
    const sent: number[] = [];
    const backend = {
      name: 'fake',
      invoke: async (request: RunRequest): Promise<RunResponse> => {
        sent.push(Number(request.testPath.slice(3)));
        await new Promise((resolve) => setImmediate(resolve));
        return {
          protocolVersion: PROTOCOL_VERSION,
          status: 'completed',
          result: { testFilePath: request.testPath, numFailingTests: 0, numPassingTests: 1, numPendingTests: 0, testResults: [] },
          writes: [],
          events: [],
          timing: {},
        } as RunResponse;
      },
      close: async () => {},
    } as unknown as Backend;
    await dispatch(items, {
      backend,
      concurrency,
      retries: 0,
      runId: 'r',
      globalConfig: {},
      mode,
      signal: new AbortController().signal,
      ...(clientMsPerFile === undefined ? {} : { clientMsPerFile }),
      onStart: async () => {},
      onEvent: () => {},
      onOutcome: async () => {},
    });
    expect([...sent].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    return sent;
  }

  test('on a pool of slots, client-bound: the shortest files go first and the long one still starts', async () => {
    const order = await sentOrder('worker', 10, 2);
    expect(order.slice(0, 10)).toEqual([99, 98, 97, 96, 95, 94, 93, 92, 91, 90]);
    expect(order.indexOf(0)).toBeGreaterThan(10);
    expect(order.indexOf(0)).toBeLessThan(99);
  });

  test("remote files in Jest's in-band mode (a 2-core CI machine) are scheduled the same way", async () => {
    expect((await sentOrder('in-band', 10, 2)).slice(0, 3)).toEqual([99, 98, 97]);
  });

  test('with the client cost given as 0 (local in band: tests on the client thread), the Jest order', async () => {
    expect((await sentOrder('worker', 10, 0)).slice(0, 3)).toEqual([0, 1, 2]);
  });
});
