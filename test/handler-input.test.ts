/** Bad input to the handler is rejected with a clear error and nothing lands outside the run directory. */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execute } from '../handler/execute';
import { handler } from '../handler/index';
import { decodePack, encodePackSync } from '../src/ship/pack';
import { materialize } from '../handler/materialize';
import { PROTOCOL_VERSION, RunRequestSchema, RunResponseSchema, type Manifest } from '../src/protocol';
import { LocalBlobStore } from '../src/ship/blob-store';

const hash = (s: string) => crypto.createHash('sha256').update(s).digest('hex');
let work: string;
let store: LocalBlobStore;
let root: string;
let statePath: string;

beforeEach(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'jrl-handler-'));
  store = new LocalBlobStore(path.join(work, 'blobs'));
  root = path.join(work, 'root');
  statePath = path.join(work, 'root.state.json');
  const src = path.join(work, 'src.txt');
  fs.writeFileSync(src, 'hello');
  store.add(new Map([[hash('hello'), src]]));
});
afterEach(() => fs.rmSync(work, { recursive: true, force: true }));

const manifestWith = (files: Manifest['files'], links: Manifest['links'] = []): Manifest => ({ files, links, dirs: [] });

test('a request of another protocol version is refused by name', async () => {
  const response = await execute(
    { protocolVersion: 99, runId: 'r', mode: 'worker', projectKey: 'a'.repeat(64), testPath: '/x' },
    { root: { kind: 'prepared' } },
  );
  expect(response.status).toBe('crashed');
  if (response.status === 'crashed') expect(response.error.message).toMatch(/Invalid run request:[\s\S]*protocolVersion/);
});

test.each([
  ['../escape.txt', 'must not contain ".."'],
  ['/etc/passwd', 'must be relative'],
  ['a/../../b', 'must not contain ".."'],
  ['a\\b', 'separators'],
])('manifest path %j is rejected by the schema (%s)', (bad, why) => {
  const parsed = RunRequestSchema.safeParse({
    protocolVersion: PROTOCOL_VERSION,
    runId: 'r',
    globalConfig: {},
    mode: 'worker',
    projectKey: 'a'.repeat(64),
    testPath: '/x',
    project: {
      key: 'a'.repeat(64),
      localBase: '/p',
      manifest: manifestWith([{ path: bad, hash: hash('hello'), size: 5 }]),
      cwd: '/p',
      jest: { version: '30.0.0', runner: '/r', runtime: '/r', hasteMap: '/r' },
      config: {},
      globalConfig: {},
      moduleMap: {},
      env: {},
    },
  });
  expect(parsed.success).toBe(false);
  expect(parsed.error?.issues.map((i) => i.message).join('\n')).toContain(why);
});

test('materialize refuses links that escape the run directory and absolute links when remote', () => {
  expect(() => materialize(root, manifestWith([], [{ path: 'evil', target: '../../outside' }]), store, { allowExternalLinks: false, statePath })).toThrow(
    /escapes the run directory/,
  );
  expect(() => materialize(root, manifestWith([], [{ path: 'nm', target: '/usr/lib' }]), store, { allowExternalLinks: false, statePath })).toThrow(
    /only relative links are accepted/,
  );
  expect(fs.existsSync(path.join(root, 'evil'))).toBe(false);
  expect(fs.existsSync(path.join(root, 'nm'))).toBe(false);
  expect(fs.existsSync(path.join(work, 'outside'))).toBe(false);
});

test('materialize reports missing blobs instead of writing a partial tree', () => {
  expect(() => materialize(root, manifestWith([{ path: 'a.txt', hash: hash('absent'), size: 6 }]), store, { allowExternalLinks: false, statePath })).toThrow(
    expect.objectContaining({ name: 'MissingBlobsError', missing: [hash('absent')] }),
  );
  expect(fs.existsSync(path.join(root, 'a.txt'))).toBe(false);
});

test('materialize makes the tree exactly the manifest: keeps, restores and removes', () => {
  const manifest = manifestWith([
    { path: 'a.txt', hash: hash('hello'), size: 5 },
    { path: 'dir/b.txt', hash: hash('hello'), size: 5 },
  ]);
  expect(materialize(root, manifest, store, { allowExternalLinks: false, statePath })).toMatchObject({ written: 2, kept: 0 });
  // a test scribbles on a file and leaves another behind
  fs.writeFileSync(path.join(root, 'a.txt'), 'changed');
  fs.writeFileSync(path.join(root, 'dir', 'left-over.txt'), 'x');
  expect(materialize(root, manifest, store, { allowExternalLinks: false, statePath })).toMatchObject({ written: 1, kept: 1, removed: 1 });
  expect(fs.readFileSync(path.join(root, 'a.txt'), 'utf8')).toBe('hello');
  expect(fs.readdirSync(path.join(root, 'dir'))).toEqual(['b.txt']);
  // the store's own copy was never touched through the tree
  expect(fs.readFileSync(store.pathOf(hash('hello'))!, 'utf8')).toBe('hello');
});

