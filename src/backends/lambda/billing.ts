/**
 * What Lambda bills: each invocation's REPORT line (in the log tail of `LogType: Tail`) gives its
 * billed duration and the function's memory size; public prices turn GB-seconds into dollars.
 */

/**
 * Public Lambda prices (us-east-1, first duration tier), USD: per GB-second by architecture and per
 * request. https://aws.amazon.com/lambda/pricing/ (checked 2026-11). Other regions differ a little.
 */
export const LAMBDA_PRICES = {
  x86_64: 0.0000166667,
  arm64: 0.0000133334,
  perRequest: 0.2 / 1_000_000,
} as const;

export interface InvocationStats {
  /** Invocations that ran files (a ping before shipping is counted apart). */
  invocations: number;
  pings: number;
  /** Pings sent to start environments before the run (see LambdaBackend.prewarm); billed like invocations. */
  warmUps: number;
  throttles: number;
  billedMs: number;
  /** Sum over invocations of billed milliseconds times memory in MB. */
  billedMbMs: number;
  memoryMb?: number;
  /** Answers that came back compressed or through the store. */
  largeResponses: number;
}

export function noInvocationStats(): InvocationStats {
  return { invocations: 0, pings: 0, warmUps: 0, throttles: 0, billedMs: 0, billedMbMs: 0, largeResponses: 0 };
}

/** Adds the billed duration and memory of one invocation's log tail (base64) to `stats`. */
export function accountReport(stats: InvocationStats, logResult: string | undefined): void {
  if (!logResult) return;
  const log = Buffer.from(logResult, 'base64').toString('utf8');
  const billed = /Billed Duration: (\d+(?:\.\d+)?) ms/.exec(log);
  const memory = /Memory Size: (\d+) MB/.exec(log);
  if (!billed) return;
  const ms = Number(billed[1]);
  const mb = memory ? Number(memory[1]) : (stats.memoryMb ?? 0);
  if (memory) stats.memoryMb = mb;
  stats.billedMs += ms;
  stats.billedMbMs += ms * mb;
}

export function estimateUsd(stats: Pick<InvocationStats, 'billedMbMs' | 'invocations'> & { pings?: number; warmUps?: number }, arch: string): number {
  const gbSeconds = stats.billedMbMs / 1024 / 1000;
  const perGbSecond = arch === 'arm64' ? LAMBDA_PRICES.arm64 : LAMBDA_PRICES.x86_64;
  return gbSeconds * perGbSecond + (stats.invocations + (stats.pings ?? 0) + (stats.warmUps ?? 0)) * LAMBDA_PRICES.perRequest;
}
