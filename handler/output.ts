/**
 * What the remote process writes to stdout and stderr outside the tests' buffered console (a
 * transformer's warning, Jest's verbose in-band console), captured so the runner can print it where
 * a Jest worker's output would appear.
 */
import type { ProcessOutput } from '../src/protocol';

/** Most bytes of stdout or stderr an answer carries back (the rest is still in the function's log). */
const OUTPUT_LIMIT_BYTES = 256 * 1024;

/**
 * Records what is written to stdout and stderr while a request runs (still passing it on to the
 * function's log), so the runner can print it where Jest's own workers' output would appear.
 */
export function captureOutput(): { stop(): void; output(): ProcessOutput | undefined } {
  const chunks = { stdout: [] as string[], stderr: [] as string[] };
  const sizes = { stdout: 0, stderr: 0 };
  const originals = { stdout: process.stdout.write, stderr: process.stderr.write };
  for (const name of ['stdout', 'stderr'] as const) {
    const stream = process[name];
    const original = originals[name];
    stream.write = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]) {
      const text = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : String(chunk);
      if (sizes[name] < OUTPUT_LIMIT_BYTES) {
        chunks[name].push(text.slice(0, OUTPUT_LIMIT_BYTES - sizes[name]));
        sizes[name] += text.length;
      }
      return (original as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
    } as typeof stream.write;
  }
  return {
    stop() {
      process.stdout.write = originals.stdout;
      process.stderr.write = originals.stderr;
    },
    output() {
      if (sizes.stdout === 0 && sizes.stderr === 0) return undefined;
      return { stdout: chunks.stdout.join(''), stderr: chunks.stderr.join('') };
    },
  };
}
