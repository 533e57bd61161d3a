/**
 * The Lambda entry point (`index.handler` in dist/handler): parse -> execute -> serialize, with a
 * content store and one private tree under /tmp that warm invocations of this container reuse.
 * Answers that would not fit Lambda's 6 MB response travel compressed, or through the shared store.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { HandlerFault } from '../src/errors';
import {
  LAMBDA_PAYLOAD_LIMIT_BYTES,
  PROTOCOL_VERSION,
  PingRequestSchema,
  RunRequestSchema,
  type Pong,
  type ResponseEnvelope,
  type RunResponse,
} from '../src/protocol';
import { LocalBlobStore } from '../src/ship/blob-store';
import { resultObjectKey, s3Client } from '../src/ship/s3';
import { mb } from '../src/ship/sizes';
import { HANDLER_VERSION } from '../src/version';
import { execute, faultResponse, warmUp } from './execute';
import { host } from './host';
import { captureOutput } from './output';

/** This container's work directory: its content store and the one tree it runs tests in. */
let workDir: { dir: string; store: LocalBlobStore; root: string } | undefined;

function work(): NonNullable<typeof workDir> {
  if (!workDir) {
    const dir = process.env.JEST_REMOTE_LAMBDA_WORK_DIR ?? '/tmp/jrl';
    workDir = { dir, store: new LocalBlobStore(path.join(dir, 'store'), { ownedByThisProcess: true }), root: path.join(dir, 'root') };
  }
  return workDir;
}

/** Lambda refuses responses over 6 MB (6,291,556 bytes); keep room for the runtime's framing. */
export const RESPONSE_LIMIT_BYTES = LAMBDA_PAYLOAD_LIMIT_BYTES - 64 * 1024;

// A Lambda container serves one invocation at a time; emulators that run several in one process
// must not interleave them either (the tree, the working directory and process.env are shared).
let queue: Promise<unknown> = Promise.resolve();
let invocations = 0;

export function handler(event: unknown): Promise<unknown> {
  const run = queue.then(() => handle(event));
  queue = run.catch(() => undefined);
  return run;
}

async function handle(event: unknown): Promise<unknown> {
  const warm = invocations++ > 0;
  const version = (event as { protocolVersion?: unknown } | null)?.protocolVersion;
  const ping = PingRequestSchema.safeParse(event);
  if (ping.success) {
    if (ping.data.warmUp && ping.data.protocolVersion === PROTOCOL_VERSION) {
      const { root, store } = work();
      const capture = captureOutput();
      await warmUp(ping.data.warmUp.projectKey, ping.data.warmUp.store, { root: { kind: 'materialize', dir: root, blobs: store } }).finally(() =>
        capture.stop(),
      );
    }
    return pong(warm);
  }
  if (version !== PROTOCOL_VERSION) {
    return finalFault(
      `This function runs the jest-runner-remote-lambda ${HANDLER_VERSION} handler (protocol ${PROTOCOL_VERSION}); the runner sent protocol ${JSON.stringify(version)}.\n` +
        'Deploy the handler of the runner version you use: npx jest-runner-remote-lambda deploy.',
    );
  }
  const { root, store } = work();
  const capture = captureOutput();
  let response: RunResponse;
  try {
    response = await execute(event, { root: { kind: 'materialize', dir: root, blobs: store } });
  } finally {
    capture.stop();
  }
  const output = capture.output();
  if (output && (response.status === 'completed' || response.status === 'failed' || response.status === 'batch')) response = { ...response, output };
  return envelope(response, event);
}

async function envelope(response: RunResponse, event: unknown): Promise<RunResponse | ResponseEnvelope> {
  const json = JSON.stringify(response);
  if (Buffer.byteLength(json) <= RESPONSE_LIMIT_BYTES) return response;
  const gz = zlib.gzipSync(json);
  const data = gz.toString('base64');
  if (data.length <= RESPONSE_LIMIT_BYTES) return { protocolVersion: PROTOCOL_VERSION, status: 'compressed', data };
  const request = RunRequestSchema.safeParse(event);
  const storeOf = request.success ? request.data.store : undefined;
  if (!storeOf) {
    return requestFault(
      `The result of this file is ${mb(Buffer.byteLength(json))} (${mb(gz.length)} compressed); a Lambda response holds at most 6 MB.\n` +
        'Set the "bucket" option (JEST_REMOTE_LAMBDA_BUCKET) so large results travel through S3, or reduce console output and coverage of this file.',
    );
  }
  const key = resultObjectKey(storeOf, request.data!.runId, crypto.randomUUID());
  await s3Client(storeOf.region).send(new PutObjectCommand({ Bucket: storeOf.bucket, Key: key, Body: gz, ContentLength: gz.length }));
  return { protocolVersion: PROTOCOL_VERSION, status: 'offloaded', key, bytes: gz.length };
}

/** A fault of the handler that retrying cannot mend, for every file: reported at once, with the fix. */
function finalFault(message: string): RunResponse {
  return faultResponse(new HandlerFault(message));
}

/** A fault of this request that retrying cannot mend (the other files are not concerned): reported at once, with the fix. */
function requestFault(message: string): RunResponse {
  return { ...faultResponse(new HandlerFault(message)), scope: 'request' } as RunResponse;
}

function pong(warm: boolean): Pong {
  let tmpFreeBytes: number | undefined;
  try {
    const { dir } = work();
    fs.mkdirSync(dir, { recursive: true });
    const st = fs.statfsSync(dir);
    tmpFreeBytes = st.bavail * st.bsize;
  } catch {
    // statfs is informative only
  }
  const { node, arch, platform, vmModules } = host();
  return { protocolVersion: PROTOCOL_VERSION, status: 'pong', handlerVersion: HANDLER_VERSION, node, arch, tmpFreeBytes, warm, platform, vmModules };
}