test("a Lambda environment's own store checks a warm tree without a stat per blob, and forgets what it prunes", () => {
  const owned = new LocalBlobStore(path.join(work, 'owned-blobs'), { ownedByThisProcess: true });
  const files = Array.from({ length: 50 }, (_, i) => ({ path: `f${i}.txt`, hash: hash(`content ${i}`), size: 9 }));
  for (let i = 0; i < files.length; i++) owned.put(files[i]!.hash, Buffer.from(`content ${i}`));
  const manifest = manifestWith(files);
  const ownedRoot = path.join(work, 'owned-root');
  const options = { allowExternalLinks: false, statePath: path.join(work, 'owned.state.json') };
  expect(materialize(ownedRoot, manifest, owned, options)).toMatchObject({ written: 50 });
  const exists = jest.spyOn(fs, 'existsSync');
  try {
    expect(materialize(ownedRoot, manifest, owned, options)).toMatchObject({ written: 0, kept: 50 });
    expect(exists.mock.calls.filter(([p]) => String(p).startsWith(owned.dir))).toEqual([]);
  } finally {
    exists.mockRestore();
  }
  owned.prune(new Set(files.slice(1).map((f) => f.hash)));
  expect(owned.pathOf(files[0]!.hash)).toBeUndefined();
  expect(owned.pathOf(files[1]!.hash)).toBeDefined();
});

test('responses round-trip through their schema unchanged', () => {
  const response = {
    protocolVersion: PROTOCOL_VERSION,
    status: 'completed' as const,
    result: {
      testFilePath: '/p/a.test.js',
      numFailingTests: 0,
      numPassingTests: 1,
      numPendingTests: 0,
      testResults: [{ title: 't', status: 'passed', extra: 1 }],
      perfStats: { runtime: 3 },
    },
    writes: [{ path: '/p/__snapshots__/a.test.js.snap', content: null }],
    events: [{ name: 'test-case-result' as const, args: ['/p/a.test.js', { title: 't' }] }],
    timing: { run: 1.5 },
  };
  expect(RunResponseSchema.parse(JSON.parse(JSON.stringify(response)))).toEqual(response);
});

