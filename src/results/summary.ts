/**
 * The one line a run on Lambda ends with: files, invocations, retries, bytes shipped (new vs
 * already there), billed compute and its estimated price, and a warning when the function's Node
 * major differs from this machine's (built-in error messages end up in assertions and snapshots).
 */
import path from 'node:path';
import { estimateUsd, type InvocationStats } from '../backends/lambda/billing';
import type { HeldBack } from '../mirror/hold-back';
import type { Host } from '../protocol';
import type { ShipStats } from '../ship/blob-store';
import type { DeliveryStats } from '../ship/delivery';
import { mb } from '../ship/sizes';

export interface RunFigures {
  files: number;
  retries: number;
  shipped: ShipStats;
  stats: InvocationStats;
  delivery: DeliveryStats;
  hosts: Host[];
  /** Whether blobs go through a bucket (else inline). */
  bucket?: string;
}

export function lambdaSummary(f: RunFigures, localNode = process.version): string {
  const { stats, shipped, delivery } = f;
  const host = f.hosts[0];
  const arch = host?.arch === 'arm64' ? 'arm64' : 'x86_64';
  const where = host ? ` (Node ${host.node}, ${arch}${host.memoryMb ? `, ${host.memoryMb} MB` : ''})` : '';
  const shippedText = f.bucket
    ? `uploaded ${mb(shipped.newBytes)} compressed (${shipped.newBlobs} pack${shipped.newBlobs === 1 ? '' : 's'}), ${shipped.cachedBlobs} pack${shipped.cachedBlobs === 1 ? '' : 's'} already in s3://${f.bucket}` +
      (delivery.uploadedPacks > shipped.newBlobs ? `, ${delivery.uploadedPacks - shipped.newBlobs} re-uploaded` : '')
    : `${mb(delivery.inlineBytes)} inline`;
  const billed =
    stats.billedMs > 0
      ? `billed ${(stats.billedMbMs / 1024 / 1000).toFixed(2)} GB-s ≈ $${estimateUsd(stats, arch).toFixed(4)}`
      : 'billed time unknown (no REPORT line in the log tail)';
  const lines = [
    `remote-lambda: ${f.files} file(s) on Lambda${where}, ${stats.invocations} invocation(s)${besides(stats)}, ${f.retries} retr${f.retries === 1 ? 'y' : 'ies'} ` +
      `(${stats.throttles} throttled); shipped ${shippedText}; ${billed}`,
  ];
  const major = (v: string) => v.replace(/^v/, '').split('.')[0];
  const remoteMajors = [...new Set(f.hosts.map((h) => major(h.node)))];
  const mismatched = remoteMajors.filter((m) => m !== major(localNode));
  if (mismatched.length > 0) {
    lines.push(
      `remote-lambda: warning: the function runs Node ${mismatched.map((m) => `v${m}`).join(', ')}, this machine ${localNode}; ` +
        'built-in error messages (JSON.parse, fs) may differ in assertions and snapshots. Deploy with a matching runtime where Lambda offers one.',
    );
  }
  return lines.join('\n');
}

/** " (+1 ping, +4 warm-ups)": invocations that ran no file. */
function besides(stats: InvocationStats): string {
  const parts = [stats.pings ? `+${stats.pings} ping` : '', stats.warmUps ? `+${stats.warmUps} warm-up${stats.warmUps === 1 ? '' : 's'}` : ''].filter(Boolean);
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}

/** On a terminal, after a run on the embedded backend. */
export function localSummary(f: { files: number; retries: number; shipped: ShipStats; workers: number; isolate: boolean }): string {
  const where = f.workers > 0 ? `${f.workers} worker${f.workers === 1 ? '' : 's'}` : 'in band';
  const head = `remote-lambda: ${f.files} file(s) on the local backend (${where}, ${f.isolate ? 'isolated' : 'in place'}), ${f.retries} retr${f.retries === 1 ? 'y' : 'ies'}`;
  if (!f.isolate) return head;
  return `${head}; stored ${mb(f.shipped.newBytes)} new (${f.shipped.newBlobs} file${f.shipped.newBlobs === 1 ? '' : 's'}), ${mb(f.shipped.cachedBytes)} unchanged`;
}

/** Counters of `now` minus those of `before` (a backend kept across watch-mode runs); `memoryMb` is a setting, not a counter. */
export function statsSince<T extends object>(now: T, before: T): T {
  const out = { ...now } as Record<string, unknown>;
  for (const [key, value] of Object.entries(now)) {
    const earlier = (before as Record<string, unknown>)[key];
    if (typeof value === 'number' && typeof earlier === 'number' && key !== 'memoryMb') out[key] = value - earlier;
  }
  return out as T;
}

/**
 * "remote-lambda: 3 file(s) held back on this machine …": files that look like secrets, named with
 * why (masked), and how to ship one a test needs.
 */
export function heldBackLine(held: HeldBack[], rootDir = process.cwd()): string {
  const shown = held.slice(0, 5).map((h) => `${path.relative(rootDir, h.file).split(path.sep).join('/')} (${h.reason})`);
  const more = held.length > shown.length ? `, and ${held.length - shown.length} more` : '';
  const relative = held.map((h) => path.relative(rootDir, h.file).split(path.sep).join('/'));
  const example = relative.find((r) => !r.startsWith('../')) ?? relative[0]!;
  return (
    `remote-lambda: ${held.length} file(s) held back on this machine because they look like secrets: ${shown.join(', ')}${more}. ` +
    `To ship one a test needs, list it in "include" (e.g. JEST_REMOTE_LAMBDA_INCLUDE=${example}); npx jest-runner-remote-lambda ls shows what travels.`
  );
}

/**
 * "remote-lambda: flaky: a.test.js (passed on attempt 2); failed on every attempt: b.test.js (3 attempts)."
 * (rerunFailures: files that ran again, by how their last attempt ended)
 */
export function rerunLine(files: Array<{ testPath: string; attempts: number; passed: boolean }>): string {
  const flaky = files.filter((f) => f.passed).map((f) => `${f.testPath} (passed on attempt ${f.attempts})`);
  const failing = files.filter((f) => !f.passed).map((f) => `${f.testPath} (${f.attempts} attempts)`);
  const parts = [...(flaky.length ? [`flaky: ${flaky.join(', ')}`] : []), ...(failing.length ? [`failed on every attempt: ${failing.join(', ')}`] : [])];
  return `remote-lambda: ${parts.join('; ')}.`;
}
