/**
 * The AWS Lambda backend: one synchronous Invoke per request through @aws-sdk/client-lambda
 * (standard credential and region chain, AWS_ENDPOINT_URL_LAMBDA honoured for emulators). Blobs the
 * function's warm containers lack travel inline, in as many rounds as the 6 MB limit needs.
 * Transport only: classifies faults as retryable or not; the dispatcher decides what to do.
 */
import {
  InvokeCommand,
  LambdaClient,
  type InvokeCommandOutput,
  type LambdaClientConfig,
} from '@aws-sdk/client-lambda';
import type { Mirror } from '../bundle/mirror';
import { RunResponseSchema, checkAt, type ProjectPayload, type RunRequest, type RunResponse } from '../protocol';
import { LocalBlobStore, type ShipStats } from '../ship';
import path from 'node:path';
import { TransportError, type Backend, type InvokeOptions } from './types';

/** Lambda's synchronous invocation payload limit (request and response), bytes. */
export const LAMBDA_PAYLOAD_LIMIT_BYTES = 6 * 1024 * 1024;
/** Room kept for the JSON envelope around inline blobs. */
const PAYLOAD_MARGIN_BYTES = 64 * 1024;

export interface LambdaBackendOptions {
  functionName: string;
  qualifier?: string;
  region?: string;
  cacheDir: string;
  invokeTimeoutMs: number;
}

export interface InvocationStats {
  invocations: number;
  throttles: number;
  billedMs: number;
  /** Sum over invocations of billed milliseconds times memory in MB. */
  billedMbMs: number;
  memoryMb?: number;
  inlineBlobBytes: number;
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
  readonly stats: InvocationStats = { invocations: 0, throttles: 0, billedMs: 0, billedMbMs: 0, inlineBlobBytes: 0 };
  readonly #options: LambdaBackendOptions;
  readonly #client: LambdaClient;
  readonly #store: LocalBlobStore;

  constructor(options: LambdaBackendOptions, clientConfig: LambdaClientConfig = {}) {
    this.#options = options;
    // Retries belong to the dispatcher (it knows test failures from faults); one attempt here.
    this.#client = new LambdaClient({ region: options.region, maxAttempts: 1, ...clientConfig });
    this.#store = new LocalBlobStore(path.join(options.cacheDir, 'blobs'));
  }

  async ship(mirror: Mirror, project: Omit<ProjectPayload, 'preparedRoot'>): Promise<{ project: ProjectPayload; stats: ShipStats }> {
    // Blobs go into the local store; containers that lack them ask ("need-blobs") and get them inline.
    const stats = this.#store.add(mirror.sources);
    return { project, stats };
  }

  blobsFor(request: RunRequest, missing: string[]): Record<string, string> {
    let budget = LAMBDA_PAYLOAD_LIMIT_BYTES - PAYLOAD_MARGIN_BYTES - Buffer.byteLength(JSON.stringify(request));
    const out: Record<string, string> = {};
    for (const hash of missing) {
      const base64 = this.#store.read(hash).toString('base64');
      const cost = base64.length + hash.length + 6;
      if (cost > budget) continue;
      out[hash] = base64;
      budget -= cost;
      this.stats.inlineBlobBytes += base64.length;
    }
    return out;
  }

  async invoke(request: RunRequest, options: InvokeOptions): Promise<RunResponse> {
    const payload = JSON.stringify(request);
    const size = Buffer.byteLength(payload);
    if (size > LAMBDA_PAYLOAD_LIMIT_BYTES) {
      throw new TransportError(
        `The request for ${request.testPath} is ${(size / 1024 / 1024).toFixed(1)} MB; Lambda accepts 6 MB per invocation. ` +
          'The project description (manifest and config) alone is too large to travel inline: exclude large folders with the "exclude" option.',
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
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      throw new TransportError(`${this.#describe()} answered with a body that is not JSON (${body.length} bytes: ${JSON.stringify(body.slice(0, 80))}).`, true);
    }
    try {
      return checkAt(RunResponseSchema, parsed, `response from ${this.#describe()}`);
    } catch (error) {
      throw new TransportError((error as Error).message, true);
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
        `Not allowed to invoke ${this.#describe()}: ${message}\nConfigure AWS credentials with lambda:InvokeFunction on it (see the README's IAM policy).`,
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