describe('the Lambda entry point', () => {
  let lambdaWork: string;
  beforeAll(() => {
    lambdaWork = fs.mkdtempSync(path.join(os.tmpdir(), 'jrl-lambda-entry-'));
    process.env.JEST_REMOTE_LAMBDA_WORK_DIR = lambdaWork;
  });
  afterAll(() => {
    delete process.env.JEST_REMOTE_LAMBDA_WORK_DIR;
    fs.rmSync(lambdaWork, { recursive: true, force: true });
  });
  const stored = () =>
    fs.existsSync(path.join(lambdaWork, 'store'))
      ? fs.readdirSync(path.join(lambdaWork, 'store'), { recursive: true }).filter((f) => String(f).length > 60)
      : [];

  const remoteRequest = (extra: Record<string, unknown>) => ({
    protocolVersion: PROTOCOL_VERSION,
    runId: 'r',
    globalConfig: {},
    mode: 'worker',
    projectKey: hash('{}'),
    testPath: '/p/a.test.js',
    ...extra,
  });

  test('a request of another protocol version is answered with the fix, and is final', async () => {
    const response = (await handler({ protocolVersion: 1, runId: 'r' })) as { status: string; final: boolean; error: { message: string } };
    expect(response.status).toBe('crashed');
    expect(response.final).toBe(true);
    expect(response.error.message).toMatch(/runs the jest-runner-remote-lambda \S+ handler \(protocol 2\); the runner sent protocol 1\.\n/);
    expect(response.error.message).toContain('npx jest-runner-remote-lambda deploy');
  });

  test('a ping says which handler, Node and architecture answer', async () => {
    expect(await handler({ protocolVersion: PROTOCOL_VERSION, kind: 'ping' })).toMatchObject({
      status: 'pong',
      protocolVersion: PROTOCOL_VERSION,
      node: process.version,
      arch: process.arch,
      handlerVersion: expect.stringMatching(/^\d+\.\d+\.\d+/),
    });
  });

  test('a project it lacks is asked for by its key', async () => {
    expect(await handler(remoteRequest({}))).toEqual({
      protocolVersion: PROTOCOL_VERSION,
      status: 'need-blobs',
      missing: [hash('{}')],
      // (which environment answered, for the run's timeline, and how much its tree holds: nothing yet)
      environment: { id: expect.stringMatching(/^[0-9a-f]{8}$/), pid: process.pid, filesBefore: 0, treeBytes: 0 },
    });
  });

  test('an inline pack whose bytes do not match their hash is refused, and nothing is stored', async () => {
    const forged = encodePackSync([[hash('the real bytes'), Buffer.from('forged bytes')]]);
    const response = (await handler(remoteRequest({ pack: forged.toString('base64') }))) as { status: string; error: { message: string } };
    expect(response.status).toBe('crashed');
    expect(response.error.message).toMatch(/does not match its content/);
    expect(stored()).toEqual([]);
  });

  test('a pack that would inflate past the limit is refused before it fills memory', async () => {
    const bomb = encodePackSync([[hash('x'), Buffer.alloc(1_000_000)]]);
    expect(bomb.length).toBeLessThan(5_000);
    await expect(decodePack(bomb, 100_000)).rejects.toThrow('The pack inflates to more than 100000 bytes; refusing it.');
  });

  test('a truncated inline pack is refused', async () => {
    const pack = encodePackSync([[hash('hello'), Buffer.from('hello')]]);
    const response = (await handler(remoteRequest({ pack: pack.subarray(0, pack.length - 8).toString('base64') }))) as {
      status: string;
      error: { message: string };
    };
    expect(response.status).toBe('crashed');
    expect(response.error.message).toMatch(/unexpected end of file|truncated/);
  });

  test('a project description that is not what its key says is refused', async () => {
    const body = Buffer.from(JSON.stringify({ localBase: '/p' }));
    const pack = encodePackSync([[hash('{}'), body]]);
    const response = (await handler(remoteRequest({ pack: pack.toString('base64') }))) as { status: string; error: { message: string } };
    expect(response.status).toBe('crashed');
    expect(response.error.message).toMatch(/does not match its content/);
  });

  test('a malformed project description names what is wrong', async () => {
    const body = Buffer.from(
      JSON.stringify({ localBase: '/p', manifest: { files: [{ path: '../../etc/passwd', hash: hash('x'), size: 1 }], links: [], dirs: [] } }),
    );
    const key = crypto.createHash('sha256').update(body).digest('hex');
    const pack = encodePackSync([[key, body]]);
    const response = (await handler(remoteRequest({ projectKey: key, pack: pack.toString('base64') }))) as { status: string; error: { message: string } };
    expect(response.status).toBe('crashed');
    expect(response.error.message).toMatch(/Invalid project description[\s\S]*must not contain ".."/);
  });
});

test('a blob in pieces enters the store only whole and matching its hash; a piece out of place changes nothing', () => {
  const bytes = crypto.randomBytes(1000);
  const id = crypto.createHash('sha256').update(bytes).digest('hex');
  expect(store.putPiece(id, 0, bytes.subarray(0, 400), bytes.length)).toBe(400);
  // (sent twice, or meant for another environment: the holder says where it stands)
  expect(store.putPiece(id, 0, bytes.subarray(0, 400), bytes.length)).toBe(400);
  expect(store.putPiece(id, 700, bytes.subarray(700), bytes.length)).toBe(400);
  expect(store.partialBytes(id)).toBe(400);
  expect(store.pathOf(id)).toBeUndefined();
  expect(() => store.putPiece(id, 400, Buffer.alloc(700), bytes.length)).toThrow(/past its size 1000/);
  expect(store.putPiece(id, 400, bytes.subarray(400), bytes.length)).toBe(1000);
  expect(fs.readFileSync(store.pathOf(id)!)).toEqual(bytes);
  expect(store.partialBytes(id)).toBe(0);
  // the last piece of wrong bytes: refused, and nothing of it kept
  const other = crypto.randomBytes(10);
  const otherId = hash('not these bytes');
  store.putPiece(otherId, 0, other.subarray(0, 5), 10);
  expect(() => store.putPiece(otherId, 5, other.subarray(5), 10)).toThrow(/does not match its content/);
  expect(store.pathOf(otherId)).toBeUndefined();
  expect(store.partialBytes(otherId)).toBe(0);
});
