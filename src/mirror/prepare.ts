/**
 * The "prepare" step of a run: for every Jest project among the test files, once, the mirror of
 * what its files need, its description, delivery of its blobs (src/ship/) and whatever the backend
 * sets up before the first request. Hashing and uploading show a progress bar on a terminal.
 */
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import vm from 'node:vm';
import type { Test } from '@jest/test-result';
import type { Config } from '@jest/types';
import type { Backend } from '../backends/types';
import type { DispatchItem } from '../dispatch';
import { RemoteRunnerError, stopsTheRun } from '../errors';
import type { ResolvedOptions, RunSettings } from '../options';
import type { FetchedPackages, Hash, ProjectPayload, TransformEntry } from '../protocol';
import type { Progress } from '../results/progress';
import { NO_SHIP_STATS, type ShipStats } from '../ship/blob-store';
import type { Delivery } from '../ship/delivery';
import { sha256 } from '../ship/sha256';
import { HashCache } from './hash-cache';
import { holdBack, ScanCache, type HeldBack } from './hold-back';
import { PackageNeeds, type ProjectNeeds } from './needs';
import { retarget, type Retargeted, type TargetPlatform } from './platform';
import { PackageIndex } from '../ship/packages';
import { TransformIndex } from '../ship/transform-index';
import { describeProject } from './project';
import { buildMirror, type Mirror, type MirrorInput } from './walk';

interface PreparedProject {
  payload: ProjectPayload;
  /** The installed packages each test file needs beyond the project's own (`payload.packages`). */
  packages?: Map<string, string[]>;
}

export interface PreparedRun {
  items: DispatchItem[];
  /** The Jest test each item stands for. */
  tests: Map<DispatchItem, Test>;
  /** Files whose project could not be prepared: reported as failed, never dispatched. */
  failures: Array<[Test, Error]>;
}

export class ProjectPreparer {
  readonly timing = { mirror: 0, ship: 0 };
  /** Local files kept on this machine because they look like secrets (./hold-back.ts), by local path. */
  readonly heldBack = new Map<string, HeldBack>();
  /** Created with the hash cache: content verdicts by hash, so each file's bytes are scanned once. */
  scans: ScanCache | undefined;
  readonly shipped: ShipStats = { ...NO_SHIP_STATS };
  /** Created for the first project that needs hashing (in place, none does). */
  hashes: HashCache | undefined;
  readonly #settings: RunSettings;
  readonly #globalConfig: Config.GlobalConfig;
  readonly #backend: Backend;
  readonly #delivery: Delivery;
  readonly #progress: Progress;
  readonly #projects = new Map<string, Promise<PreparedProject>>();
  /** Transforms in the published indexes, and made by this run's environments (the debug line). */
  readonly transformStats = { shared: false, indexed: 0, made: 0 };
  /** The transforms the function's environments made, by project id, and the published index's key by project key. */
  readonly #transforms = new Map<string, TransformIndex>();
  readonly #transformKeys = new Map<Hash, Hash>();
  /** Which installed packages each file needs (remote trees, `packages: "needed"`), by project id. */
  readonly #needs = new Map<string, PackageNeeds>();
  /** What the needs came to, summed over projects (for the debug line). */
  readonly packageStats = {
    files: 0,
    basePacks: 0,
    baseBytes: 0,
    fileBytes: 0,
    fullBytes: 0,
    unknown: 0,
    fetched: 0,
    parsed: 0,
    fetchedPackages: new Set<string>(),
  };
  /** Project key -> whether a local file was shipped with it (for the "not shipped" hint). */
  readonly #shippedFiles = new Map<Hash, (file: string) => boolean>();
  #checked: Promise<void> | undefined;

  constructor(settings: RunSettings, globalConfig: Config.GlobalConfig, connection: { backend: Backend; delivery: Delivery }, progress: Progress) {
    this.#settings = settings;
    this.#globalConfig = globalConfig;
    this.#backend = connection.backend;
    this.#delivery = connection.delivery;
    this.#progress = progress;
  }

