/**
 * One error model for the runner and the handler: every expected failure is a RemoteRunnerError
 * with a `code` and one flag, `retryable` (whether another attempt, perhaps in another container,
 * can succeed). Messages say what happened, with which values, and end with the fix.
 */
export type ErrorCode =
  // set-up of a run: they stop it before any file runs
  | 'OPTIONS'
  | 'JEST_NOT_FOUND'
  | 'MIRROR'
  | 'STORE'
  | 'DEPLOY'
  | 'UNSUPPORTED'
  | 'BACKEND'
  // a command that reads what an earlier run left (estimate)
  | 'ESTIMATE'
  // one file only: it looks like it holds a secret, so it stays here
  | 'HELD_BACK'
  // moving a request and its answer
  | 'TRANSPORT'
  | 'CANCELLED'
  | 'PROTOCOL'
  // the remote side
  | 'MISSING_BLOBS'
  | 'HANDLER';

export interface RemoteRunnerErrorOptions extends ErrorOptions {
  /** Another attempt can succeed (a throttle, a reset connection). @default false */
  retryable?: boolean;
}

/** Expected failures: printed without our own stack, always with the fix. */
export class RemoteRunnerError extends Error {
  readonly retryable: boolean;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options: RemoteRunnerErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.retryable = options.retryable ?? false;
    // Expected errors read like a message, not a crash: no stack of ours (the cause keeps its own).
    this.stack = `${this.name}: ${message}`;
  }
}

/** Codes of errors that stop a whole run while it is being prepared (a file's own trouble does not). */
const STOPS_THE_RUN: ReadonlySet<ErrorCode> = new Set(['OPTIONS', 'JEST_NOT_FOUND', 'MIRROR', 'STORE', 'DEPLOY', 'UNSUPPORTED', 'BACKEND']);

export function stopsTheRun(error: unknown): error is RemoteRunnerError {
  return error instanceof RemoteRunnerError && STOPS_THE_RUN.has(error.code);
}

/**
 * A request or its answer did not make it: says nothing about the test. `scope` says what it is
 * about: this file's request, or the backend as a whole (no such function, no credentials, the
 * network down, throttling that does not end), which no other file can get past either.
 */
export class TransportError extends RemoteRunnerError {
  readonly scope: 'request' | 'backend';

  constructor(message: string, retryable: boolean, options?: ErrorOptions & { scope?: 'request' | 'backend' }) {
    super('TRANSPORT', message, { cause: options?.cause, retryable });
    this.scope = options?.scope ?? 'request';
  }
}

/**
 * The backend cannot be used for this run at all (the function does not answer, or lacks what the
 * suite needs, such as VM modules for native ESM): the `fallback` option decides what happens.
 */
export class UnusableBackendError extends RemoteRunnerError {
  constructor(message: string, options?: ErrorOptions) {
    super('BACKEND', message, options);
  }
}

/** The caller stopped waiting (watch-mode interrupt, Ctrl-C). */
export class CancelledError extends RemoteRunnerError {
  constructor() {
    super('CANCELLED', 'cancelled');
  }
}

/**
 * A message that does not match the protocol's schema. Retryable: a garbled answer is usually the
 * transport's doing, and another attempt is cheap.
 */
export class ProtocolError extends RemoteRunnerError {
  constructor(message: string, options?: ErrorOptions) {
    super('PROTOCOL', message, { ...options, retryable: true });
  }
}

/** The shared store refused access (permissions, a missing bucket): retrying cannot help. */
export class StoreAccessError extends RemoteRunnerError {
  constructor(message: string, options?: ErrorOptions) {
    super('STORE', message, options);
  }
}

/** The handler's content store lacks these blobs: the runner is asked for them. */
export class MissingBlobsError extends RemoteRunnerError {
  /** `fetched`: the blobs are those of packages a file's tests touched (see protocol's FetchedPackagesSchema). */
  constructor(
    readonly missing: string[],
    readonly fetched?: { testPath: string; file: string[]; project: string[] },
  ) {
    super('MISSING_BLOBS', `${missing.length} blob(s) are not in the content store`, { retryable: true });
  }
}

/** The handler cannot run the request (no room in /tmp, another protocol, an answer too large). */
export class HandlerFault extends RemoteRunnerError {
  constructor(message: string, options?: RemoteRunnerErrorOptions) {
    super('HANDLER', message, options);
  }
}

export function describeValue(value: unknown): string {
  const type = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  let shown: string;
  try {
    shown = JSON.stringify(value) ?? String(value);
  } catch {
    shown = String(value);
  }
  if (shown.length > 80) shown = `${shown.slice(0, 77)}...`;
  return `\`${shown}\` (${type})`;
}

/** `estimate` lacks what it reads: the project's test files, or Jest's durations of an earlier run. */
export class EstimateError extends RemoteRunnerError {
  constructor(message: string, options: RemoteRunnerErrorOptions = {}) {
    super('ESTIMATE', message, options);
  }
}
