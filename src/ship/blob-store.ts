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
  /** Adds one piece of a blob too large for one request; returns the bytes of it now held. */
  putPiece?(hash: Hash, offset: number, bytes: Buffer, total: number): number;
  /** Bytes held of a blob that is arriving in pieces (0 when none). */
  partialBytes?(hash: Hash): number;
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
  /**
   * Blobs seen in the store, when it is this process's alone (a Lambda environment's /tmp): a warm
   * environment then checks a 12,000-file project against its store without a stat per file.
   */
  readonly #present: Set<Hash> | undefined;

  constructor(dir: string, options: { ownedByThisProcess?: boolean } = {}) {
    this.dir = dir;
    this.#present = options.ownedByThisProcess ? new Set() : undefined;
  }

  pathOf(hash: Hash): string | undefined {
    const p = this.#path(hash);
    if (this.#present?.has(hash)) return p;
    if (!fs.existsSync(p)) return undefined;
    this.#present?.add(hash);
    return p;
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

  partialBytes(hash: Hash): number {
    try {
      return fs.statSync(this.#partialPath(hash)).size;
    } catch {
      return 0;
    }
  }

  /**
   * Appends the piece when it starts where the held bytes end (a piece meant for another
   * environment, or sent twice, changes nothing: the answer's `partial` says where to go on); the
   * blob enters the store when its last byte has come and its hash matches.
   */
  putPiece(hash: Hash, offset: number, bytes: Buffer, total: number): number {
    if (this.pathOf(hash)) return total;
    const file = this.#partialPath(hash);
    const held = this.partialBytes(hash);
    if (offset !== held) return held;
    if (offset + bytes.length > total) throw new Error(`A piece of blob ${hash} ends at ${offset + bytes.length}, past its size ${total}; refusing it.`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.appendFileSync(file, bytes);
    if (offset + bytes.length < total) return offset + bytes.length;
    const whole = fs.readFileSync(file);
    fs.rmSync(file, { force: true });
    this.put(hash, whole);
    return total;
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
        this.#present?.delete(name);
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

  // (beside the two-character shards; prune treats it as one: a partial blob not kept goes too)
  #partialPath(hash: Hash): string {
    return path.join(this.dir, 'partial', hash);
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