  /** One hash cache per checkout and (first) project, so a run reads only what concerns its own tree. */
  #hashCache(first: Config.ProjectConfig): HashCache {
    if (this.hashes) return this.hashes;
    const { hashes, scans } = cachesOf(this.#settings.cacheDir, first);
    let hashing = false;
    hashes.onMiss = () => {
      if (!hashing) {
        hashing = true;
        this.#progress.phase('hashing', Math.max(hashes.size, 1), 'files');
      }
      this.#progress.tick();
    };
    this.scans = scans;
    return (this.hashes = hashes);
  }

  /** Every file's project, prepared once per project; a set-up error stops the run, others fail their files. */
  async prepare(tests: Test[]): Promise<PreparedRun> {
    const run: PreparedRun = { items: [], tests: new Map(), failures: [] };
    const byProject = new Map<string, Test[]>();
    for (const test of tests) byProject.set(test.context.config.id, [...(byProject.get(test.context.config.id) ?? []), test]);
    for (const test of tests) {
      try {
        const { payload: project, packages } = await this.#project(test, byProject.get(test.context.config.id)!);
        const held = this.heldBack.get(test.path);
        if (held) throw heldBackTestFile(held);
        const own = packages?.get(test.path);
        const item: DispatchItem = {
          testPath: test.path,
          project,
          estimateMs: (test as { duration?: number }).duration ?? undefined,
          ...(own?.length ? { packages: own } : {}),
        };
        run.tests.set(item, test);
        run.items.push(item);
      } catch (error) {
        if (stopsTheRun(error)) throw error;
        run.failures.push([test, error as Error]);
      }
    }
    if (this.hashes) {
      this.hashes.save();
      this.scans?.save();
      for (const needs of this.#needs.values()) needs.save();
      this.hashes.onMiss = undefined;
    }
    this.#progress.stop();
    return run;
  }

  /** The key of the transform index published for `item`'s project (the shared store only). */
  transformsOf(item: DispatchItem): Hash | undefined {
    return this.#transformKeys.get(item.project.key);
  }

  /** Transforms an environment made for `item`'s project: in the index published next run. */
  transformsMade(item: DispatchItem, entries: TransformEntry[]): void {
    this.#transforms.get(String(item.project.config.id))?.add(entries);
    this.transformStats.made += entries.length;
  }

  /** What the run learned, kept for the next: packages files needed, transforms environments made. */
  finish(): void {
    for (const needs of this.#needs.values()) needs.save();
    for (const index of this.#transforms.values()) index.save();
  }

  /**
   * With a shared store, the project's transform index goes there as a blob: environments bring in
   * what other environments transformed before they run (handler/transforms.ts).
   */
  async #publishTransforms(config: Config.ProjectConfig, projectKey: Hash): Promise<void> {
    if (!this.#settings.remote || !this.#delivery.store || !this.#delivery.publish) return;
    const index = new TransformIndex(path.join(this.#settings.cacheDir, 'transforms', `${sha256(`${config.rootDir}\0${config.id}`).slice(0, 16)}.json`));
    this.#transforms.set(config.id, index);
    const bytes = index.encoded();
    const key = bytes && (await this.#delivery.publish(bytes));
    if (key) this.#transformKeys.set(projectKey, key);
    this.transformStats.shared = true;
    this.transformStats.indexed += index.size;
  }

  /** Packages an environment had to bring in for a file: sent up front from the next run on. */
  learned(item: DispatchItem, fetched: FetchedPackages): void {
    const needs = this.#needs.get(String(item.project.config.id));
    if (!needs) return;
    this.packageStats.fetched++;
    for (const p of [...fetched.file, ...fetched.project]) this.packageStats.fetchedPackages.add(p);
    needs.learn(item.project.localBase, item.testPath, fetched.file);
    needs.learn(item.project.localBase, undefined, fetched.project);
    needs.save();
  }

  shippedFile(projectKey: Hash): (file: string) => boolean {
    return this.#shippedFiles.get(projectKey) ?? (() => false);
  }

  #project(test: Test, tests: Test[]): Promise<PreparedProject> {
    const config = test.context.config;
    let prepared = this.#projects.get(config.id);
    if (!prepared) {
      prepared = this.#prepareProject(test, tests);
      this.#projects.set(config.id, prepared);
    }
    return prepared;
  }

  async #prepareProject(test: Test, tests: Test[]): Promise<PreparedProject> {
    let t = performance.now();
    // (once, before anything is shipped: a function that cannot run these files stops here)
    this.#checked ??= this.#backend.check?.({ vmModules: typeof (vm as { SourceTextModule?: unknown }).SourceTextModule === 'function' }) ?? Promise.resolve();
    await this.#checked;
    const mirror = await this.#forPlatform(this.#mirror(test.context.config), test.context.config);
    const needs = await this.#needsOf(mirror, tests);
    this.timing.mirror += performance.now() - t;
    t = performance.now();
    const project = describeProject(test, mirror, this.#settings, needs?.base);
    const stats = await this.#delivery.ship(project, this.#progress);
    const payload = this.#backend.prepare ? await this.#backend.prepare(project.payload) : project.payload;
    await this.#publishTransforms(test.context.config, payload.key);
    const inMirror = new Set(mirror.manifest.files.map((f) => path.join(mirror.localBase, f.path)));
    this.#shippedFiles.set(payload.key, this.#settings.inPlace ? () => true : (file) => inMirror.has(file));
    for (const k of Object.keys(this.shipped) as Array<keyof ShipStats>) this.shipped[k] += stats[k];
    this.timing.ship += performance.now() - t;
    return { payload, packages: needs?.files };
  }

  /**
   * Which installed packages each file needs (./needs.ts), when only those travel: a remote tree
   * with packages, `packages: "needed"`. Never fails a run: a graph that cannot be had ships all.
   */
  async #needsOf(mirror: Mirror, tests: Test[]): Promise<ProjectNeeds | undefined> {
    const packDirs = mirror.manifest.packDirs ?? [];
    if (!this.#settings.remote || this.#settings.options.packages !== 'needed' || packDirs.length === 0) return undefined;
    const config = tests[0]!.context.config;
    const cache = new PackageNeeds(path.join(this.#settings.cacheDir, 'needs', `${sha256(`${config.rootDir}\0${config.id}`).slice(0, 16)}.json`));
    this.#needs.set(config.id, cache);
    const { jest } = this.#settings;
    let needs: ProjectNeeds;
    try {
      needs = await cache.of(mirror, tests, [jest.runner, jest.runtime, jest.hasteMap, jest.testResult]);
    } catch (error) {
      if (this.#settings.options.debug)
        process.stderr.write(`[remote-lambda] packages: every one travels (the module graph failed: ${(error as Error).message})\n`);
      return undefined;
    }
    const sizes = packSizes(mirror);
    const bytesOf = (packs: Iterable<string>) => [...packs].reduce((n, p) => n + (sizes.get(p) ?? 0), 0);
    const stats = this.packageStats;
    stats.files += needs.files.size;
    stats.basePacks += needs.base.length;
    stats.baseBytes += bytesOf(needs.base);
    for (const own of needs.files.values()) stats.fileBytes += bytesOf(own);
    stats.fullBytes += bytesOf(sizes.keys());
    stats.unknown += needs.unknown;
    stats.parsed += needs.parsed;
    return needs;
  }

  /**
   * Platform packages of this machine replaced by the function's (or both Lambda architectures'),
   * and a warning for native files that nothing replaces.
   */
  async #forPlatform(mirror: Mirror, config: Config.ProjectConfig): Promise<Mirror> {
    const targets = this.#backend.platforms?.();
    if (!targets || !this.hashes) return mirror;
    const retargeted = await retarget(mirror, targets, { cacheDir: this.#settings.cacheDir, projectDir: config.rootDir, hashes: this.hashes });
    if (!this.#globalConfig.silent) {
      const lines = platformWarnings(retargeted, targets);
      if (lines.length > 0) process.stderr.write(`${lines.join('\n')}\n`);
    }
    return retargeted.mirror;
  }

  /** In place (the embedded backend's default) there is nothing to describe, hash or ship. */
  #mirror(config: Config.ProjectConfig): Mirror {
    if (this.#settings.inPlace) return { localBase: config.rootDir, manifest: { files: [], links: [], dirs: [] }, sources: new Map(), bytes: 0 };
    const { options, cacheDir, remote } = this.#settings;
    const hashes = this.#hashCache(config);
    const mirror = buildMirror(mirrorInputOf(config, options, { cacheDir, coverageDirectory: this.#globalConfig.coverageDirectory, remote }), hashes);
    const guarded = holdBack(mirror, { rootDir: config.rootDir, include: options.include, scans: this.scans! });
    for (const h of guarded.heldBack) this.heldBack.set(h.file, h);
    return guarded.mirror;
  }
}

/** What the walk of a project starts from (also `npx jest-runner-remote-lambda ls`). */
export function mirrorInputOf(
  config: Config.ProjectConfig,
  options: Pick<ResolvedOptions, 'include' | 'exclude'>,
  run: { cacheDir: string; coverageDirectory?: string; remote: boolean },
): MirrorInput {
  return {
    rootDir: config.rootDir,
    roots: config.roots,
    cwd: config.cwd,
    include: options.include,
    exclude: options.exclude,
    skipDirs: [config.cacheDirectory, run.cacheDir, run.coverageDirectory ?? path.join(config.rootDir, 'coverage')],
    configStrings: stringsOf(config),
    nodeModules: run.remote ? 'ship' : 'link',
  };
}

/** The hash cache and content verdicts a project's runs keep in the runner's cache folder. */
export function cachesOf(cacheDir: string, first: Config.ProjectConfig): { hashes: HashCache; scans: ScanCache } {
  return {
    hashes: new HashCache(path.join(cacheDir, 'hashes', `${sha256(`${first.rootDir}\0${first.id}`).slice(0, 16)}.json`)),
    scans: new ScanCache(path.join(cacheDir, 'scanned.json')),
  };
}

function heldBackTestFile(held: HeldBack): RemoteRunnerError {
  return new RemoteRunnerError(
    'HELD_BACK',
    `the test file itself was held back because it looks like it holds a secret (${held.reason}), so it cannot run remotely.\n` +
      `If that is a fake key of a test, list the file in the "include" option (JEST_REMOTE_LAMBDA_INCLUDE=${held.key}) to ship it, or in "runLocally".`,
  );
}

function stringsOf(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) stringsOf(v, out);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) stringsOf(v, out);
  return out;
}

/** Platform packages swapped for the function's, and what could not be made to run there (each with what to do). */
function platformWarnings(r: Retargeted, targets: TargetPlatform[]): string[] {
  const where = targets.map((t) => `${t.os} ${t.cpu}`).join(' or ');
  const lines: string[] = [];
  if (r.replaced.length > 0) {
    const bySource = new Map<string, string[]>();
    for (const x of r.replaced) bySource.set(x.from, [...(bySource.get(x.from) ?? []), x.to]);
    const list = [...bySource].map(([from, to]) => `${from} -> ${to.join(' and ')}`);
    lines.push(`remote-lambda: platform packages shipped for the function (${where}) in place of this machine's: ${list.join(', ')}.`);
  }
  if (r.omitted.length > 0) {
    lines.push(
      `remote-lambda: left out for the function (${where}), as an install there would: ${r.omitted.join(', ')} (optional, for this machine's platform only).`,
    );
  }
  if (r.unresolved.length > 0) {
    lines.push(
      `remote-lambda: warning: installed for this machine's platform, with no package for the function's (${where}): ${r.unresolved.join(', ')}. ` +
        'Tests that load them fail there and run again here; list them in "runLocally", or install on Linux (CI) or give the function a layer with them.',
    );
  }
  const byOwner = new Map<string, string[]>();
  for (const b of r.binaries) byOwner.set(`${b.owner} (built for ${b.builtFor})`, [...(byOwner.get(`${b.owner} (built for ${b.builtFor})`) ?? []), b.file]);
  for (const [owner, files] of byOwner) {
    lines.push(
      `remote-lambda: warning: native files of ${owner} cannot load on the function (${where}): ${files.slice(0, 3).join(', ')}${files.length > 3 ? `, and ${files.length - 3} more` : ''}. ` +
        'They were compiled or downloaded on install for this machine: run the tests that use them here ("runLocally"), install on Linux (CI), or give the function a layer.',
    );
  }
  return lines;
}

/** Bytes of each installed package of a mirror. */
function packSizes(mirror: Mirror): Map<string, number> {
  const index = new PackageIndex(mirror.manifest);
  const sizes = new Map<string, number>([...index.packDirs].map((p) => [p, 0]));
  for (const f of mirror.manifest.files) {
    const pack = index.packOfFile(f.path);
    if (pack !== undefined) sizes.set(pack, (sizes.get(pack) ?? 0) + f.size);
  }
  return sizes;
}
