/**
 * Jest's transform cache shared by every environment of the function through the store: what one
 * environment transformed (ts-jest, babel, swc: the cache files Jest writes in its cache folder,
 * named by Jest's own cache key) goes up as a pack, and an environment about to run brings in what
 * the project's transform index lists, so it does not transform the same file again. Keys hold
 * nothing of the environment (its tree and Jest cache are at the same paths in every one), so an
 * entry written by one serves all, and the next run's too. Best effort: a store that refuses an
 * upload or a download costs a transform, never a test.
 */
import fs from 'node:fs';
import path from 'node:path';
import { TransformIndexSchema, parseAt, type Hash, type Store, type TransformEntry } from '../src/protocol';
import type { BlobSource } from '../src/ship/blob-store';
import { encodePack, packKey, singlePacks } from '../src/ship/pack';
import { transformObjectKey, s3Client } from '../src/ship/s3';
import { fetchPacks } from '../src/ship/s3-fetch';
import { sha256 } from '../src/ship/sha256';

/** Jest's transform cache folders (`jest-transform-cache-<config id>-<version>`); nothing else of its cache folder travels. */
const TRANSFORM_FOLDER = /^jest-transform-cache-/;

export class SharedTransforms {
  readonly #dir: string;
  /** Cache files present (paths relative to the folder), listed once, then kept up to date. */
  #known: Set<string> | undefined;
  /** The index last brought in. */
  #index: Hash | undefined;
  /** The store refused an upload: no more tries in this environment. */
  #refused = false;

  constructor(dir: string) {
    this.#dir = dir;
  }

  /** Notes what the folder holds before files run, so what they write is told apart. */
  ready(): void {
    this.#list();
  }

  /** Forgets what it knew of the folder (emptied to make room). */
  reset(): void {
    this.#known = undefined;
    this.#index = undefined;
  }

  /** Brings in the transforms the index lists that this environment lacks. */
  async bringIn(store: Store, index: Hash, blobs: BlobSource): Promise<void> {
    if (this.#index === index) return;
    this.#index = index;
    try {
      if (!blobs.pathOf(index)) await fetchPacks(store, singlePacks([index]), blobs);
      const file = blobs.pathOf(index);
      if (!file) return;
      const entries = parseAt(TransformIndexSchema, JSON.parse(fs.readFileSync(file, 'utf8')), `transform index ${index}`);
      const known = this.#list();
      const wanted = entries.filter(([at]) => !known.has(at));
      const packs = new Map<Hash, Hash[]>();
      for (const [, hash, pack] of wanted) packs.set(pack, [...(packs.get(pack) ?? []), hash]);
      await fetchPacks(store, packs, blobs, transformObjectKey);
      for (const [at, hash] of wanted) {
        const source = blobs.pathOf(hash);
        if (!source) continue;
        const target = path.join(this.#dir, at);
        fs.mkdirSync(path.dirname(target), { recursive: true });
        fs.copyFileSync(source, target);
        known.add(at);
      }
    } catch {
      // (the tests transform what did not come)
    }
  }

  /** Uploads the cache files written since the last look, as one pack; returns their entries for the index. */
  async collect(store: Store): Promise<TransformEntry[]> {
    if (this.#refused) return [];
    const known = this.#list();
    const fresh = listFiles(this.#dir).filter((at) => !known.has(at));
    if (fresh.length === 0) return [];
    for (const at of fresh) known.add(at);
    const blobs: Array<[string, Hash, Buffer]> = [];
    for (const at of fresh) {
      try {
        const bytes = fs.readFileSync(path.join(this.#dir, at));
        blobs.push([at, sha256(bytes), bytes]);
      } catch {
        // (removed meanwhile)
      }
    }
    if (blobs.length === 0) return [];
    const key = packKey(blobs.map(([, hash]) => hash));
    try {
      const { PutObjectCommand } = require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3');
      const body = await encodePack(blobs.map(([, hash, bytes]): [Hash, Buffer] => [hash, bytes]));
      await s3Client(store.region).send(new PutObjectCommand({ Bucket: store.bucket, Key: transformObjectKey(store, key), Body: body }));
    } catch {
      // (a function deployed before transforms were shared may not write there: it transforms alone)
      this.#refused = true;
      return [];
    }
    return blobs.map(([at, hash, bytes]): TransformEntry => [at, hash, key, bytes.length]);
  }

  #list(): Set<string> {
    this.#known ??= new Set(listFiles(this.#dir));
    return this.#known;
  }
}

/** Files under the transform cache folders of `dir`, relative, with "/" separators. */
function listFiles(dir: string): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true, recursive: true });
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const e of entries) {
    if (!e.isFile()) continue;
    const at = path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join('/');
    // (write-file-atomic's temporary files, `<entry>.<hex>`, are not cache entries; `<entry>.map` is)
    if (TRANSFORM_FOLDER.test(at) && !/\.[0-9a-f]+$/.test(at)) out.push(at);
  }
  return out;
}
