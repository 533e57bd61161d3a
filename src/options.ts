/**
 * Runner options: one zod schema validates them wherever they come from.
 * Precedence (highest first): JEST_REMOTE_LAMBDA_* environment variables, then the runner tuple
 * `runner: ['remote-lambda', {...}]` (Jest >= 30.4.1), then `remote-lambda.config.{json,js,cjs}`
 * in the project's rootDir (for Jest 29 and older 30s), then the defaults below.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { RemoteRunnerError, describeValue } from './errors';

export const RemoteLambdaOptionsSchema = z
  .object({
    /**
     * Where test files run: `local` is the embedded pool of worker processes on this machine,
     * `lambda` an AWS Lambda function running this package's handler.
     * @default "local"
     */
    backend: z.enum(['local', 'lambda']).default('local'),
    /**
     * Name or ARN of the Lambda function (backend `lambda`).
     */
    function: z.string().min(1).optional(),
    /**
     * Version or alias of the function to invoke.
     */
    qualifier: z.string().min(1).optional(),
    /**
     * AWS region of the function.
     * @default the SDK's region chain (AWS_REGION, profile)
     */
    region: z.string().min(1).optional(),
    /**
     * S3 bucket used as the shared content store (backend `lambda`): only packs the bucket lacks
     * are uploaded, and cold containers download what they need from it instead of asking the
     * runner. Without it, blobs travel inside invocations (6 MB each). Results too large for a
     * Lambda response come back through it too.
     */
    bucket: z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'expected an S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)')
      .optional(),
    /**
     * Key prefix inside the bucket (end it with "/").
     * @default "jest-runner-remote-lambda/"
     */
    bucketPrefix: z
      .string()
      .max(512)
      .refine((p) => p === '' || p.endsWith('/'), 'must be empty or end with "/"')
      .default('jest-runner-remote-lambda/'),
    /**
     * Invocations in flight at once on the lambda backend (independent of local cores).
     * @default 50
     */
    concurrency: z.number().int().min(1).max(10_000).default(50),
    /**
     * Lambda backend: files that took less than this many milliseconds last time (Jest's own
     * timings) go several to one invocation, up to this much estimated time per invocation, so
     * small files do not each pay an invocation's overhead. 0 sends one file per invocation.
     * @default 250
     */
    batchMs: z.number().int().min(0).max(60_000).default(250),
    /**
     * Longest wait for one invocation's answer, in milliseconds (Lambda stops a function at 15 min).
     * @default 910000
     */
    invokeTimeoutMs: z.number().int().min(1_000).default(910_000),
    /**
     * Names of environment variables forwarded to remote runs, beside NODE_ENV, TZ, CI, LANG and
     * LC_ALL. Nothing else crosses: credentials and tokens stay on this machine.
     * @default []
     */
    env: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected environment variable names')).default([]),
    /**
     * Worker processes of the local backend.
     * @default Jest's --maxWorkers (-w), 1 with --runInBand (-i)
     */
    workers: z.number().int().min(1).optional(),
    /**
     * Local backend: run each file in a private mirror of the project, as the lambda backend does,
     * instead of in place in your checkout (the default, like Jest's own runner). Shows on this
     * machine what a remote run would lack (files outside the roots, say).
     * @default false
     */
    isolate: z.boolean().default(false),
    /**
     * Extra files or folders to ship (relative to rootDir or absolute), for files a test reads
     * from outside the project's roots.
     * @default []
     */
    include: z.array(z.string().min(1)).default([]),
    /**
     * Globs (relative to rootDir) of files never shipped, e.g. large assets tests do not read.
     * @default []
     */
    exclude: z.array(z.string().min(1)).default([]),
    /**
     * How often a file is retried after an infrastructure fault (never after a test failure).
     * @default 2
     */
    retries: z.number().int().min(0).max(10).default(2),
    /**
     * Print per-phase timings (mirror, ship, invoke, run) after the run.
     * @default false
     */
    debug: z.boolean().default(false),
    /**
     * Where the runner keeps its content store, hash cache and run directories.
     * @default "<Jest cacheDirectory>/remote-lambda"
     */
    cacheDirectory: z.string().min(1).optional(),
  })
  .strict();

export type RemoteLambdaOptions = z.input<typeof RemoteLambdaOptionsSchema>;
export type ResolvedOptions = z.output<typeof RemoteLambdaOptionsSchema>;

const ENV_PREFIX = 'JEST_REMOTE_LAMBDA_';
const OPTION_NAMES = Object.keys(RemoteLambdaOptionsSchema.shape) as Array<keyof ResolvedOptions>;
export const CONFIG_FILE_NAMES = ['remote-lambda.config.json', 'remote-lambda.config.js', 'remote-lambda.config.cjs'];

export function envName(option: string): string {
  return ENV_PREFIX + option.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();
}

type Source = { label: string; values: Record<string, unknown> };

