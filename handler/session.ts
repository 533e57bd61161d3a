/**
 * Runs one test file with the user's own Jest (29 or 30) through jest-runner's public TestRunner
 * class, in band, exactly as a Jest worker would. A session is prepared once per project and
 * reused by every file of that project that lands on this process (warm).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { sha256 } from '../src/ship/sha256';
import { PathMap } from './pathmap';
import { jestWorkerScript } from './test-process';
import { treeDir } from './materialize';
import type { FileWrite, ProjectPayload, SerializedError, TestEvent } from '../src/protocol';

// Jest 29's and 30's own objects (configs, contexts, results), loaded by path at run time: untyped here.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyRecord = Record<string, any>;

export type FileOutcome = { kind: 'success'; result: AnyRecord; writes: FileWrite[] } | { kind: 'failure'; error: SerializedError };

export interface SessionRunOptions {
  /**
   * How Jest would have run this file locally: `in-band` through TestRunner in serial mode (Jest's
   * in-process path), `worker` through jest-runner's own testWorker module (Jest's pool path).
   * Stack traces of failures differ between the two, so each is reproduced as it is.
   */
  mode: 'in-band' | 'worker';
  globalConfig: AnyRecord;
  changedFiles?: string[];
  sourcesRelatedToTestsInChangedFiles?: string[];
  onEvent: (event: TestEvent) => void;
}

/** jest-worker's message type for custom messages from a child (29 and 30). */
const PARENT_MESSAGE_CUSTOM = 3;
const ISTANBUL_SCHEMA_KEY = '_coverageSchema';

const NEVER_INTERRUPTED = {
  isInterrupted: () => false,
  isWatchMode: () => false,
  on: () => () => {},
};

export class JestSession {
  readonly toRemote: PathMap;
  readonly toLocal: PathMap;
  readonly cwd: string;
  readonly #config: AnyRecord;
  /** The last run's GlobalConfig, mapped to this side (each run has its own; files of one run share it). */
  #globalConfig: { raw: string; mapped: AnyRecord } | undefined;
  readonly #context: AnyRecord;
  readonly #TestRunner: new (globalConfig: AnyRecord, context: AnyRecord) => AnyRecord;
  readonly #runnerPath: string;
  #testWorker: { worker(request: AnyRecord): Promise<AnyRecord> } | undefined;
  readonly #hashes: Map<string, string>;
  /** Where snapshot files go, to send them back (not needed in place: Jest writes them there). */
  readonly #snapshotResolver: Promise<{ resolveSnapshotPath(testPath: string): string }> | undefined;
  /** [relative path from the remote rootDir, the same from the local rootDir] of linked targets. */
  readonly #outside: Array<[string, string]>;

  readonly #inPlace: boolean;
  /** The tree's root on this side (the checkout's path under the prefix). */
  readonly #root: string;
  /** argv[1] of a Jest worker of this project's Jest: jest-worker's child script. */
  readonly workerScript: string;
  /** The project's own jest-resolve `Resolver` class. */
  readonly Resolver: Record<string, unknown> & { clearDefaultResolverCache?: () => void };

