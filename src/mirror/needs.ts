/**
 * Which installed packages each test file needs, so a cold environment materializes those rather
 * than the whole node_modules. esbuild parses the project's files from each test file (and from the
 * setup files), Jest's own resolver of the project resolves every import (so moduleNameMapper,
 * moduleDirectories, modulePaths, haste modules and Jest's extensions are Jest's, not a copy of
 * them); an import that lands in a package stops there, and packages are closed over their declared
 * dependencies (dependencies, optional, peer), resolved as Node resolves them from where each
 * package is installed. Module boundaries do not change: the real files travel, this only decides
 * which packages' files an environment brings in.
 *
 * What a graph cannot see (a `require` of a computed name, a fixture read from a package, a babel
 * preset named in a config file) the handler notices when a test touches it and fetches it; the
 * answer says so and it is remembered here, for the file or the whole project, so the next run
 * sends it up front. Each module's imports are cached by the module's content hash: an unchanged
 * file is not parsed again.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Test } from '@jest/test-result';
import type { Config } from '@jest/types';
import type * as esbuild from 'esbuild';
import writeFileAtomic from 'write-file-atomic';
import { PackageIndex, packageNameOf } from '../ship/packages';
import { sha256 } from '../ship/sha256';
import type { Mirror } from './walk';

/** Test files parsed by one esbuild call (its output is built in memory and thrown away). */
const ENTRIES_PER_BUILD = 200;
/** Builds that may fail on files esbuild cannot parse before the rest are given up as unknown. */
const MAX_PARSE_ROUNDS = 5;
const CACHE_VERSION = 1;
/**
 * Modules the config names that run on this machine only: the runner itself (this package; the
 * function runs its own handler), global set-up and tear-down.
 */
const HERE_ONLY = { runner: undefined, globalSetup: undefined, globalTeardown: undefined };
/** Jest's command line: it runs on this machine, never where the tests run. */
const JEST_COMMAND_LINE = new Set(['jest', 'jest-cli', '@jest/core']);
const PARSED_EXTENSIONS = new Set(['.js', '.jsx', '.mjs', '.cjs', '.ts', '.tsx', '.mts', '.cts', '.json']);
/** Config files whose string literals name packages loaded by name at run time (babel presets, tsconfig `extends`). */
const CONFIG_FILE = /^(babel\.config\.[cm]?[jt]s|babel\.config\.json|\.babelrc(\.[cm]?js|\.json)?|\.swcrc|package\.json|tsconfig(\.[\w-]+)?\.json)$/;

type ModuleEntry = [hash: string, imports: string[], packs: string[]];
interface CacheFile {
  version: number;
  /** The resolution settings the modules were resolved under. */
  config: string;
  modules: Record<string, ModuleEntry>;
  /** Packages the handler found missing: for one test file, or for every file (the transformer's). */
  learned: { project: string[]; files: Record<string, string[]> };
}

export interface ProjectNeeds {
  /** Packages every file of the project needs (Jest, the transformers, the setup files' imports), closed. */
  base: string[];
  /** Per test file (local path): the packages it needs beyond `base`, closed. */
  files: Map<string, string[]>;
  /** Files whose graph could not be read (every package goes with them). */
  unknown: number;
  /** Test and setup files parsed this time (the others' graphs came from the cache). */
  parsed: number;
}

type Resolver = {
  resolveModule(from: string, name: string, options?: { conditions?: string[] }): string;
  isCoreModule(name: string): boolean;
};
type HasteFS = { getDependencies(file: string): string[] | null } | undefined;

export class PackageNeeds {
  readonly #file: string;
  #cache: CacheFile;
  #dirty = false;

  constructor(file: string) {
    this.#file = file;
    this.#cache = readCache(file);
  }

  /** Remembers packages the handler had to fetch for `testPath` (or, `project`, for every file). */
  learn(localBase: string, testPath: string | undefined, packs: string[]): void {
    if (packs.length === 0) return;
    const { learned } = this.#cache;
    if (testPath === undefined) learned.project = union(learned.project, packs);
    else {
      const key = relativeKey(localBase, testPath);
      learned.files[key] = union(learned.files[key] ?? [], packs);
    }
    this.#dirty = true;
  }

