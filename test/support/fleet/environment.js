/**
 * One execution environment: its own OS process (the runtime in runtime/index.mjs, started in the
 * sandbox of sandbox.js) and the Runtime API it polls, served here on 127.0.0.1. One invocation at a
 * time; the environment is busy from the moment it is handed an event until its runtime asks for
 * the next one. Over its memory limit or past the function's timeout it is killed, as on Lambda.
 */
const { spawn } = require('node:child_process');
const EventEmitter = require('node:events');
const fs = require('node:fs');
const http = require('node:http');
const { sandboxCommand } = require('./sandbox');

const RUNTIME_PATH = '/2018-06-01/runtime';
const PAGE_BYTES = 4096;
const MEMORY_POLL_MS = 50;
/** Most log bytes kept per invocation (the tail is 4 KB; the rest is for debugging the fleet). */
const LOG_KEEP_BYTES = 64 * 1024;

function rssBytes(rootPid) {
  let total = 0;
  const stack = [rootPid];
  while (stack.length) {
    const pid = stack.pop();
    try {
      total += Number(fs.readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * PAGE_BYTES;
      for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
        const children = fs.readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
        if (children) stack.push(...children.split(' ').map(Number));
      }
    } catch {
      // the process ended meanwhile
    }
  }
  return total;
}

