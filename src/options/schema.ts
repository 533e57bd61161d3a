/**
 * Runner options: one zod schema validates them wherever they come from (see ./resolve.ts for
 * the precedence), and gives users their type (`RemoteLambdaOptions`).
 */
import { z } from 'zod';

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
     * from outside the project's roots, and for files held back because they look like secrets
     * (a file listed here, or inside a folder listed here below rootDir, always travels).
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
     * A failing file (a test failed, or the file could not run) runs again up to this many times:
     * on the embedded pool in another worker; on Lambda sent by another slot, so it lands in
     * another environment while the first is busy (Lambda picks the environment). A file that fails and then
     * passes is flaky: reported as passing, with its first failure added to its console output,
     * and named in the summary and the timeline; a file that fails every time is reported with its
     * last failure. An attempt that wrote snapshots never runs again, and with `-u` no file does
     * (an update must write once). 0 reports every result as Jest's own runner does.
     * @default 0
     */
    rerunFailures: z.number().int().min(0).max(10).default(0),
    /**
     * Lambda backend: globs (relative to rootDir) of test files that need this machine (they spawn
     * git or other local tools, reach a database on localhost, read files that are not shipped):
     * they run on the embedded backend in the same run, reported like the rest.
     * @default []
     */
    runLocally: z.array(z.string().min(1)).default([]),
    /**
     * Lambda backend: a file whose remote run fails in a way that looks environmental (a tool or
     * path missing there, a service on localhost, a read-only folder) runs again here once; the
     * local result is reported, and the file runs here from the start next time. A plain test
     * failure never runs again.
     * @default true
     */
    rerunLocally: z.boolean().default(true),
    /**
     * Lambda backend: what happens when the function cannot be used at all (no or expired
     * credentials, no such function, the network unreachable, throttled beyond retries): "local"
     * runs the remaining files on the embedded backend, with one line saying why; "fail" stops and
     * reports them failed with the error.
     * @default "local"
     */
    fallback: z.enum(['local', 'fail']).default('local'),
    /**
     * Lambda backend: start as many environments as the run will use while it hashes and ships,
     * each bringing in the project as the last run left it, so the first files do not each pay a
     * cold start after shipping (one extra, billed, invocation per environment).
     * @default true
     */
    prewarm: z.boolean().default(true),
    /**
     * Lambda backend: which installed packages an environment brings in. `needed`: those each test
     * file's module graph reaches (esbuild parses, Jest's resolver resolves, then each package's
     * declared dependencies), and any other the tests turn out to touch (fetched then, and sent up
     * front next time). `all`: the whole node_modules in every environment.
     * @default "needed"
     */
    packages: z.enum(['needed', 'all']).default('needed'),
    /**
     * Print per-phase timings (mirror, ship, invoke, run) after the run.
     * @default false
     */
    debug: z.boolean().default(false),
    /**
     * Write the run's timeline to this file (relative to rootDir): a Chrome trace-event JSON for
     * Perfetto or chrome://tracing, and beside it an HTML picture of the same run (`<name>.html`).
     * In watch mode each run writes it anew.
     * @default none
     */
    timeline: z.string().min(1).optional(),
    /**
     * Where the runner keeps its content store, hash cache and run directories.
     * @default "<Jest cacheDirectory>/remote-lambda"
     */
    cacheDirectory: z.string().min(1).optional(),
  })
  .strict();

export type RemoteLambdaOptions = z.input<typeof RemoteLambdaOptionsSchema>;
export type ResolvedOptions = z.output<typeof RemoteLambdaOptionsSchema>;

export const ENV_PREFIX = 'JEST_REMOTE_LAMBDA_';
export const OPTION_NAMES = Object.keys(RemoteLambdaOptionsSchema.shape) as Array<keyof ResolvedOptions>;
export const CONFIG_FILE_NAMES = ['remote-lambda.config.json', 'remote-lambda.config.js', 'remote-lambda.config.cjs'];

export function envName(option: string): string {
  return ENV_PREFIX + option.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();
}

/** Typed helper for jest.config.ts: `runner: ['remote-lambda', defineRemoteLambdaOptions({...})]`. */
export function defineRemoteLambdaOptions(options: RemoteLambdaOptions): RemoteLambdaOptions {
  return options;
}