  save(): void {
    if (!this.#dirty) return;
    fs.mkdirSync(path.dirname(this.#file), { recursive: true });
    writeFileAtomic.sync(this.#file, JSON.stringify(this.#cache), { fsync: false });
    this.#dirty = false;
  }

  /** The packages of every test file of one project (`tests` all share `tests[0]`'s context). */
  async of(mirror: Mirror, tests: Test[], jestPaths: string[]): Promise<ProjectNeeds> {
    const { context } = tests[0]!;
    const config = context.config;
    const tree = new TreeView(mirror);
    const configKey = sha256(
      JSON.stringify([
        CACHE_VERSION,
        config.rootDir,
        config.roots,
        config.moduleNameMapper,
        config.moduleDirectories,
        config.modulePaths,
        config.moduleFileExtensions,
        config.haste,
        config.resolver,
        config.testEnvironment,
      ]),
    );
    if (this.#cache.config !== configKey) {
      this.#cache = { ...this.#cache, config: configKey, modules: {} };
      this.#dirty = true;
    }
    // the project's own modules every file loads: setup files, and those the config names (a
    // transformer, a test environment, a resolver, snapshot serializers, moduleNameMapper targets)
    const remoteConfig = { ...config, ...HERE_ONLY };
    const projectModules = [...new Set(stringsOf(remoteConfig))].filter((p) => {
      const key = path.isAbsolute(p) ? tree.keyOf(p) : undefined;
      return key !== undefined && tree.hashOf(key) !== undefined && tree.index.packOf(key) === undefined && PARSED_EXTENSIONS.has(path.extname(p));
    });
    const entries = [...projectModules, ...tests.map((t) => t.path)];
    const stale = entries.filter((e) => !this.#fresh(tree, e));
    let unknown = new Set<string>();
    if (stale.length > 0) unknown = await this.#parse(tree, stale, context.resolver as unknown as Resolver, context.hasteFS as unknown as HasteFS, config);

    const learned = this.#cache.learned;
    const roots = new Set<string>();
    for (const p of [...jestPaths, ...stringsOf(remoteConfig)]) {
      const pack = path.isAbsolute(p) ? tree.packOf(p) : undefined;
      if (pack) roots.add(pack);
    }
    for (const pack of configFilePackages(tree, config.rootDir)) roots.add(pack);
    for (const module of projectModules) for (const pack of this.#reach(tree, module)) roots.add(pack);
    let base = tree.closure(roots);
    // TypeScript's compiler (ts-jest type-checks) includes every @types package it finds, named by no import
    if ([...base].some((p) => /(^|\/)node_modules\/typescript$/.test(p))) {
      base = tree.closure([...base, ...[...tree.index.packDirs].filter((p) => /(^|\/)node_modules\/@types\/[^/]+$/.test(p))]);
    }
    // (what environments found every file needs travels with each request, not in the project's
    // description: learning it does not change the project, so warm environments keep their Jest)
    const learnedByAll = [...tree.closure(learned.project, base)];
    const files = new Map<string, string[]>();
    for (const test of tests) {
      if (unknown.has(test.path)) {
        files.set(test.path, [...tree.index.packDirs].filter((p) => !base.has(p)).sort());
        continue;
      }
      const own = [...this.#reach(tree, test.path), ...(learned.files[relativeKey(mirror.localBase, test.path)] ?? []), ...learnedByAll];
      files.set(test.path, [...tree.closure(own, base)].sort());
    }
    return { base: [...base].sort(), files, unknown: unknown.size, parsed: stale.length };
  }

  /** Whether every module `entry` reaches is cached for its current content. */
  #fresh(tree: TreeView, entry: string): boolean {
    const seen = new Set<string>();
    const stack = [tree.keyOf(entry)];
    while (stack.length > 0) {
      const key = stack.pop()!;
      if (key === undefined || seen.has(key)) continue;
      seen.add(key);
      const cached = this.#cache.modules[key];
      if (!cached || cached[0] !== (tree.hashOf(key) ?? '')) return false;
      stack.push(...cached[1]);
    }
    return true;
  }

  /** The packages the project modules reached from `entry` import (the graph as cached). */
  #reach(tree: TreeView, entry: string): Set<string> {
    const packs = new Set<string>();
    const seen = new Set<string>();
    const stack = [tree.keyOf(entry)];
    while (stack.length > 0) {
      const key = stack.pop();
      if (key === undefined || seen.has(key)) continue;
      seen.add(key);
      const cached = this.#cache.modules[key];
      if (!cached) continue;
      for (const p of cached[2]) packs.add(p);
      stack.push(...cached[1]);
    }
    return packs;
  }

  /**
   * Parses `entries` and what they reach with esbuild, resolving through Jest's resolver, into the
   * module cache. Returns the entries whose graph could not be read at all.
   */
  async #parse(tree: TreeView, entries: string[], resolver: Resolver, hasteFS: HasteFS, config: Config.ProjectConfig): Promise<Set<string>> {
    const conditions = exportConditionsOf(config);
    const opaque = new Set<string>();
    const unknown = new Set<string>();
    const resolved = new Map<string, ReturnType<typeof resolveOne>>();
    const resolve = (importer: string, spec: string, kind: esbuild.ImportKind) => {
      const key = `${importer}\0${spec}\0${kind === 'require-call' || kind === 'require-resolve' ? 'r' : 'i'}`;
      let r = resolved.get(key);
      if (!r) resolved.set(key, (r = resolveOne(tree, resolver, importer, spec, kind, conditions)));
      return r;
    };
    // imports and packages of each module as this parse finds them (keys of the tree)
    const found = new Map<string, { imports: Set<string>; packs: Set<string> }>();
    const note = (importer: string) => {
      const key = tree.keyOf(importer);
      if (key === undefined) return undefined;
      let entry = found.get(key);
      if (!entry) found.set(key, (entry = { imports: new Set(), packs: new Set() }));
      return entry;
    };
    const plugin: esbuild.Plugin = {
      name: 'jest-resolution',
      setup(build) {
        build.onResolve({ filter: /.*/ }, (args) => {
          if (args.kind === 'entry-point') {
            note(args.path);
            return opaque.has(args.path) ? { path: args.path, namespace: 'opaque' } : { path: args.path };
          }
          const importer = args.importer;
          const at = note(importer);
          const r = resolve(importer, args.path, args.kind);
          if (r.kind === 'pack') {
            at?.packs.add(r.pack);
            return { path: `pack:${r.pack}`, external: true };
          }
          if (r.kind === 'file') {
            const key = tree.keyOf(r.file);
            if (key !== undefined) at?.imports.add(key);
            note(r.file);
            if (opaque.has(r.file)) return { path: r.file, namespace: 'opaque' };
            return PARSED_EXTENSIONS.has(path.extname(r.file)) ? { path: r.file } : { path: r.file, external: true };
          }
          return { path: args.path, external: true };
        });
        // Files esbuild cannot parse (Flow, a syntax of a custom transform): their imports as Jest's
        // own dependency extractor found them when it built the haste map.
        build.onLoad({ filter: /.*/, namespace: 'opaque' }, (args) => ({
          contents: (hasteFS?.getDependencies(args.path) ?? []).map((d) => `require(${JSON.stringify(d)});`).join('\n'),
          resolveDir: path.dirname(args.path),
          loader: 'js',
        }));
      },
    };
    for (let i = 0; i < entries.length; i += ENTRIES_PER_BUILD) {
      let chunk = entries.slice(i, i + ENTRIES_PER_BUILD);
      for (let round = 0; chunk.length > 0; round++) {
        const errors = await buildGraph(chunk, tree.localBase, plugin);
        if (errors.length === 0) break;
        const failing = new Set(errors.map((e) => (e.location ? path.resolve(tree.localBase, e.location.file.replace(/^[a-z]+:/, '')) : '')));
        const newlyOpaque = [...failing].filter((f) => f && !opaque.has(f));
        if (round >= MAX_PARSE_ROUNDS || newlyOpaque.length === 0) {
          for (const e of chunk) unknown.add(e);
          break;
        }
        for (const f of newlyOpaque) opaque.add(f);
        found.clear();
        chunk = chunk.filter((e) => !unknown.has(e));
      }
      for (const [key, entry] of found) {
        this.#cache.modules[key] = [tree.hashOf(key) ?? '', [...entry.imports].sort(), [...entry.packs].sort()];
      }
      found.clear();
      this.#dirty = true;
    }
    return unknown;
  }
}

async function buildGraph(entries: string[], base: string, plugin: esbuild.Plugin): Promise<esbuild.Message[]> {
  // (loaded when a graph is needed: a run on the embedded backend never starts esbuild)
  const { build } = require('esbuild') as typeof esbuild;
  try {
    await build({
      entryPoints: entries,
      absWorkingDir: base,
      bundle: true,
      write: false,
      metafile: true,
      outdir: path.join(base, '.jrl-graph'),
      format: 'esm',
      platform: 'node',
      logLevel: 'silent',
      loader: { '.js': 'jsx' },
      plugins: [plugin],
    });
    return [];
  } catch (error) {
    const errors = (error as { errors?: esbuild.Message[] }).errors;
    if (!errors) throw error;
    return errors;
  }
}

type Resolution = { kind: 'pack'; pack: string } | { kind: 'file'; file: string } | { kind: 'none' };

function resolveOne(tree: TreeView, resolver: Resolver, importer: string, spec: string, kind: esbuild.ImportKind, conditions: string[]): Resolution {
  if (spec.startsWith('node:') || resolver.isCoreModule(spec)) return { kind: 'none' };
  const require = kind === 'require-call' || kind === 'require-resolve';
  let file: string;
  try {
    file = resolver.resolveModule(importer, spec, { conditions: [require ? 'require' : 'import', 'default', ...conditions] });
  } catch {
    // (not resolvable here either: the test will fail the same way remotely)
    const name = packageNameOf(spec);
    const pack = name ? tree.index.lookup(path.posix.dirname(tree.keyOf(importer) ?? ''), name) : undefined;
    return pack ? { kind: 'pack', pack } : { kind: 'none' };
  }
  const pack = tree.packOf(file);
  return pack ? { kind: 'pack', pack } : { kind: 'file', file };
}

/** The mirror seen from this machine: local paths to tree keys and back, hashes, packages. */
class TreeView {
  readonly index: PackageIndex;
  readonly localBase: string;
  readonly #hashes: Map<string, string>;
  /** [local real folder, its key in the tree], longest first. */
  readonly #aliases: Array<[string, string]>;
  readonly #declared = new Map<string, string[]>();

  constructor(mirror: Mirror) {
    this.index = new PackageIndex(mirror.manifest);
    this.localBase = mirror.localBase;
    this.#hashes = new Map(mirror.manifest.files.map((f) => [f.path, f.hash]));
    this.#aliases = [...(mirror.aliases ?? [])].sort((a, b) => b[0].length - a[0].length);
  }

  keyOf(abs: string): string | undefined {
    if (abs === this.localBase) return '';
    if (abs.startsWith(this.localBase + path.sep))
      return abs
        .slice(this.localBase.length + 1)
        .split(path.sep)
        .join('/');
    for (const [real, key] of this.#aliases) {
      if (abs === real) return key;
      if (abs.startsWith(real + path.sep))
        return `${key}/${abs
          .slice(real.length + 1)
          .split(path.sep)
          .join('/')}`;
    }
    return undefined;
  }

  #localOf(key: string): string {
    for (const [real, at] of this.#aliases) {
      if (key === at) return real;
      if (key.startsWith(`${at}/`)) return path.join(real, key.slice(at.length + 1));
    }
    return path.join(this.localBase, key);
  }

  hashOf(key: string): string | undefined {
    return this.#hashes.get(key);
  }

  packOf(abs: string): string | undefined {
    const key = this.keyOf(abs);
    return key === undefined ? undefined : this.index.packOf(key);
  }

  /** `roots` and every package they declare, transitively, found as Node finds them; `known` already closed. */
  closure(roots: Iterable<string>, known: ReadonlySet<string> = new Set()): Set<string> {
    const out = new Set<string>();
    const queue = [...roots];
    while (queue.length > 0) {
      const pack = queue.pop()!;
      if (out.has(pack) || known.has(pack) || !this.index.packDirs.has(pack)) continue;
      out.add(pack);
      for (const name of this.#declaredOf(pack)) {
        const dep = this.index.lookup(pack, name);
        if (dep && !out.has(dep) && !known.has(dep)) queue.push(dep);
      }
    }
    return out;
  }

  /**
   * What a package declares it loads: its dependencies, optional dependencies and peers, but not
   * the peers it marks optional (ts-jest's esbuild: loaded only when configured so; if a test does,
   * it is brought in then), nor Jest's command line as a peer (ts-jest's `jest`): that runs here.
   */
  #declaredOf(pack: string): string[] {
    let names = this.#declared.get(pack);
    if (names) return names;
    names = [];
    try {
      const json = JSON.parse(fs.readFileSync(path.join(this.#localOf(pack), 'package.json'), 'utf8')) as Record<string, unknown>;
      const object = (field: string) => (json[field] && typeof json[field] === 'object' ? (json[field] as Record<string, unknown>) : {});
      const optionalPeer = (name: string) => (object('peerDependenciesMeta')[name] as { optional?: unknown } | undefined)?.optional === true;
      names.push(...Object.keys(object('dependencies')), ...Object.keys(object('optionalDependencies')));
      names.push(...Object.keys(object('peerDependencies')).filter((name) => !optionalPeer(name) && !JEST_COMMAND_LINE.has(name)));
    } catch {
      // (no or unreadable package.json: nothing declared)
    }
    this.#declared.set(pack, names);
    return names;
  }
}

/**
 * Packages named by string literals in the project's config files (rootDir and its ancestors up to
 * the mirror's base): babel presets and plugins (with babel's short names), a tsconfig's `extends`.
 */
function configFilePackages(tree: TreeView, rootDir: string): string[] {
  const out = new Set<string>();
  const rootKey = tree.keyOf(rootDir) ?? '';
  for (let dir = rootDir; ; dir = path.dirname(dir)) {
    let names: string[] = [];
    try {
      names = fs.readdirSync(dir).filter((n) => CONFIG_FILE.test(n));
    } catch {
      // (an unreadable folder has no config files for us)
    }
    for (const name of names) {
      let text: string;
      try {
        text = fs.readFileSync(path.join(dir, name), 'utf8');
        // (a package.json names every dependency: only its babel section counts; a tsconfig names
        // compiler options: only what it extends, and its plugins, are packages)
        if (name === 'package.json') text = JSON.stringify((JSON.parse(text) as { babel?: unknown }).babel ?? null);
        else if (name.startsWith('tsconfig')) text = [...text.matchAll(/"(?:extends|name|transform)"\s*:\s*(\[[^\]]*\]|"[^"]*")/g)].map((m) => m[1]).join(' ');
      } catch {
        continue;
      }
      for (const m of text.matchAll(/["'`]((?:@[\w.-]+\/)?[\w.-]+(?:\/[\w./-]*)?)["'`]/g)) {
        for (const candidate of babelNames(m[1]!)) {
          const pack = JEST_COMMAND_LINE.has(candidate) ? undefined : tree.index.lookup(rootKey, candidate);
          if (pack) out.add(pack);
        }
      }
    }
    if (dir === tree.localBase || path.dirname(dir) === dir || !dir.startsWith(tree.localBase)) break;
  }
  return [...out];
}

/** A literal as a package name, and the names babel expands short preset and plugin names to. */
function babelNames(literal: string): string[] {
  const name = packageNameOf(literal.replace(/^module:/, ''));
  if (!name) return [];
  if (name.startsWith('@')) {
    const [scope, rest] = name.split('/') as [string, string];
    return [
      name,
      `${scope}/babel-preset-${rest}`,
      `${scope}/babel-plugin-${rest}`,
      ...(scope === '@babel' ? [`@babel/preset-${rest}`, `@babel/plugin-${rest}`] : []),
    ];
  }
  return [name, `babel-preset-${name}`, `babel-plugin-${name}`, `@babel/preset-${name}`, `@babel/plugin-${name}`];
}

/** The export conditions the test environment adds (Jest's node and jsdom environments' own, or the configured ones). */
function exportConditionsOf(config: Config.ProjectConfig): string[] {
  const custom = (config.testEnvironmentOptions as { customExportConditions?: unknown }).customExportConditions;
  if (Array.isArray(custom)) return custom.filter((c): c is string => typeof c === 'string');
  return /jsdom/.test(config.testEnvironment) ? ['browser'] : ['node', 'node-addons'];
}

function stringsOf(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) stringsOf(v, out);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) stringsOf(v, out);
  return out;
}

function relativeKey(base: string, file: string): string {
  return path.relative(base, file).split(path.sep).join('/');
}

function union(a: string[], b: string[]): string[] {
  return [...new Set([...a, ...b])].sort();
}

function readCache(file: string): CacheFile {
  try {
    const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as CacheFile;
    if (parsed.version === CACHE_VERSION && parsed.modules && parsed.learned) return parsed;
  } catch {
    // (no cache yet, or from another version: start afresh)
  }
  return { version: CACHE_VERSION, config: '', modules: {}, learned: { project: [], files: {} } };
}
