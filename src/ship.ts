/**
 * The content-addressed store on this machine: blobs named by their sha256. The embedded backend
 * materializes run trees from it; remote backends upload from it only what the other side lacks.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { BlobSource } from '../handler/materialize';
import type { Hash } from './protocol';

export interface ShipStats {
  newBlobs: number;
  newBytes: number;
  cachedBlobs: number;
  cachedBytes: number;
}

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
    const stats: ShipStats = { newBlobs: 0, newBytes: 0, cachedBlobs: 0, cachedBytes: 0 };
    for (const [hash, file] of sources) {
      const target = this.#path(hash);
      if (fs.existsSync(target)) {
        stats.cachedBlobs++;
        stats.cachedBytes += fs.statSync(target).size;
        continue;
      }
      fs.mkdirSync(path.dirname(target), { recursive: true });
      const tmp = `${target}.${process.pid}.tmp`;
      fs.copyFileSync(file, tmp, fs.constants.COPYFILE_FICLONE);
      fs.renameSync(tmp, target);
      stats.newBlobs++;
      stats.newBytes += fs.statSync(target).size;
    }
    return stats;
  }

  put(hash: Hash, bytes: Buffer): void {
    const actual = crypto.createHash('sha256').update(bytes).digest('hex');
    if (actual !== hash) throw new Error(`Blob ${hash} does not match its content (sha256 ${actual}); refusing it.`);
    const target = this.#path(hash);
    if (fs.existsSync(target)) return;
    fs.mkdirSync(path.dirname(target), { recursive: true });
    const tmp = `${target}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, bytes);
    fs.renameSync(tmp, target);
  }

  /** Reads blobs for sending inline, base64-encoded. */
  read(hash: Hash): Buffer {
    const p = this.pathOf(hash);
    if (!p) throw new Error(`Blob ${hash} is not in the local content store ${this.dir}.`);
    return fs.readFileSync(p);
  }

  #path(hash: Hash): string {
    return path.join(this.dir, hash.slice(0, 2), hash);
  }
}
