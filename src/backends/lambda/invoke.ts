/**
 * The AWS Lambda backend: one synchronous Invoke per request through @aws-sdk/client-lambda
 * (standard credential and region chain, AWS_ENDPOINT_URL_LAMBDA honoured for emulators).
 * Transport only: it classifies faults as retryable or not (the dispatcher decides what to do),
 * unwraps answers too large for a response, and counts what Lambda bills.
 */
import { InvokeCommand, LambdaClient, type InvokeCommandOutput, type LambdaClientConfig } from '@aws-sdk/client-lambda';
import { setTimeout as sleep } from 'node:timers/promises';
import zlib from 'node:zlib';
import { jitteredBackoff } from '../../dispatch/backoff';
import { CancelledError, TransportError, UnusableBackendError } from '../../errors';
import {
  LAMBDA_PAYLOAD_LIMIT_BYTES,
  PING_REQUEST,
  PROTOCOL_VERSION,
  PongSchema,
  ResponseEnvelopeSchema,
  RunResponseSchema,
  checkAt,
  parseAt,
  type Hash,
  type Host,
  type RunRequest,
  type RunResponse,
  type Store,
} from '../../protocol';
import type { TargetPlatform } from '../../mirror/platform';
import { quietSdkNodeWarning } from '../../ship/s3';
import { takeOffloadedResult } from '../../ship/s3-upload';
import { mb } from '../../ship/sizes';
import type { Backend, InvokeOptions } from '../types';
import { accountReport, noInvocationStats, type InvocationStats } from './billing';
import { FunctionFactsCache, type FunctionFacts } from './facts';
import { ThrottledError, classifyInvokeError, summarizeFunctionError } from './faults';

/** Longest a request waits for the warm-up it was paired with (a cold start with a big tree takes tens of seconds). */
const WARM_UP_WAIT_MS = 60_000;
/** Attempts of the ping that tells a function's runtime, when nothing is known about it yet. */
const PING_ATTEMPTS = 3;

export interface LambdaBackendOptions {
  functionName: string;
  qualifier?: string;
  region?: string;
  invokeTimeoutMs: number;
  /** Where what is learned about the function is kept. */
  cacheDir: string;
}

export class LambdaBackend implements Backend {
  readonly name = 'lambda';
  readonly stats: InvocationStats = noInvocationStats();
  readonly facts: FunctionFactsCache;
  readonly #options: LambdaBackendOptions;
  readonly #client: LambdaClient;
  /** Warm-ups under way: each request waits for one (see prewarm). */
  readonly #warming: Array<Promise<void>> = [];

  constructor(options: LambdaBackendOptions, clientConfig: LambdaClientConfig = {}) {
    this.#options = options;
    quietSdkNodeWarning();
    // Retries belong to the dispatcher (it knows test failures from faults); one attempt here.
    this.#client = new LambdaClient({ region: options.region, maxAttempts: 1, ...clientConfig });
    const endpoint = process.env.AWS_ENDPOINT_URL_LAMBDA ?? process.env.AWS_ENDPOINT_URL ?? 'aws';
    this.facts = new FunctionFactsCache(
      options.cacheDir,
      [endpoint, options.region ?? process.env.AWS_REGION ?? '', options.functionName, options.qualifier ?? ''].join('\0'),
    );
  }

  /** Lambda is Linux with glibc, x86_64 or arm64: the one its answers showed, or both until then. */
  platforms(): TargetPlatform[] {
    const known = this.facts.known;
    if (known) return [{ os: known.platform, cpu: known.arch, libc: 'glibc' }];
    return [
      { os: 'linux', cpu: 'x64', libc: 'glibc' },
      { os: 'linux', cpu: 'arm64', libc: 'glibc' },
    ];
  }

  /** The function's platform, Node and VM modules: from earlier answers, else from a ping now. */
  async runtime(): Promise<FunctionFacts> {
    const known = this.facts.known;
    if (known) return known;
    const answer = await this.#ping();
    this.facts.learn(answer);
    return this.facts.known!;
  }

