/**
 * The Node.js runtime of one execution environment, written here from Lambda's documented Runtime
 * API (what /var/runtime/index.mjs does on Lambda's nodejs runtimes): load the handler named by
 * _HANDLER from LAMBDA_TASK_ROOT, then forever take the next invocation from
 * AWS_LAMBDA_RUNTIME_API, call the handler and post its result or error.
 *
 *   GET  /2018-06-01/runtime/invocation/next           -> the event; its id and deadline in headers
 *   POST /2018-06-01/runtime/invocation/{id}/response  <- the result, JSON
 *   POST /2018-06-01/runtime/invocation/{id}/error     <- { errorType, errorMessage, trace }
 *   POST /2018-06-01/runtime/init/error                <- the same, when the handler cannot load
 *
 * Console output is written as Lambda's Node runtime writes it (timestamp, request id, level).
 * Only Node's built-ins are used: nothing else exists in the environment.
 */
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import util from 'node:util';

const API = process.env.AWS_LAMBDA_RUNTIME_API;
const BASE = '/2018-06-01/runtime';
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function call(method, route, body, headers = {}) {
  const [host, port] = API.split(':');
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port: Number(port), method, path: `${BASE}${route}`, agent, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const post = (route, json, headers = {}) => call('POST', route, JSON.stringify(json), { 'content-type': 'application/json', ...headers });

function errorPayload(error) {
  const e = error instanceof Error ? error : new Error(typeof error === 'string' ? error : util.inspect(error));
  return { errorType: e.name ?? 'Error', errorMessage: e.message ?? '', trace: String(e.stack ?? '').split('\n') };
}

let requestId;
for (const [level, method] of [
  ['INFO', 'log'],
  ['INFO', 'info'],
  ['WARN', 'warn'],
  ['ERROR', 'error'],
  ['DEBUG', 'debug'],
  ['TRACE', 'trace'],
]) {
  console[method] = (...args) => {
    const message = util.format(...args).replace(/\n/g, '\r');
    process.stdout.write(`${new Date().toISOString()}\t${requestId ?? 'undefined'}\t${level}\t${message}\n`);
  };
}

async function loadHandler() {
  const [moduleName, exportName] = (() => {
    const spec = process.env._HANDLER ?? '';
    const dot = spec.lastIndexOf('.');
    return [spec.slice(0, dot), spec.slice(dot + 1)];
  })();
  const root = process.env.LAMBDA_TASK_ROOT ?? '/var/task';
  const base = path.resolve(root, moduleName);
  let mod;
  const require = createRequire(import.meta.url);
  for (const ext of ['.js', '.mjs', '.cjs']) {
    const file = base + ext;
    try {
      mod = ext === '.mjs' ? await import(pathToFileURL(file).href) : require(file);
      break;
    } catch (error) {
      if (error?.code === 'MODULE_NOT_FOUND' && String(error.message).includes(file)) continue;
      if (error?.code === 'ERR_MODULE_NOT_FOUND') continue;
      if (error?.code === 'ERR_REQUIRE_ESM') {
        mod = await import(pathToFileURL(file).href);
        break;
      }
      if (error instanceof SyntaxError) error.name = 'Runtime.UserCodeSyntaxError';
      throw error;
    }
  }
  if (!mod) {
    const error = new Error(`Cannot find module '${moduleName}'`);
    error.name = 'Runtime.ImportModuleError';
    throw error;
  }
  const fn = mod[exportName] ?? mod.default?.[exportName];
  if (typeof fn !== 'function') {
    const error = new Error(`${moduleName}.${exportName} is undefined or not exported`);
    error.name = 'Runtime.HandlerNotFound';
    throw error;
  }
  return fn;
}

function contextFor(headers) {
  const deadline = Number(headers['lambda-runtime-deadline-ms']);
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    invokedFunctionArn: headers['lambda-runtime-invoked-function-arn'],
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: headers['lambda-runtime-aws-request-id'],
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}

function run(handler, event, context) {
  return new Promise((resolve, reject) => {
    const callback = (error, result) => (error ? reject(error) : resolve(result));
    try {
      const returned = handler(event, context, callback);
      if (returned && typeof returned.then === 'function') returned.then(resolve, reject);
      else if (handler.length < 3) resolve(returned);
    } catch (error) {
      reject(error);
    }
  });
}

// An error nobody caught ends the environment, as on Lambda: the invocation gets the error first.
async function fatal(error, type) {
  const payload = errorPayload(error);
  if (type) payload.errorType = type;
  process.stderr.write(`${new Date().toISOString()}\t${requestId ?? 'undefined'}\tERROR\t${payload.errorType}: ${payload.errorMessage}\n`);
  try {
    if (requestId) await post(`/invocation/${requestId}/error`, payload, { 'lambda-runtime-function-error-type': payload.errorType });
  } finally {
    process.exit(129);
  }
}
process.on('uncaughtException', (error) => void fatal(error));
process.on('unhandledRejection', (reason) => void fatal(reason, 'Runtime.UnhandledPromiseRejection'));

let handler;
try {
  handler = await loadHandler();
} catch (error) {
  const payload = errorPayload(error);
  await post('/init/error', payload, { 'lambda-runtime-function-error-type': payload.errorType });
  process.exit(1);
}

for (;;) {
  const next = await call('GET', '/invocation/next');
  if (next.status !== 200) throw new Error(`Runtime API answered ${next.status} to next`);
  requestId = next.headers['lambda-runtime-aws-request-id'];
  process.env._X_AMZN_TRACE_ID = next.headers['lambda-runtime-trace-id'] ?? '';
  let event;
  try {
    event = JSON.parse(next.body.toString('utf8'));
  } catch (error) {
    await post(`/invocation/${requestId}/error`, errorPayload(error), { 'lambda-runtime-function-error-type': 'Runtime.UnmarshalError' });
    continue;
  }
  try {
    const result = await run(handler, event, contextFor(next.headers));
    await call('POST', `/invocation/${requestId}/response`, JSON.stringify(result === undefined ? null : result), { 'content-type': 'application/json' });
  } catch (error) {
    const payload = errorPayload(error);
    await post(`/invocation/${requestId}/error`, payload, { 'lambda-runtime-function-error-type': payload.errorType });
  }
}
