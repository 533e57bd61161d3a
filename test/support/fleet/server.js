#!/usr/bin/env node
/**
 * The fleet: one Lambda function served on 127.0.0.1 the way the Lambda service serves it, as its
 * own process (tests run Jest synchronously and could not serve it themselves).
 *
 *   node server.js <options JSON file>      prints its port as the first line on stdout
 *
 * Invoke API (what @aws-sdk/client-lambda sends through AWS_ENDPOINT_URL_LAMBDA):
 *   POST /2015-03-31/functions/{name}/invocations[?Qualifier=]   RequestResponse | Event | DryRun
 *   PUT  /2015-03-31/functions/{name}/code                        UpdateFunctionCode (ZipFile)
 * Each invocation runs in an execution environment (environment.js): an idle one of the current
 * code if there is one, else a new one (cold start: `coldStartMs`, then the real process start and
 * init) while the in-flight invocations stay under `concurrency` and the scaling bucket
 * (`burst.initial` new environments, refilled at `burst.perSecond`) has a token; else 429.
 * Idle environments are reclaimed after `idleTtlMs`; a code update retires the old ones.
 *
 * Control API for tests and benches (not Lambda's): GET /_fleet/stats, GET /_fleet/log,
 * POST /_fleet/deploy { files }, POST /_fleet/recycle, POST /_fleet/faults { plan },
 * POST /_fleet/config { ...options }, POST /_fleet/stop.
 */
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { unzipSync } = require('fflate');
const { Environment } = require('./environment');
const { FaultPlan } = require('./faults');
const { LAMBDA_PATH, makeSkeleton, memoryLimitMethod, namespaceSupport } = require('./sandbox');
const wire = require('./wire');

const NODE_MAJOR = process.versions.node.split('.')[0];

