/**
 * Describes the tree a test file needs on the remote side as a content-addressed manifest:
 * every file of the project's roots (sources, fixtures, snapshots, __mocks__, configs) with the
 * same relative layout, the loose files of the ancestor folders up to the repository (package.json,
 * babel/tsconfig files), and node_modules folders as links.
 *
 * Shipping the real files keeps module boundaries, `jest.mock`, `__mocks__`, the project's own
 * transforms and runtime fixture reads exactly as local Jest sees them; content addressing makes
 * an unchanged file cost one stat.
 */
import fs from 'node:fs';
import path from 'node:path';
import picomatch from 'picomatch';
import { RemoteRunnerError } from '../errors';
import type { FileEntry, LinkEntry, Manifest } from '../protocol';
import { HashCache } from './hash-cache';

export interface MirrorInput {
  rootDir: string;
  roots: string[];
  cwd: string;
  /** Extra files or folders (absolute) to ship, from the `include` option. */
  include: string[];
  /** Globs relative to rootDir that are never shipped, from the `exclude` option. */
  exclude: string[];
  /** Folders never shipped (Jest's cache, coverage output, our own cache). */
  skipDirs: string[];
  /**
   * Every string of the project's Jest config: absolute paths among them that point into the
   * repository outside rootDir (moduleNameMapper targets, setup files, modulePaths in a monorepo)
   * are shipped too.
   */
  configStrings?: string[];
  /**
   * `link`: node_modules folders become links to the local ones (the embedded backend shares this
   * disk). `ship`: their files are shipped like any other (remote backends); links that leave the
   * repository (pnpm stores, workspaces elsewhere) are shipped as the files they point at.
   */
  nodeModules: 'link' | 'ship';
}

export interface Mirror {
  localBase: string;
  manifest: Manifest;
  /** hash -> a local file holding those bytes */
  sources: Map<string, string>;
  bytes: number;
  /**
   * Folders and files outside localBase that the tree holds at another place, because a link of
   * the checkout leads there (a node_modules linked from elsewhere): [their real path, their path
   * in the tree]. Jest names them by their real paths.
   */
  aliases?: Array<[string, string]>;
}

const NEVER_SHIP = new Set(['.git', '.hg', '.svn', '.DS_Store']);
/** Tool caches inside node_modules (babel-loader, eslint, our own): never needed by a test run. */
const NODE_MODULES_SKIP = new Set(['.cache']);

export function findBase(input: Pick<MirrorInput, 'rootDir' | 'roots' | 'cwd' | 'include'>): string {
  // Node resolution climbs to ancestors' node_modules; configs (babel, tsconfig) live there too.
  let base = input.rootDir;
  for (let dir = input.rootDir; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'node_modules')) || fs.existsSync(path.join(dir, 'package.json'))) base = dir;
    if (fs.existsSync(path.join(dir, '.git')) || path.dirname(dir) === dir) break;
  }
  for (const p of [...input.roots, input.cwd, ...input.include]) base = commonAncestor(base, p);
  if (base === path.parse(base).root) {
    throw new RemoteRunnerError(
      'MIRROR',
      `The project's rootDir, roots, cwd and include paths only share the filesystem root (${base}), so there is no folder to mirror.\n` +
        'Run jest from inside the project, and keep "roots" and the "include" option inside the repository.',
    );
  }
  return base;
}

