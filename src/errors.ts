export type ErrorCode = 'OPTIONS' | 'JEST_NOT_FOUND' | 'MIRROR' | 'STORE' | 'DEPLOY' | 'UNSUPPORTED';

/** Expected failures of the runner: printed without our own stack, always with the fix. */
export class RemoteRunnerError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
    // Expected errors read like a message, not a crash: no stack of ours (the cause keeps its own).
    this.stack = `${this.name}: ${message}`;
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
