/**
 * The handler's core, shared by the Lambda entry point and the embedded local workers:
 * parse a request, make sure the project's tree is in place, run the one test file, answer.
 */
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { mergeManifest } from '../src/manifest-parts';
import { decodePack, packsOf, singlePacks } from '../src/pack';
import {
  PROTOCOL_VERSION,
  RunRequestSchema,
  decodeProject,
  parseAt,
  type FileResponse,
  type Hash,
  type Host,
  type ProjectPayload,
  type RunRequest,
  type RunResponse,
  type TestEvent,
} from '../src/protocol';
import { fetchPacks } from './fetch';
import { MissingBlobsError, materialize, treeDir, type BlobSource } from './materialize';
import { JestSession, serializeError } from './session';

export interface ExecuteEnvironment {
  /**
   * `prepared`: the local backend materialized the tree itself (shared by its workers).
   * `materialize`: this process owns the prefix `dir` and brings it to each request's manifest,
   * from its own content store `blobs` (filled from the request, or from the shared store).
   */
  root: { kind: 'prepared' } | { kind: 'materialize'; dir: string; blobs: BlobSource & { read?(hash: Hash): Buffer } };
  /** Live events (local workers stream them); otherwise they are returned with the response. */
  onEvent?: (event: TestEvent) => void;
  /** The request was built in this very process (Jest's own, in band): nothing to validate. */
  trusted?: boolean;
}

interface LoadedProject {
  payload: ProjectPayload;
  session: JestSession;
}

const projects = new Map<string, LoadedProject>();
/** What the tree under the prefix holds: which project, brought in place for which run. */
let materializedKey: string | undefined;
let materializedRun: string | undefined;
/** Where the tree under the prefix is (the prefix joined with its checkout's path). */
let treeAt: string | undefined;
/** The forwarded variables Jest's modules under the prefix were loaded with. */
let modulesEnvKey: string | undefined;