export function buildMirror(input: MirrorInput, hashes: HashCache): Mirror {
  const base = findBase(input);
  const files = new Map<string, FileEntry>();
  const links = new Map<string, LinkEntry>();
  const dirs = new Set<string>();
  const packDirs = new Set<string>();
  const sources = new Map<string, string>();
  /** Files of the tree whose real path is outside the base (folders: see `walked`). */
  const fileAliases = new Map<string, string>();
  const inBase = (real: string) => real === base || real.startsWith(base + path.sep);
  const excluded = input.exclude.length > 0 ? picomatch(input.exclude, { dot: true }) : () => false;
  const skipDirs = new Set(input.skipDirs.map((d) => path.resolve(d)));
  let bytes = 0;

  const rel = (abs: string) => path.relative(base, abs).split(path.sep).join('/');

  const addFile = (abs: string, st: fs.Stats) => addFileAt(rel(abs), abs, st);

  const ship = input.nodeModules === 'ship';

  /** A link inside the tree: kept as a link when it stays inside, else linked out or dereferenced. */
  const addLink = (abs: string, key: string) => {
    if (links.has(key) || files.has(key)) return;
    const target = fs.readlinkSync(abs);
    const resolved = path.resolve(path.dirname(abs), target);
    const inside = !path.isAbsolute(target) && (resolved === base || resolved.startsWith(base + path.sep));
    if (inside) {
      links.set(key, { path: key, target });
      // A folder of the repository reached only through a link (a workspace package linked into
      // node_modules) travels too, at its own place, or the link would dangle remotely. Not a
      // folder that holds the project (a self-link): that one is mirrored already, or too much.
      if (ship && fs.existsSync(resolved)) {
        const st = fs.statSync(resolved);
        const real = fs.realpathSync(resolved);
        const holdsProject = input.rootDir === real || input.rootDir.startsWith(real + path.sep);
        if (st.isDirectory() && !holdsProject && !walked.has(real)) walk(resolved);
        else if (st.isFile()) addFile(resolved, st);
      }
    } else if (!ship) links.set(key, { path: key, target: fs.realpathSync(abs) });
    else {
      const real = fs.realpathSync(abs);
      const st = fs.statSync(real);
      const seen = st.isDirectory() ? walked.get(real) : undefined;
      // A folder already mirrored (several links to one package, or a cycle: a package linking
      // back to the repository) becomes a link to where it is, not a second copy.
      if (seen !== undefined) links.set(key, { path: key, target: path.posix.relative(path.posix.dirname(key), seen) || '.' });
      else if (st.isDirectory()) walk(real, key);
      else {
        if (!inBase(real)) fileAliases.set(real, key);
        addFileAt(key, real, st);
      }
    }
  };

  const addFileAt = (key: string, abs: string, st: fs.Stats) => {
    if (files.has(key)) return;
    const hash = hashes.hashOf(abs, st);
    files.set(key, { path: key, hash, size: st.size, ...(st.mode & 0o111 ? { executable: true } : {}) });
    sources.set(hash, abs);
    bytes += st.size;
  };

  /** Walks local folder `dir`, mirrored at `key` (its own relative path unless dereferenced). */
  /** Real path of each folder walked -> where it is in the mirror. */
  const walked = new Map<string, string>();
  const walk = (dir: string, key = rel(dir)) => {
    if (skipDirs.has(dir)) return;
    if (key && dirs.has(key)) return;
    if (key) dirs.add(key);
    if (ship) walked.set(fs.realpathSync(dir), key);
    const segments = key.split('/');
    const inNodeModules = segments.includes('node_modules');
    if (ship && isPackageDir(segments)) packDirs.add(key);
    for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
      if (NEVER_SHIP.has(d.name) || (inNodeModules && NODE_MODULES_SKIP.has(d.name))) continue;
      const abs = path.join(dir, d.name);
      const childKey = key ? `${key}/${d.name}` : d.name;
      if (!inNodeModules && excluded(path.relative(input.rootDir, abs).split(path.sep).join('/'))) continue;
      if (d.name === 'node_modules' && !ship) {
        links.set(childKey, { path: childKey, target: fs.realpathSync(abs) });
      } else if (d.isSymbolicLink()) {
        if (fs.existsSync(abs)) addLink(abs, childKey);
      } else if (d.isDirectory()) {
        // (already walked right here: reached first through a link to it, as pnpm's layout does)
        if (dirs.has(childKey)) continue;
        const seen = ship ? walked.get(fs.realpathSync(abs)) : undefined;
        if (seen !== undefined) links.set(childKey, { path: childKey, target: path.posix.relative(key, seen) || '.' });
        else walk(abs, childKey);
      } else if (d.isFile()) {
        addFileAt(childKey, abs, fs.statSync(abs));
      }
    }
  };

  for (const root of new Set([input.rootDir, ...input.roots])) {
    if (fs.existsSync(root)) walk(path.resolve(root));
  }
  for (const referenced of referencedPaths(input.configStrings ?? [], base, input.rootDir)) {
    const st = statOrUndefined(referenced);
    if (st?.isDirectory()) walk(referenced);
    else if (st?.isFile()) addFile(referenced, st);
  }
  for (const extra of input.include) {
    const st = statOrUndefined(extra);
    if (!st) {
      throw new RemoteRunnerError(
        'OPTIONS',
        `Option "include" names ${extra}, which does not exist.\nFix the path (relative paths are relative to rootDir) or remove it.`,
      );
    }
    if (st.isDirectory()) walk(extra);
    else addFile(extra, st);
  }
  // Ancestor folders contribute their loose files (package.json, babel.config.js, tsconfig.json)
  // and their node_modules, but not their other subfolders.
  for (let dir = path.dirname(input.rootDir); dir.startsWith(base); dir = path.dirname(dir)) {
    if (rel(dir)) dirs.add(rel(dir));
    for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
      const abs = path.join(dir, d.name);
      if (d.name === 'node_modules') {
        if (ship) walk(abs);
        else links.set(rel(abs), { path: rel(abs), target: fs.realpathSync(abs) });
      } else if (d.isFile() && !NEVER_SHIP.has(d.name)) addFile(abs, fs.statSync(abs));
    }
    if (dir === base) break;
  }
  // Tests that ask git about the repository (changed files, commit ids) find it through a link to
  // the repository's own .git, as they would in the checkout. Never its contents: it is not shipped.
  const gitDir = path.join(base, '.git');
  if (!ship && fs.existsSync(gitDir)) links.set('.git', { path: '.git', target: fs.realpathSync(gitDir) });
  const cwdKey = rel(input.cwd);
  if (cwdKey) dirs.add(cwdKey);

  const byPath = <T extends { path: string }>(a: T, b: T) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
  return {
    localBase: base,
    manifest: {
      files: [...files.values()].sort(byPath),
      links: [...links.values()].sort(byPath),
      dirs: [...dirs].sort(),
      ...(packDirs.size > 0 ? { packDirs: [...packDirs].sort() } : {}),
    },
    sources,
    bytes,
    ...aliasesOf(walked, fileAliases, inBase),
  };
}

