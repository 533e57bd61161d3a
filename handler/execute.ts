/**
 * The handler's core, shared by the Lambda entry point and the embedded local workers: parse a
 * request, make sure the project's tree and Jest session are in place, run the file (or the few
 * small files sent together), answer.
 */
import fs from 'node:fs';
import { HandlerFault, MissingBlobsError, RemoteRunnerError } from '../src/errors';
import {
  PROTOCOL_VERSION,
  RunRequestSchema,
  decodeProject,
  parseAt,
  type FetchedPackages,
  type FileResponse,
  type ProjectPayload,
  type RunRequest,
  type RunResponse,
  type Store,
  type TestEvent,
} from '../src/protocol';
import type { BlobSource } from '../src/ship/blob-store';
import { mergeManifest } from '../src/ship/manifest-parts';
import { decodePack, decodePiece, singlePacks } from '../src/ship/pack';
import { fetchPacks } from '../src/ship/s3-fetch';
import { applyEnv, underEnv } from './env';
import { stamped } from './environment';
import { host } from './host';
import { PhaseClock } from './phases';
import { watchingMisses, type MissWatch } from './misses';
import { JestSession, serializeError } from './session';
import { shapeAsJestWorker, watchingExits, watchingPrograms, type WorkerShape } from './test-process';
import { ContainerTree } from './tree';

export interface ExecuteEnvironment {
  /**
   * `prepared`: the local backend materialized the tree itself (shared by its workers).
   * `materialize`: this process owns the prefix `dir` and brings it to each request's manifest,
   * from its own content store `blobs` (filled from the request, or from the shared store).
   */
  root: { kind: 'prepared' } | { kind: 'materialize'; dir: string; blobs: BlobSource };
  /** Live events (local workers stream them); otherwise they are returned with the response. */
  onEvent?: (event: TestEvent) => void;
  /** The request was built in this very process (Jest's own, in band): nothing to validate. */
  trusted?: boolean;
}

interface LoadedProject {
  payload: ProjectPayload;
  session: JestSession;
}

/** Sessions of this process by project key (a container keeps only the project whose tree it holds). */
const sessions = new Map<string, LoadedProject>();
const trees = new Map<string, ContainerTree>();

export async function execute(raw: unknown, env: ExecuteEnvironment): Promise<RunResponse> {
  const clock = new PhaseClock();
  const tree = env.root.kind === 'materialize' ? treeOf(env.root.dir, env.root.blobs) : undefined;
  let response: RunResponse;
  try {
    const request = env.trusted ? (raw as RunRequest) : parseAt(RunRequestSchema, raw, 'run request');
    if (request.pack && tree) {
      for (const [hash, bytes] of await decodePack(Buffer.from(request.pack, 'base64'))) tree.blobs.put(hash, bytes);
    }
    if (request.piece && tree?.blobs.putPiece) {
      const { hash, offset, total, data } = request.piece;
      tree.blobs.putPiece(hash, offset, await decodePiece(data, total - offset), total);
    }
    clock.lap('parse');
    const loaded = await load(request, tree, clock);
    if ('session' in loaded && tree && request.store) {
      tree.transforms.ready();
      if (request.transforms) await tree.transforms.bringIn(request.store, request.transforms, tree.blobs);
      clock.lap('transforms');
    }
    response = 'session' in loaded ? await withTransforms(await runFiles(request, loaded, env, clock), tree, request) : loaded;
  } catch (error) {
    response = faultResponse(error);
  }
  return stamped(response.status === 'need-blobs' && tree ? withPartial(response, tree.blobs) : response, tree?.bytes);
}

/** An answer with the transforms its files made, once they are in the shared store (./transforms.ts). */
async function withTransforms(response: RunResponse, tree: ContainerTree | undefined, request: RunRequest): Promise<RunResponse> {
  if (!tree || !request.store || (response.status !== 'completed' && response.status !== 'failed' && response.status !== 'batch')) return response;
  const transforms = await tree.transforms.collect(request.store);
  return transforms.length > 0 ? { ...response, transforms } : response;
}

/**
 * A warm-up before a run (the runner hashes and ships meanwhile): brings in the project the last run
 * used, as far as the shared store has it, and loads its Jest, so the run's first request finds the
 * environment ready. Never fails: whatever it could not do, the first request does.
 */
