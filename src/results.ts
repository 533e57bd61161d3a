/**
 * Handler answers -> what Jest's scheduler expects from a runner. The handler already rewrote
 * remote paths to local ones; here the shapes are made exactly those of Jest's own workers.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { FileWrite, SerializedError } from './protocol';

export interface ResultContext {
  shipped: (file: string) => boolean;
  /** Where source maps of V8 coverage are written for Jest's coverage reporter to read. */
  mapsDir: string;
}

export function toTestResult(testPath: string, raw: Record<string, unknown>, context: ResultContext): Record<string, unknown> {
  const { shipped } = context;
  // The scheduler matches results to files by path: make it the very string Jest gave us.
  const result: Record<string, any> = { ...raw, testFilePath: testPath };
  if (Array.isArray(result.v8Coverage)) writeV8SourceMaps(result.v8Coverage, context.mapsDir);
  // A file that exists here but was not shipped fails remotely only: say so where it failed.
  if (typeof result.failureMessage === 'string') result.failureMessage = withShippingHint(result.failureMessage, shipped);
  if (Array.isArray(result.testResults)) {
    result.testResults = result.testResults.map((t: Record<string, any>) =>
      Array.isArray(t.failureMessages) ? { ...t, failureMessages: t.failureMessages.map((m: unknown) => (typeof m === 'string' ? withShippingHint(m, shipped) : m)) } : t,
    );
  }
  return result;
}

function writeV8SourceMaps(entries: Array<Record<string, any>>, mapsDir: string): void {
  for (const entry of entries) {
    const transform = entry?.codeTransformResult;
    if (!transform || typeof transform.sourceMapContent !== 'string') continue;
    const content: string = transform.sourceMapContent;
    const file = path.join(mapsDir, `${crypto.createHash('sha256').update(content).digest('hex')}.map`);
    if (!fs.existsSync(file)) {
      fs.mkdirSync(mapsDir, { recursive: true });
      fs.writeFileSync(file, content);
    }
    transform.sourceMapPath = file;
    delete transform.sourceMapContent;
  }
}

const ENOENT = /ENOENT: no such file or directory, \w+ '([^']+)'/g;

export function withShippingHint(message: string, shipped: (file: string) => boolean): string {
  const missing = new Set<string>();
  for (const match of message.matchAll(ENOENT)) {
    const file = match[1]!;
    if (path.isAbsolute(file) && fs.existsSync(file) && !shipped(file)) missing.add(file);
  }
  if (missing.size === 0) return message;
  const list = [...missing].map((f) => `  ${f}`).join('\n');
  return (
    `${message}\n\njest-runner-remote-lambda: this file exists on this machine but was not shipped with the test:\n${list}\n` +
    'Add it (or its folder) to the "include" option, e.g. runner options { include: ["../shared"] } or JEST_REMOTE_LAMBDA_INCLUDE=../shared.'
  );
}

/**
 * jest-worker rebuilds a worker's error as an Error carrying the serialized fields; Jest then
 * formats it with formatExecError, so the message and stack read as with the default runner.
 */
export function toJestError(serialized: SerializedError): Error {
  const error = new Error(serialized.message) as Error & { type?: string; code?: unknown };
  // Without a stack of its own, Jest's formatExecError prints the message once, as it should.
  error.stack = serialized.stack ?? '';
  error.type = serialized.type ?? 'Error';
  if (serialized.code !== undefined) error.code = serialized.code;
  return error;
}

/**
 * Applies the snapshot files (and inline-snapshot rewrites of test files) a run produced, so
 * `npx jest` and `npx jest -u` leave the checkout as Jest's default runner would. Only paths inside
 * the project's roots are accepted.
 */
export function applyWrites(writes: FileWrite[], roots: string[]): void {
  for (const write of writes) {
    const target = path.resolve(write.path);
    if (!roots.some((root) => target.startsWith(path.resolve(root) + path.sep))) {
      throw new Error(`Refusing to write ${target}: it is outside the project's roots (${roots.join(', ')}).`);
    }
    if (write.content === null) {
      fs.rmSync(target, { force: true });
      continue;
    }
    fs.mkdirSync(path.dirname(target), { recursive: true });
    const tmp = `${target}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, Buffer.from(write.content, 'base64'));
    fs.renameSync(tmp, target);
  }
}
