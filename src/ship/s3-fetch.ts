/**
 * The handler's side of the shared store: brings blobs this container lacks from S3: the packs holding them are
 * downloaded in parallel, and every member is checked against its hash before it is stored.
 * Objects that are not there are simply left missing: the runner is asked for them next.
 */
import pLimit from 'p-limit';
import { StoreAccessError } from '../errors';
import type { Hash, Store } from '../protocol';
import type { BlobSource } from './blob-store';
import { decodePack } from './pack';
import { isFinalS3Error, isNotFound, packObjectKey, s3Client } from './s3';

const DOWNLOADS_IN_FLIGHT = 32;

export interface FetchStats {
  packs: number;
  bytes: number;
  notFound: number;
}

/** `objectKey`: where a pack lives in the store (the runner's packs by default; the function's transforms). */
export async function fetchPacks(store: Store, packs: Map<Hash, Hash[]>, blobs: BlobSource, objectKeyOf = packObjectKey): Promise<FetchStats> {
  const client = s3Client(store.region);
  const { GetObjectCommand } = require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3');
  const limit = pLimit(DOWNLOADS_IN_FLIGHT);
  const stats: FetchStats = { packs: 0, bytes: 0, notFound: 0 };
  await Promise.all(
    [...packs].map(([key, members]) =>
      limit(async () => {
        const objectKey = objectKeyOf(store, key);
        let body: Uint8Array;
        try {
          const output = await client.send(new GetObjectCommand({ Bucket: store.bucket, Key: objectKey }));
          body = await output.Body!.transformToByteArray();
        } catch (error) {
          if (isNotFound(error)) {
            stats.notFound++;
            return;
          }
          const e = error as Error;
          const message = `Could not read s3://${store.bucket}/${objectKey}: ${e.name}: ${e.message}`;
          if (isFinalS3Error(error)) {
            throw new StoreAccessError(
              `${message}\nThe function's role needs s3:GetObject on arn:aws:s3:::${store.bucket}/${store.prefix}packs/* (npx jest-runner-remote-lambda policy prints it).`,
            );
          }
          throw new Error(message, { cause: error });
        }
        stats.packs++;
        stats.bytes += body.length;
        const wanted = new Set(members);
        let unpacked: Array<[Hash, Buffer]>;
        try {
          unpacked = await decodePack(Buffer.from(body.buffer, body.byteOffset, body.byteLength));
        } catch {
          // A damaged object (an emulator read mid-write, say) is as good as none: its blobs stay
          // missing and the runner is asked to put them back.
          stats.notFound++;
          return;
        }
        for (const [hash, bytes] of unpacked) {
          if (wanted.has(hash)) blobs.put(hash, bytes);
        }
      }),
    ),
  );
  return stats;
}
