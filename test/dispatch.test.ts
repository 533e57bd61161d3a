import type { Backend, InvokeOptions } from '../src/backends/types';
import { TransportError } from '../src/errors';
import { dispatch, type DispatchItem, type FileOutcome } from '../src/dispatch';
import { PROTOCOL_VERSION, type ProjectPayload, type RunRequest, type RunResponse } from '../src/protocol';

const project = { key: 'a'.repeat(64) } as ProjectPayload;
const items = (n: number): DispatchItem[] => Array.from({ length: n }, (_, i) => ({ testPath: `/p/t${i}.test.js`, project }));

const completed = (testPath: string): RunResponse => ({
  protocolVersion: PROTOCOL_VERSION,
  status: 'completed',
  result: { testFilePath: testPath, numFailingTests: 0, numPassingTests: 1, numPendingTests: 0, testResults: [{ title: 't', status: 'passed' }] },
  writes: [],
  events: [{ name: 'test-case-result', args: [testPath, { title: 't' }] }],
  timing: {},
});

class FakeBackend implements Backend {
  readonly name = 'fake';
  readonly requests: RunRequest[] = [];
  inFlight = 0;
  maxInFlight = 0;
  constructor(readonly answer: (request: RunRequest, call: number) => RunResponse | Error) {}
  async ship(): Promise<never> {
    throw new Error('not used');
  }
  async invoke(request: RunRequest, _options: InvokeOptions): Promise<RunResponse> {
    this.requests.push(request);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    await new Promise((r) => setTimeout(r, 2));
    this.inFlight--;
    const answer = this.answer(request, this.requests.filter((r) => r.testPath === request.testPath).length);
    if (answer instanceof Error) throw answer;
    return answer;
  }
  async close(): Promise<void> {}
}

async function run(backend: Backend, list: DispatchItem[], retries = 2) {
  const outcomes: Array<[string, FileOutcome]> = [];
  const events: string[] = [];
  await dispatch(list, {
    backend,
    concurrency: 3,
    retries,
    runId: 'run-1',
    globalConfig: { seed: 1 },
    mode: 'worker',
    signal: new AbortController().signal,
    onStart: async () => {},
    onEvent: (item, e) => void events.push(`${item.testPath}:${e.name}`),
    onOutcome: async (item, outcome) => void outcomes.push([item.testPath, outcome]),
  });
  return { outcomes, events };
}

test('every file gets exactly one outcome, with at most `concurrency` in flight', async () => {
  const backend = new FakeBackend((r) => completed(r.testPath));
  const { outcomes, events } = await run(backend, items(10));
  expect(outcomes.map(([p]) => p).sort()).toEqual(
    items(10)
      .map((i) => i.testPath)
      .sort(),
  );
  expect(outcomes.every(([, o]) => o.kind === 'result')).toBe(true);
  expect(backend.maxInFlight).toBe(3);
  expect(events).toHaveLength(10);
});

test('the project travels only when the handler asks for it', async () => {
  const seen = new Set<string>();
  const backend = new FakeBackend((r) => {
    if (!r.project && !seen.has('x')) return { protocolVersion: PROTOCOL_VERSION, status: 'need-project' };
    seen.add('x');
    return completed(r.testPath);
  });
  await run(backend, items(1));
  expect(backend.requests.map((r) => Boolean(r.project))).toEqual([false, true]);
});

test('transport faults are retried and then reported as one failure that says what to do', async () => {
  const backend = new FakeBackend(() => new TransportError('connection reset', true));
  const { outcomes } = await run(backend, items(2), 2);
  expect(backend.requests).toHaveLength(6);
  expect(outcomes).toHaveLength(2);
  for (const [, outcome] of outcomes) {
    expect(outcome.kind).toBe('failure');
    if (outcome.kind === 'failure') {
      expect(outcome.error.message).toContain('after 3 attempt(s): connection reset');
      expect(outcome.error.message).toContain('not of your test');
    }
  }
});

test('a fault that later clears yields the real result, and events of failed attempts are dropped', async () => {
  const backend = new FakeBackend((r, call) => (call < 2 ? new TransportError('throttled', true) : completed(r.testPath)));
  const { outcomes, events } = await run(backend, items(1));
  expect(outcomes).toEqual([['/p/t0.test.js', expect.objectContaining({ kind: 'result' })]]);
  expect(events).toEqual(['/p/t0.test.js:test-case-result']);
});

test('a test file that fails to run is reported once and never retried', async () => {
  const backend = new FakeBackend(() => ({
    protocolVersion: PROTOCOL_VERSION,
    status: 'failed',
    error: { message: 'Cannot find module x', type: 'Error' },
    events: [],
    timing: {},
  }));
  const { outcomes } = await run(backend, items(1));
  expect(backend.requests).toHaveLength(1);
  expect(outcomes).toEqual([
    ['/p/t0.test.js', expect.objectContaining({ kind: 'failure', error: expect.objectContaining({ message: 'Cannot find module x' }) })],
  ]);
});

test('a worker that dies running a file is not retried: the file is reported as failed', async () => {
  const backend = new FakeBackend(() => new TransportError('Worker process 1 exited unexpectedly (code 1) during RUNNING state.', false));
  const { outcomes } = await run(backend, items(1));
  expect(backend.requests).toHaveLength(1);
  expect(outcomes[0]![1]).toMatchObject({ kind: 'failure', error: { message: expect.stringContaining('exited unexpectedly (code 1)') } });
});

