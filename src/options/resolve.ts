/**
 * Where options come from, highest precedence first: JEST_REMOTE_LAMBDA_* environment variables,
 * the runner tuple `runner: ['remote-lambda', {...}]` (Jest >= 30.4.1), then
 * `remote-lambda.config.{json,js,cjs}` in the project's rootDir (for Jest 29 and older 30s), then the
 * schema's defaults. Every value is checked where it came from, and an error names the option, the
 * value and the fix.
 */
import fs from 'node:fs';
import path from 'node:path';
import leven from 'leven';
import { z } from 'zod';
import { RemoteRunnerError, describeValue } from '../errors';
import { CONFIG_FILE_NAMES, OPTION_NAMES, RemoteLambdaOptionsSchema, envName, ENV_PREFIX, type ResolvedOptions } from './schema';

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
    case 'rerunFailures':
      return 'Use a whole number from 0 (never run a failing file again) to 10.';
    case 'include':
    case 'exclude':
    case 'runLocally':
      return `Use a list of paths or globs, e.g. ["fixtures/**"] (${envName(key)} takes a comma-separated list).`;
    case 'debug':
    case 'isolate':
    case 'rerunLocally':
      return `Use true or false (${envName(key)}=1 or 0).`;
    case 'fallback':
      return 'Use "local" (run the remaining files here when the function cannot be used) or "fail".';
    case 'bucket':
      return 'Use the name of an existing S3 bucket, e.g. "my-team-jest-cache" (not an ARN or s3:// URL).';
    case 'timeline':
      return 'Use a file path, e.g. "jest-timeline.json" (relative to rootDir).';
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

/** An environment variable's text as the option's type: numbers, booleans (1/0, true/false, yes/no), comma-separated lists. */
function parseEnvValue(option: keyof ResolvedOptions, raw: string): unknown {
  switch (optionKind(option)) {
    case 'number':
      return /^-?\d+$/.test(raw.trim()) ? Number(raw) : raw;
    case 'boolean':
      return ['1', 'true', 'yes'].includes(raw.toLowerCase()) ? true : ['0', 'false', 'no'].includes(raw.toLowerCase()) ? false : raw;
    case 'array':
      return raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    default:
      return raw;
  }
}

/** The zod type of an option under its default and optional wrappers: 'number', 'boolean', 'array', 'string', 'enum'. */
function optionKind(option: keyof ResolvedOptions): string {
  let schema: z.ZodType = RemoteLambdaOptionsSchema.shape[option];
  while (schema instanceof z.ZodDefault || schema instanceof z.ZodOptional) schema = schema.unwrap() as z.ZodType;
  return schema.def.type;
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

/** The candidate nearest to `input` by edit distance (leven, as jest-validate uses), if near enough. */
function closest(input: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = leven(input.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = c;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(input.length / 3)) ? best : undefined;
}
