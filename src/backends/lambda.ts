/**
 * The AWS Lambda backend: one synchronous Invoke per request through @aws-sdk/client-lambda
 * (standard credential and region chain, AWS_ENDPOINT_URL_LAMBDA honoured for emulators).
 * Blobs reach the function's containers through the shared S3 store when a bucket is set (only
 * packs the bucket lacks are uploaded), else inline, in as many rounds as the 6 MB limit needs.
 * Transport only: classifies faults as retryable or not; the dispatcher decides what to do.
 */
import {
  InvokeCommand,
  LambdaClient,
  type InvokeCommandOutput,
  type LambdaClientConfig,
} from '@aws-sdk/client-lambda';
import crypto from 'node:crypto';
import fs from 'node:fs';
import zlib from 'node:zlib';
import type { Mirror } from '../bundle/mirror';
import { splitManifest } from '../manifest-parts';
import { encodePackSync, packsOf, singlePacks } from '../pack';
import {
  PROTOCOL_VERSION,
  ResponseEnvelopeSchema,
  RunResponseSchema,
  checkAt,
  encodeProject,
  parseAt,
  type Hash,
  type Manifest,
  type ProjectPayload,
  type RunRequest,
  type RunResponse,
  type Store,
} from '../protocol';
import { quietSdkNodeWarning } from '../s3';
import { S3PackStore } from '../s3-store';
import type { Progress } from '../progress';
import type { ShipStats } from '../ship';
import { TransportError, type Backend, type InvokeOptions } from './types';

/** Lambda's synchronous invocation payload limit (request and response), bytes. */
export const LAMBDA_PAYLOAD_LIMIT_BYTES = 6 * 1024 * 1024;
/** Room kept for the JSON envelope around inline blobs. */
const PAYLOAD_MARGIN_BYTES = 64 * 1024;

/** A pack for one inline round is built from at most this many raw bytes (then shrunk to fit). */
const INLINE_RAW_CAP_BYTES = 24 * 1024 * 1024;

export interface LambdaBackendOptions {
  functionName: string;
  qualifier?: string;
  region?: string;
  cacheDir: string;
  invokeTimeoutMs: number;
  /** The shared content store; without it blobs travel inline. */
  store?: Store;
}

export interface InvocationStats {
  invocations: number;
  throttles: number;
  billedMs: number;
  /** Sum over invocations of billed milliseconds times memory in MB. */
  billedMbMs: number;
  memoryMb?: number;
  /** Compressed bytes of blobs sent inside requests. */
  inlineBlobBytes: number;
  /** Packs uploaded to the shared store and their compressed bytes (also on re-upload). */
  uploadedPacks: number;
  uploadedBytes: number;
  /** Answers that came back compressed or through the store. */
  largeResponses: number;
}

const RETRYABLE_ERRORS = new Set([
  'TooManyRequestsException',
  'ServiceException',
  'EC2ThrottledException',
  'EC2UnexpectedException',
  'ResourceNotReadyException',
  'ResourceConflictException',
  'SubnetIPAddressLimitReachedException',
  'ENILimitReachedException',
  'TimeoutError',
  'RequestTimeout',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'socket hang up',
]);

export class LambdaBackend implements Backend {
  readonly name = 'lambda';
  readonly stats: InvocationStats = {
    invocations: 0,
    throttles: 0,
    billedMs: 0,
    billedMbMs: 0,
    inlineBlobBytes: 0,
    uploadedPacks: 0,
    uploadedBytes: 0,
    largeResponses: 0,
  };
  readonly #options: LambdaBackendOptions;
  readonly #client: LambdaClient;
  readonly #s3: S3PackStore | undefined;
  /** Where this run's blobs are on this machine (hash -> file), and their sizes. */
  readonly #sources = new Map<Hash, string>();
  readonly #sizes = new Map<Hash, number>();
  /** Blobs made by the runner itself: project descriptions and manifest parts. */
  readonly #ownBlobs = new Map<Hash, Buffer>();
  /** Packs put back into the bucket after a container found them missing. */
  readonly #putBack = new Set<Hash>();
  /** Project key -> the full manifest and the runner's own blobs it needs. */
  readonly #projects = new Map<Hash, { manifest: Manifest; own: Hash[] }>();