export function resolveOptions(rootDir: string, runnerOptions: unknown, env: NodeJS.ProcessEnv = process.env): ResolvedOptions {
  const sources: Source[] = [];
  const file = readConfigFile(rootDir);
  if (file) sources.push(file);
  if (runnerOptions !== undefined && runnerOptions !== null) {
    if (typeof runnerOptions !== 'object' || Array.isArray(runnerOptions)) {
      throw new RemoteRunnerError(
        'OPTIONS',
        `The runner options in your Jest config must be an object, got ${describeValue(runnerOptions)}.\n` +
          `Write runner: ['remote-lambda', { backend: 'local' }].`,
      );
    }
    sources.push({ label: 'the runner options in your Jest config', values: runnerOptions as Record<string, unknown> });
  }
  sources.push({ label: 'the environment', values: fromEnv(env) });

  const merged: Record<string, unknown> = {};
  for (const source of sources) {
    for (const [key, value] of Object.entries(source.values)) {
      if (!OPTION_NAMES.includes(key as keyof ResolvedOptions)) {
        const suggestion = closest(key, OPTION_NAMES);
        throw new RemoteRunnerError(
          'OPTIONS',
          `Unknown jest-runner-remote-lambda option "${key}" in ${source.label}.` +
            (suggestion ? ` Did you mean "${suggestion}"?` : '') +
            `\nKnown options: ${OPTION_NAMES.join(', ')}.`,
        );
      }
      const checked = RemoteLambdaOptionsSchema.shape[key as keyof ResolvedOptions].safeParse(value);
      if (!checked.success) {
        const where = source.label === 'the environment' ? `${envName(key)} (environment)` : `"${key}" in ${source.label}`;
        throw new RemoteRunnerError(
          'OPTIONS',
          `Invalid jest-runner-remote-lambda option ${where}: ${checked.error.issues.map((i) => i.message).join('; ')}, got ${describeValue(value)}.\n` +
            fixFor(key),
        );
      }
      merged[key] = value;
    }
  }
  const options = RemoteLambdaOptionsSchema.parse(merged);
  if (options.backend === 'lambda' && !options.function) {
    throw new RemoteRunnerError(
      'OPTIONS',
      `Option "backend" is "lambda" but no function is named.\nSet "function" in the runner options or JEST_REMOTE_LAMBDA_FUNCTION=<name or ARN>.`,
    );
  }
  return {
    ...options,
    include: options.include.map((p) => path.resolve(rootDir, p)),
  };
}

function fixFor(key: string): string {
  switch (key) {
    case 'backend':
      return 'Use "local" (the embedded worker pool) or "lambda".';
    case 'concurrency':
      return 'Use a whole number from 1 up (invocations in flight).';
    case 'invokeTimeoutMs':
      return 'Use milliseconds, at least 1000.';
    case 'batchMs':
      return 'Use milliseconds from 0 (one file per invocation) to 60000.';
    case 'env':
      return `Use a list of variable names, e.g. ["API_URL"] (${envName(key)} takes a comma-separated list).`;
    case 'workers':
      return 'Use a whole number from 1 up, or leave it unset to follow --maxWorkers.';
    case 'retries':
      return 'Use a whole number from 0 to 10.';
    case 'include':
    case 'exclude':
      return `Use a list of paths or globs, e.g. ["fixtures/**"] (${envName(key)} takes a comma-separated list).`;
    case 'debug':
    case 'isolate':
      return `Use true or false (${envName(key)}=1 or 0).`;
    case 'bucket':
      return 'Use the name of an existing S3 bucket, e.g. "my-team-jest-cache" (not an ARN or s3:// URL).';
    case 'bucketPrefix':
      return 'Use a key prefix ending with "/", e.g. "jest/", or "" for the bucket root.';
    default:
      return `See the options table in the jest-runner-remote-lambda README.`;
  }
}

function fromEnv(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  const byEnv = new Map(OPTION_NAMES.map((name) => [envName(name), name]));
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || raw === undefined || raw === '') continue;
    const option = byEnv.get(name);
    if (!option) {
      const suggestion = closest(name, [...byEnv.keys()]);
      throw new RemoteRunnerError(
        'OPTIONS',
        `Unknown environment variable ${name}.` + (suggestion ? ` Did you mean ${suggestion}?` : '') + `\nKnown: ${[...byEnv.keys()].join(', ')}.`,
      );
    }
    values[option] = parseEnvValue(option, raw);
  }
  return values;
}

function parseEnvValue(option: keyof ResolvedOptions, raw: string): unknown {
  switch (option) {
    case 'workers':
    case 'retries':
    case 'concurrency':
    case 'batchMs':
    case 'invokeTimeoutMs':
      return /^-?\d+$/.test(raw.trim()) ? Number(raw) : raw;
    case 'debug':
    case 'isolate':
      return ['1', 'true', 'yes'].includes(raw.toLowerCase()) ? true : ['0', 'false', 'no'].includes(raw.toLowerCase()) ? false : raw;
    case 'include':
    case 'exclude':
    case 'env':
      return raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    default:
      return raw;
  }
}

function readConfigFile(rootDir: string): Source | undefined {
  for (const name of CONFIG_FILE_NAMES) {
    const file = path.join(rootDir, name);
    if (!fs.existsSync(file)) continue;
    let values: unknown;
    try {
      values = name.endsWith('.json') ? JSON.parse(fs.readFileSync(file, 'utf8')) : require(file);
    } catch (error) {
      throw new RemoteRunnerError('OPTIONS', `Could not read ${file}: ${(error as Error).message}\nFix the file or delete it.`, { cause: error });
    }
    const object = values && typeof values === 'object' && 'default' in values ? (values as { default: unknown }).default : values;
    if (!object || typeof object !== 'object' || Array.isArray(object)) {
      throw new RemoteRunnerError('OPTIONS', `${file} must export an object of options, got ${describeValue(object)}.`);
    }
    return { label: file, values: object as Record<string, unknown> };
  }
  return undefined;
}

function closest(input: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = levenshtein(input.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = c;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(input.length / 3)) ? best : undefined;
}

function levenshtein(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

/** Typed helper for jest.config.ts: `runner: ['remote-lambda', defineRemoteLambdaOptions({...})]`. */
export function defineRemoteLambdaOptions(options: RemoteLambdaOptions): RemoteLambdaOptions {
  return options;
}
