/**
 * `npx jest-runner-remote-lambda estimate [--concurrency N] [--memory MB] [--json]`: after one
 * ordinary `npx jest` (Jest's cache then holds each file's last duration), predicts without AWS the
 * suite's wall time on this machine and on Lambda at N, the concurrency beyond which Lambda's wall
 * time stops improving, and the billed GB-seconds and dollars of one run (./estimate-model.ts).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Config } from '@jest/types';
import { LAMBDA_PRICES } from '../backends/lambda/billing';
import { EstimateError, RemoteRunnerError } from '../errors';
import { holdBack } from '../mirror/hold-back';
import { cachesOf, mirrorInputOf } from '../mirror/prepare';
import { buildMirror } from '../mirror/walk';
import { resolveOptions } from '../options';
import { predictLambda, predictLocal, slowdownAt, type LambdaParams, type SuiteFile } from './estimate-model';
import { jestConfigs } from './ls';

export interface EstimateFlags {
  concurrency?: number;
  memoryMb?: number;
  architecture?: 'x86_64' | 'arm64';
  workers?: number;
  json?: boolean;
  /** Nothing in the bucket yet: the client uploads the whole tree first. */
  firstRun?: boolean;
  /** The environments are warm from a run minutes ago (Lambda keeps idle ones for a while): no cold starts. */
  warm?: boolean;
  /** Overrides of the fleet's figures (to check the model against another fleet, e.g. the local one). */
  coldStartMs?: number;
  networkRttMs?: number;
}

/**
 * The fleet's figures, each with its source. AWS documentation: Lambda quotas and scaling
 * (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html,
 * https://docs.aws.amazon.com/lambda/latest/dg/scaling-behavior.html); the rest as bench/scale
 * (bench/scale/params.js) and bench/results/fleet.md measured them.
 */
export const FLEET = {
  /** AWS docs: 1,000 concurrent executions per Region by default. */
  accountConcurrency: 1000,
  /** AWS docs: 1,000 new execution environments every 10 s per function. */
  burstEnvironments: 1000,
  burstWindowMs: 10_000,
  /** AWS docs: invoke requests per second = 10 x the concurrency quota. */
  requestsPerSecondPerConcurrency: 10,
  /** Init Duration of our bundled handler: 397 ms on the local fleet (bench/results/fleet.md). */
  initMs: 400,
  /** Fetching and materializing the tree, per shipped file: (10,436 - 397 - 270) ms / 12,545 files on the local fleet (bench/results/fleet.md). */
  materializeMsPerFile: 0.78,
  /** Loading the user's Jest and preparing the project, once per environment (bench/scale/params.js, measured by hand). */
  jestBootMs: 270,
  /** bench/scale/params.js, fitted to bench/results/lambda-overhead.md. */
  invokeOverheadMs: 8.1,
  fileOverheadMs: 6.3,
  /** Assumption: a CI runner in the function's Region (10-30 ms typical). */
  networkRttMs: 15,
  /** Measured: Jest's main thread per result with this runner (bench/results/scale.client-cpu.json). */
  clientPerFileMs: 1.7,
  /** Checking the store on a repeat run (bench/results/public-suites.md: ship 16-18 ms on luxon); the hashing before it is timed by estimate itself. */
  storeCheckMs: 20,
  /** Assumption: upload from a CI runner to S3 in the same Region, for --first-run. */
  clientUploadBytesPerSecond: 12.5e6,
} as const;

/** Per file on this machine's pool besides its duration (worker round trip, results): measured on examples/, see the README. */
const LOCAL_PER_FILE_MS = 5;

const SWEEP = [1, 2, 4, 8, 16, 32, 50, 64, 100, 128, 200, 256, 500, 1000];
/** "Stops improving": the smallest concurrency within this share of the best wall time of the sweep. */
const PLATEAU = 0.05;

export interface Estimate {
  files: number;
  knownFiles: number;
  sumMs: number;
  longestMs: number;
  workers: number;
  concurrency: number;
  memoryMb: number;
  architecture: 'x86_64' | 'arm64';
  predictedWallMs: { local: number; lambda: number };
  localInBand: boolean;
  jestStartMs: number;
  coldStartMs: number;
  shipped: { files: number; bytes: number };
  environments: number;
  invocations: number;
  gbSeconds: number;
  usd: number;
  usdByArchitecture: { x86_64: number; arm64: number };
  /** The concurrency beyond which the Lambda wall time stops improving, and that wall time. */
  plateau: { concurrency: number; wallMs: number };
  sweep: Array<{ concurrency: number; wallMs: number }>;
}