  constructor(options: LambdaBackendOptions, clientConfig: LambdaClientConfig = {}) {
    this.#options = options;
    quietSdkNodeWarning();
    // Retries belong to the dispatcher (it knows test failures from faults); one attempt here.
    this.#client = new LambdaClient({ region: options.region, maxAttempts: 1, ...clientConfig });
    this.#s3 = options.store && new S3PackStore(options.store, options.cacheDir);
  }

  async ship(mirror: Mirror, project: Omit<ProjectPayload, 'preparedRoot'>, progress?: Progress): Promise<{ project: ProjectPayload; stats: ShipStats }> {
    for (const [hash, file] of mirror.sources) this.#sources.set(hash, file);
    for (const f of mirror.manifest.files) this.#sizes.set(f.hash, f.size);
    // The description travels as a blob, its manifest as parts: an unchanged listing costs nothing.
    const { key: _inline, ...rest } = project;
    const { root, parts } = splitManifest(mirror.manifest);
    const described = { ...rest, manifest: root };
    const blob = encodeProject(described);
    const key = crypto.createHash('sha256').update(blob).digest('hex');
    for (const [hash, bytes] of [...parts, [key, blob] as const]) {
      this.#ownBlobs.set(hash, bytes);
      this.#sizes.set(hash, bytes.length);
    }
    const own = [key, ...parts.keys()];
    this.#projects.set(key, { manifest: mirror.manifest, own });
    const shipped = { ...described, key };
    if (!this.#s3) {
      // Containers that lack blobs ask for them ("need-blobs") and get them inline.
      return { project: shipped, stats: { newBlobs: 0, newBytes: 0, cachedBlobs: 0, cachedBytes: 0 } };
    }
    const packs = new Map([...packsOf(mirror.manifest), ...singlePacks(own)]);
    const uploaded = await this.#s3.ensure(packs, (h) => this.#read(h), (h) => this.#sizes.get(h) ?? 0, false, progress);
    this.stats.uploadedPacks += uploaded.uploaded;
    this.stats.uploadedBytes += uploaded.uploadedBytes;
    return {
      project: shipped,
      stats: { newBlobs: uploaded.uploaded, newBytes: uploaded.uploadedBytes, cachedBlobs: uploaded.present, cachedBytes: uploaded.presentBytes },
    };
  }