class Fleet {
  constructor(options) {
    this.o = {
      functionName: 'jrl-test-run',
      region: 'us-east-1',
      accountId: '123456789012',
      handler: 'index.handler',
      memoryMb: 2048,
      timeoutSec: 300,
      ephemeralMb: 512,
      concurrency: 32,
      burst: { initial: 1000, perSecond: 100 },
      coldStartMs: 0,
      slowStartMs: 3000,
      idleTtlMs: 15 * 60_000,
      killWithinMs: 300,
      environment: {},
      role: { accessKeyId: 'ASIAFLEETROLE', secretAccessKey: 'fleet-secret', sessionToken: 'fleet-session' },
      aliases: ['live'],
      isolate: 'auto',
      nodeBinary: process.execPath,
      ...options,
    };
    const support = namespaceSupport();
    if (this.o.isolate === true && !support.ok) throw new Error(`The fleet cannot isolate environments: ${support.reason}`);
    this.isolated = this.o.isolate === 'auto' ? support.ok : this.o.isolate === true;
    this.isolationNote = this.isolated ? 'mount+PID namespaces' : `not isolated: ${support.reason ?? 'isolate: false'}`;
    this.memory = memoryLimitMethod();
    fs.mkdirSync(this.o.workDir, { recursive: true });
    this.skeleton = this.isolated ? makeSkeleton(path.join(this.o.workDir, 'skeleton')) : undefined;
    this.environments = new Set();
    this.version = 0;
    this.codeDir = undefined;
    this.faults = new FaultPlan(this.o.faults);
    this.pendingStartFaults = [];
    this.inFlight = 0;
    this.tokens = this.o.burst.initial;
    this.tokensAt = Date.now();
    this.nextEnvId = 1;
    this.log = [];
    this.stats = {
      invocations: 0,
      throttled: { concurrency: 0, burst: 0, injected: 0 },
      coldStarts: 0,
      initDurationsMs: [],
      /** Each answered invocation, in order: its environment, cold or warm, handler time, handler status. */
      invocationTimes: [],
      started: 0,
      ended: {},
      outcomes: {},
    };
    this.deploy(this.o.code);
    this.reaper = setInterval(() => this.#reap(), 250);
  }

  get arn() {
    return `arn:aws:lambda:${this.o.region}:${this.o.accountId}:function:${this.o.functionName}`;
  }

  /** New code ({ name: file path } or { name: Buffer }): a new version; old environments retire. */
  deploy(files) {
    this.version++;
    const dir = path.join(this.o.workDir, `code-${this.version}`);
    fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
    for (const [name, source] of Object.entries(files)) {
      const target = path.join(dir, name);
      fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o755 });
      fs.writeFileSync(target, Buffer.isBuffer(source) || source instanceof Uint8Array ? source : fs.readFileSync(source), { mode: 0o644 });
    }
    const previous = this.codeDir;
    this.codeDir = dir;
    this.codeSha256 = crypto
      .createHash('sha256')
      .update(JSON.stringify(Object.keys(files).sort()) + this.version)
      .digest('base64');
    for (const env of this.environments) this.#retire(env, 'code update');
    if (previous) this.oldCodeDirs = [...(this.oldCodeDirs ?? []), previous];
    return this.version;
  }

  /** Retires every environment: the next invocations are cold. */
  recycle() {
    for (const env of this.environments) this.#retire(env, 'recycled');
  }

  #retire(env, reason) {
    env.retiring = true;
    if (env.state === 'idle' || env.state === 'init') env.kill(reason);
  }

  #reap() {
    const now = Date.now();
    for (const env of this.environments) {
      if (env.state === 'idle' && now - env.lastUsedAt > this.o.idleTtlMs) env.kill('idle');
    }
  }

  #takeToken() {
    const now = Date.now();
    this.tokens = Math.min(this.o.burst.initial, this.tokens + ((now - this.tokensAt) / 1000) * this.o.burst.perSecond);
    this.tokensAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  #environmentVariables(envId) {
    const o = this.o;
    const name = o.functionName;
    const base = {
      ...o.environment,
      AWS_LAMBDA_FUNCTION_NAME: name,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(o.memoryMb),
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${name}`,
      AWS_LAMBDA_LOG_STREAM_NAME: `${new Date().toISOString().slice(0, 10).replace(/-/g, '/')}/[$LATEST]${crypto.randomBytes(16).toString('hex')}`,
      AWS_EXECUTION_ENV: `AWS_Lambda_nodejs${NODE_MAJOR}.x`,
      AWS_REGION: o.region,
      AWS_DEFAULT_REGION: o.region,
      AWS_ACCESS_KEY_ID: o.role.accessKeyId,
      AWS_SECRET_ACCESS_KEY: o.role.secretAccessKey,
      AWS_SESSION_TOKEN: o.role.sessionToken,
      AWS_XRAY_CONTEXT_MISSING: 'LOG_ERROR',
      AWS_XRAY_DAEMON_ADDRESS: '169.254.79.129:2000',
      _AWS_XRAY_DAEMON_ADDRESS: '169.254.79.129',
      _AWS_XRAY_DAEMON_PORT: '2000',
      _HANDLER: o.handler,
      LAMBDA_TASK_ROOT: '/var/task',
      LAMBDA_RUNTIME_DIR: '/var/runtime',
      LANG: 'en_US.UTF-8',
      TZ: ':UTC',
      PATH: LAMBDA_PATH,
      LD_LIBRARY_PATH: '/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib',
      NODE_PATH: `/opt/nodejs/node${NODE_MAJOR}/node_modules:/opt/nodejs/node_modules:/var/runtime/node_modules:/var/runtime:/var/task`,
      SHLVL: '0',
    };
    if (this.isolated) return base;
    // Without namespaces the environments share this machine's /tmp: each gets a folder of its own.
    const tmp = path.join(this.o.workDir, `tmp-${envId}`);
    fs.mkdirSync(tmp, { recursive: true });
    return {
      ...base,
      TMPDIR: tmp,
      JEST_REMOTE_LAMBDA_WORK_DIR: path.join(tmp, 'jrl'),
      LAMBDA_TASK_ROOT: this.codeDir,
      LAMBDA_RUNTIME_DIR: path.join(__dirname, 'runtime'),
      PATH: process.env.PATH,
    };
  }

  #nodeArgs() {
    // what Lambda's bootstrap passes its node (heap sized from the function's memory)
    const newSpace = Math.floor(this.o.memoryMb / 10);
    return [
      '--expose-gc',
      '--max-http-header-size',
      '81920',
      `--max-semi-space-size=${Math.floor(newSpace / 2)}`,
      `--max-old-space-size=${this.o.memoryMb - newSpace}`,
    ];
  }

  async #newEnvironment(fault) {
    const id = this.nextEnvId++;
    const env = new Environment({
      id,
      version: this.version,
      codeDir: this.codeDir,
      skeleton: this.skeleton,
      runtimeDir: path.join(__dirname, 'runtime'),
      runtimeMount: this.isolated ? '/var/runtime' : path.join(__dirname, 'runtime'),
      runtimeNode: this.isolated ? '/var/lang/bin/node' : this.o.nodeBinary,
      nodeBinary: this.o.nodeBinary,
      tmpMb: this.o.ephemeralMb,
      memoryMb: this.o.memoryMb,
      env: this.#environmentVariables(id),
      nodeArgs: this.#nodeArgs(),
      isolated: this.isolated,
    });
    this.environments.add(env);
    this.stats.started++;
    this.stats.coldStarts++;
    env.on('dead', () => {
      this.environments.delete(env);
      const why = env.killReason ?? (env.exit?.signal ? `signal ${env.exit.signal}` : `exit ${env.exit?.code}`);
      this.stats.ended[why] = (this.stats.ended[why] ?? 0) + 1;
    });
    env.on('idle', () => {
      if (env.retiring) env.kill('retired');
    });
    const delay = this.o.coldStartMs + (fault === 'slow-start' ? this.o.slowStartMs : 0);
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    const ready = env.start();
    if (fault === 'init-crash') {
      // crash while the runtime loads the handler
      setTimeout(() => env.kill('init crash (fault)'), Math.floor(this.faults.uniform() * 150));
    }
    try {
      await ready;
      this.stats.initDurationsMs.push(env.initDurationMs);
    } catch {
      // the invocation learns it from env.invoke()
    }
    return env;
  }

  /**
   * The most recently used idle environment of the current code; else one that has just answered
   * and whose runtime is about to ask for the next event (on Lambda that takes microseconds, less
   * than any client's round trip: it would be idle by the time the next invocation arrives).
   */
  #pickIdle() {
    let best;
    let finishing;
    for (const env of this.environments) {
      if (env.retiring || env.version !== this.version) continue;
      if (env.state === 'idle' && (!best || env.lastUsedAt > best.lastUsedAt)) best = env;
      if (env.state === 'busy' && env.answered && !finishing) finishing = env;
    }
    return best ?? finishing;
  }

  record(line) {
    this.log.push(line);
  }

  async invoke(req, res, qualifier, payload) {
    const requestId = crypto.randomUUID();
    const logType = String(req.headers['x-amz-log-type'] ?? 'None');
    const type = String(req.headers['x-amz-invocation-type'] ?? 'RequestResponse');
    if (type === 'DryRun') return res.writeHead(204).end();
    if (payload.length > wire.REQUEST_LIMIT_BYTES) {
      this.record('request-too-large');
      return wire.apiError(
        res,
        413,
        'RequestTooLargeException',
        `Request must be smaller than ${wire.REQUEST_LIMIT_BYTES} bytes for the InvokeFunction operation`,
      );
    }
    this.stats.invocations++;
    const fault = this.faults.next();
    if (fault === 'throttle') {
      this.stats.throttled.injected++;
      this.record('throttle');
      return wire.throttle(res, 'ReservedFunctionConcurrentInvocationLimitExceeded');
    }
    if (this.inFlight >= this.o.concurrency) {
      this.stats.throttled.concurrency++;
      this.record('429:concurrency');
      return wire.throttle(res, 'ReservedFunctionConcurrentInvocationLimitExceeded');
    }
    const coldFault = fault === 'init-crash' || fault === 'slow-start';
    let env = coldFault ? undefined : this.#pickIdle();
    const cold = !env;
    if (cold && !this.#takeToken()) {
      this.stats.throttled.burst++;
      this.record('429:burst');
      return wire.throttle(res, 'FunctionInvocationRateLimitExceeded');
    }
    this.inFlight++;
    if (type === 'Event') res.writeHead(202, { 'x-amzn-requestid': requestId }).end();
    try {
      if (!env) env = await this.#newEnvironment(fault);
      const outcome = await this.#run(env, requestId, payload, fault);
      this.#respond(type === 'Event' ? undefined : res, { requestId, env, cold, outcome, fault, logType, qualifier });
    } finally {
      this.inFlight--;
    }
    return undefined;
  }

  #run(env, requestId, payload, fault) {
    const timeoutMs = this.o.timeoutSec * 1000;
    const invocation = {
      requestId,
      payload,
      deadlineMs: Date.now() + timeoutMs,
      arn: this.arn,
      traceId: `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${crypto.randomBytes(12).toString('hex')}`,
    };
    let killTimer;
    const onDelivered = () => {
      if (fault === 'kill') killTimer = setTimeout(() => env.kill('killed (fault)'), Math.floor(this.faults.uniform() * this.o.killWithinMs));
      if (fault === 'hang') env.freeze();
    };
    env.once('delivered', onDelivered);
    let timer;
    const timedOut = new Promise((resolve) => {
      timer = setTimeout(() => resolve({ kind: 'timeout', durationMs: env.elapsedMs() }), timeoutMs);
    });
    return Promise.race([env.invoke(invocation), timedOut]).then(async (outcome) => {
      clearTimeout(timer);
      clearTimeout(killTimer);
      env.off('delivered', onDelivered);
      if (outcome.kind === 'timeout') env.kill('timeout');
      if (fault === 'kill' && (outcome.kind === 'response' || outcome.kind === 'error')) {
        // the answer was faster than the kill: the environment dies before it reaches the caller
        env.kill('killed (fault)');
        await env.whenDead();
        return { ...outcome, kind: 'exit', code: null, signal: 'SIGKILL', outOfMemory: false };
      }
      return outcome;
    });
  }

  #respond(res, { requestId, env, cold, outcome, fault, logType, qualifier }) {
    let body;
    let functionError = false;
    let status;
    switch (outcome.kind) {
      case 'response':
        body = outcome.body;
        if (body.length > wire.RESPONSE_LIMIT_BYTES) {
          functionError = true;
          body = Buffer.from(
            JSON.stringify({
              errorMessage: `Response payload size exceeded maximum allowed payload size (${wire.RESPONSE_LIMIT_BYTES} bytes).`,
              errorType: 'Function.ResponseSizeTooLarge',
            }),
          );
        }
        break;
      case 'error':
      case 'init-error':
        functionError = true;
        body = outcome.body;
        break;
      case 'timeout':
        functionError = true;
        status = 'timeout';
        body = Buffer.from(JSON.stringify(wire.timeoutPayload(requestId, this.o.timeoutSec)));
        break;
      case 'exit':
        functionError = true;
        status = 'error';
        body = Buffer.from(
          JSON.stringify(wire.exitPayload(requestId, outcome.code, outcome.signal, outcome.outOfMemory ? 'Runtime.OutOfMemory' : 'Runtime.ExitError')),
        );
        break;
      default:
        throw new Error(`unknown outcome ${outcome.kind}`);
    }
    if (fault === 'garbage' && outcome.kind === 'response') {
      body = this.faults.uniform() < 0.5 ? body.subarray(0, Math.floor(body.length / 2)) : Buffer.from("\u0000\u00ff<<not the function's answer>>", 'latin1');
    }
    const handlerStatus = (() => {
      try {
        return JSON.parse(outcome.body?.toString('utf8') ?? '').status;
      } catch {
        return undefined;
      }
    })();
    const line = `${cold ? 'cold' : 'warm'} env=${env.id} ${outcome.kind}${handlerStatus ? `:${handlerStatus}` : ''}${fault !== 'pass' ? ` fault=${fault}` : ''}`;
    this.record(line);
    this.stats.outcomes[outcome.kind] = (this.stats.outcomes[outcome.kind] ?? 0) + 1;
    this.stats.invocationTimes.push({ env: env.id, cold, ms: Math.round(outcome.durationMs ?? 0), status: handlerStatus ?? outcome.kind });
    const log = [
      cold ? `INIT_START Runtime Version: nodejs:${NODE_MAJOR}.fleet\tRuntime Version ARN: arn:aws:lambda:${this.o.region}::runtime:fleet\n` : '',
      `START RequestId: ${requestId} Version: $LATEST\n`,
      env.takeLog(),
      outcome.kind === 'timeout' ? `${new Date().toISOString()} ${requestId} Task timed out after ${this.o.timeoutSec.toFixed(2)} seconds\n` : '',
      `END RequestId: ${requestId}\n`,
      `${wire.reportLine({ requestId, durationMs: outcome.durationMs ?? 0, memoryMb: this.o.memoryMb, maxMemoryMb: (outcome.peakBytes ?? env.peakBytes) / 1024 / 1024, initDurationMs: cold ? env.initDurationMs : undefined, status })}\n`,
    ].join('');
    if (!res) return;
    const headers = {
      'content-type': 'application/json',
      'content-length': body.length,
      'x-amzn-requestid': requestId,
      'x-amz-executed-version': qualifier && /^\d+$/.test(qualifier) ? qualifier : '$LATEST',
    };
    if (functionError) headers['x-amz-function-error'] = 'Unhandled';
    if (logType === 'Tail') headers['x-amz-log-result'] = wire.logTail(log);
    res.writeHead(200, headers);
    res.end(body);
  }

  snapshot() {
    return {
      functionName: this.o.functionName,
      version: this.version,
      isolation: this.isolationNote,
      memoryLimit: this.memory,
      inFlight: this.inFlight,
      environments: [...this.environments].map((e) => ({
        id: e.id,
        pid: e.pid,
        runtimePid: e.runtimePid,
        state: e.state,
        version: e.version,
        invocations: e.invocations,
        retiring: e.retiring,
      })),
      faultsInjected: { ...this.faults.injected, total: this.faults.total() },
      ...this.stats,
    };
  }

  async stop() {
    clearInterval(this.reaper);
    const all = [...this.environments];
    for (const env of all) env.kill('fleet stopped');
    await Promise.all(all.map((e) => e.whenDead()));
    fs.rmSync(this.o.workDir, { recursive: true, force: true });
  }
}

function functionTarget(fleet, encoded, query) {
  // a name, name:qualifier, or an ARN (…:function:name[:qualifier])
  let name = decodeURIComponent(encoded);
  let qualifier = query.get('Qualifier') ?? undefined;
  const arn = /^arn:aws[\w-]*:lambda:[^:]+:\d+:function:([^:]+)(?::(.+))?$/.exec(name);
  if (arn) [, name, qualifier = qualifier] = arn;
  else if (name.includes(':')) [name, qualifier = qualifier] = name.split(':');
  const known =
    name === fleet.o.functionName &&
    (qualifier === undefined ||
      qualifier === '$LATEST' ||
      fleet.o.aliases.includes(qualifier) ||
      (/^\d+$/.test(qualifier) && Number(qualifier) <= fleet.version));
  return { name, qualifier, known };
}

function serve(fleet) {
  return http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      const url = new URL(req.url ?? '/', 'http://fleet');
      try {
        const invoke = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(url.pathname);
        const code = /^\/2015-03-31\/functions\/([^/]+)\/code$/.exec(url.pathname);
        if ((invoke && req.method === 'POST') || (code && req.method === 'PUT')) {
          const target = functionTarget(fleet, (invoke ?? code)[1], url.searchParams);
          if (!target.known) {
            fleet.record('404');
            return wire.apiError(
              res,
              404,
              'ResourceNotFoundException',
              `Function not found: ${fleet.arn.replace(/[^:]+$/, target.name)}${target.qualifier ? `:${target.qualifier}` : ''}`,
            );
          }
          if (invoke) return await fleet.invoke(req, res, target.qualifier, body);
          const zip = Buffer.from(JSON.parse(body.toString('utf8')).ZipFile ?? '', 'base64');
          const files = Object.fromEntries(
            Object.entries(unzipSync(zip))
              .filter(([n]) => !n.endsWith('/'))
              .map(([n, b]) => [n, Buffer.from(b)]),
          );
          const version = fleet.deploy(files);
          return wire.json(
            res,
            200,
            {},
            {
              FunctionName: fleet.o.functionName,
              FunctionArn: fleet.arn,
              Runtime: `nodejs${NODE_MAJOR}.x`,
              Handler: fleet.o.handler,
              CodeSize: zip.length,
              CodeSha256: fleet.codeSha256,
              Version: '$LATEST',
              MemorySize: fleet.o.memoryMb,
              Timeout: fleet.o.timeoutSec,
              State: 'Active',
              LastUpdateStatus: 'Successful',
              RevisionId: String(version),
            },
          );
        }
        if (url.pathname.startsWith('/_fleet/')) return control(fleet, req, res, url.pathname.slice('/_fleet/'.length), body);
        return wire.apiError(res, 404, 'UnknownOperationException', `Unknown operation ${req.method} ${url.pathname}`);
      } catch (error) {
        process.stderr.write(`fleet: ${error.stack}\n`);
        if (!res.headersSent) wire.apiError(res, 500, 'ServiceException', `The fleet failed: ${error.message}`);
      }
      return undefined;
    });
  });
}

async function control(fleet, req, res, op, body) {
  const input = body.length ? JSON.parse(body.toString('utf8')) : {};
  switch (op) {
    case 'stats':
      return wire.json(res, 200, {}, fleet.snapshot());
    case 'log':
      return wire.json(res, 200, {}, fleet.log);
    case 'deploy':
      return wire.json(res, 200, {}, { version: fleet.deploy(input.files) });
    case 'recycle':
      fleet.recycle();
      return wire.json(res, 200, {}, { ok: true });
    case 'faults':
      fleet.faults = new FaultPlan(input);
      return wire.json(res, 200, {}, { ok: true });
    case 'config':
      Object.assign(fleet.o, input);
      return wire.json(res, 200, {}, { ok: true });
    case 'stop':
      await fleet.stop();
      wire.json(res, 200, {}, { ok: true });
      return process.exit(0);
    default:
      return wire.apiError(res, 404, 'UnknownOperationException', `Unknown fleet operation ${op}`);
  }
}

if (require.main === module) {
  const options = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const fleet = new Fleet(options);
  const server = serve(fleet);
  server.keepAliveTimeout = 60_000;
  server.listen(options.port ?? 0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
  const shutdown = () => fleet.stop().finally(() => process.exit(0));
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  // the parent went away (a test killed without cleanup): do not leave environments behind
  process.stdin.on('end', shutdown);
  process.stdin.resume();
}

module.exports = { Fleet, serve };