  /**
   * Before anything is shipped. A function nothing is known about yet is asked once (a ping), so
   * the first run already ships for its platform and architecture (otherwise both Lambda
   * architectures' packages would travel, and the second run would ship again once it knew) and a
   * function that cannot be used stops the run here, once, rather than at every file. A ping that
   * only meets transient faults (throttling, timeouts) is not a verdict: the run goes on and ships
   * for both architectures.
   *
   * Native ESM needs Node's VM modules (--experimental-vm-modules) where the files run: a Jest that
   * has them locally is refused by a function without them before the first file, with the fix.
   */
  async check(local: { vmModules: boolean }): Promise<void> {
    let runtime: FunctionFacts;
    try {
      runtime = await this.runtime();
    } catch (error) {
      if (error instanceof TransportError && error.retryable && !local.vmModules) return;
      throw error instanceof TransportError ? new UnusableBackendError(error.message, { cause: error }) : error;
    }
    if (local.vmModules && runtime.vmModules === false) {
      throw new UnusableBackendError(
        `This Jest runs with --experimental-vm-modules (native ESM), and ${this.#describe()} does not (its NODE_OPTIONS lack the flag): ` +
          'its test files would fail there with "unexpected token" or "Cannot use import statement outside a module".\n' +
          `Deploy it with the flag: npx jest-runner-remote-lambda deploy --function ${this.#options.functionName} --node-options=--experimental-vm-modules ` +
          '(or give ESM suites a function of their own).',
      );
    }
  }

  async #ping(): Promise<Host> {
    let output: InvokeCommandOutput | undefined;
    for (let attempt = 0; !output; attempt++) {
      try {
        output = await this.#client.send(
          new InvokeCommand({
            FunctionName: this.#options.functionName,
            Qualifier: this.#options.qualifier,
            Payload: Buffer.from(JSON.stringify(PING_REQUEST)),
          }),
          { abortSignal: AbortSignal.timeout(this.#options.invokeTimeoutMs) },
        );
      } catch (error) {
        const fault = classifyInvokeError(error, this.#describe());
        if (!fault.retryable || attempt >= PING_ATTEMPTS - 1) throw fault;
        await sleep(jitteredBackoff(attempt + 1));
      }
    }
    this.stats.pings++;
    const body = output.Payload ? Buffer.from(output.Payload).toString('utf8') : '';
    const pong = PongSchema.safeParse(this.#json(body));
    if (output.FunctionError || !pong.success) {
      throw new UnusableBackendError(
        `${this.#describe()} did not answer a ping as this package's handler would: ${output.FunctionError ? `${output.FunctionError}: ` : ''}${body.slice(0, 200)}`,
      );
    }
    return pong.data;
  }

  /**
   * Warm-ups: `count` pings sent together, so Lambda starts as many environments while the runner
   * hashes and ships; each brings in the last run's project (`warmUp`) before it answers. A request
   * waits for one of them first, so it lands on an environment that is ready rather than starting
   * yet another. Best effort: a warm-up that fails costs nothing but its invocation.
   */
  prewarm(count: number, warmUp?: { projectKey: Hash; store: Store }): void {
    const payload = Buffer.from(JSON.stringify({ ...PING_REQUEST, ...(warmUp ? { warmUp } : {}) }));
    for (let i = 0; i < count; i++) {
      this.stats.warmUps++;
      const warming = this.#client
        .send(new InvokeCommand({ FunctionName: this.#options.functionName, Qualifier: this.#options.qualifier, LogType: 'Tail', Payload: payload }), {
          abortSignal: AbortSignal.timeout(this.#options.invokeTimeoutMs),
        })
        .then(
          (output) => accountReport(this.stats, output.LogResult),
          () => undefined,
        );
      this.#warming.push(warming);
    }
  }

  async invoke(request: RunRequest, options: InvokeOptions): Promise<RunResponse> {
    // (a warm-up stuck past a cold start's time does not hold the run: Lambda starts another environment)
    const warming = this.#warming.shift();
    if (warming) await Promise.race([warming, sleep(WARM_UP_WAIT_MS, undefined, { ref: false })]);
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
    const response = checkAt(RunResponseSchema, parsed, `response from ${this.#describe()}`);
    const answered = response.status === 'batch' ? response.results[0] : response;
    if (answered && 'host' in answered && answered.host) this.facts.learn(answered.host);
    return response;
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