export async function warmUp(projectKey: string, store: Store, env: ExecuteEnvironment): Promise<void> {
  if (env.root.kind !== 'materialize' || sessions.has(projectKey)) return;
  const tree = treeOf(env.root.dir, env.root.blobs);
  const request: RunRequest = { protocolVersion: PROTOCOL_VERSION, runId: 'warm-up', projectKey, store, globalConfig: {}, mode: 'worker', testPath: 'warm-up' };
  try {
    await load(request, tree, new PhaseClock());
  } catch {
    // (the first request meets the same, and reports it)
  }
}

/** A need-blobs answer says how far the blobs arriving in pieces have come in this environment. */
function withPartial(response: Extract<RunResponse, { status: 'need-blobs' }>, blobs: BlobSource): RunResponse {
  const partial = Object.fromEntries(response.missing.map((h) => [h, blobs.partialBytes?.(h) ?? 0] as const).filter(([, held]) => held > 0));
  return Object.keys(partial).length > 0 ? { ...response, partial } : response;
}

/** An error of the handler as its answer: blobs to send, or a crash the runner may retry unless it cannot help. */
export function faultResponse(error: unknown): RunResponse {
  if (error instanceof MissingBlobsError) {
    return { protocolVersion: PROTOCOL_VERSION, status: 'need-blobs', missing: error.missing, ...(error.fetched ? { fetchedPackages: error.fetched } : {}) };
  }
  const final = error instanceof RemoteRunnerError && !error.retryable;
  return { protocolVersion: PROTOCOL_VERSION, status: 'crashed', error: serializeError(error), ...(final ? { final } : {}) };
}

function treeOf(dir: string, blobs: BlobSource): ContainerTree {
  let tree = trees.get(dir);
  if (!tree) trees.set(dir, (tree = new ContainerTree(dir, blobs, () => sessions.clear())));
  return tree;
}

/** The project's session, its tree brought in place first; or what the handler needs to get there. */
async function load(request: RunRequest, tree: ContainerTree | undefined, clock: PhaseClock): Promise<LoadedProject | RunResponse> {
  let loaded = sessions.get(request.projectKey);
  if (!loaded) {
    const project = await findProject(request, tree);
    if (!('key' in project)) return project;
    clock.lap('project');
    if (tree) {
      // A container holds one project's tree at a time: the sessions of others only hold memory.
      sessions.clear();
      await tree.bringTo(project, request, clock);
    }
    loaded = await newSessionHealing(project, tree, request, clock);
    clock.lap('prepare');
  } else if (tree && !tree.holds(request)) {
    // Another project, or a new run of the same one: whatever earlier runs (or their tests) left
    // in the tree goes, so no run ever sees another's files.
    await tree.bringTo(loaded.payload, request, clock);
    // Switching trees purges modules loaded from the old one; a session built on them goes too.
    if (!sessions.has(request.projectKey)) {
      loaded = await newSessionHealing(loaded.payload, tree, request, clock);
      clock.lap('prepare');
    } else loaded.session.clearResolverCaches();
  } else if (tree?.lacks(loaded.payload, request)) {
    // The same run, files that need packages this tree has not brought in yet.
    if (await tree.addPackages(loaded.payload, request.packages ?? [], request, clock)) loaded.session.clearResolverCaches();
  }
  return loaded;
}

/** Packages a file may bring in when its tests reach for them, and runs it again after (see ./misses.ts). */
const MAX_PACKAGE_ROUNDS = 4;

/**
 * A new session; in a tree of only some packages, one that Jest itself or the test environment
 * reaches for and lacks is brought in and the session made again.
 */
async function newSessionHealing(project: ProjectPayload, tree: ContainerTree | undefined, request: RunRequest, clock: PhaseClock): Promise<LoadedProject> {
  if (!tree?.partial(project)) return newSession(project, tree);
  for (let round = 0; ; round++) {
    const watch = tree.missWatch(project);
    try {
      return await watchingMisses(watch, undefined, async () => newSession(project, tree));
    } catch (error) {
      if (watch.empty || round >= MAX_PACKAGE_ROUNDS) throw error;
      await tree.addPackages(project, [...watch.file, ...watch.project], request, clock, {
        testPath: request.testPath,
        file: [],
        project: [...watch.file, ...watch.project],
      });
    }
  }
}

