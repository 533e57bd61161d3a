/**
 * The one tree a materializing process (a Lambda container) holds under its prefix: brought to
 * exactly the manifest of each new project or run from the content store (blobs it lacks come
 * from the shared store first), moved when the same project arrives from another checkout path,
 * and never more than one checkout's tree at a time, so no run can read another's files.
 */
import fs from 'node:fs';
import path from 'node:path';
import { HandlerFault } from '../src/errors';
import type { Hash, Manifest, ProjectPayload, RunRequest } from '../src/protocol';
import { MissingBlobsError } from '../src/errors';
import type { BlobSource } from '../src/ship/blob-store';
import { packsOf } from '../src/ship/pack';
import { PackageIndex } from '../src/ship/packages';
import { fetchPacks } from '../src/ship/s3-fetch';
import { mbUp } from '../src/ship/sizes';
import { materialize, treeDir } from './materialize';
import { MissWatch } from './misses';
import { SharedTransforms } from './transforms';
import type { PhaseClock } from './phases';

export class ContainerTree {
  readonly prefix: string;
  readonly blobs: BlobSource;
  /** A HOME and a temporary folder of the run's own (emptied when another run arrives). */
  readonly home: string;
  readonly tmp: string;
  /** Jest's cache on this side (its transforms), kept across runs like a developer's (see JestSession). */
  readonly jestCache: string;
  /** Its transforms, shared with the function's other environments through the store. */
  readonly transforms: SharedTransforms;
  /** Called when modules loaded from the tree were dropped: sessions built on them must go. */
  readonly #onModulesDropped: () => void;
  /** Which project the tree holds, brought in place for which run. */
  #key: string | undefined;
  #run: string | undefined;
  /** Where the tree is (the prefix joined with its checkout's path). */
  #at: string | undefined;
  /** The forwarded variables Jest's modules under the prefix were loaded with. */
  #modulesEnv: string | undefined;
  /** The installed packages of the project the tree holds (see `partial`), by project key. */
  #index: { key: string; index: PackageIndex } | undefined;
  /** The packages the tree holds, when it holds only some (the project names `packages`). */
  #packs = new Set<string>();
  /** Bytes of the files the tree holds. */
  bytes = 0;

  constructor(prefix: string, blobs: BlobSource, onModulesDropped: () => void) {
    this.prefix = prefix;
    this.blobs = blobs;
    this.home = path.join(path.dirname(prefix), 'home');
    this.tmp = path.join(path.dirname(prefix), 'tmp');
    this.jestCache = path.join(path.dirname(prefix), 'jest-cache');
    this.transforms = new SharedTransforms(this.jestCache);
    this.#onModulesDropped = onModulesDropped;
  }

  holds(request: RunRequest): boolean {
    return this.#key === request.projectKey && this.#run === request.runId;
  }

  /** Brings the tree to `project`'s manifest for `request`'s run. */
  async bringTo(project: ProjectPayload, request: RunRequest, clock: PhaseClock, afresh = false): Promise<void> {
    const wanted = this.partial(project) ? this.#wanted(project, request) : undefined;
    const manifest = wanted ? this.#indexOf(project).only(project.manifest, wanted) : project.manifest;
    const missing = new Map(manifest.files.filter((f) => this.blobs.pathOf(f.hash) === undefined).map((f) => [f.hash, f.size]));
    this.#makeRoom(project, manifest, missing);
    try {
      if (request.store && missing.size > 0) {
        await fetchPacks(request.store, packsOf(project.manifest, new Set(missing.keys())), this.blobs);
        clock.lap('fetch');
      }
      this.#materializeAt(project, manifest);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
      // A full /tmp (the room estimate cannot see how much of an old tree a new one reuses): once
      // more from nothing; if even that does not fit, the user hears the fix.
      this.#clear();
      if (!afresh) return this.bringTo(project, request, clock, true);
      throw new HandlerFault(
        this.#roomShortBy(
          manifest.files.reduce((n, f) => n + 2 * f.size, 0),
          error as Error,
        ),
      );
    }
    this.#packs = wanted ?? new Set();
    this.bytes = manifest.files.reduce((n, f) => n + f.size, 0);
    clock.lap('materialize');
    // What a run's tests left in HOME or the temporary folder is not the next run's.
    if (this.#run !== request.runId) for (const dir of [this.home, this.tmp]) fs.rmSync(dir, { recursive: true, force: true });
    this.#key = project.key;
    this.#run = request.runId;
    // Jest's modules read the environment when they load (chalk fixes its colour level then):
    // loaded under other forwarded variables, they are loaded again under these.
    const envKey = JSON.stringify([project.env, project.unsetEnv]);
    if (this.#modulesEnv !== undefined && this.#modulesEnv !== envKey) this.#dropModules();
    this.#modulesEnv = envKey;
  }

  #materializeAt(project: ProjectPayload, manifest: Manifest): void {
    const dir = this.#placeAt(treeDir(this.prefix, project.localBase));
    const stats = materialize(dir, manifest, this.blobs, { allowExternalLinks: false, statePath: `${this.prefix}.state.json` });
    // (files new to the tree change nothing loaded: more packages than the last run's keep Jest warm)
    if (stats.changed.length + stats.linked > 0) this.#dropModules();
  }

