/**
 * The one line a run on Lambda ends with: files, invocations, retries, bytes shipped (new vs
 * already there), billed compute and its estimated price, and a warning when the function's Node
 * major differs from this machine's (built-in error messages end up in assertions and snapshots).
 */
import type { InvocationStats } from './backends/lambda';
import type { Host } from './protocol';
import type { ShipStats } from './ship';

/**
 * Public Lambda prices (us-east-1, first duration tier), USD: per GB-second by architecture and per
 * request. https://aws.amazon.com/lambda/pricing/ (checked 2026-11). Other regions differ a little.
 */
export const LAMBDA_PRICES = {
  x86_64: 0.0000166667,
  arm64: 0.0000133334,
  perRequest: 0.2 / 1_000_000,
} as const;

export interface RunFigures {
  files: number;
  retries: number;
  shipped: ShipStats;
  stats: InvocationStats;
  hosts: Host[];
  /** Whether blobs go through a bucket (else inline). */
  bucket?: string;
}

export function estimateUsd(stats: Pick<InvocationStats, 'billedMbMs' | 'invocations'>, arch: string): number {
  const gbSeconds = stats.billedMbMs / 1024 / 1000;
  const perGbSecond = arch === 'arm64' ? LAMBDA_PRICES.arm64 : LAMBDA_PRICES.x86_64;
  return gbSeconds * perGbSecond + stats.invocations * LAMBDA_PRICES.perRequest;
}

export function lambdaSummary(f: RunFigures, localNode = process.version): string {
  const { stats, shipped } = f;
  const host = f.hosts[0];
  const arch = host?.arch === 'arm64' ? 'arm64' : 'x86_64';
  const where = host ? ` (Node ${host.node}, ${arch}${host.memoryMb ? `, ${host.memoryMb} MB` : ''})` : '';
  const shippedText = f.bucket
    ? `uploaded ${mb(shipped.newBytes)} compressed (${shipped.newBlobs} pack${shipped.newBlobs === 1 ? '' : 's'}), ${shipped.cachedBlobs} pack${shipped.cachedBlobs === 1 ? '' : 's'} already in s3://${f.bucket}` +
      (stats.uploadedPacks > shipped.newBlobs ? `, ${stats.uploadedPacks - shipped.newBlobs} re-uploaded` : '')
    : `${mb(stats.inlineBlobBytes)} inline`;
  const billed =
    stats.billedMs > 0
      ? `billed ${(stats.billedMbMs / 1024 / 1000).toFixed(2)} GB-s ≈ $${estimateUsd(stats, arch).toFixed(4)}`
      : 'billed time unknown (no REPORT line in the log tail)';
  const lines = [
    `remote-lambda: ${f.files} file(s) on Lambda${where}, ${stats.invocations} invocation(s), ${f.retries} retr${f.retries === 1 ? 'y' : 'ies'} ` +
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

/** On a terminal, after a run on the embedded backend. */
export function localSummary(f: { files: number; retries: number; shipped: ShipStats; workers: number; isolate: boolean }): string {
  const where = f.workers > 0 ? `${f.workers} worker${f.workers === 1 ? '' : 's'}` : 'in band';
  const head = `remote-lambda: ${f.files} file(s) on the local backend (${where}, ${f.isolate ? 'isolated' : 'in place'}), ${f.retries} retr${f.retries === 1 ? 'y' : 'ies'}`;
  if (!f.isolate) return head;
  return `${head}; stored ${mb(f.shipped.newBytes)} new (${f.shipped.newBlobs} file${f.shipped.newBlobs === 1 ? '' : 's'}), ${mb(f.shipped.cachedBytes)} unchanged`;
}

/** Counters of `now` minus those of `before` (a backend kept across watch-mode runs). */
export function statsSince(now: InvocationStats, before: InvocationStats): InvocationStats {
  const out = { ...now };
  for (const key of Object.keys(now) as Array<keyof InvocationStats>) {
    if (typeof now[key] === 'number' && typeof before[key] === 'number' && key !== 'memoryMb') (out[key] as number) = (now[key] as number) - (before[key] as number);
  }
  return out;
}

const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
