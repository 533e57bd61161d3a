/**
 * The AWS Lambda backend: one synchronous Invoke per request through @aws-sdk/client-lambda
 * (standard credential and region chain, AWS_ENDPOINT_URL_LAMBDA honoured for emulators).
 * Transport only: it classifies faults as retryable or not (the dispatcher decides what to do),
 * unwraps answers too large for a response, and counts what Lambda bills.
 */
import { InvokeCommand, LambdaClient, type InvokeCommandOutput, type LambdaClientConfig } from '@aws-sdk/client-lambda';
import zlib from 'node:zlib';
import { CancelledError, TransportError } from '../../errors';
import {
  LAMBDA_PAYLOAD_LIMIT_BYTES,
  PROTOCOL_VERSION,
  ResponseEnvelopeSchema,
  RunResponseSchema,
  checkAt,
  parseAt,
  type RunRequest,
  type RunResponse,
} from '../../protocol';
import { quietSdkNodeWarning } from '../../ship/s3';
import { takeOffloadedResult } from '../../ship/s3-upload';
import { mb } from '../../ship/sizes';
import type { Backend, InvokeOptions } from '../types';
import { accountReport, noInvocationStats, type InvocationStats } from './billing';
import { ThrottledError, classifyInvokeError, summarizeFunctionError } from './faults';

export interface LambdaBackendOptions {
  functionName: string;
  qualifier?: string;
  region?: string;
  invokeTimeoutMs: number;
}

export class LambdaBackend implements Backend {
  readonly name = 'lambda';
  readonly stats: InvocationStats = noInvocationStats();
  readonly #options: LambdaBackendOptions;
  readonly #client: LambdaClient;

  constructor(options: LambdaBackendOptions, clientConfig: LambdaClientConfig = {}) {
    this.#options = options;
    quietSdkNodeWarning();
    // Retries belong to the dispatcher (it knows test failures from faults); one attempt here.
    this.#client = new LambdaClient({ region: options.region, maxAttempts: 1, ...clientConfig });
  }

  async invoke(request: RunRequest, options: InvokeOptions): Promise<RunResponse> {
    const payload = JSON.stringify(request);
    const size = Buffer.byteLength(payload);
    if (size > LAMBDA_PAYLOAD_LIMIT_BYTES) {
      throw new TransportError(
        `The request for ${request.testPath} is ${mb(size)}; Lambda accepts 6 MB per invocation.\n` +
          'Set the "bucket" option (JEST_REMOTE_LAMBDA_BUCKET) so the project description travels through S3, or leave large folders out with "exclude".',
        false,
      );
    }
    const output = await this.#send(payload, options.signal);
    accountReport(this.stats, output.LogResult);
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
        { scope: 'backend' },
      );
    }
    const status = (parsed as { status?: unknown } | null)?.status;
    if (status === 'compressed' || status === 'offloaded') parsed = await this.#unwrap(parsed, request);
    return checkAt(RunResponseSchema, parsed, `response from ${this.#describe()}`);
  }

  async #send(payload: string, cancel: AbortSignal): Promise<InvokeCommandOutput> {
    const timeout = AbortSignal.timeout(this.#options.invokeTimeoutMs);
    this.stats.invocations++;
    try {
      return await this.#client.send(
        new InvokeCommand({
          FunctionName: this.#options.functionName,
          Qualifier: this.#options.qualifier,
          InvocationType: 'RequestResponse',
          LogType: 'Tail',
          Payload: Buffer.from(payload),
        }),
        { abortSignal: AbortSignal.any([cancel, timeout]) },
      );
    } catch (error) {
      if (cancel.aborted) throw new CancelledError();
      if (timeout.aborted) {
        throw new TransportError(`No answer from ${this.#describe()} within ${this.#options.invokeTimeoutMs} ms.`, true, { cause: error });
      }
      const fault = classifyInvokeError(error, this.#describe());
      if (fault instanceof ThrottledError) this.stats.throttles++;
      throw fault;
    }
  }

  #json(body: string): unknown {
    try {
      return JSON.parse(body);
    } catch {
      throw new TransportError(`${this.#describe()} answered with a body that is not JSON (${body.length} bytes: ${JSON.stringify(body.slice(0, 80))}).`, true);
    }
  }

  /** An answer too large for Lambda's response: gzip inline, or left in the request's store for us to take. */
  async #unwrap(raw: unknown, request: RunRequest): Promise<unknown> {
    const envelope = parseAt(ResponseEnvelopeSchema, raw, `response from ${this.#describe()}`);
    this.stats.largeResponses++;
    let gz: Buffer;
    if (envelope.status === 'compressed') gz = Buffer.from(envelope.data, 'base64');
    else if (!request.store) throw new TransportError(`${this.#describe()} left its answer in a store this runner does not use.`, false);
    else gz = await takeOffloadedResult(request.store, envelope.key);
    let json: string;
    try {
      json = zlib.gunzipSync(gz).toString('utf8');
    } catch (error) {
      throw new TransportError(`${this.#describe()} answered with a compressed body that does not inflate: ${(error as Error).message}`, true);
    }
    return this.#json(json);
  }

  async close(): Promise<void> {
    this.#client.destroy();
  }

  #describe(): string {
    return `Lambda function ${this.#options.functionName}${this.#options.qualifier ? `:${this.#options.qualifier}` : ''}`;
  }
}