export async function estimate(flags: EstimateFlags, out: (s: string) => void, cwd = process.cwd()): Promise<number> {
  const { globalConfig, configs } = await jestConfigs(cwd);
  const options = resolveOptions(configs[0]!.rootDir, (configs[0] as { runnerOptions?: unknown }).runnerOptions);
  const listed = listTests(cwd);
  const durations = new Map<string, number>();
  for (const config of configs) for (const [file, ms] of Object.entries(readPerfCache(config, cwd))) if (!durations.has(file)) durations.set(file, ms);
  const tests = listed.paths;
  if (tests.length === 0) throw new EstimateError(`Jest finds no test files in ${cwd}.\nRun estimate where you run npx jest.`);
  const known = tests.filter((t) => durations.has(t)).map((t) => durations.get(t)!);
  if (known.length === 0) {
    throw new RemoteRunnerError(
      'ESTIMATE',
      `Jest's cache has no duration for any of the ${tests.length} test files (${configs.map((c) => c.cacheDirectory).join(', ')}).\n` +
        'Run npx jest once (with any runner), then estimate again.',
    );
  }
  // Files without a duration (new ones) count as the median known file.
  const median = [...known].sort((a, b) => a - b)[Math.floor(known.length / 2)]!;
  const suite: SuiteFile[] = tests.map((t) =>
    durations.has(t) ? { estimateMs: durations.get(t)!, durationMs: durations.get(t)! } : { estimateMs: null, durationMs: median },
  );

  let shippedFiles = 0;
  let shippedBytes = 0;
  // A run's first step on Lambda is this same walk and hashing (then a check of the store): timed here.
  const mirrorStarted = performance.now();
  for (const config of configs) {
    const cacheDir = options.cacheDirectory ?? path.join(config.cacheDirectory, 'remote-lambda');
    const { hashes, scans } = cachesOf(cacheDir, config);
    const mirror = buildMirror(mirrorInputOf(config, options, { cacheDir, coverageDirectory: globalConfig.coverageDirectory, remote: true }), hashes);
    const { mirror: shipped } = holdBack(mirror, { rootDir: config.rootDir, include: options.include, scans });
    hashes.save();
    scans.save();
    shippedFiles += shipped.manifest.files.length;
    shippedBytes += shipped.bytes;
  }
  const mirrorMs = performance.now() - mirrorStarted;

  const memoryMb = flags.memoryMb ?? 2048;
  const architecture = flags.architecture ?? 'x86_64';
  const concurrency = flags.concurrency ?? options.concurrency;
  const workers = flags.workers ?? Math.max(1, globalConfig.maxWorkers);
  const coldStartMs = flags.coldStartMs ?? (flags.warm ? 0 : Math.round(FLEET.initMs + shippedFiles * FLEET.materializeMsPerFile + FLEET.jestBootMs));
  const params = (c: number): LambdaParams => ({
    concurrency: c,
    memoryMb,
    architecture,
    batchMs: options.batchMs,
    accountConcurrency: FLEET.accountConcurrency,
    burstEnvironments: FLEET.burstEnvironments,
    burstWindowMs: FLEET.burstWindowMs,
    requestsPerSecondPerConcurrency: FLEET.requestsPerSecondPerConcurrency,
    coldStartMs,
    invokeOverheadMs: FLEET.invokeOverheadMs,
    networkRttMs: flags.networkRttMs ?? FLEET.networkRttMs,
    fileOverheadMs: FLEET.fileOverheadMs,
    clientPerFileMs: FLEET.clientPerFileMs,
    clientStartMs: mirrorMs + FLEET.storeCheckMs + (flags.firstRun ? (shippedBytes / FLEET.clientUploadBytesPerSecond) * 1000 : 0),
    remoteSlowdown: slowdownAt(memoryMb),
    billColdStart: true,
  });
  // Both predictions are of the whole `npx jest`: Jest's own start (timed here, by --listTests) comes first.
  const jestStartMs = Math.round(listed.ms);
  const lambda = predictLambda(suite, params(concurrency));
  const local = predictLocal(suite, { workers, startMs: jestStartMs, perFileMs: LOCAL_PER_FILE_MS, runInBand: globalConfig.runInBand });
  const sweep = [...new Set([...SWEEP.filter((c) => c < tests.length), tests.length, concurrency])]
    .sort((a, b) => a - b)
    .map((c) => ({ concurrency: c, wallMs: Math.round(jestStartMs + predictLambda(suite, params(c)).wallMs) }));
  const best = Math.min(...sweep.map((s) => s.wallMs));
  const plateau = sweep.find((s) => s.wallMs <= best * (1 + PLATEAU))!;
  const gbs = lambda.gbSeconds;
  const result: Estimate = {
    files: tests.length,
    knownFiles: known.length,
    sumMs: Math.round(suite.reduce((n, f) => n + f.durationMs, 0)),
    longestMs: Math.round(Math.max(...suite.map((f) => f.durationMs))),
    workers,
    concurrency,
    memoryMb,
    architecture,
    predictedWallMs: { local: Math.round(local.wallMs), lambda: Math.round(jestStartMs + lambda.wallMs) },
    localInBand: local.inBand,
    jestStartMs,
    coldStartMs,
    shipped: { files: shippedFiles, bytes: shippedBytes },
    environments: lambda.environments,
    invocations: lambda.invocations,
    gbSeconds: Math.round(gbs * 1000) / 1000,
    usd: round6(lambda.usd),
    usdByArchitecture: {
      x86_64: round6(gbs * LAMBDA_PRICES.x86_64 + lambda.invocations * LAMBDA_PRICES.perRequest),
      arm64: round6(gbs * LAMBDA_PRICES.arm64 + lambda.invocations * LAMBDA_PRICES.perRequest),
    },
    plateau,
    sweep,
  };
  if (!flags.json) out(table(result, flags));
  else out(`${JSON.stringify(result)}\n`);
  return 0;
}

