/**
 * Handler answers -> what Jest's scheduler expects from a runner. The handler already rewrote
 * remote paths to local ones; here the shapes are made exactly those of Jest's own workers.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { SerializableError } from '@jest/test-result';
import type { SerializedError } from '../protocol';
import { sha256 } from '../ship/sha256';

export interface ResultContext {
  shipped: (file: string) => boolean;
  /** Why a local file was held back (it looks like a secret), if it was. */
  heldBack?: (file: string) => string | undefined;
  /** Where source maps of V8 coverage are written for Jest's coverage reporter to read. */
  mapsDir: string;
}

export function toTestResult(testPath: string, raw: Record<string, unknown>, context: ResultContext): Record<string, unknown> {
  const hint = (m: string) => withShippingHint(m, context.shipped, context.heldBack);
  // The scheduler matches results to files by path: make it the very string Jest gave us.
  const result: Record<string, unknown> = { ...raw, testFilePath: testPath };
  if (Array.isArray(result.v8Coverage)) writeV8SourceMaps(result.v8Coverage as V8CoverageEntry[], context.mapsDir);
  // A file that exists here but was not shipped fails remotely only: say so where it failed.
  if (typeof result.failureMessage === 'string') result.failureMessage = hint(result.failureMessage);
  if (Array.isArray(result.testResults)) {
    result.testResults = (result.testResults as Array<Record<string, unknown>>).map((t) =>
      Array.isArray(t.failureMessages) ? { ...t, failureMessages: t.failureMessages.map((m: unknown) => (typeof m === 'string' ? hint(m) : m)) } : t,
    );
  }
  return result;
}

/** An entry of a V8 coverage result as the handler sends it (see handler/session.ts). */
type V8CoverageEntry = { codeTransformResult?: { sourceMapContent?: unknown; sourceMapPath?: string } } | null;

function writeV8SourceMaps(entries: V8CoverageEntry[], mapsDir: string): void {
  for (const entry of entries) {
    const transform = entry?.codeTransformResult;
    if (!transform || typeof transform.sourceMapContent !== 'string') continue;
    const content: string = transform.sourceMapContent;
    const file = path.join(mapsDir, `${sha256(content)}.map`);
    if (!fs.existsSync(file)) {
      fs.mkdirSync(mapsDir, { recursive: true });
      fs.writeFileSync(file, content);
    }
    transform.sourceMapPath = file;
    delete transform.sourceMapContent;
  }
}

const ENOENT = /ENOENT: no such file or directory, \w+ '([^']+)'/g;

export function withShippingHint(
  message: string,
  shipped: (file: string) => boolean,
  heldBack: (file: string) => string | undefined = () => undefined,
): string {
  const missing = new Set<string>();
  const held = new Map<string, string>();
  for (const match of message.matchAll(ENOENT)) {
    const file = match[1]!;
    if (!path.isAbsolute(file) || !fs.existsSync(file) || shipped(file)) continue;
    const why = heldBack(file);
    if (why === undefined) missing.add(file);
    else held.set(file, why);
  }
  let out = message;
  if (missing.size > 0) {
    const list = [...missing].map((f) => `  ${f}`).join('\n');
    out +=
      `\n\njest-runner-remote-lambda: this file exists on this machine but was not shipped with the test:\n${list}\n` +
      'Add it (or its folder) to the "include" option, e.g. runner options { include: ["../shared"] } or JEST_REMOTE_LAMBDA_INCLUDE=../shared.';
  }
  if (held.size > 0) {
    const list = [...held].map(([f, why]) => `  ${f} (${why})`).join('\n');
    const example = path.basename([...held.keys()][0]!);
    out +=
      `\n\njest-runner-remote-lambda: this file was held back on this machine because it looks like a secret:\n${list}\n` +
      `If the test needs it remotely, list it in the "include" option, e.g. JEST_REMOTE_LAMBDA_INCLUDE=${example} (paths relative to rootDir).`;
  }
  return out;
}

/**
 * jest-worker rebuilds a worker's error as an Error carrying the serialized fields; Jest then
 * formats it with formatExecError, so the message and stack read as with the default runner.
 */
export function toJestError(serialized: SerializedError): Error & SerializableError {
  const error = new Error(serialized.message) as Error & SerializableError;
  // Without a stack of its own, Jest's formatExecError prints the message once, as it should.
  error.stack = serialized.stack ?? '';
  error.type = serialized.type ?? 'Error';
  if (serialized.code !== undefined) error.code = serialized.code;
  return error;
}
