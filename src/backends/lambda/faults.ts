/**
 * What went wrong with an invocation, in the runner's error model: retryable (throttling, 5xx,
 * resets, timeouts, a crashed function) or final (a missing function, no permission, a request
 * too large), each with what to do.
 */
import { TransportError } from '../../errors';

/** Error names and codes of the SDK and Node's sockets after which another attempt can succeed. */
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

/** Connection errors that mean the endpoint cannot be reached at all (rather than one request lost). */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH']);

/** 429: the account's or the function's concurrency, or the burst rate, is exhausted for now. */
export class ThrottledError extends TransportError {}

/** An error of `InvokeCommand` for `target` ("Lambda function x:live") as a TransportError. */
export function classifyInvokeError(error: unknown, target: string): TransportError {
  const e = error as { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const name = e.name ?? '';
  const status = e.$metadata?.httpStatusCode;
  const message = e.message ?? String(error);
  if (name === 'TooManyRequestsException' || status === 429) {
    return new ThrottledError(`${target} is throttled (429 TooManyRequests): ${message}`, true, { cause: error, scope: 'backend' });
  }
  if (name === 'RequestTooLargeException' || status === 413) {
    return new TransportError(`${target} refused the request as too large (413): ${message}`, false, { cause: error });
  }
  if (name === 'ResourceNotFoundException' || status === 404) {
    return new TransportError(
      `${target} does not exist in this account and region: ${message}\n` +
        'Check the "function" option (JEST_REMOTE_LAMBDA_FUNCTION) and AWS_REGION, or create it with npx jest-runner-remote-lambda deploy.',
      false,
      { cause: error, scope: 'backend' },
    );
  }
  if (name === 'CredentialsProviderError' || name === 'AccessDeniedException' || name === 'UnrecognizedClientException' || status === 403) {
    return new TransportError(
      `Not allowed to invoke ${target}: ${message}\nConfigure AWS credentials with lambda:InvokeFunction on it (npx jest-runner-remote-lambda policy prints the policy).`,
      false,
      { cause: error, scope: 'backend' },
    );
  }
  const retryable =
    RETRYABLE_ERRORS.has(name) ||
    RETRYABLE_ERRORS.has(e.code ?? '') ||
    [...RETRYABLE_ERRORS].some((m) => message.includes(m)) ||
    (status !== undefined && status >= 500);
  // The service failing, or no connection to it at all: no other file will get through either.
  const unreachable = UNREACHABLE.has(e.code ?? '') || [...UNREACHABLE].some((m) => message.includes(m)) || (status !== undefined && status >= 500);
  return new TransportError(`Invoking ${target} failed${status ? ` (HTTP ${status})` : ''}: ${name ? `${name}: ` : ''}${message}`, retryable, {
    cause: error,
    scope: unreachable ? 'backend' : 'request',
  });
}

/** The function itself failed (`FunctionError`: an exception, a crash, a timeout): its type and message. */
export function summarizeFunctionError(body: string): string {
  try {
    const parsed = JSON.parse(body) as { errorType?: string; errorMessage?: string };
    return [parsed.errorType, parsed.errorMessage].filter(Boolean).join(': ') || body.slice(0, 300);
  } catch {
    return body.slice(0, 300);
  }
}
