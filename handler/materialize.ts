/**
 * Makes a directory hold exactly what a manifest describes, from a content-addressed store.
 * Incremental: files already in place (same hash, untouched since we wrote them) are kept, files
 * a previous run or a test left behind are removed, so every run sees only its own tree.
 */
import fs from 'node:fs';
import path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { MissingBlobsError } from '../src/errors';
import type { FileEntry, Manifest } from '../src/protocol';
import { copyFileAtomic, type BlobSource } from '../src/ship/blob-store';

export interface MaterializeOptions {
  /** Absolute link targets are allowed only when the worker shares the developer's disk. */
  allowExternalLinks: boolean;
  /** Where to remember what was written (outside the tree, so tests never see it). */
  statePath: string;
  /** Only add what the manifest describes (more packages for a tree): nothing else is looked at or removed. */
  additive?: boolean;
}

/**
 * The tree of a project whose checkout is at `localBase` lives at the same absolute path under a
 * private prefix, so paths relative to anything (rootDir, a sibling folder) read the same on both
 * sides and mapping back is stripping the prefix.
 */
export function treeDir(prefix: string, localBase: string): string {
  return path.join(prefix, localBase);
}

export interface MaterializeStats {
  written: number;
  kept: number;
  removed: number;
  linked: number;
  /** Paths that held something else before (written over, or removed). */
  changed: string[];
}

type State = Record<string, [hash: string, mtimeMs: number, size: number]>;

export function materialize(root: string, manifest: Manifest, blobs: BlobSource, options: MaterializeOptions): MaterializeStats {
  const missing = manifest.files.filter((f) => blobs.pathOf(f.hash) === undefined).map((f) => f.hash);
  if (missing.length > 0) throw new MissingBlobsError([...new Set(missing)]);

  const stats: MaterializeStats = { written: 0, kept: 0, removed: 0, linked: 0, changed: [] };
  const state = readState(options.statePath);
  fs.mkdirSync(root, { recursive: true });
  const wanted = new Wanted(manifest);
  if (!options.additive) stats.removed = removeUndescribed(root, wanted, state, stats.changed);
  for (const dir of [...wanted.dirs].sort()) {
    const abs = inside(root, dir);
    const st = lstatOrUndefined(abs);
    if (st && !st.isDirectory()) fs.rmSync(abs, { force: true });
    if (!st || !st.isDirectory()) fs.mkdirSync(abs, { recursive: true });
  }
  for (const file of manifest.files) {
    const outcome = writeFile(root, file, blobs, state);
    if (outcome === 'kept') stats.kept++;
    else stats.written++;
    if (outcome === 'replaced') stats.changed.push(file.path);
  }
  for (const [p, target] of wanted.links) {
    const abs = inside(root, p);
    checkLinkTarget(root, abs, target, options);
    const st = lstatOrUndefined(abs);
    if (st?.isSymbolicLink() && fs.readlinkSync(abs) === target) continue;
    if (st) fs.rmSync(abs, { recursive: true, force: true });
    fs.symlinkSync(target, abs);
    stats.linked++;
  }
  writeFileAtomic.sync(options.statePath, JSON.stringify(state), { fsync: false });
  return stats;
}

/** What the tree must hold: files, links and every directory above them. */
class Wanted {
  readonly files: Map<string, FileEntry>;
  readonly links: Map<string, string>;
  readonly dirs: Set<string>;

  constructor(manifest: Manifest) {
    this.files = new Map(manifest.files.map((f) => [f.path, f]));
    this.links = new Map(manifest.links.map((l) => [l.path, l.target]));
    this.dirs = new Set(manifest.dirs);
    for (const p of [...this.files.keys(), ...this.links.keys()]) {
      for (let d = path.posix.dirname(p); d !== '.'; d = path.posix.dirname(d)) this.dirs.add(d);
    }
  }

  has(entry: TreeEntry): boolean {
    return entry.kind === 'dir' ? this.dirs.has(entry.path) : entry.kind === 'link' ? this.links.has(entry.path) : this.files.has(entry.path);
  }
}

/** Removes what the manifest does not describe (deepest first, so directories empty out); returns how many. */
function removeUndescribed(root: string, wanted: Wanted, state: State, changed: string[]): number {
  let removed = 0;
  for (const entry of listTree(root).reverse()) {
    if (wanted.has(entry)) continue;
    fs.rmSync(inside(root, entry.path), { recursive: true, force: true });
    delete state[entry.path];
    changed.push(entry.path);
    removed++;
  }
  return removed;
}

/** Puts one file in place unless it is there untouched since we wrote it. */
function writeFile(root: string, file: FileEntry, blobs: BlobSource, state: State): 'kept' | 'written' | 'replaced' {
  const abs = inside(root, file.path);
  const st = lstatOrUndefined(abs);
  const known = state[file.path];
  if (st?.isFile() && known && known[0] === file.hash && known[1] === st.mtimeMs && known[2] === st.size) return 'kept';
  if (st) fs.rmSync(abs, { recursive: true, force: true });
  copyFileAtomic(blobs.pathOf(file.hash)!, abs, file.executable ? 0o755 : 0o644);
  const written = fs.statSync(abs);
  state[file.path] = [file.hash, written.mtimeMs, written.size];
  return st ? 'replaced' : 'written';
}

/** Joins a manifest path to the root and refuses anything that would land outside it. */
function inside(root: string, relative: string): string {
  const abs = path.resolve(root, relative);
  if (!abs.startsWith(root + path.sep)) {
    throw new Error(`Manifest path "${relative}" resolves outside the run directory; refusing it.`);
  }
  return abs;
}

function checkLinkTarget(root: string, abs: string, target: string, options: MaterializeOptions): void {
  if (path.isAbsolute(target)) {
    if (!options.allowExternalLinks) {
      throw new Error(`Manifest link "${path.relative(root, abs)}" points at absolute path "${target}"; only relative links are accepted here.`);
    }
    return;
  }
  const resolved = path.resolve(path.dirname(abs), target);
  if (resolved !== root && !resolved.startsWith(root + path.sep)) {
    throw new Error(`Manifest link "${path.relative(root, abs)}" -> "${target}" escapes the run directory; refusing it.`);
  }
}

interface TreeEntry {
  path: string;
  kind: 'file' | 'dir' | 'link';
}

/** Pre-order listing (a directory before its contents); symbolic links are not followed. */
function listTree(root: string): TreeEntry[] {
  const out: TreeEntry[] = [];
  const walk = (dir: string, rel: string) => {
    for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = rel ? `${rel}/${d.name}` : d.name;
      if (d.isSymbolicLink()) out.push({ path: p, kind: 'link' });
      else if (d.isDirectory()) {
        out.push({ path: p, kind: 'dir' });
        walk(path.join(dir, d.name), p);
      } else out.push({ path: p, kind: 'file' });
    }
  };
  if (fs.existsSync(root)) walk(root, '');
  return out;
}

function readState(statePath: string): State {
  try {
    return JSON.parse(fs.readFileSync(statePath, 'utf8')) as State;
  } catch {
    return {};
  }
}

function lstatOrUndefined(p: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(p);
  } catch {
    return undefined;
  }
}