test('cancellation stops dispatch: nothing is reported for files that never ran', async () => {
  const controller = new AbortController();
  const backend = new FakeBackend((r) => completed(r.testPath));
  const outcomes: string[] = [];
  await dispatch(items(6), {
    backend,
    concurrency: 1,
    retries: 0,
    runId: 'run-1',
    globalConfig: { seed: 1 },
    mode: 'worker',
    signal: controller.signal,
    onStart: async () => {},
    onEvent: () => {},
    onOutcome: async (item) => {
      outcomes.push(item.testPath);
      if (outcomes.length === 2) controller.abort();
    },
  });
  expect(outcomes).toEqual(['/p/t0.test.js', '/p/t1.test.js']);
  expect(backend.requests).toHaveLength(2);
});

test("every request carries the run's global config (it changes per run; the project description does not)", async () => {
  const backend = new FakeBackend((r) => completed(r.testPath));
  await run(backend, items(2));
  expect(backend.requests.map((r) => r.globalConfig)).toEqual([{ seed: 1 }, { seed: 1 }]);
});

describe('small files several to a request', () => {
  const timed = (ms: number[]): DispatchItem[] => ms.map((estimateMs, i) => ({ testPath: `/p/t${i}.test.js`, project, estimateMs }));
  const batchAnswer = (r: RunRequest): RunResponse => ({
    protocolVersion: PROTOCOL_VERSION,
    status: 'batch',
    results: [r.testPath, ...(r.moreTestPaths ?? [])].map((p) => completed(p) as Extract<RunResponse, { status: 'completed' }>),
  });
  const runWith = async (backend: Backend, list: DispatchItem[], batchMs: number, concurrency = 1) => {
    const outcomes: string[] = [];
    await dispatch(list, {
      backend,
      concurrency,
      retries: 2,
      runId: 'run-1',
      globalConfig: {},
      mode: 'worker',
      batchMs,
      signal: new AbortController().signal,
      onStart: async () => {},
      onEvent: () => {},
      onOutcome: async (item, outcome) => void outcomes.push(`${item.testPath}:${outcome.kind}`),
    });
    return outcomes;
  };

  test("files under the budget go together, in Jest's order, up to the budget; long and untimed files go alone", async () => {
    const backend = new FakeBackend((r) => (r.moreTestPaths ? batchAnswer(r) : completed(r.testPath)));
    const list = [...timed([900, 120, 100, 60, 50, 40, 30]), { testPath: '/p/new.test.js', project }];
    const outcomes = await runWith(backend, list, 250);
    expect(backend.requests.map((r) => [r.testPath, ...(r.moreTestPaths ?? [])].map((p) => p.slice(3)))).toEqual([
      ['t0.test.js'],
      ['t1.test.js', 't2.test.js'],
      ['t3.test.js', 't4.test.js', 't5.test.js', 't6.test.js'],
      ['new.test.js'],
    ]);
    expect(outcomes).toHaveLength(8);
    expect(outcomes.every((o) => o.endsWith(':result'))).toBe(true);
  });

  test('a batch the handler stopped part-way: the files it answered are reported once, the rest are sent again', async () => {
    const backend = new FakeBackend((r) => {
      if (!r.moreTestPaths) return completed(r.testPath);
      const answered = batchAnswer(r) as Extract<RunResponse, { status: 'batch' }>;
      return { ...answered, results: answered.results.slice(0, 1), stopped: { message: 'out of memory' } };
    });
    const outcomes = await runWith(backend, timed([50, 50, 50]), 250);
    expect(outcomes.sort()).toEqual(['/p/t0.test.js:result', '/p/t1.test.js:result', '/p/t2.test.js:result']);
    // first request: all three, then t1 and t2, then t2 alone (each answered one and stopped)
    expect(backend.requests.map((r) => 1 + (r.moreTestPaths?.length ?? 0))).toEqual([3, 2, 1]);
  });

  test('while slots are to spare (fewer files queued than slots), files go alone', async () => {
    const backend = new FakeBackend((r) => (r.moreTestPaths ? batchAnswer(r) : completed(r.testPath)));
    await runWith(backend, timed([50, 50, 50]), 250, 3);
    expect(backend.requests.every((r) => r.moreTestPaths === undefined)).toBe(true);
    const busy = new FakeBackend((r) => (r.moreTestPaths ? batchAnswer(r) : completed(r.testPath)));
    await runWith(busy, timed([50, 50, 50, 50, 50, 50, 50]), 250, 2);
    // 7 files, 2 slots: batches while at least 2 are queued, then the last ones alone
    expect(busy.requests.map((r) => 1 + (r.moreTestPaths?.length ?? 0)).sort()).toEqual([1, 1, 5].sort());
  });

  test('with no budget every file has its own request', async () => {
    const backend = new FakeBackend((r) => completed(r.testPath));
    await runWith(backend, timed([10, 10, 10]), 0);
    expect(backend.requests.every((r) => r.moreTestPaths === undefined)).toBe(true);
  });
});