  /**
   * Whether the tree holds only the installed packages its files need (the project names the ones
   * every file needs; requests name the rest): the others come when a request names them, or when
   * a test reaches for one (see ./misses.ts).
   */
  partial(project: ProjectPayload): boolean {
    return project.packages !== undefined && this.#indexOf(project).partial;
  }

  /** Whether `request` names packages the tree does not hold yet. */
  lacks(project: ProjectPayload, request: RunRequest): boolean {
    if (!this.partial(project)) return false;
    const { packDirs } = this.#indexOf(project);
    return (request.packages ?? []).some((p) => !this.#packs.has(p) && packDirs.has(p));
  }

  /** A watch for the packages a file reaches for that this tree lacks. */
  missWatch(project: ProjectPayload): MissWatch {
    return new MissWatch(treeDir(this.prefix, project.localBase), this.#indexOf(project), this.#packs);
  }

  /**
   * Brings `packs` into the tree beside what it holds (nothing loaded from it changes, so Jest's
   * modules stay). Blobs this environment lacks come from the shared store, or are asked of the
   * runner (`fetched` then says why, so the request that brings them names these packages).
   */
  async addPackages(
    project: ProjectPayload,
    packs: Iterable<string>,
    request: RunRequest,
    clock: PhaseClock,
    fetched?: MissingBlobsError['fetched'],
  ): Promise<boolean> {
    const index = this.#indexOf(project);
    const added = new Set([...packs].filter((p) => index.packDirs.has(p) && !this.#packs.has(p)));
    if (added.size === 0) return false;
    const only = index.only(project.manifest, added);
    const manifest: Manifest = {
      files: only.files.filter((f) => index.packOfFile(f.path) !== undefined),
      links: only.links.filter((l) => index.packOfFile(l.path) !== undefined),
      dirs: only.dirs.filter((d) => index.packOfFile(`${d}/`) !== undefined),
    };
    const lacking = () => manifest.files.filter((f) => this.blobs.pathOf(f.hash) === undefined).map((f) => f.hash);
    if (lacking().length > 0 && request.store) {
      await fetchPacks(request.store, packsOf(project.manifest, new Set(lacking())), this.blobs);
      clock.lap('fetch');
    }
    const missing = lacking();
    if (missing.length > 0) throw new MissingBlobsError([...new Set(missing)], fetched);
    materialize(treeDir(this.prefix, project.localBase), manifest, this.blobs, {
      allowExternalLinks: false,
      statePath: `${this.prefix}.state.json`,
      additive: true,
    });
    for (const p of added) this.#packs.add(p);
    this.bytes += manifest.files.reduce((n, f) => n + f.size, 0);
    clock.lap('materialize');
    return true;
  }

  /**
   * The tree as its manifest says, again (before a file runs a second time: what its first run
   * wrote there goes). Jest's modules stay unless a file they were loaded from changed.
   */
  restore(project: ProjectPayload): void {
    const dir = treeDir(this.prefix, project.localBase);
    const manifest = this.partial(project) ? this.#indexOf(project).only(project.manifest, this.#packs) : project.manifest;
    const stats = materialize(dir, manifest, this.blobs, { allowExternalLinks: false, statePath: `${this.prefix}.state.json` });
    if (stats.changed.some((p) => require.cache[path.join(dir, p)] !== undefined)) this.#dropModules();
  }

  #indexOf(project: ProjectPayload): PackageIndex {
    if (this.#index?.key !== project.key) this.#index = { key: project.key, index: new PackageIndex(project.manifest) };
    return this.#index.index;
  }

  /** The packages the tree should hold for `request`: the project's, the request's, and those it holds already. */
  #wanted(project: ProjectPayload, request: RunRequest): Set<string> {
    const { packDirs } = this.#indexOf(project);
    return new Set([...(project.packages ?? []), ...(request.packages ?? []), ...this.#packs].filter((p) => packDirs.has(p)));
  }

  /** Makes `dir` the only checkout's tree under the prefix, moving the last one there if it can. */
  #placeAt(dir: string): string {
    const previous = this.#at;
    // A checkout at another path (another developer, another CI workspace) is mostly the same files:
    // move the tree there and let the reconciliation change only what differs.
    if (previous !== undefined && previous !== dir && !fs.existsSync(dir) && fs.existsSync(previous) && !nested(previous, dir)) {
      fs.mkdirSync(path.dirname(dir), { recursive: true });
      fs.renameSync(previous, dir);
      this.#dropModules();
    }
    this.#at = dir;
    // Only this project's tree may exist under the prefix: another checkout's tree from an earlier
    // invocation of this container is removed, so no run can read another's files.
    let parent = this.prefix;
    for (const segment of path.relative(this.prefix, dir).split(path.sep)) {
      if (fs.existsSync(parent)) {
        for (const name of fs.readdirSync(parent)) if (name !== segment) fs.rmSync(path.join(parent, name), { recursive: true, force: true });
      }
      parent = path.join(parent, segment);
    }
    return dir;
  }

  /** Blobs this container lacks are stored once and copied into the tree once: both must fit in /tmp. */
  /**
   * /tmp is a cache: when the blobs this project still lacks (each lands twice: in the store and in
   * the tree) do not fit, blobs no file of this project uses go first, then the last run's HOME and
   * temporary folder, then the tree itself. Still short: a final fault naming the storage to ask for.
   */
  #makeRoom(project: ProjectPayload, manifest: Manifest, missing: Map<Hash, number>): void {
    let needed = 0;
    for (const size of missing.values()) needed += 2 * size;
    if (needed === 0 || needed <= this.#free()) return;
    this.blobs.prune?.(new Set(manifest.files.map((f) => f.hash)));
    if (needed > this.#free()) {
      for (const dir of [this.home, this.tmp, this.jestCache]) fs.rmSync(dir, { recursive: true, force: true });
      this.transforms.reset();
    }
    if (needed <= this.#free()) return;
    // Last, the tree itself (another project's files, mostly): it is then made anew from the store.
    if (this.#at) {
      this.#clearTree();
      needed = [...missing.values()].reduce((n, size) => n + size, 0) + manifest.files.reduce((n, f) => n + f.size, 0);
      if (needed <= this.#free()) return;
    }
    throw new HandlerFault(this.#roomShortBy(needed));
  }

  #free(): number {
    const where = path.dirname(this.prefix);
    try {
      fs.mkdirSync(where, { recursive: true });
      const st = fs.statfsSync(where);
      return st.bavail * st.bsize;
    } catch {
      return Infinity;
    }
  }

  /** Why the project does not fit, with the storage to ask for; `full`: the error of a /tmp that filled up anyway. */
  #roomShortBy(needed: number, full?: Error): string {
    const where = path.dirname(this.prefix);
    const free = this.#free();
    // (a filesystem of small files holds less than its free bytes, and packs land before they are unpacked)
    const ask = Math.min(10240, Math.ceil((Math.max(needed, full ? free : 0) * 1.5) / 1024 / 1024 / 512) * 512);
    const why = full
      ? `This project's files (about ${mbUp(needed / 2)}, held twice: as blobs and as the tree made from them) did not fit in ${where}, ${mbUp(free)} when empty (${full.message}).`
      : `This project needs about ${mbUp(needed)} in ${where} (its blobs and the tree made from them), but only ${mbUp(free)} is free.`;
    return `${why}\nGive the function more ephemeral storage (npx jest-runner-remote-lambda deploy --ephemeral-storage ${ask}), or ship less with the "exclude" option.`;
  }

  /** Everything under the prefix goes (after a full /tmp): the next project starts from an empty tree. */
  #clear(): void {
    for (const dir of [this.home, this.tmp, this.jestCache]) fs.rmSync(dir, { recursive: true, force: true });
    this.transforms.reset();
    this.blobs.prune?.(new Set());
    this.#clearTree();
  }

  #clearTree(): void {
    if (this.#at) fs.rmSync(this.#at, { recursive: true, force: true });
    this.#packs = new Set();
    this.bytes = 0;
    fs.rmSync(`${this.prefix}.state.json`, { force: true });
    this.#at = undefined;
    this.#key = undefined;
    this.#run = undefined;
    this.#dropModules();
  }

  /**
   * Modules loaded outside Jest's sandbox (Jest itself, transformers, babel configs) stay in Node's
   * require cache; when the files under them changed, they and every session built on them go.
   */
  #dropModules(): void {
    let stale = false;
    for (const file of Object.keys(require.cache)) {
      if (file.startsWith(this.prefix + path.sep)) {
        delete require.cache[file];
        stale = true;
      }
    }
    if (stale) this.#onModulesDropped();
  }
}

function nested(a: string, b: string): boolean {
  return a.startsWith(b + path.sep) || b.startsWith(a + path.sep);
}
