/**
 * What Lambda's Invoke API puts on the wire, in one place: error bodies and headers the AWS SDK
 * classifies (restJson1: the error code from `x-amzn-ErrorType`, the message from the body), the
 * payloads of function errors, and the log tail with its REPORT line.
 *
 * Sources: the Lambda API reference (Invoke: errors and their HTTP codes, the X-Amz-* headers,
 * TooManyRequestsException's `Reason` values and Retry-After), the Lambda developer guide
 * (troubleshooting invocation: Runtime.ExitError "RequestId: … Error: Runtime exited with error:
 * exit status 129", Sandbox.Timedout "Task timed out after N.NN seconds"; monitoring: the REPORT
 * line's fields), and Lambda's 2025 change to bill the INIT phase of on-demand functions (so Billed
 * Duration includes Init Duration).
 */

/** Lambda's synchronous invocation payload limits (API reference, Invoke). */
const REQUEST_LIMIT_BYTES = 6_291_456;
const RESPONSE_LIMIT_BYTES = 6_291_556;
/** LogType Tail returns the last 4 KB of the execution log. */
const LOG_TAIL_BYTES = 4096;

function json(res, status, headers, body) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** An error of the Invoke API itself (not of the function): the SDK throws it as `code`. */
function apiError(res, status, code, message, extra = {}, headers = {}) {
  json(res, status, { 'x-amzn-errortype': code, ...headers }, { Type: status >= 500 ? 'Service' : 'User', message, ...extra });
}

/** 429: beyond the function's concurrency, or new environments beyond the scaling rate. */
function throttle(res, reason, retryAfterSeconds = 1) {
  apiError(res, 429, 'TooManyRequestsException', 'Rate Exceeded.', { Reason: reason }, { 'retry-after': String(retryAfterSeconds) });
}

/** Go's names for the signals that end a runtime (Lambda's messages come from Go's os.ProcessState). */
const SIGNAL_NAMES = {
  SIGKILL: 'killed',
  SIGABRT: 'aborted',
  SIGSEGV: 'segmentation fault',
  SIGTERM: 'terminated',
  SIGBUS: 'bus error',
  SIGILL: 'illegal instruction',
  SIGINT: 'interrupt',
};

/** The payload of an invocation whose runtime exited (process.exit, a crash, a kill). */
function exitPayload(requestId, code, signal, errorType = 'Runtime.ExitError') {
  const reason = signal
    ? `Runtime exited with error: signal: ${SIGNAL_NAMES[signal] ?? signal}`
    : code === 0
      ? 'Runtime exited without providing a reason'
      : `Runtime exited with error: exit status ${code}`;
  return { errorType, errorMessage: `RequestId: ${requestId} Error: ${reason}` };
}

function timeoutPayload(requestId, timeoutSeconds) {
  return { errorType: 'Sandbox.Timedout', errorMessage: `RequestId: ${requestId} Error: Task timed out after ${timeoutSeconds.toFixed(2)} seconds` };
}

/** The REPORT line, as CloudWatch Logs shows it (tab-separated, trailing tab). */
function reportLine({ requestId, durationMs, memoryMb, maxMemoryMb, initDurationMs, status }) {
  const billed = Math.ceil(durationMs + (initDurationMs ?? 0));
  const parts = [
    `REPORT RequestId: ${requestId}`,
    `Duration: ${durationMs.toFixed(2)} ms`,
    `Billed Duration: ${billed} ms`,
    `Memory Size: ${memoryMb} MB`,
    `Max Memory Used: ${Math.max(1, Math.round(maxMemoryMb))} MB`,
  ];
  if (initDurationMs !== undefined) parts.push(`Init Duration: ${initDurationMs.toFixed(2)} ms`);
  if (status) parts.push(`Status: ${status}`);
  return `${parts.join('\t')}\t`;
}

/** The `X-Amz-Log-Result` header: the log's last 4 KB, base64. */
function logTail(text) {
  const bytes = Buffer.from(text, 'utf8');
  return bytes.subarray(Math.max(0, bytes.length - LOG_TAIL_BYTES)).toString('base64');
}

module.exports = { REQUEST_LIMIT_BYTES, RESPONSE_LIMIT_BYTES, LOG_TAIL_BYTES, json, apiError, throttle, exitPayload, timeoutPayload, reportLine, logTail };