/** The project's own Jest lists its test files (`--listTests`): which files, and how long Jest takes to start. */
function listTests(cwd: string): { paths: string[]; ms: number } {
  let bin: string;
  try {
    bin = require.resolve('jest/bin/jest', { paths: [cwd] });
  } catch {
    throw new RemoteRunnerError('JEST_NOT_FOUND', `Could not find Jest from ${cwd}.\nRun estimate from the folder you run npx jest in.`);
  }
  const started = performance.now();
  const run = spawnSync(process.execPath, [bin, '--listTests', '--json'], { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const ms = performance.now() - started;
  const line = run.stdout.trim().split('\n').pop() ?? '';
  try {
    const paths = JSON.parse(line) as unknown;
    if (Array.isArray(paths) && paths.every((p) => typeof p === 'string')) return { paths, ms };
  } catch {
    // reported below
  }
  throw new EstimateError(
    `jest --listTests failed in ${cwd} (status ${run.status}):\n${run.stderr.slice(-2000)}\nFix what npx jest reports, then estimate again.`,
  );
}

type Sequencer = { _getCachePath?: (context: { config: Config.ProjectConfig }) => string };

/**
 * Jest's duration cache of a project: what its TestSequencer wrote after the last run, test path ->
 * [failed?, ms] (`<cacheDirectory>/perf-cache-<config id>-<hash>` in Jest 29 and 30), read through
 * the project's own @jest/test-sequencer so the file name is the one that Jest version computes.
 */
function readPerfCache(config: Config.ProjectConfig, cwd: string): Record<string, number> {
  const from = ['jest', '@jest/core'].reduce((dir, pkg) => {
    try {
      return path.dirname(require.resolve(`${pkg}/package.json`, { paths: [dir] }));
    } catch {
      return dir;
    }
  }, cwd);
  let file: string | undefined;
  try {
    const { default: TestSequencer } = require(require.resolve('@jest/test-sequencer', { paths: [from, cwd] })) as {
      default: new (options: unknown) => Sequencer;
    };
    file = new TestSequencer({ contexts: [], globalConfig: {} })._getCachePath?.({ config });
  } catch {
    file = undefined;
  }
  if (!file)
    throw new EstimateError(`Could not locate Jest's duration cache for ${config.rootDir}.\nThis Jest is not one estimate knows (29 or 30): run it there.`);
  try {
    const cache = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
    const out: Record<string, number> = {};
    for (const [test, entry] of Object.entries(cache)) if (Array.isArray(entry) && typeof entry[1] === 'number') out[test] = entry[1];
    return out;
  } catch {
    return {};
  }
}

function table(e: Estimate, flags: EstimateFlags): string {
  const s = (ms: number) => (ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`);
  const rows: Array<[string, string]> = [
    ['test files', `${e.files} (${e.knownFiles} with a duration in Jest's cache), ${s(e.sumMs)} in all, the longest ${s(e.longestMs)}`],
    ['this machine', `${s(e.predictedWallMs.local)} with ${e.localInBand ? 'the files in band (as Jest would decide)' : `${e.workers} workers`}`],
    [
      `Lambda at ${e.concurrency}`,
      `${s(e.predictedWallMs.lambda)} (${e.environments} environments, ${flags.warm ? 'warm' : `cold start ${s(e.coldStartMs)} each for ${e.shipped.files} files`}; ${e.memoryMb} MB${flags.firstRun ? '; first run: everything uploaded' : ''})`,
    ],
    ['stops improving at', `concurrency ${e.plateau.concurrency} (${s(e.plateau.wallMs)}; more adds environments that wait for their cold start)`],
    [
      'billed per run',
      `${e.gbSeconds.toFixed(1)} GB-s in ${e.invocations} invocations: $${e.usdByArchitecture.x86_64.toFixed(4)} on x86_64, $${e.usdByArchitecture.arm64.toFixed(4)} on arm64`,
    ],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return (
    `${rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n')}\n\n` +
    '  Lambda figures come from a model (AWS limits, and overheads measured on a local Lambda-like fleet), not from AWS;\n' +
    '  --json prints them all. See "Performance" in the README for how close the model came to measured runs.\n'
  );
}

function round6(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}