/** The request's project, whole: inline, from this container's store or the shared one, with its manifest's parts merged in. */
async function findProject(request: RunRequest, tree: ContainerTree | undefined): Promise<ProjectPayload | RunResponse> {
  const project = request.project ?? (tree ? await projectFromStore(request, tree.blobs) : undefined);
  if (!project) {
    return tree
      ? { protocolVersion: PROTOCOL_VERSION, status: 'need-blobs', missing: [request.projectKey] }
      : { protocolVersion: PROTOCOL_VERSION, status: 'need-project' };
  }
  if (project.key !== request.projectKey) throw new Error('projectKey does not match project.key');
  if (!project.manifest.parts?.length || !tree) return project;
  const parts = project.manifest.parts;
  const lacking = () => parts.filter((h) => !tree.blobs.pathOf(h));
  if (lacking().length > 0 && request.store) await fetchPacks(request.store, singlePacks(lacking()), tree.blobs);
  const missing = lacking();
  if (missing.length > 0) return { protocolVersion: PROTOCOL_VERSION, status: 'need-blobs', missing };
  return { ...project, manifest: mergeManifest(project.manifest, (h) => fs.readFileSync(tree.blobs.pathOf(h)!)) };
}

/** The project description as a blob: from this container's store, else from the shared store. */
async function projectFromStore(request: RunRequest, blobs: BlobSource): Promise<ProjectPayload | undefined> {
  if (!blobs.pathOf(request.projectKey) && request.store) await fetchPacks(request.store, singlePacks([request.projectKey]), blobs);
  const file = blobs.pathOf(request.projectKey);
  return file ? decodeProject(fs.readFileSync(file), request.projectKey) : undefined;
}

/** A session prepared under the project's forwarded variables (its modules load under them). */
function newSession(project: ProjectPayload, tree: ContainerTree | undefined): LoadedProject {
  const prefix = tree?.prefix ?? project.preparedRoot;
  if (prefix === undefined) throw new HandlerFault('The local backend sent a project without preparedRoot.', { retryable: true });
  let session: JestSession;
  try {
    session = underEnv(project.env, project.unsetEnv, () => new JestSession(project, prefix, tree?.jestCache));
  } catch (error) {
    // (the same tree and the same Jest fail the same way on every attempt: no retry can help)
    throw new HandlerFault(`Could not load this project's Jest on this side: ${(error as Error).message}`, { cause: error });
  }
  const loaded = { payload: project, session };
  sessions.set(project.key, loaded);
  return loaded;
}

/**
 * Runs the request's file, or its files one after the other as a Jest worker runs its share. The
 * set-up above is counted with the first; a handler fault stops a batch and the rest are asked for again.
 */
async function runFiles(request: RunRequest, loaded: LoadedProject, env: ExecuteEnvironment, clock: PhaseClock): Promise<RunResponse> {
  const { session } = loaded;
  if (fs.existsSync(session.cwd) && process.cwd() !== session.cwd) process.chdir(session.cwd);
  const tree = env.root.kind === 'materialize' ? trees.get(env.root.dir) : undefined;
  // Jest's own process (in band) keeps its own shape, as under Jest's default runner.
  const shape = env.trusted
    ? undefined
    : { workerScript: session.workerScript, ...(tree ? { binDirs: session.binDirs(), home: tree.home, tmp: tree.tmp } : {}) };
  const runFile = (testPath: string, timing: Record<string, number>) =>
    tree?.partial(loaded.payload)
      ? runBringingPackages(request, testPath, loaded, env, timing, shape, tree, clock)
      : runOneFile(request, testPath, loaded, env, timing, shape);
  if (!request.moreTestPaths?.length) {
    const response = await runFile(request.testPath, clock.timing);
    clock.lap('run');
    return response;
  }
  const results: FileResponse[] = [];
  for (const testPath of [request.testPath, ...request.moreTestPaths]) {
    const fileClock = results.length === 0 ? clock : new PhaseClock();
    fileClock.restart();
    try {
      results.push(await runFile(testPath, fileClock.timing));
      fileClock.lap('run');
    } catch (error) {
      // (the first file needs blobs: the whole request asks for them; a later one: the rest is sent again)
      if (error instanceof MissingBlobsError && results.length === 0) throw error;
      return { protocolVersion: PROTOCOL_VERSION, status: 'batch', results, stopped: serializeError(error) };
    }
  }
  return { protocolVersion: PROTOCOL_VERSION, status: 'batch', results };
}

