/**
 * Starts serverless-offline (through osls) on 127.0.0.1 serving this package's built Lambda handler
 * (dist/handler/index.handler), and stops it with its whole process group.
 */
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');

const READY_TIMEOUT_MS = 60_000;
const SERVICE = 'jrl';
const STAGE = 'test';
const FUNCTION_NAME = `${SERVICE}-${STAGE}-run`;

async function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * `--useInProcess`: the handler must `chdir` into the tree it runs (worker threads cannot), and our
 * handler serializes its invocations, so the emulator behaves as one warm container.
 */
async function startOffline(repo, workDir, serviceDir, environment = {}, processEnv = {}) {
  fs.mkdirSync(serviceDir, { recursive: true });
  fs.symlinkSync(path.join(repo, 'node_modules'), path.join(serviceDir, 'node_modules'));
  fs.symlinkSync(path.join(repo, 'dist'), path.join(serviceDir, 'dist'));
  fs.writeFileSync(
    path.join(serviceDir, 'serverless.yml'),
    [
      `service: ${SERVICE}`,
      'provider:',
      '  name: aws',
      '  runtime: nodejs20.x',
      '  region: us-east-1',
      `  stage: ${STAGE}`,
      '  timeout: 300',
      '  memorySize: 2048',
      '  environment:',
      `    JEST_REMOTE_LAMBDA_WORK_DIR: ${workDir}`,
      ...Object.entries(environment).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`),
      'plugins:',
      '  - serverless-offline',
      'functions:',
      '  run:',
      '    handler: dist/handler/index.handler',
      '',
    ].join('\n'),
  );
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      path.join(repo, 'node_modules/osls/bin/serverless.js'),
      'offline',
      'start',
      '--host',
      '127.0.0.1',
      '--lambdaPort',
      String(port),
      '--noSponsor',
      '--useInProcess',
      '--terminateIdleLambdaTime',
      '3600',
    ],
    {
      cwd: serviceDir,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        AWS_ACCESS_KEY_ID: 'x',
        AWS_SECRET_ACCESS_KEY: 'x',
        AWS_REGION: 'us-east-1',
        SLS_INTERACTIVE_SETUP_ENABLE: '0',
        SLS_DEPRECATION_DISABLE: '*',
        FORCE_COLOR: '0',
        NO_COLOR: '1',
        JEST_WORKER_ID: '',
        // the emulator's own node process (its handler runs in process): e.g. NODE_OPTIONS
        ...processEnv,
      },
    },
  );
  let out = '';
  const ready = new RegExp(`listening on http://127\\.0\\.0\\.1:${port}`);
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serverless-offline was not ready within ${READY_TIMEOUT_MS} ms:\n${out}`)), READY_TIMEOUT_MS);
    const onData = (d) => {
      out = (out + d.toString()).slice(-200_000);
      if (ready.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`serverless-offline exited early (code ${code}, signal ${signal}):\n${out}`));
    });
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    output: () => out,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', () => r()));
      try {
        process.kill(-child.pid, 'SIGINT');
      } catch {
        // already gone
      }
      const kill = setTimeout(() => {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }, 10_000);
      await exited;
      clearTimeout(kill);
    },
  };
}

/** Starts test/support/fault-proxy.js in front of `target` (see there for the fault names). */
async function startFaultProxy(target, script, then = 'pass', logFile, bodiesFile, { faultPings = false } = {}) {
  fs.writeFileSync(logFile, '');
  const args = [path.join(__dirname, 'fault-proxy.js'), target, JSON.stringify({ script, then, faultPings }), logFile, ...(bodiesFile ? [bodiesFile] : [])];
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise((resolve, reject) => {
    child.stdout.once('data', (d) => resolve(Number(d.toString().trim())));
    child.once('exit', (code) => reject(new Error(`fault proxy exited (code ${code})`)));
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    log: () => fs.readFileSync(logFile, 'utf8').split('\n').filter(Boolean),
    stop: () => void child.kill('SIGTERM'),
  };
}

/** s3rver on 127.0.0.1 with the given buckets, its objects kept as files under `directory`. */
async function startS3(directory, buckets) {
  fs.mkdirSync(directory, { recursive: true });
  const child = spawn(process.execPath, [path.join(__dirname, 's3rver.js'), directory, buckets.join(',')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`s3rver was not ready within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
    child.stdout.once('data', (d) => {
      clearTimeout(timer);
      resolve(Number(d.toString().trim()));
    });
    child.once('exit', (code) => reject(new Error(`s3rver exited (code ${code})`)));
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    directory,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

module.exports = { SERVICE, STAGE, FUNCTION_NAME, freePort, startOffline, startFaultProxy, startS3 };

/**
 * s3rver with `bucket` and serverless-offline whose function reads it, and the environment that
 * points a run of our runner at both (through `lambdaEndpoint` instead of the emulator, e.g. a
 * fault proxy, when given later via `env.AWS_ENDPOINT_URL_LAMBDA`).
 */
async function startLambdaStack(repo, work, bucket, processEnv = {}) {
  const s3 = await startS3(path.join(work, 's3'), [bucket]);
  const lambdaTmp = path.join(work, 'lambda-tmp');
  // s3rver accepts only its own fixed credentials; the Lambda emulator accepts any
  const offline = await startOffline(
    repo,
    lambdaTmp,
    path.join(work, 'service'),
    {
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
    },
    processEnv,
  );
  const env = {
    JEST_REMOTE_LAMBDA_BACKEND: 'lambda',
    JEST_REMOTE_LAMBDA_FUNCTION: FUNCTION_NAME,
    JEST_REMOTE_LAMBDA_BUCKET: bucket,
    AWS_ENDPOINT_URL_LAMBDA: offline.endpoint,
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
  };
  return {
    s3,
    offline,
    lambdaTmp,
    env,
    async stop() {
      await offline.stop();
      await s3.stop();
    },
  };
}

module.exports.startLambdaStack = startLambdaStack;

/**
 * The same as startLambdaStack with the local fleet (test/support/fleet) instead of
 * serverless-offline: every environment its own isolated process running the built handler.
 * `offline` is the fleet (it has `endpoint`, `output()` and `stop()` too); `fleet` adds its
 * controls. There is no `lambdaTmp`: each environment's /tmp is private to it.
 */
async function startFleetStack(repo, work, bucket, fleetOptions = {}) {
  const { startFleet } = require('./fleet');
  const s3 = await startS3(path.join(work, 's3'), [bucket]);
  // s3rver accepts only its own fixed credentials: they are the function's role here
  const fleet = await startFleet({
    code: { 'index.js': path.join(repo, 'dist/handler/index.js') },
    functionName: FUNCTION_NAME,
    role: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', sessionToken: 'fleet-session' },
    ...fleetOptions,
    environment: { AWS_ENDPOINT_URL_S3: s3.endpoint, ...fleetOptions.environment },
  });
  const env = {
    ...fleet.env,
    JEST_REMOTE_LAMBDA_BUCKET: bucket,
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
  };
  return {
    s3,
    offline: fleet,
    fleet,
    lambdaTmp: undefined,
    env,
    async stop() {
      await fleet.stop();
      await s3.stop();
    },
  };
}

module.exports.startFleetStack = startFleetStack;
