/**
 * A local Lambda fleet for tests and benchmarks: starts server.js (the Invoke API in front of
 * execution environments, each an isolated OS process running the deployed handler) on 127.0.0.1
 * and returns a handle to drive and stop it. See server.js for what it emulates.
 *
 *   const fleet = await startFleet({ code: { 'index.js': 'dist/handler/index.js' }, concurrency: 8 });
 *   // AWS_ENDPOINT_URL_LAMBDA=fleet.endpoint, function fleet.functionName
 *   await fleet.stop();
 */
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { namespaceSupport } = require('./sandbox');

const READY_TIMEOUT_MS = 30_000;

async function startFleet(options = {}) {
  const workDir = options.workDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'jrl-fleet-'));
  const optionsFile = path.join(os.tmpdir(), `jrl-fleet-options-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}.json`);
  fs.writeFileSync(optionsFile, JSON.stringify({ ...options, workDir }));
  const child = spawn(process.execPath, [path.join(__dirname, 'server.js'), optionsFile], { stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stderr.on('data', (d) => (output = (output + d.toString()).slice(-100_000)));
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`The fleet did not start within ${READY_TIMEOUT_MS} ms:\n${output}`)), READY_TIMEOUT_MS);
    child.stdout.once('data', (d) => {
      clearTimeout(timer);
      resolve(Number(d.toString().trim()));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`The fleet exited at start (code ${code}, signal ${signal}):\n${output}`));
    });
  }).finally(() => fs.rmSync(optionsFile, { force: true }));
  const endpoint = `http://127.0.0.1:${port}`;
  let exited;
  child.once('exit', (code, signal) => (exited = { code, signal }));
  // A new connection per call: callers block their event loop for minutes (spawnSync of Jest), and a
  // kept-alive socket the fleet closed meanwhile would fail the next call with EPIPE.
  const control = (op, body) =>
    new Promise((resolve, reject) => {
      const req = http.request(`${endpoint}/_fleet/${op}`, { method: body === undefined ? 'GET' : 'POST', agent: false }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 200) reject(new Error(`fleet ${op}: ${res.statusCode} ${text}`));
          else resolve(JSON.parse(text));
        });
      });
      req.on('error', (error) => {
        reject(
          new Error(
            `fleet ${op}: ${error.message}; the fleet ${exited ? `exited (code ${exited.code}, signal ${exited.signal})` : 'is running'}:\n${output.slice(-4000)}`,
          ),
        );
      });
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
  const functionName = options.functionName ?? 'jrl-test-run';
  return {
    endpoint,
    functionName,
    workDir,
    pid: child.pid,
    /** The environment a run of our runner needs to use this fleet as its Lambda. */
    env: {
      JEST_REMOTE_LAMBDA_BACKEND: 'lambda',
      JEST_REMOTE_LAMBDA_FUNCTION: functionName,
      AWS_ENDPOINT_URL_LAMBDA: endpoint,
      AWS_REGION: options.region ?? 'us-east-1',
      AWS_ACCESS_KEY_ID: 'x',
      AWS_SECRET_ACCESS_KEY: 'x',
    },
    output: () => output,
    stats: () => control('stats'),
    /** One line per invocation: cold|warm env=<id> <outcome>[:<handler status>] [fault=<kind>], or the 429/404 it got. */
    log: () => control('log'),
    deploy: (files) => control('deploy', { files }),
    recycle: () => control('recycle', {}),
    setFaults: (plan) => control('faults', plan),
    configure: (o) => control('config', o),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(kill);
    },
  };
}

/** Why environments cannot be isolated here (undefined when they can): for tests that skip. */
function isolationUnavailable() {
  const support = namespaceSupport();
  return support.ok ? undefined : support.reason;
}

module.exports = { startFleet, isolationUnavailable };