/**
 * The folders (and files) outside the base that the tree holds at another place, fewest first:
 * a folder whose parent is mapped already to the parent of its place is covered by it.
 */
function aliasesOf(walked: Map<string, string>, files: Map<string, string>, inBase: (real: string) => boolean): { aliases?: Array<[string, string]> } {
  const kept: Array<[string, string]> = [];
  const outside = [...walked].filter(([real]) => !inBase(real)).sort((a, b) => a[0].length - b[0].length);
  for (const [real, key] of [...outside, ...files]) {
    const covered = kept.some(
      ([r, k]) =>
        real.startsWith(r + path.sep) &&
        key ===
          `${k}/${real
            .slice(r.length + 1)
            .split(path.sep)
            .join('/')}`,
    );
    if (!covered) kept.push([real, key]);
  }
  return kept.length > 0 ? { aliases: kept } : {};
}

/**
 * Absolute paths inside the repository (but outside rootDir, node_modules and the folders the
 * mirror already covers) named by config strings; a pattern such as "/repo/shared/$1" counts up to
 * its last plain folder.
 */
export function referencedPaths(strings: string[], base: string, rootDir: string): string[] {
  const out = new Set<string>();
  for (const s of strings) {
    if (!s.startsWith(base + path.sep)) continue;
    const plain = s.slice(0, s.search(/[$*()[\]{}|^?+\\]/) === -1 ? s.length : s.search(/[$*()[\]{}|^?+\\]/));
    let candidate = plain;
    while (candidate.length > base.length && !fs.existsSync(candidate)) candidate = path.dirname(candidate);
    if (candidate.length <= base.length) continue;
    if (candidate === rootDir || candidate.startsWith(rootDir + path.sep) || rootDir.startsWith(candidate + path.sep)) continue;
    if (candidate.split(path.sep).includes('node_modules')) continue;
    out.add(path.resolve(candidate));
  }
  return [...out];
}

/** `…/node_modules/<name>` or `…/node_modules/@scope/<name>`: an installed package's folder. */
function isPackageDir(segments: string[]): boolean {
  const n = segments.length;
  const name = segments[n - 1] ?? '';
  if (n >= 2 && segments[n - 2] === 'node_modules') return !name.startsWith('.') && !name.startsWith('@');
  return n >= 3 && segments[n - 3] === 'node_modules' && segments[n - 2]!.startsWith('@');
}

function commonAncestor(a: string, b: string): string {
  const pa = path.resolve(a).split(path.sep);
  const pb = path.resolve(b).split(path.sep);
  let i = 0;
  while (i < pa.length && i < pb.length && pa[i] === pb[i]) i++;
  return pa.slice(0, i).join(path.sep) || path.sep;
}

function statOrUndefined(p: string): fs.Stats | undefined {
  try {
    return fs.statSync(p);
  } catch {
    return undefined;
  }
}
