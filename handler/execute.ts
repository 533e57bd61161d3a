/**
 * The handler's core, shared by the Lambda entry point and the embedded local workers:
 * parse a request, make sure the project's tree is in place, run the one test file, answer.
 */
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  PROTOCOL_VERSION,
  RunRequestSchema,
  parseAt,
  type ProjectPayload,
  type RunResponse,
  type TestEvent,
} from '../src/protocol';
import { MissingBlobsError, materialize, treeDir, type BlobSource } from './materialize';
import { JestSession, serializeError } from './session';

export interface ExecuteEnvironment {
  /**
   * `prepared`: the local backend materialized the tree itself (shared by its workers).
   * `materialize`: this process owns the prefix `dir` and brings it to each request's manifest.
   */
  root: { kind: 'prepared' } | { kind: 'materialize'; dir: string; blobs: BlobSource };
  /** Live events (local workers stream them); otherwise they are returned with the response. */
  onEvent?: (event: TestEvent) => void;
}

interface LoadedProject {
  payload: ProjectPayload;
  session: JestSession;
}

const projects = new Map<string, LoadedProject>();
let materializedKey: string | undefined;

export async function execute(raw: unknown, env: ExecuteEnvironment): Promise<RunResponse> {
  const timing: Record<string, number> = {};
  let mark = performance.now();
  const lap = (phase: string) => {
    const now = performance.now();
    timing[phase] = Math.round((now - mark) * 100) / 100;
    mark = now;
  };
  try {
    const request = parseAt(RunRequestSchema, raw, 'run request');
    if (request.blobs && env.root.kind === 'materialize') {
      for (const [hash, base64] of Object.entries(request.blobs)) env.root.blobs.put(hash, Buffer.from(base64, 'base64'));
    }
    lap('parse');

    let loaded = projects.get(request.projectKey);
    if (!loaded) {
      if (!request.project) return { protocolVersion: PROTOCOL_VERSION, status: 'need-project' };
      if (request.project.key !== request.projectKey) throw new Error('projectKey does not match project.key');
      const root = rootFor(request.project, env);
      loaded = { payload: request.project, session: undefined as unknown as JestSession };
      if (env.root.kind === 'materialize') {
        materializeProject(request.project, env.root.dir, env.root.blobs);
        materializedKey = request.project.key;
      }
      lap('materialize');
      loaded.session = new JestSession(request.project, root);
      projects.set(request.projectKey, loaded);
      lap('prepare');
    } else if (env.root.kind === 'materialize' && materializedKey !== request.projectKey) {
      materializeProject(loaded.payload, env.root.dir, env.root.blobs);
      materializedKey = request.projectKey;
      lap('materialize');
    }

    const { session } = loaded;
    if (fs.existsSync(session.cwd) && process.cwd() !== session.cwd) process.chdir(session.cwd);
    const restoreEnv = applyEnv(loaded.payload.env);
    const events: TestEvent[] = [];
    const outcome = await session
      .run(request.testPath, {
        mode: request.mode,
        changedFiles: request.changedFiles,
        sourcesRelatedToTestsInChangedFiles: request.sourcesRelatedToTestsInChangedFiles,
        onEvent: env.onEvent ?? ((e) => events.push(e)),
      })
      .finally(restoreEnv);
    lap('run');
    if (outcome.kind === 'failure') {
      return { protocolVersion: PROTOCOL_VERSION, status: 'failed', error: outcome.error, events, timing };
    }
    return { protocolVersion: PROTOCOL_VERSION, status: 'completed', result: outcome.result as never, writes: outcome.writes, events, timing };
  } catch (error) {
    if (error instanceof MissingBlobsError) {
      return { protocolVersion: PROTOCOL_VERSION, status: 'need-blobs', missing: error.missing };
    }
    return { protocolVersion: PROTOCOL_VERSION, status: 'crashed', error: serializeError(error) };
  }
}

/** Sets the forwarded variables for one run and puts the previous values back afterwards. */
function applyEnv(vars: Record<string, string>): () => void {
  const previous = Object.keys(vars).map((k): [string, string | undefined] => [k, process.env[k]]);
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
  if (!project.preparedRoot) throw new Error('The local backend sent a project without preparedRoot.');
  return project.preparedRoot;
}

function materializeProject(project: ProjectPayload, prefix: string, blobs: BlobSource): void {
  const dir = treeDir(prefix, project.localBase);
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