export async function execute(raw: unknown, env: ExecuteEnvironment): Promise<RunResponse> {
  const timing: Record<string, number> = {};
  let mark = performance.now();
  const lap = (phase: string) => {
    const now = performance.now();
    timing[phase] = (timing[phase] ?? 0) + Math.round((now - mark) * 100) / 100;
    mark = now;
  };
  try {
    const request = env.trusted ? (raw as RunRequest) : parseAt(RunRequestSchema, raw, 'run request');
    if (request.pack && env.root.kind === 'materialize') {
      for (const [hash, bytes] of await decodePack(Buffer.from(request.pack, 'base64'))) env.root.blobs.put(hash, bytes);
    }
    lap('parse');

    let loaded = projects.get(request.projectKey);
    if (!loaded) {
      let project = request.project ?? (env.root.kind === 'materialize' ? await projectFromStore(request, env.root.blobs) : undefined);
      if (!project) {
        return env.root.kind === 'materialize'
          ? { protocolVersion: PROTOCOL_VERSION, status: 'need-blobs', missing: [request.projectKey] }
          : { protocolVersion: PROTOCOL_VERSION, status: 'need-project' };
      }
      if (project.manifest.parts?.length && env.root.kind === 'materialize') {
        const expanded = await expandManifest(project, request, env.root.blobs);
        if (Array.isArray(expanded)) return { protocolVersion: PROTOCOL_VERSION, status: 'need-blobs', missing: expanded };
        project = expanded;
      }
      if (project.key !== request.projectKey) throw new Error('projectKey does not match project.key');
      lap('project');
      if (env.root.kind === 'materialize') {
        // A container holds one project's tree at a time: the sessions of others only hold memory.
        projects.clear();
        await materializeProject(project, request, env.root.dir, env.root.blobs, lap);
        materializedKey = project.key;
        materializedRun = request.runId;
        // Jest's modules read the environment when they load (chalk fixes its colour level then):
        // loaded under other forwarded variables, they are loaded again under these.
        const envKey = JSON.stringify([project.env, project.unsetEnv]);
        if (modulesEnvKey !== undefined && modulesEnvKey !== envKey) forgetModulesUnder(env.root.dir);
        modulesEnvKey = envKey;
      }
      loaded = { payload: project, session: newSession(project, rootFor(project, env)) };
      projects.set(request.projectKey, loaded);
      lap('prepare');
    } else if (env.root.kind === 'materialize' && (materializedKey !== request.projectKey || materializedRun !== request.runId)) {
      // Another project, or a new run of the same one: whatever earlier runs (or their tests) left
      // in the tree goes, so no run ever sees another's files.
      await materializeProject(loaded.payload, request, env.root.dir, env.root.blobs, lap);
      materializedKey = request.projectKey;
      materializedRun = request.runId;
      // Switching trees purges modules loaded from the old one; a session built on them goes too.
      if (!projects.has(request.projectKey)) {
        loaded = { payload: loaded.payload, session: newSession(loaded.payload, rootFor(loaded.payload, env)) };
        projects.set(request.projectKey, loaded);
        lap('prepare');
      }
    }

    const { session } = loaded;
    if (fs.existsSync(session.cwd) && process.cwd() !== session.cwd) process.chdir(session.cwd);
    const runFile = async (testPath: string, fileTiming: Record<string, number>): Promise<FileResponse> => {
      const restoreEnv = applyEnv(loaded.payload.env, loaded.payload.unsetEnv);
      const events: TestEvent[] = [];
      const outcome = await session
        .run(testPath, {
          mode: request.mode,
          globalConfig: request.globalConfig,
          changedFiles: request.changedFiles,
          sourcesRelatedToTestsInChangedFiles: request.sourcesRelatedToTestsInChangedFiles,
          onEvent: env.onEvent ?? ((e) => events.push(e)),
        })
        .finally(restoreEnv);
      if (outcome.kind === 'failure') {
        return { protocolVersion: PROTOCOL_VERSION, status: 'failed', error: outcome.error, events, timing: fileTiming, host: host() };
      }
      return { protocolVersion: PROTOCOL_VERSION, status: 'completed', result: outcome.result as never, writes: outcome.writes, events, timing: fileTiming, host: host() };
    };
    if (!request.moreTestPaths?.length) {
      const response = await runFile(request.testPath, timing);
      lap('run');
      return response;
    }
    // Several files: run one after the other, as a Jest worker runs its share. The set-up above is
    // counted with the first; a handler fault stops the batch and the rest are asked for again.
    const results: FileResponse[] = [];
    for (const testPath of [request.testPath, ...request.moreTestPaths]) {
      const fileTiming = results.length === 0 ? timing : {};
      mark = performance.now();
      try {
        results.push(await runFile(testPath, fileTiming));
        fileTiming.run = Math.round((performance.now() - mark) * 100) / 100;
      } catch (error) {
        return { protocolVersion: PROTOCOL_VERSION, status: 'batch', results, stopped: serializeError(error) };
      }
    }
    return { protocolVersion: PROTOCOL_VERSION, status: 'batch', results };
  } catch (error) {
    if (error instanceof MissingBlobsError) {
      return { protocolVersion: PROTOCOL_VERSION, status: 'need-blobs', missing: error.missing };
    }
    const final = (error as { final?: unknown })?.final === true;
    return { protocolVersion: PROTOCOL_VERSION, status: 'crashed', error: serializeError(error), ...(final ? { final } : {}) };
  }
}

/** The project description as a blob: from this container's store, else from the shared store. */
async function projectFromStore(request: RunRequest, blobs: BlobSource & { read?(hash: Hash): Buffer }): Promise<ProjectPayload | undefined> {
  if (!blobs.pathOf(request.projectKey) && request.store) await fetchPacks(request.store, singlePacks([request.projectKey]), blobs);
  const file = blobs.pathOf(request.projectKey);
  return file ? decodeProject(fs.readFileSync(file), request.projectKey) : undefined;
}

function host(): Host {
  const memory = Number(process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE);
  return { node: process.version, arch: process.arch, ...(memory > 0 ? { memoryMb: memory } : {}) };
}

/** A session prepared under the project's forwarded variables (its modules load under them). */
function newSession(project: ProjectPayload, prefix: string): JestSession {
  const restore = applyEnv(project.env, project.unsetEnv);
  try {
    return new JestSession(project, prefix);
  } finally {
    restore();
  }
}

/** The project with its manifest parts merged in, or the parts this container still lacks. */
async function expandManifest(project: ProjectPayload, request: RunRequest, blobs: BlobSource): Promise<ProjectPayload | Hash[]> {
  const parts = project.manifest.parts ?? [];
  const lacking = () => parts.filter((h) => !blobs.pathOf(h));
  if (lacking().length > 0 && request.store) await fetchPacks(request.store, singlePacks(lacking()), blobs);
  const missing = lacking();
  if (missing.length > 0) return missing;
  return { ...project, manifest: mergeManifest(project.manifest, (h) => fs.readFileSync(blobs.pathOf(h)!)) };
}

