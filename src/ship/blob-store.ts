/**
 * A content-addressed store on one machine: blobs named by their sha256. The embedded backend's
 * private mirror (`isolate`) is materialized from one; every Lambda container keeps one in /tmp.
 */
import fs from 'node:fs';
import path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import type { Hash } from '../protocol';
import { sha256 } from './sha256';

/** Where a materializer finds blobs, and where bytes that arrived with a request go. */
export interface BlobSource {
  /** Absolute path of the blob's bytes on this machine, or undefined when it is missing. */
  pathOf(hash: Hash): string | undefined;
  /** Stores bytes that arrived with a request; refuses bytes that do not match their hash. */
  put(hash: Hash, bytes: Buffer): void;
  /** Drops every blob not in `keep` (a cache making room); returns the bytes freed. */
  prune?(keep: ReadonlySet<Hash>): number;
}

/** What one delivery moved, for the summary line. */
export interface ShipStats {
  newBlobs: number;
  newBytes: number;
  cachedBlobs: number;
  cachedBytes: number;
}

export const NO_SHIP_STATS: Readonly<ShipStats> = Object.freeze({ newBlobs: 0, newBytes: 0, cachedBlobs: 0, cachedBytes: 0 });

export class LocalBlobStore implements BlobSource {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  pathOf(hash: Hash): string | undefined {
    const p = this.#path(hash);
    return fs.existsSync(p) ? p : undefined;
  }

  /** Copies in every blob the store lacks; `sources` maps hash -> a local file with those bytes. */
  add(sources: Map<Hash, string>): ShipStats {
    const stats: ShipStats = { ...NO_SHIP_STATS };
    for (const [hash, file] of sources) {
      const target = this.#path(hash);
      if (fs.existsSync(target)) {
        stats.cachedBlobs++;
        stats.cachedBytes += fs.statSync(target).size;
        continue;
      }
      fs.mkdirSync(path.dirname(target), { recursive: true });
      copyFileAtomic(file, target);
      stats.newBlobs++;
      stats.newBytes += fs.statSync(target).size;
    }
    return stats;
  }

  put(hash: Hash, bytes: Buffer): void {
    const actual = sha256(bytes);
    if (actual !== hash) throw new Error(`Blob ${hash} does not match its content (sha256 ${actual}); refusing it.`);
    const target = this.#path(hash);
    if (fs.existsSync(target)) return;
    fs.mkdirSync(path.dirname(target), { recursive: true });
    // (a cache: losing a blob to a power cut costs one download, so no fsync per blob)
    writeFileAtomic.sync(target, bytes, { fsync: false });
  }

  /** A blob's bytes, e.g. for sending inline. */
  read(hash: Hash): Buffer {
    const p = this.pathOf(hash);
    if (!p) throw new Error(`Blob ${hash} is not in the local content store ${this.dir}.`);
    return fs.readFileSync(p);
  }

  prune(keep: ReadonlySet<Hash>): number {
    let freed = 0;
    for (const shard of readdirOrEmpty(this.dir)) {
      for (const name of readdirOrEmpty(path.join(this.dir, shard))) {
        if (keep.has(name)) continue;
        const file = path.join(this.dir, shard, name);
        try {
          freed += fs.statSync(file).size;
          fs.rmSync(file, { force: true });
        } catch {
          // gone already
        }
      }
    }
    return freed;
  }

  #path(hash: Hash): string {
    return path.join(this.dir, hash.slice(0, 2), hash);
  }
}

function readdirOrEmpty(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

/**
 * Copies `from` to `to` through a temporary file and a rename, so no reader ever sees half a file.
 * Written here rather than with write-file-atomic, which takes bytes: a copy stays in the kernel
 * (copy_file_range, or a reflink where the filesystem has them) instead of passing through memory.
 */
export function copyFileAtomic(from: string, to: string, mode?: number): void {
  const tmp = `${to}.jrl-${process.pid}.tmp`;
  fs.copyFileSync(from, tmp, fs.constants.COPYFILE_FICLONE);
  if (mode !== undefined) fs.chmodSync(tmp, mode);
  fs.renameSync(tmp, to);
}
