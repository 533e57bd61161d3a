/** Retrying infrastructure faults: how long to wait, and what to report when every attempt failed. */
import { RemoteRunnerError } from '../errors';
import type { SerializedError } from '../protocol';

const BACKOFF_BASE_MS = 200;
const BACKOFF_CAP_MS = 5_000;

/** "Full jitter" exponential backoff. */
export function jitteredBackoff(attempt: number): number {
  return Math.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt);
}

/** The one failed result of a file no attempt could get an answer for. */
export function infrastructureFailure(error: Error | undefined, retries: number): SerializedError {
  const message = error?.message ?? 'unknown error';
  const retried = error instanceof RemoteRunnerError && error.retryable ? ` after ${retries + 1} attempt(s)` : '';
  return {
    message:
      `jest-runner-remote-lambda could not get a result for this file${retried}: ${message}\n` +
      'This is a fault of the runner or its backend, not of your test. Re-run the file; if it persists, ' +
      'run it with the default runner (npx jest --runner=jest-runner <file>) and report the output above.',
    type: 'Error',
  };
}