/**
 * Runs a file in a tree of only some installed packages: when its tests reached for one the tree
 * lacks (the runner's graph did not show it), that package comes and the file runs again from the
 * tree as its manifest says; the answer names what came, for the runner to send it up front next time.
 */
async function runBringingPackages(
  request: RunRequest,
  testPath: string,
  loaded: LoadedProject,
  env: ExecuteEnvironment,
  timing: Record<string, number>,
  shape: WorkerShape | undefined,
  tree: ContainerTree,
  clock: PhaseClock,
): Promise<FileResponse> {
  const fetched = { file: new Set<string>(), project: new Set<string>() };
  for (let round = 0; ; round++) {
    const watch = tree.missWatch(loaded.payload);
    const response = await runOneFile(request, testPath, loaded, env, timing, shape, watch);
    if (watch.empty || round >= MAX_PACKAGE_ROUNDS)
      return fetched.file.size + fetched.project.size > 0 ? { ...response, fetchedPackages: listed(fetched) } : response;
    for (const p of watch.file) fetched.file.add(p);
    for (const p of watch.project) fetched.project.add(p);
    await tree.addPackages(loaded.payload, [...watch.file, ...watch.project], request, clock, { testPath, ...listed(fetched) });
    tree.restore(loaded.payload);
    if (!sessions.has(request.projectKey)) loaded = await newSessionHealing(loaded.payload, tree, request, clock);
    loaded.session.clearResolverCaches();
  }
}

function listed(fetched: { file: Set<string>; project: Set<string> }): FetchedPackages {
  return { file: [...fetched.file].sort(), project: [...fetched.project].sort() };
}

/** Whether the file runs in a materialized tree (a remote side, or the isolated embedded backend). */
const materializes = (env: ExecuteEnvironment) => env.root.kind === 'materialize';

async function runOneFile(
  request: RunRequest,
  testPath: string,
  loaded: LoadedProject,
  env: ExecuteEnvironment,
  timing: Record<string, number>,
  shape: WorkerShape | undefined,
  misses?: MissWatch,
): Promise<FileResponse> {
  const restoreEnv = applyEnv(loaded.payload.env, loaded.payload.unsetEnv);
  const restoreShape = shape ? shapeAsJestWorker(shape) : () => {};
  const events: TestEvent[] = [];
  const runFile = () =>
    loaded.session.run(testPath, {
      mode: request.mode,
      globalConfig: request.globalConfig,
      changedFiles: request.changedFiles,
      sourcesRelatedToTestsInChangedFiles: request.sourcesRelatedToTestsInChangedFiles,
      onEvent: env.onEvent ?? ((e) => events.push(e)),
    });
  const run = misses ? () => watchingMisses(misses, loaded.session.Resolver, runFile) : runFile;
  // (not in Jest's own process: there a test's process.exit ends the run, as with Jest's runner;
  // nor where the tests share this machine's programs)
  const watched = async () => {
    if (!shape) return { ...(await run().then((value) => ({ value, exit: undefined }))), missing: [] };
    const { value, missing } = await watchingPrograms(() => watchingExits(run));
    return { ...value, missing };
  };
  const {
    value: outcome,
    exit,
    missing,
  } = await watched().finally(() => {
    restoreShape();
    restoreEnv();
  });
  const noted = { host: host(), ...(missing.length > 0 && materializes(env) ? { missingPrograms: missing } : {}) };
  // A file that called process.exit fails as it would in a Jest worker, whatever its tests reported.
  if (exit) return { protocolVersion: PROTOCOL_VERSION, status: 'failed', error: loaded.session.localError(exit), events, timing, ...noted };
  if (outcome.kind === 'failure') {
    return { protocolVersion: PROTOCOL_VERSION, status: 'failed', error: outcome.error, events, timing, ...noted };
  }
  return { protocolVersion: PROTOCOL_VERSION, status: 'completed', result: outcome.result as never, writes: outcome.writes, events, timing, ...noted };
}
