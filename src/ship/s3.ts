/**
 * The shared content store on S3, as both sides name and reach it: object keys, and a client that
 * follows the SDK's own configuration (credentials, region, AWS_ENDPOINT_URL_S3 for emulators).
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { Hash, Store } from '../protocol';

export const packObjectKey = (store: Store, key: Hash): string => `${store.prefix}packs/${key}`;
/** Packs of Jest transform cache files, written by the function itself (see handler/transforms.ts). */
export const transformObjectKey = (store: Store, key: Hash): string => `${store.prefix}transforms/${key}`;
export const resultObjectKey = (store: Store, runId: string, id: string): string => `${store.prefix}results/${runId}/${id}.json.gz`;

/**
 * The SDK warns on Node 20 that *future* SDK releases will need Node 22; this package pins its SDK
 * and supports Node 20, so in a test run that warning is noise nobody can act on. (Kept if the
 * user set the variable either way.)
 */
export function quietSdkNodeWarning(): void {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}

/** One client per region and process: sockets are reused across invocations of a warm container. */
const clients = new Map<string, S3Client>();

export function s3Client(region: string | undefined): S3Client {
  const key = region ?? '';
  let client = clients.get(key);
  if (!client) {
    // Emulators on 127.0.0.1 cannot serve virtual-hosted buckets (bucket.127.0.0.1).
    const custom = Boolean(process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL);
    // Loaded when first needed: the embedded backend never talks to S3 and need not pay for it.
    const { S3Client } = require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3');
    client = new S3Client({
      ...(region ? { region } : {}),
      forcePathStyle: custom,
      // A bucket in another region than the function answers with a redirect; follow it.
      followRegionRedirects: true,
      // Objects are content-addressed and verified by hash on arrival; the extra checksum costs CPU.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 4,
    });
    clients.set(key, client);
  }
  return client;
}

/** True for the errors S3 gives for an object that is not there. */
export function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}

/** True for errors retrying cannot fix: permissions, a missing bucket, bad credentials. */
export function isFinalS3Error(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return (
    ['AccessDenied', 'NoSuchBucket', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'CredentialsProviderError', 'AllAccessDisabled'].includes(e?.name ?? '') ||
    e?.$metadata?.httpStatusCode === 403
  );
}
