/**
 * The installed packages of a manifest (its `packDirs`: one folder per package, one pack each) and
 * how Node finds them, read from the manifest alone so both sides agree: which package a path lies
 * in (links followed as the remote tree will hold them), where a bare `require('name')` from some
 * folder lands, and the part of a manifest that holds only some packages. Shared by the runner
 * (which packages a test file needs) and the handler (materializing only those, noticing misses).
 */
import path from 'node:path';
import type { Manifest } from '../protocol';

/** A chain of links longer than this is a cycle (or not worth following). */
const MAX_LINK_HOPS = 40;

export class PackageIndex {
  readonly packDirs: ReadonlySet<string>;
  /** link path -> the path it points at, normalized (links leaving the tree are left out). */
  readonly #links = new Map<string, string>();
  readonly #packOfFile = new Map<string, string | undefined>();

  constructor(manifest: Pick<Manifest, 'links' | 'packDirs'>) {
    this.packDirs = new Set(manifest.packDirs ?? []);
    for (const l of manifest.links) {
      if (path.posix.isAbsolute(l.target)) continue;
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(l.path), l.target));
      if (!target.startsWith('../') && target !== '..') this.#links.set(l.path, target === '.' ? '' : target);
    }
  }

  get partial(): boolean {
    return this.packDirs.size > 0;
  }

  /** A tree path with every link on the way replaced by where it points (as the tree will resolve it). */
  realKey(key: string): string {
    let current = key;
    for (let hops = 0; hops < MAX_LINK_HOPS; hops++) {
      const segments = current.split('/');
      let replaced = false;
      for (let i = 1; i <= segments.length; i++) {
        const target = this.#links.get(segments.slice(0, i).join('/'));
        if (target === undefined) continue;
        current = [target, ...segments.slice(i)].filter(Boolean).join('/');
        replaced = true;
        break;
      }
      if (!replaced) return current;
    }
    return current;
  }

  /** The package folder a tree path (file or folder) lies in, links followed; the deepest one wins. */
  packOf(key: string): string | undefined {
    const real = this.realKey(key);
    for (let at = real.length; at > 0; at = real.lastIndexOf('/', at - 1)) {
      const dir = real.slice(0, at);
      if (this.packDirs.has(dir)) return dir;
    }
    return undefined;
  }

  /** The package folder a manifest file lies in, without following links (how files are packed), memoized. */
  packOfFile(file: string): string | undefined {
    if (this.#packOfFile.has(file)) return this.#packOfFile.get(file);
    let found: string | undefined;
    for (let at = file.lastIndexOf('/'); at > 0 && found === undefined; at = file.lastIndexOf('/', at - 1)) {
      const dir = file.slice(0, at);
      if (this.packDirs.has(dir)) found = dir;
    }
    this.#packOfFile.set(file, found);
    return found;
  }

  /**
   * Where Node lands for `require(name)` (a package name, scoped or not) from tree folder `fromDir`:
   * each `node_modules` above it in turn, as Node's resolution climbs (from the folder's real place).
   */
  lookup(fromDir: string, name: string): string | undefined {
    const segments = this.realKey(fromDir).split('/').filter(Boolean);
    for (let i = segments.length; i >= 0; i--) {
      if (segments[i - 1] === 'node_modules') continue;
      const candidate = [...segments.slice(0, i), 'node_modules', name].join('/');
      const real = this.realKey(candidate);
      if (this.packDirs.has(real)) return real;
    }
    return undefined;
  }

  /**
   * The manifest holding only the packages in `wanted` (and everything outside packages): the files
   * and folders inside other packages are left out, but each of their own folders stays, empty, so
   * a listing of node_modules reads as it does on the developer's machine (TypeScript finds its
   * `@types` that way) and what looks inside finds nothing (see handler/misses.ts). Links stay (one
   * into a package left out leads to its empty folder until that package comes).
   */
  only(manifest: Manifest, wanted: ReadonlySet<string>): Manifest {
    const keep = (p: string) => {
      const pack = this.packOfFile(`${p}/`);
      return pack === undefined || wanted.has(pack);
    };
    const placeholder = (d: string) => this.packDirs.has(d) && keep(path.posix.dirname(d));
    return {
      files: manifest.files.filter((f) => {
        const pack = this.packOfFile(f.path);
        return pack === undefined || wanted.has(pack);
      }),
      links: manifest.links.filter((l) => keep(path.posix.dirname(l.path))),
      dirs: manifest.dirs.filter((d) => keep(d) || placeholder(d)),
      ...(manifest.packDirs ? { packDirs: manifest.packDirs } : {}),
    };
  }
}

/** The package name a bare module request names (`@scope/name/sub` -> `@scope/name`), or undefined for paths. */
export function packageNameOf(request: string): string | undefined {
  if (!request || request.startsWith('.') || request.startsWith('/') || request.startsWith('node:') || /^[a-zA-Z]:[\\/]/.test(request)) return undefined;
  const segments = request.split('/');
  if (request.startsWith('@')) return segments.length >= 2 && segments[1] ? `${segments[0]}/${segments[1]}` : undefined;
  return segments[0];
}