  async supply(request: RunRequest, missing: Hash[]): Promise<Pick<RunRequest, 'pack'>> {
    const known = this.#projects.get(request.projectKey);
    if (!known) throw new TransportError(`The handler asked for blobs of a project this run does not know (${request.projectKey}).`, false);
    if (this.#s3) {
      // The bucket lost them (a lifecycle rule, a cleaned prefix): put them back and ask again.
      const wanted = new Set(missing);
      const lost = new Map([...packsOf(known.manifest, wanted), ...singlePacks(known.own.filter((h) => wanted.has(h)))]);
      // Once each: a pack put back minutes ago that a container still cannot read is not lost but
      // unreadable for a moment (another upload of it under way); asking again is enough.
      const packs = new Map([...lost].filter(([key]) => !this.#putBack.has(key)));
      for (const key of packs.keys()) this.#putBack.add(key);
      this.#s3.forget(packs.keys());
      const uploaded = await this.#s3.ensure(packs, (h) => this.#read(h), (h) => this.#sizes.get(h) ?? 0, true);
      this.stats.uploadedPacks += uploaded.uploaded;
      this.stats.uploadedBytes += uploaded.uploadedBytes;
      return {};
    }
    const pack = this.#inlinePack(request, missing);
    this.stats.inlineBlobBytes += pack.length;
    return { pack };
  }

  /**
   * As many of `missing` as fit beside `request` in one invocation, as one compressed pack: built
   * from a raw-byte cap, then shrunk until its base64 fits what the 6 MB limit leaves.
   */
  #inlinePack(request: RunRequest, missing: Hash[]): string {
    const budget = LAMBDA_PAYLOAD_LIMIT_BYTES - PAYLOAD_MARGIN_BYTES - Buffer.byteLength(JSON.stringify(request));
    const unique = [...new Set(missing)];
    let cap = INLINE_RAW_CAP_BYTES;
    for (;;) {
      const chosen: Array<[Hash, Buffer]> = [];
      let raw = 0;
      for (const hash of unique) {
        const size = this.#sizes.get(hash) ?? 0;
        if (chosen.length > 0 && raw + size > cap) continue;
        chosen.push([hash, this.#read(hash)]);
        raw += size;
      }
      const base64 = encodePackSync(chosen, zlib.constants.Z_BEST_SPEED).toString('base64');
      if (base64.length <= budget) return base64;
      if (chosen.length === 1) {
        const [hash] = chosen[0]!;
        const where = [...this.#sources].find(([h]) => h === hash)?.[1] ?? hash;
        throw new TransportError(
          `${where} is ${(raw / 1024 / 1024).toFixed(1)} MB and does not fit inside one Lambda request (6 MB) even compressed.\n` +
            'Set the "bucket" option (JEST_REMOTE_LAMBDA_BUCKET) so blobs travel through S3, or leave the file out with "exclude" if no test reads it.',
          false,
        );
      }
      cap = Math.max(1, Math.floor(raw * (budget / base64.length) * 0.9));
    }
  }

  /** A blob's bytes from where the mirror found them, refused if the file changed since. */
  #read(hash: Hash): Buffer {
    const own = this.#ownBlobs.get(hash);
    if (own) return own;
    const file = this.#sources.get(hash);
    if (!file) throw new TransportError(`The handler asked for blob ${hash}, which this run did not ship.`, false);
    const bytes = fs.readFileSync(file);
    if (crypto.createHash('sha256').update(bytes).digest('hex') !== hash) {
      throw new TransportError(`${file} changed while the run was shipping it; re-run Jest.`, false);
    }
    return bytes;
  }

  async invoke(request: RunRequest, options: InvokeOptions): Promise<RunResponse> {
    const payload = JSON.stringify(this.#options.store ? { ...request, store: this.#options.store } : request);
    const size = Buffer.byteLength(payload);
    if (size > LAMBDA_PAYLOAD_LIMIT_BYTES) {
      throw new TransportError(
        `The request for ${request.testPath} is ${(size / 1024 / 1024).toFixed(1)} MB; Lambda accepts 6 MB per invocation.\n` +
          'Set the "bucket" option (JEST_REMOTE_LAMBDA_BUCKET) so the project description travels through S3, or leave large folders out with "exclude".',
        false,
      );
    }
    const timeout = AbortSignal.timeout(this.#options.invokeTimeoutMs);
    const signal = AbortSignal.any([options.signal, timeout]);
    let output: InvokeCommandOutput;
    this.stats.invocations++;
    try {
      output = await this.#client.send(
        new InvokeCommand({
          FunctionName: this.#options.functionName,
          Qualifier: this.#options.qualifier,
          InvocationType: 'RequestResponse',
          LogType: 'Tail',
          Payload: Buffer.from(payload),
        }),
        { abortSignal: signal },
      );
    } catch (error) {
      if (options.signal.aborted) throw new TransportError('cancelled', false);
      if (timeout.aborted) {
        throw new TransportError(`No answer from ${this.#describe()} within ${this.#options.invokeTimeoutMs} ms.`, true, { cause: error });
      }
      throw this.#classify(error);
    }
    this.#account(output.LogResult);
    const body = output.Payload ? Buffer.from(output.Payload).toString('utf8') : '';
    if (output.FunctionError) {
      throw new TransportError(`${this.#describe()} failed (${output.FunctionError}): ${summarizeFunctionError(body)}`, true);
    }
    let parsed = this.#json(body);
    const version = (parsed as { protocolVersion?: unknown } | null)?.protocolVersion;
    if (version !== undefined && version !== PROTOCOL_VERSION) {
      throw new TransportError(
        `${this.#describe()} runs a handler of protocol ${JSON.stringify(version)}; this runner speaks protocol ${PROTOCOL_VERSION}.\n` +
          'Deploy the handler of the runner version you use: npx jest-runner-remote-lambda deploy.',
        false,
      );
    }
    const status = (parsed as { status?: unknown } | null)?.status;
    if (status === 'compressed' || status === 'offloaded') {
      parsed = await this.#unwrap(parsed);
    }
    try {
      return checkAt(RunResponseSchema, parsed, `response from ${this.#describe()}`);
    } catch (error) {
      throw new TransportError((error as Error).message, true);
    }
  }

  #json(body: string): unknown {
    try {
      return JSON.parse(body);
    } catch {
      throw new TransportError(`${this.#describe()} answered with a body that is not JSON (${body.length} bytes: ${JSON.stringify(body.slice(0, 80))}).`, true);
    }
  }

  /** An answer too large for Lambda's response: gzip inline, or left in the store for us to take. */
  async #unwrap(raw: unknown): Promise<unknown> {
    let envelope;
    try {
      envelope = parseAt(ResponseEnvelopeSchema, raw, `response from ${this.#describe()}`);
    } catch (error) {
      throw new TransportError((error as Error).message, true);
    }
    this.stats.largeResponses++;
    let gz: Buffer;
    if (envelope.status === 'compressed') gz = Buffer.from(envelope.data, 'base64');
    else if (!this.#s3) throw new TransportError(`${this.#describe()} left its answer in a store this runner does not use.`, false);
    else gz = await this.#s3.takeResult(envelope.key);
    try {
      return this.#json(zlib.gunzipSync(gz).toString('utf8'));
    } catch (error) {
      if (error instanceof TransportError) throw error;
      throw new TransportError(`${this.#describe()} answered with a compressed body that does not inflate: ${(error as Error).message}`, true);
    }
  }

  async close(): Promise<void> {
    this.#client.destroy();
  }

  #describe(): string {
    return `Lambda function ${this.#options.functionName}${this.#options.qualifier ? `:${this.#options.qualifier}` : ''}`;
  }

  #classify(error: unknown): TransportError {
    const e = error as { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
    const name = e.name ?? '';
    const status = e.$metadata?.httpStatusCode;
    const message = e.message ?? String(error);
    if (name === 'TooManyRequestsException' || status === 429) {
      this.stats.throttles++;
      return new TransportError(`${this.#describe()} is throttled (429 TooManyRequests): ${message}`, true, { cause: error });
    }
    if (name === 'RequestTooLargeException' || status === 413) {
      return new TransportError(`${this.#describe()} refused the request as too large (413): ${message}`, false, { cause: error });
    }
    if (name === 'ResourceNotFoundException' || status === 404) {
      return new TransportError(
        `${this.#describe()} does not exist in this account and region: ${message}\n` +
          'Check the "function" option (JEST_REMOTE_LAMBDA_FUNCTION) and AWS_REGION, or create it with npx jest-runner-remote-lambda deploy.',
        false,
        { cause: error },
      );
    }
    if (name === 'CredentialsProviderError' || name === 'AccessDeniedException' || name === 'UnrecognizedClientException' || status === 403) {
      return new TransportError(
        `Not allowed to invoke ${this.#describe()}: ${message}\nConfigure AWS credentials with lambda:InvokeFunction on it (npx jest-runner-remote-lambda policy prints the policy).`,
        false,
        { cause: error },
      );
    }
    const retryable = RETRYABLE_ERRORS.has(name) || RETRYABLE_ERRORS.has(e.code ?? '') || [...RETRYABLE_ERRORS].some((m) => message.includes(m)) || (status !== undefined && status >= 500);
    return new TransportError(`Invoking ${this.#describe()} failed${status ? ` (HTTP ${status})` : ''}: ${name ? `${name}: ` : ''}${message}`, retryable, { cause: error });
  }

  /** Reads the REPORT line of the log tail: billed duration and memory size. */
  #account(logResult: string | undefined): void {
    if (!logResult) return;
    const log = Buffer.from(logResult, 'base64').toString('utf8');
    const billed = /Billed Duration: (\d+(?:\.\d+)?) ms/.exec(log);
    const memory = /Memory Size: (\d+) MB/.exec(log);
    if (!billed) return;
    const ms = Number(billed[1]);
    const mb = memory ? Number(memory[1]) : (this.stats.memoryMb ?? 0);
    if (memory) this.stats.memoryMb = mb;
    this.stats.billedMs += ms;
    this.stats.billedMbMs += ms * mb;
  }
}

function summarizeFunctionError(body: string): string {
  try {
    const parsed = JSON.parse(body) as { errorType?: string; errorMessage?: string };
    return [parsed.errorType, parsed.errorMessage].filter(Boolean).join(': ') || body.slice(0, 300);
  } catch {
    return body.slice(0, 300);
  }
}
