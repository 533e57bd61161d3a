/**
 * The runner's side of the shared content store on S3, used like a build-cache remote: every pack
 * a manifest needs is checked (first against what this machine already knows is there, then with
 * HeadObject) and only the missing ones are built and uploaded, in parallel.
 */
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import fs from 'node:fs';
import path from 'node:path';
import pLimit from 'p-limit';
import writeFileAtomic from 'write-file-atomic';
import { StoreAccessError } from '../errors';
import type { Hash, Store } from '../protocol';
import type { Progress } from '../results/progress';
import { encodePack } from './pack';
import { isFinalS3Error, isNotFound, packObjectKey, s3Client } from './s3';
import { sha256 } from './sha256';

const HEADS_IN_FLIGHT = 64;
const UPLOADS_IN_FLIGHT = 8;

export interface UploadStats {
  /** Packs uploaded now, and their compressed bytes. */
  uploaded: number;
  uploadedBytes: number;
  /** Packs already in the store, and the raw bytes of their members. */
  present: number;
  presentBytes: number;
}

export class S3PackStore {
  readonly store: Store;
  readonly #knownFile: string;
  readonly #known: Set<string>;
  readonly #uploading = new Map<Hash, Promise<void>>();
  #knownDirty = false;

  constructor(store: Store, cacheDir: string) {
    this.store = store;
    const endpoint = process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL ?? 'aws';
    this.#knownFile = path.join(cacheDir, 's3-known', `${sha256(`${endpoint}\0${store.bucket}\0${store.prefix}`).slice(0, 16)}.txt`);
    this.#known = new Set(readLines(this.#knownFile));
  }

  /**
   * Makes every pack of `packs` present in the bucket. `read` gives a blob's bytes (checked against
   * its hash by the caller); `force` uploads even packs believed present (the handler said it lacks them).
   */
  async ensure(
    packs: Map<Hash, Hash[]>,
    read: (hash: Hash) => Buffer,
    sizeOf: (hash: Hash) => number,
    force = false,
    progress?: Progress,
  ): Promise<UploadStats> {
    const stats: UploadStats = { uploaded: 0, uploadedBytes: 0, present: 0, presentBytes: 0 };
    const rawBytes = (members: Hash[]) => members.reduce((sum, h) => sum + sizeOf(h), 0);
    const client = s3Client(this.store.region);
    const unknown: Array<[Hash, Hash[]]> = [];
    for (const entry of packs) {
      if (!force && this.#known.has(entry[0])) {
        stats.present++;
        stats.presentBytes += rawBytes(entry[1]);
      } else unknown.push(entry);
    }
    if (unknown.length > 0) progress?.phase(force ? 're-uploading' : 'checking and uploading', unknown.length, 'packs');
    const heads = pLimit(HEADS_IN_FLIGHT);
    const uploads = pLimit(UPLOADS_IN_FLIGHT);
    try {
      await Promise.all(
        unknown.map(([key, members]) =>
          heads(async () => {
            const objectKey = packObjectKey(this.store, key);
            if (!force) {
              try {
                await client.send(new HeadObjectCommand({ Bucket: this.store.bucket, Key: objectKey }));
                this.#remember(key);
                stats.present++;
                stats.presentBytes += rawBytes(members);
                progress?.tick();
                return;
              } catch (error) {
                if (!isNotFound(error)) throw error;
              }
            }
            // One upload of a pack at a time: requests asking for the same lost pack share it.
            const running = this.#uploading.get(key);
            if (running) return running;
            const upload = uploads(async () => {
              const body = await encodePack(members.map((h) => [h, read(h)]));
              await client.send(new PutObjectCommand({ Bucket: this.store.bucket, Key: objectKey, Body: body, ContentLength: body.length }));
              this.#remember(key);
              stats.uploaded++;
              stats.uploadedBytes += body.length;
              progress?.tick(1, body.length);
            }).finally(() => this.#uploading.delete(key));
            this.#uploading.set(key, upload);
            await upload;
          }),
        ),
      );
    } catch (error) {
      throw explainStoreError(this.store, error, 'upload to');
    } finally {
      this.save();
    }
    return stats;
  }

  /** Forgets that packs are present (the handler found them missing: expired by a lifecycle rule). */
  forget(keys: Iterable<Hash>): void {
    for (const key of keys) if (this.#known.delete(key)) this.#knownDirty = true;
  }

  save(): void {
    if (!this.#knownDirty) return;
    fs.mkdirSync(path.dirname(this.#knownFile), { recursive: true });
    writeFileAtomic.sync(this.#knownFile, [...this.#known].join('\n'), { fsync: false });
    this.#knownDirty = false;
  }

  #remember(key: Hash): void {
    if (this.#known.has(key)) return;
    this.#known.add(key);
    this.#knownDirty = true;
  }
}

function readLines(file: string): string[] {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

/** Fetches (and deletes) an answer the handler left in the store because it was too large to return. */
export async function takeOffloadedResult(store: Store, key: string): Promise<Buffer> {
  const client = s3Client(store.region);
  try {
    const output = await client.send(new GetObjectCommand({ Bucket: store.bucket, Key: key }));
    const bytes = Buffer.from(await output.Body!.transformToByteArray());
    await client.send(new DeleteObjectCommand({ Bucket: store.bucket, Key: key })).catch(() => undefined);
    return bytes;
  } catch (error) {
    throw explainStoreError(store, error, 'read a result from');
  }
}

function explainStoreError(store: Store, error: unknown, what: string): Error {
  const e = error as Error & { $metadata?: { httpStatusCode?: number } };
  const where = `s3://${store.bucket}/${store.prefix}`;
  const status = e.$metadata?.httpStatusCode;
  if (status === 403 && e.name === 'Unknown') {
    // HEAD answers carry no body, so the SDK cannot name the error: say what 403 means there
    e.name = 'AccessDenied';
    e.message = 'HTTP 403 (forbidden)';
  }
  if (isFinalS3Error(error)) {
    return new StoreAccessError(
      `Could not ${what} the shared store ${where}: ${e.name}: ${e.message}\n` +
        'Check the "bucket" option (JEST_REMOTE_LAMBDA_BUCKET) and that your credentials allow s3:GetObject, s3:PutObject and ' +
        's3:ListBucket there (npx jest-runner-remote-lambda policy prints the policy).',
      { cause: error },
    );
  }
  return new Error(`Could not ${what} the shared store ${where}: ${e.name}: ${e.message}`, { cause: error });
}