  /**
   * `jestCache`: where Jest keeps its transform cache on this side. The project's own cacheDirectory
   * is a path of the developer's machine (on a Mac, /var/folders/…), which a Lambda environment
   * cannot create: a folder of the environment's own takes its place, the same in every environment.
   */
  constructor(project: ProjectPayload, prefix: string, jestCache?: string) {
    this.#inPlace = project.inPlace === true && prefix === '';
    const root = treeDir(prefix, project.localBase);
    this.#root = root;
    // (folders reached through links to outside the checkout keep their real paths locally)
    const aliases = project.aliases ?? [];
    this.toRemote = new PathMap([[project.localBase, root], ...aliases.map(([real, at]): [string, string] => [real, path.join(root, at)])]);
    this.toLocal = new PathMap([[prefix, ''], ...aliases.map(([real, at]): [string, string] => [path.join(root, at), real])]);
    this.#config = this.toRemote.deep(project.config);
    if (jestCache !== undefined) this.#config.cacheDirectory = jestCache;
    this.cwd = this.toRemote.path(project.cwd);

    // Files reached through links to outside the mirror (node_modules on the embedded backend) keep
    // their real paths; Jest prints them relative to rootDir, which differs between the two sides.
    const localRootDir = String(project.config.rootDir);
    const remoteRootDir = this.toRemote.path(localRootDir);
    this.#outside = project.manifest.links
      .filter((l) => path.isAbsolute(l.target))
      .map((l): [string, string] => [path.relative(remoteRootDir, l.target), path.relative(localRootDir, l.target)])
      .filter(([from, to]) => from !== to)
      .sort((a, b) => b[0].length - a[0].length);

    this.#hashes = new Map(project.manifest.files.map((f) => [path.join(root, f.path), f.hash]));
    if (!this.#inPlace) {
      const snapshotModule = require.resolve('jest-snapshot', { paths: [path.dirname(String(this.#config.testRunner))] });
      this.#snapshotResolver = interop(require(snapshotModule)).buildSnapshotResolver(this.#config);
      this.#snapshotResolver!.catch(() => {});
    }

    const jest = this.toRemote.deep(project.jest);
    this.#runnerPath = jest.runner;
    this.workerScript = jestWorkerScript(jest.runner);
    this.#TestRunner = interop(require(jest.runner)).default;
    const Runtime = interop(require(jest.runtime)).default;
    this.Resolver = interop(require(require.resolve('jest-resolve', { paths: [path.dirname(jest.runtime)] }))).default;
    const HasteMap = interop(require(jest.hasteMap)).default;
    const moduleMap = HasteMap.getStatic(this.#config).getModuleMapFromJSON(this.toRemote.deep(project.moduleMap));
    this.#context = {
      config: this.#config,
      moduleMap,
      resolver: Runtime.createResolver(this.#config, moduleMap),
      hasteFS: undefined,
    };
  }

  /**
   * Forgets what Jest's resolver learned of the file system (it keeps what it stat'ed for the life
   * of the process): after packages came into the tree, a module it found missing may be there.
   */
  clearResolverCaches(): void {
    this.Resolver.clearDefaultResolverCache?.();
  }

  #remoteGlobalConfig(globalConfig: AnyRecord): AnyRecord {
    const raw = JSON.stringify(globalConfig);
    if (this.#globalConfig?.raw !== raw) this.#globalConfig = { raw, mapped: this.toRemote.deep(globalConfig) };
    return this.#globalConfig.mapped;
  }

  async run(localTestPath: string, options: SessionRunOptions): Promise<FileOutcome> {
    const outcome = options.mode === 'worker' ? await this.#runAsWorker(localTestPath, options) : await this.#runInBand(localTestPath, options);
    // (in place, Jest wrote snapshots into the checkout itself)
    if (outcome.kind === 'success' && !this.#inPlace) outcome.writes = await this.#writesOf(this.toRemote.path(localTestPath));
    return outcome;
  }

  /** Jest's pool path: jest-runner's testWorker `setup` once, then `worker` per file. */
  async #runAsWorker(localTestPath: string, options: SessionRunOptions): Promise<FileOutcome> {
    if (!this.#testWorker) {
      // Not in jest-runner's exports map, so required by path; same module Jest's children load.
      const testWorker = require(path.join(path.dirname(this.#runnerPath), 'testWorker.js'));
      await testWorker.setup({ serializableResolvers: [{ config: this.#config, serializableModuleMap: this.#context.moduleMap.toJSON() }] });
      this.#testWorker = testWorker;
    }
    // testWorker reports test-case events through jest-worker's messageParent (process.send).
    const originalSend = process.send;
    process.send = ((message: unknown, ...rest: unknown[]) => {
      if (Array.isArray(message) && message[0] === PARENT_MESSAGE_CUSTOM && Array.isArray(message[1])) {
        const [name, args] = message[1] as [string, unknown[]];
        if (name === 'test-case-start' || name === 'test-case-result') options.onEvent({ name, args: this.#local(args) });
        return true;
      }
      return originalSend ? (originalSend as (...a: unknown[]) => boolean).call(process, message, ...rest) : false;
    }) as typeof process.send;
    try {
      // Settled through `.then`, as jest-worker does, not `await`: an await would chain this
      // handler's own frames into the async stack traces that tests capture.
      const settled = await new Promise<{ ok: true; result: AnyRecord } | { ok: false; error: unknown }>((resolve) => {
        this.#testWorker!.worker({
          config: this.#config,
          globalConfig: this.#remoteGlobalConfig(options.globalConfig),
          path: this.toRemote.path(localTestPath),
          context: {
            changedFiles: options.changedFiles?.map((p) => this.toRemote.path(p)),
            sourcesRelatedToTestsInChangedFiles: options.sourcesRelatedToTestsInChangedFiles?.map((p) => this.toRemote.path(p)),
          },
        }).then(
          (result) => resolve({ ok: true, result }),
          (error: unknown) => resolve({ ok: false, error }),
        );
      });
      if (!settled.ok) return { kind: 'failure', error: this.#local(serializeError(settled.error)) };
      inlineV8SourceMaps(settled.result);
      fixCoverageHashes(settled.result, this.toLocal);
      return { kind: 'success', result: this.#local(settled.result), writes: [] };
    } finally {
      if (originalSend) process.send = originalSend;
      else delete process.send;
    }
  }

  /** Jest's in-band path: TestRunner in serial mode, as Jest runs files in its own process. */
  async #runInBand(localTestPath: string, options: SessionRunOptions): Promise<FileOutcome> {
    // Start the file from a fresh macrotask as Jest's in-band run does: a chain begun inside Node's
    // tick queue would resume test code from `processTicksAndRejections`, and that frame would
    // show up in the raw stacks Jest puts into `--json` results.
    await new Promise((resolve) => setImmediate(resolve));
    const testPath = this.toRemote.path(localTestPath);
    const changedFiles = options.changedFiles && new Set(options.changedFiles.map((p) => this.toRemote.path(p)));
    const related = options.sourcesRelatedToTestsInChangedFiles && new Set(options.sourcesRelatedToTestsInChangedFiles.map((p) => this.toRemote.path(p)));
    const runner = new this.#TestRunner(this.#remoteGlobalConfig(options.globalConfig), { changedFiles, sourcesRelatedToTestsInChangedFiles: related });

    let outcome: FileOutcome | undefined;
    const forward = (name: TestEvent['name']) => (args: unknown[]) => {
      options.onEvent({ name, args: this.#local(args) });
    };
    runner.on('test-case-start', forward('test-case-start'));
    runner.on('test-case-result', forward('test-case-result'));
    runner.on('test-file-success', ([, result]: [unknown, AnyRecord]) => {
      inlineV8SourceMaps(result);
      fixCoverageHashes(result, this.toLocal);
      outcome = { kind: 'success', result: this.#local(result), writes: [] };
    });
    runner.on('test-file-failure', ([, error]: [unknown, unknown]) => {
      outcome = { kind: 'failure', error: this.#local(serializeError(error)) };
    });

    const workerId = process.env.JEST_WORKER_ID;
    const running = runner.runTests([{ context: this.#context, path: testPath }], NEVER_INTERRUPTED, { serial: true });
    // In-band runs claim JEST_WORKER_ID=1 synchronously; a pool worker keeps its own id, as in Jest.
    if (workerId !== undefined) process.env.JEST_WORKER_ID = workerId;
    await running;
    if (!outcome) throw new Error(`Jest finished ${localTestPath} without reporting a result.`);
    return outcome;
  }

  /**
   * Snapshot files and inline snapshots are written by Jest into the run's tree; what changed
   * there (compared with the shipped manifest) goes back to the checkout.
   */
  async #writesOf(testPath: string): Promise<FileWrite[]> {
    const resolver = await this.#snapshotResolver!;
    const writes: FileWrite[] = [];
    for (const file of [resolver.resolveSnapshotPath(testPath), testPath]) {
      const shipped = this.#hashes.get(file);
      let content: Buffer | undefined;
      try {
        content = fs.readFileSync(file);
      } catch {
        content = undefined;
      }
      if (content === undefined) {
        if (shipped !== undefined) writes.push({ path: this.toLocal.path(file), content: null });
        continue;
      }
      const hash = sha256(content);
      if (hash === shipped) continue;
      writes.push({ path: this.toLocal.path(file), content: content.toString('base64') });
      // The next file of this run sees this content as shipped.
      this.#hashes.set(file, hash);
    }
    return writes;
  }

  /**
   * The node_modules/.bin folders from the working directory up to the tree's root, nearest first,
   * as npm, yarn and pnpm put them on PATH for `npm test`.
   */
  binDirs(): string[] {
    const dirs: string[] = [];
    for (let dir = this.cwd; dir === this.#root || dir.startsWith(this.#root + path.sep); dir = path.dirname(dir)) {
      const bin = path.join(dir, 'node_modules', '.bin');
      if (fs.existsSync(bin)) dirs.push(bin);
      if (dir === this.#root) break;
    }
    return dirs;
  }

  /** An error of this side (a trapped process.exit) as the local side reports it. */
  localError(error: SerializedError): SerializedError {
    return this.#local(error);
  }

  /** JSON copy (as Jest's workers send it) with every remote path turned back into the local one. */
  #local<T>(value: T): T {
    const mapped = this.toLocal.deep(jsonClone(value));
    if (this.#outside.length === 0) return mapped;
    return JSON.parse(JSON.stringify(mapped), (_key, v: unknown) => (typeof v === 'string' ? this.#relativeOutside(v) : v)) as T;
  }

  #relativeOutside(s: string): string {
    for (const [from, to] of this.#outside) {
      if (s.includes(from)) s = s.split(from).join(to);
    }
    return s;
  }
}

/**
 * V8 coverage names the source map of each transformed file by a path in this side's Jest cache;
 * the runner's coverage reporter reads it from its own disk. Carry the map itself instead (its
 * paths are mapped back with everything else) in `sourceMapContent`; the runner writes it out.
 */
function inlineV8SourceMaps(result: AnyRecord): void {
  if (!Array.isArray(result.v8Coverage)) return;
  for (const entry of result.v8Coverage as AnyRecord[]) {
    const transform = entry?.codeTransformResult as AnyRecord | undefined;
    if (!transform?.sourceMapPath) continue;
    try {
      transform.sourceMapContent = fs.readFileSync(transform.sourceMapPath, 'utf8');
    } catch {
      // Jest's reporter treats a missing map as "no map" too
    }
  }
}

/**
 * istanbul stamps each file's coverage with a sha1 of its initial data, which includes the file's
 * absolute path; with the path mapped back, the stamp must be the one local Jest would compute.
 * Recomputed only where the remote stamp is reproduced exactly first.
 */
function fixCoverageHashes(result: AnyRecord, toLocal: PathMap): void {
  const coverage = result.coverage as Record<string, AnyRecord> | undefined;
  if (!coverage) return;
  for (const data of Object.values(coverage)) {
    if (typeof data?.hash !== 'string' || !(ISTANBUL_SCHEMA_KEY in data)) continue;
    if (istanbulHash(data) !== data.hash) continue;
    data.hash = istanbulHash({ ...data, path: toLocal.path(String(data.path)) });
  }
}

function istanbulHash(data: AnyRecord): string {
  const zero = (counts: Record<string, unknown> | undefined) =>
    counts && Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, Array.isArray(v) ? v.map(() => 0) : 0]));
  const initial: AnyRecord = {};
  for (const [key, value] of Object.entries(data)) {
    if (key === 'hash') continue;
    initial[key] = key === 's' || key === 'f' || key === 'b' || key === 'bT' ? zero(value as Record<string, unknown>) : value;
  }
  return crypto.createHash('sha1').update(JSON.stringify(initial)).digest('hex');
}

/** The shape jest-runner's own worker gives errors before they cross a process boundary. */
export function serializeError(error: unknown): SerializedError {
  if (typeof error === 'string') return { message: error, type: 'Error' };
  const e = (error ?? {}) as { message?: unknown; stack?: unknown; code?: unknown };
  return {
    message: typeof e.message === 'string' ? e.message : String(error),
    stack: typeof e.stack === 'string' ? e.stack : undefined,
    type: 'Error',
    code: typeof e.code === 'string' || typeof e.code === 'number' ? e.code : undefined,
  };
}

/** Jest's own workers send results as JSON; doing the same keeps `--json` output identical. */
function jsonClone<T>(value: T): T {
  let json: string;
  try {
    json = JSON.stringify(value);
  } catch {
    // A cycle: Jest's own workers clone results structurally (a failed execFileSync's error has
    // `error` pointing at itself in failureDetails); JSON cannot, so cycles become "[Circular]".
    json = JSON.stringify(value, withoutCycles());
  }
  return JSON.parse(json) as T;
}

/** A JSON.stringify replacer that writes "[Circular]" for a value that contains itself. */
function withoutCycles(): (this: unknown, key: string, value: unknown) => unknown {
  const ancestors: unknown[] = [];
  return function (this: unknown, _key: string, value: unknown) {
    if (typeof value !== 'object' || value === null) return value;
    // `this` is the object holding `value`: drop the ancestors that are not on its path
    while (ancestors.length > 0 && ancestors[ancestors.length - 1] !== this) ancestors.pop();
    if (ancestors.includes(value)) return '[Circular]';
    ancestors.push(value);
    return value;
  };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a module of the user's Jest, CommonJS or transpiled ESM
function interop(mod: any): any {
  return mod && mod.__esModule ? mod : { default: mod };
}
