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
import { LocalBlobStore } from '../src/ship';
import { PROTOCOL_VERSION, RunRequestSchema, type Pong, type ProcessOutput, type RunResponse } from '../src/protocol';
import { resultObjectKey, s3Client } from '../src/s3';
import { execute } from './execute';
import { HANDLER_VERSION } from '../src/version';

/** This container's work directory: its content store and the one tree it runs tests in. */
let workDir: { dir: string; store: LocalBlobStore; root: string } | undefined;

function work(): NonNullable<typeof workDir> {
  if (!workDir) {
    const dir = process.env.JEST_REMOTE_LAMBDA_WORK_DIR ?? '/tmp/jrl';
    workDir = { dir, store: new LocalBlobStore(path.join(dir, 'store')), root: path.join(dir, 'root') };
  }
  return workDir;
}

/** Lambda refuses responses over 6 MB (6,291,556 bytes); keep room for the runtime's framing. */
export const RESPONSE_LIMIT_BYTES = 6 * 1024 * 1024 - 64 * 1024;

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
  if ((event as { kind?: unknown } | null)?.kind === 'ping') return pong(warm);
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

async function envelope(response: RunResponse, event: unknown): Promise<unknown> {
  const json = JSON.stringify(response);
  if (Buffer.byteLength(json) <= RESPONSE_LIMIT_BYTES) return response;
  const gz = zlib.gzipSync(json);
  const data = gz.toString('base64');
  if (data.length <= RESPONSE_LIMIT_BYTES) return { protocolVersion: PROTOCOL_VERSION, status: 'compressed', data };
  const request = RunRequestSchema.safeParse(event);
  const storeOf = request.success ? request.data.store : undefined;
  if (!storeOf) {
    return finalFault(
      `The result of this file is ${mb(Buffer.byteLength(json))} (${mb(gz.length)} compressed); a Lambda response holds at most 6 MB.\n` +
        'Set the "bucket" option (JEST_REMOTE_LAMBDA_BUCKET) so large results travel through S3, or reduce console output and coverage of this file.',
    );
  }
  const key = resultObjectKey(storeOf, request.data!.runId, crypto.randomUUID());
  await s3Client(storeOf.region).send(new PutObjectCommand({ Bucket: storeOf.bucket, Key: key, Body: gz, ContentLength: gz.length }));
  return { protocolVersion: PROTOCOL_VERSION, status: 'offloaded', key, bytes: gz.length };
}

/** Most bytes of stdout or stderr an answer carries back (the rest is still in the function's log). */
const OUTPUT_LIMIT_BYTES = 256 * 1024;

/**
 * Records what is written to stdout and stderr while a request runs (still passing it on to the
 * function's log), so the runner can print it where Jest's own workers' output would appear.
 */
function captureOutput(): { stop(): void; output(): ProcessOutput | undefined } {
  const chunks = { stdout: [] as string[], stderr: [] as string[] };
  const sizes = { stdout: 0, stderr: 0 };
  const originals = { stdout: process.stdout.write, stderr: process.stderr.write };
  for (const name of ['stdout', 'stderr'] as const) {
    const stream = process[name];
    const original = originals[name];
    stream.write = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]) {
      const text = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : String(chunk);
      if (sizes[name] < OUTPUT_LIMIT_BYTES) {
        chunks[name].push(text.slice(0, OUTPUT_LIMIT_BYTES - sizes[name]));
        sizes[name] += text.length;
      }
      return (original as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
    } as typeof stream.write;
  }
  return {
    stop() {
      process.stdout.write = originals.stdout;
      process.stderr.write = originals.stderr;
    },
    output() {
      if (sizes.stdout === 0 && sizes.stderr === 0) return undefined;
      return { stdout: chunks.stdout.join(''), stderr: chunks.stderr.join('') };
    },
  };
}

/** A fault of the handler that retrying cannot mend: reported at once, with the fix. */
function finalFault(message: string): RunResponse {
  return { protocolVersion: PROTOCOL_VERSION, status: 'crashed', final: true, error: { message, type: 'Error' } };
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
  return { protocolVersion: PROTOCOL_VERSION, status: 'pong', handlerVersion: HANDLER_VERSION, node: process.version, arch: process.arch, tmpFreeBytes, warm };
}

const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
