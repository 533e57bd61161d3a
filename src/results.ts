/**
 * Handler answers -> what Jest's scheduler expects from a runner. The handler already rewrote
 * remote paths to local ones; here the shapes are made exactly those of Jest's own workers.
 */
import type { SerializedError } from './protocol';

export function toTestResult(testPath: string, raw: Record<string, unknown>): Record<string, unknown> {
  // The scheduler matches results to files by path: make it the very string Jest gave us.
  return { ...raw, testFilePath: testPath };
}

/**
 * jest-worker rebuilds a worker's error as an Error carrying the serialized fields; Jest then
 * formats it with formatExecError, so the message and stack read as with the default runner.
 */
export function toJestError(serialized: SerializedError): Error {
  const error = new Error(serialized.message) as Error & { type?: string; code?: unknown };
  error.stack = serialized.stack ?? serialized.message;
  error.type = serialized.type ?? 'Error';
  if (serialized.code !== undefined) error.code = serialized.code;
  return error;
}