/** Sets the forwarded variables for one run and puts the previous values back afterwards. */
function applyEnv(vars: Record<string, string>, unset: string[] = []): () => void {
  const previous = [...Object.keys(vars), ...unset].map((k): [string, string | undefined] => [k, process.env[k]]);
  for (const name of unset) delete process.env[name];
  Object.assign(process.env, vars);
  return () => {
    for (const [k, v] of previous) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

function rootFor(project: ProjectPayload, env: ExecuteEnvironment): string {
  if (env.root.kind === 'materialize') return env.root.dir;
  if (project.preparedRoot === undefined) throw new Error('The local backend sent a project without preparedRoot.');
  return project.preparedRoot;
}

async function materializeProject(project: ProjectPayload, request: RunRequest, prefix: string, blobs: BlobSource, lap: (phase: string) => void): Promise<void> {
  const missing = new Map(project.manifest.files.filter((f) => blobs.pathOf(f.hash) === undefined).map((f) => [f.hash, f.size]));
  checkRoom(prefix, missing);
  if (request.store && missing.size > 0) {
    await fetchPacks(request.store, packsOf(project.manifest, new Set(missing.keys())), blobs);
    lap('fetch');
  }
  const dir = treeDir(prefix, project.localBase);
  // A checkout at another path (another developer, another CI workspace) is mostly the same files:
  // move the tree there and let the reconciliation below change only what differs.
  if (treeAt !== undefined && treeAt !== dir && !fs.existsSync(dir) && fs.existsSync(treeAt) && !nested(treeAt, dir)) {
    fs.mkdirSync(path.dirname(dir), { recursive: true });
    fs.renameSync(treeAt, dir);
    forgetModulesUnder(prefix);
  }
  treeAt = dir;
  // Only this project's tree may exist under the prefix: another checkout's tree from an earlier
  // invocation of this container is removed, so no run can read another's files.
  let parent = prefix;
  for (const segment of path.relative(prefix, dir).split(path.sep)) {
    if (fs.existsSync(parent)) {
      for (const name of fs.readdirSync(parent)) if (name !== segment) fs.rmSync(path.join(parent, name), { recursive: true, force: true });
    }
    parent = path.join(parent, segment);
  }
  const stats = materialize(dir, project.manifest, blobs, { allowExternalLinks: false, statePath: `${prefix}.state.json` });
  if (stats.written + stats.removed + stats.linked > 0) forgetModulesUnder(prefix);
  lap('materialize');
}

function nested(a: string, b: string): boolean {
  return a.startsWith(b + path.sep) || b.startsWith(a + path.sep);
}

/** Blobs this container lacks are stored once and copied into the tree once: both must fit in /tmp. */
function checkRoom(prefix: string, missing: Map<Hash, number>): void {
  let free: number;
  try {
    fs.mkdirSync(path.dirname(prefix), { recursive: true });
    const st = fs.statfsSync(path.dirname(prefix));
    free = st.bavail * st.bsize;
  } catch {
    return;
  }
  let needed = 0;
  for (const size of missing.values()) needed += 2 * size;
  if (needed <= free) return;
  const mb = (n: number) => `${Math.ceil(n / 1024 / 1024)} MB`;
  throw Object.assign(
    new Error(
      `This project needs about ${mb(needed)} more in ${path.dirname(prefix)} (its blobs and the tree made from them), but only ${mb(free)} is free.\n` +
        `Give the function more ephemeral storage (npx jest-runner-remote-lambda deploy --ephemeral-storage ${Math.min(10240, Math.ceil((needed * 1.5) / 1024 / 1024 / 512) * 512)}), ` +
        'or ship less with the "exclude" option.',
    ),
    { final: true },
  );
}

/**
 * Modules loaded outside Jest's sandbox (Jest itself, transformers, babel configs) stay in Node's
 * require cache; when the files under them changed, they and every session built on them go.
 */
function forgetModulesUnder(prefix: string): void {
  let stale = false;
  for (const file of Object.keys(require.cache)) {
    if (file.startsWith(prefix + path.sep)) {
      delete require.cache[file];
      stale = true;
    }
  }
  if (stale) projects.clear();
}