/** Whether `pid` is a live process (a zombie, dead but not yet reaped, is not). */
function running(pid) {
  try {
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

class Environment extends EventEmitter {
  /**
   * @param {object} spec id, version, codeDir, skeleton, runtimeDir, nodeBinary, tmpMb, memoryMb,
   *   env (the process environment, without AWS_LAMBDA_RUNTIME_API), nodeArgs, isolated (false: no
   *   namespaces, the runtime runs as a plain child process; only for machines without them)
   */
  constructor(spec) {
    super();
    this.id = spec.id;
    this.version = spec.version;
    this.spec = spec;
    /** 'init' | 'idle' | 'busy' | 'dead' */
    this.state = 'init';
    this.invocations = 0;
    this.lastUsedAt = Date.now();
    this.initDurationMs = undefined;
    this.peakBytes = 0;
    this.exit = undefined;
    this.retiring = false;
    this.#log = '';
  }

  #server;
  #child;
  #runtimePid;
  #waitingNext;
  #current;
  #initError;
  #log;
  #memoryTimer;
  #startedAt;
  #ready;

  /** The process the fleet started (setpriv, then unshare). */
  get pid() {
    return this.#child?.pid;
  }

  /** This machine's pid of the runtime (PID 1 of the environment's namespace). */
  get runtimePid() {
    return this.#runtimePid;
  }

  /** Starts the process; resolves when its runtime first asks for an invocation (init is done). */
  start() {
    this.#ready = new Promise((resolve, reject) => {
      this.once('ready', resolve);
      this.once('init-failed', reject);
    });
    this.#ready.catch(() => undefined);
    this.#server = http.createServer((req, res) => this.#runtimeApi(req, res));
    this.#server.keepAliveTimeout = 0;
    this.#server.listen(0, '127.0.0.1', () => {
      const env = { ...this.spec.env, AWS_LAMBDA_RUNTIME_API: `127.0.0.1:${this.#server.address().port}` };
      const command = [this.spec.runtimeNode, ...this.spec.nodeArgs, `${this.spec.runtimeMount}/index.mjs`];
      const { file, args } = this.spec.isolated
        ? sandboxCommand({ ...this.spec, command })
        : { file: this.spec.nodeBinary, args: [...this.spec.nodeArgs, `${this.spec.runtimeDir}/index.mjs`] };
      this.#startedAt = performance.now();
      this.#child = spawn(file, args, {
        env,
        cwd: this.spec.isolated ? '/' : this.spec.codeDir,
        stdio: ['ignore', 'pipe', 'pipe'],
        argv0: this.spec.isolated ? undefined : this.spec.runtimeNode,
      });
      this.#child.stdout.on('data', (d) => this.#append(d));
      this.#child.stderr.on('data', (d) => this.#append(d));
      this.#child.on('error', (error) => this.#onExit(null, null, error));
      this.#child.on('exit', (code, signal) => this.#onExit(code, signal));
      this.#memoryTimer = setInterval(() => this.#pollMemory(), MEMORY_POLL_MS);
      if (this.killReason) this.kill(this.killReason);
    });
    return this.#ready;
  }

  #append(chunk) {
    this.#log = (this.#log + chunk.toString('utf8')).slice(-LOG_KEEP_BYTES);
  }

  /** The log since the last call (what the current invocation printed). */
  takeLog() {
    const log = this.#log;
    this.#log = '';
    return log;
  }

  #pollMemory() {
    if (!this.#child?.pid || this.state === 'dead') return;
    if (this.#runtimePid === undefined) {
      try {
        const children = fs.readFileSync(`/proc/${this.#child.pid}/task/${this.#child.pid}/children`, 'utf8').trim();
        this.#runtimePid = this.spec.isolated ? Number(children.split(' ')[0]) || undefined : this.#child.pid;
      } catch {
        return;
      }
    }
    const bytes = this.#runtimePid ? rssBytes(this.#runtimePid) : 0;
    if (bytes > this.peakBytes) this.peakBytes = bytes;
    if (this.#current) this.#current.peakBytes = Math.max(this.#current.peakBytes, bytes);
    if (bytes > this.spec.memoryMb * 1024 * 1024 && !this.outOfMemory) {
      this.outOfMemory = true;
      this.kill('out of memory');
    }
  }

  /**
   * Hands `invocation` ({ requestId, payload, deadlineMs, arn, traceId }) to the runtime. Resolves
   * with its outcome: { kind: 'response' | 'error', body } from the runtime, or { kind: 'exit',
   * code, signal, outOfMemory } if the process ended first, or { kind: 'init-error', body }.
   */
  invoke(invocation) {
    if (this.state === 'dead')
      return Promise.resolve({ kind: 'exit', ...this.exit, outOfMemory: this.outOfMemory === true, durationMs: 0, peakBytes: this.peakBytes });
    this.state = 'busy';
    this.answered = false;
    this.invocations++;
    this.lastUsedAt = Date.now();
    return new Promise((resolve) => {
      this.#current = { ...invocation, resolve, peakBytes: 0, startedAt: undefined };
      if (this.#initError) return this.#finish({ kind: 'init-error', body: this.#initError });
      if (this.#waitingNext) this.#deliver();
    });
  }

  /** Milliseconds from handing the event to the runtime to now (the REPORT line's Duration). */
  elapsedMs() {
    return this.#current?.startedAt === undefined ? 0 : performance.now() - this.#current.startedAt;
  }

  #deliver() {
    const res = this.#waitingNext;
    const inv = this.#current;
    this.#waitingNext = undefined;
    inv.startedAt = performance.now();
    res.writeHead(200, {
      'content-type': 'application/json',
      'lambda-runtime-aws-request-id': inv.requestId,
      'lambda-runtime-deadline-ms': String(inv.deadlineMs),
      'lambda-runtime-invoked-function-arn': inv.arn,
      'lambda-runtime-trace-id': inv.traceId,
    });
    res.end(inv.payload);
    this.emit('delivered', inv);
  }

  #finish(outcome) {
    const inv = this.#current;
    if (!inv || inv.done) return;
    inv.done = true;
    if (outcome.kind === 'response' || outcome.kind === 'error') this.answered = true;
    inv.resolve({
      ...outcome,
      durationMs: inv.startedAt === undefined ? 0 : performance.now() - inv.startedAt,
      peakBytes: Math.max(inv.peakBytes, this.peakBytes),
    });
  }

  #runtimeApi(req, res) {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const url = req.url ?? '';
      const reply = (status, payload) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(payload));
      };
      if (req.method === 'GET' && url === `${RUNTIME_PATH}/invocation/next`) {
        this.#waitingNext = res;
        if (this.state === 'init') {
          this.initDurationMs = performance.now() - this.#startedAt;
          this.state = 'idle';
          this.emit('ready');
        } else if (this.state === 'busy' && (!this.#current || this.#current.done)) {
          this.#current = undefined;
          this.state = 'idle';
          this.lastUsedAt = Date.now();
          this.emit('idle');
        } else if (this.#current && !this.#current.done && this.#current.startedAt === undefined) {
          this.#deliver();
        }
        return undefined;
      }
      const m = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(url);
      if (req.method === 'POST' && m) {
        if (!this.#current || this.#current.requestId !== decodeURIComponent(m[1]) || this.#current.done) {
          return reply(400, { errorMessage: 'Invalid request ID', errorType: 'InvalidRequestID' });
        }
        reply(202, { status: 'OK' });
        return this.#finish({ kind: m[2], body, errorType: req.headers['lambda-runtime-function-error-type'] });
      }
      if (req.method === 'POST' && url === `${RUNTIME_PATH}/init/error`) {
        this.#initError = body;
        reply(202, { status: 'OK' });
        if (this.#current) this.#finish({ kind: 'init-error', body });
        this.emit('init-failed', Object.assign(new Error('init error'), { body }));
        return this.kill('init error');
      }
      return reply(404, { errorMessage: `Unknown Runtime API path ${req.method} ${url}`, errorType: 'InvalidRequest' });
    });
  }

  /** Freezes the runtime (SIGSTOP): its answer never comes; the function's timeout ends it. */
  freeze() {
    if (this.#runtimePid) process.kill(this.#runtimePid, 'SIGSTOP');
    else if (this.#child?.pid) process.kill(this.#child.pid, 'SIGSTOP');
  }

  /** Ends the environment now (SIGKILL to the namespace: every process in it ends). */
  kill(reason) {
    this.killReason ??= reason;
    if (this.#runtimePid && this.spec.isolated) {
      try {
        process.kill(this.#runtimePid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    if (this.#child && this.#child.exitCode === null && this.#child.signalCode === null) {
      try {
        this.#child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  }

  #onExit(code, signal, error) {
    if (this.state === 'dead') return;
    const wasInit = this.state === 'init';
    this.state = 'dead';
    this.exit = { code, signal, error: error?.message };
    clearInterval(this.#memoryTimer);
    this.#waitingNext?.destroy();
    this.#server?.close();
    this.#server?.closeAllConnections?.();
    this.#finish({ kind: 'exit', code, signal, outOfMemory: this.outOfMemory === true, reason: this.killReason });
    if (wasInit) this.emit('init-failed', Object.assign(new Error(`environment exited during init (code ${code}, signal ${signal})`), { exit: this.exit }));
    this.emit('dead', this.exit);
  }

  /** Resolves once the process has exited, and the runtime inside it too. */
  async whenDead() {
    if (this.state !== 'dead') await new Promise((r) => this.once('dead', () => r()));
    for (let waited = 0; this.#runtimePid && running(this.#runtimePid) && waited < 5000; waited += 20) await new Promise((r) => setTimeout(r, 20));
  }
}

module.exports = { Environment, running };
