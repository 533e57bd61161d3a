/**
 * jest-runner-remote-lambda: a Jest custom runner (`runner: "remote-lambda"`). Each test file is
 * shipped as a content-addressed mirror and run by the handler on a backend; the answers become
 * native Jest results and events, so reporters, --json and IDEs see an ordinary run.
 */
import crypto from 'node:crypto';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Test, TestResult } from '@jest/test-result';
import type { Config } from '@jest/types';
import { LocalBackend } from './backends/local';
import type { LambdaBackend } from './backends/lambda';
import type { Backend } from './backends/types';
import { buildMirror, type Mirror } from './bundle/mirror';
import { HashCache, sha256 } from './bundle/hash-cache';
import { dispatch, type DispatchItem } from './dispatch';
import { RemoteRunnerError } from './errors';
import { locateJest, type LocatedJest } from './jest-locate';
import { resolveOptions, type ResolvedOptions } from './options';
import { encodeProject, type Host, type ProjectPayload, type TestEvent } from './protocol';
import { applyWrites, toJestError, toTestResult } from './results';
import type { ShipStats } from './ship';
import { createProgress, shouldShowProgress } from './progress';
import { lambdaSummary, localSummary, statsSince } from './summary';

export { defineRemoteLambdaOptions, type RemoteLambdaOptions } from './options';
export { RemoteRunnerError } from './errors';

type TestWatcher = {
  isInterrupted(): boolean;
  on(event: 'change', listener: (state: { interrupted: boolean }) => void): unknown;
};
type RunnerContext = { changedFiles?: Set<string>; sourcesRelatedToTestsInChangedFiles?: Set<string> };
type Listener = (args: any) => unknown;

/** Backends outlive one runner instance so watch mode re-runs on warm workers and caches. */
const backends = new Map<string, Backend>();

export default class RemoteLambdaRunner {
  readonly supportsEventEmitters = true;
  readonly isSerial = false;
  readonly #globalConfig: Config.GlobalConfig;
  readonly #context: RunnerContext;
  readonly #runnerOptions: unknown;
  readonly #listeners = new Map<string, Set<Listener>>();

  constructor(globalConfig: Config.GlobalConfig, context: RunnerContext = {}, runnerOptions?: unknown) {
    this.#globalConfig = globalConfig;
    this.#context = context;
    this.#runnerOptions = runnerOptions;
  }

  on(eventName: string, listener: Listener): () => void {
    let set = this.#listeners.get(eventName);
    if (!set) this.#listeners.set(eventName, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  async #emit(eventName: string, args: unknown[]): Promise<void> {
    await Promise.all([...(this.#listeners.get(eventName) ?? [])].map((l) => l(args)));
  }

  async runTests(tests: Test[], watcher: TestWatcher, runOptions?: { serial: boolean }): Promise<void> {
    if (tests.length === 0) return;
    const started = performance.now();
    const runId = crypto.randomUUID();
    const first = tests[0]!.context.config;
    refuseYarnPnp(first.rootDir);
    const resolved = resolveOptions(first.rootDir, this.#runnerOptions ?? (first as { runnerOptions?: unknown }).runnerOptions);
    // Diagnostics that only work in this process (open-handle detection, a debugger attached to
    // Jest) run the files here, in band, whatever the backend.
    const diagnose = this.#globalConfig.detectOpenHandles ? '--detectOpenHandles' : process.execArgv.find((a) => /^--inspect/.test(a));
    const options = diagnose && resolved.backend === 'lambda' ? { ...resolved, backend: 'local' as const, workers: undefined } : resolved;
    if (diagnose && resolved.backend === 'lambda' && !this.#globalConfig.silent) {
      process.stderr.write(`remote-lambda: ${diagnose} needs the tests in this process: running them locally, in band.\n`);
    }
    const jest = locateJest(first.rootDir);
    const cacheDir = options.cacheDirectory ?? path.join(first.cacheDirectory, 'remote-lambda');
    // Where Jest would run in band, so do we (in this process), unless `workers` is set explicitly.
    const remote = options.backend === 'lambda';
    const inBand = !remote && Boolean(runOptions?.serial) && options.workers === undefined;
    const workers = remote ? options.concurrency : inBand ? 0 : (options.workers ?? Math.max(1, this.#globalConfig.maxWorkers));
    const memoryLimit = (this.#globalConfig as { workerIdleMemoryLimit?: unknown }).workerIdleMemoryLimit;
    const backend = getBackend(options, cacheDir, workers, jest, typeof memoryLimit === 'number' ? memoryLimit : undefined);
    const watchMode = this.#globalConfig.watch || this.#globalConfig.watchAll;

    const lambdaStatsAtStart = backend.name === 'lambda' ? { ...(backend as LambdaBackend).stats } : undefined;
    const controller = new AbortController();
    watcher.on('change', (state) => {
      if (state.interrupted) controller.abort();
    });

    const timing: Record<string, number> = { mirror: 0, ship: 0 };
    const shipped: ShipStats = { newBlobs: 0, newBytes: 0, cachedBlobs: 0, cachedBytes: 0 };
    // One hash cache per checkout and project, so a run reads only what concerns its own tree.
    const hashes = new HashCache(path.join(cacheDir, 'hashes', `${sha256(`${first.rootDir}\0${first.id}`).slice(0, 16)}.json`));
    // Before the first test starts only: Jest's reporter owns the terminal after that.
    const progress = createProgress({ silent: this.#globalConfig.silent, json: this.#globalConfig.json });
    let hashing = false;
    hashes.onMiss = () => {
      if (!hashing) {
        hashing = true;
        progress.phase('hashing', Math.max(hashes.size, 1), 'files');
      }
      progress.tick();
    };
    const projects = new Map<string, Promise<ProjectPayload>>();
    const projectFor = (test: Test): Promise<ProjectPayload> => {
      const config = test.context.config;
      let payload = projects.get(config.id);
      if (!payload) {
        payload = (async () => {
          let t = performance.now();
          // In place (the embedded backend's default): nothing to describe, hash or ship.
          const inPlace = backend.name === 'local' && !options.isolate;
          const mirror: Mirror = inPlace
            ? { localBase: config.rootDir, manifest: { files: [], links: [], dirs: [] }, sources: new Map(), bytes: 0 }
            : buildMirror(
            {
              rootDir: config.rootDir,
              roots: config.roots,
              cwd: config.cwd,
              include: options.include,
              exclude: options.exclude,
              skipDirs: [config.cacheDirectory, cacheDir, this.#globalConfig.coverageDirectory ?? path.join(config.rootDir, 'coverage')],
              configStrings: stringsOf(config),
              nodeModules: backend.name === 'local' ? 'link' : 'ship',
            },
            hashes,
          );
          timing.mirror! += performance.now() - t;
          t = performance.now();
          const base = {
            localBase: mirror.localBase,
            manifest: mirror.manifest,
            cwd: config.cwd,
            jest: { version: jest.version, runner: jest.runner, runtime: jest.runtime, hasteMap: jest.hasteMap },
            config: jsonClone(config) as Record<string, unknown>,
            moduleMap: test.context.moduleMap.toJSON(),
            env: remote ? forwardedEnv(options.env, jest.forceColor) : {},
            // (colour libraries disable themselves when NO_COLOR is set at all, even to '')
            ...(remote && process.env.NO_COLOR === undefined ? { unsetEnv: ['NO_COLOR'] } : {}),
            ...(inPlace ? { inPlace } : {}),
          };
          const key = sha256(encodeProject(base));
          const inMirror = new Set(mirror.manifest.files.map((f) => path.join(mirror.localBase, f.path)));
          const { project, stats } = await backend.ship(mirror, { ...base, key }, progress);
          shippedFiles.set(project.key, inPlace ? () => true : (file) => inMirror.has(file));
          for (const k of Object.keys(shipped) as Array<keyof ShipStats>) shipped[k] += stats[k];
          timing.ship! += performance.now() - t;
          return project;
        })();
        projects.set(config.id, payload);
      }
      return payload;
    };

    const shippedFiles = new Map<string, (file: string) => boolean>();
    const byPath = new Map<DispatchItem, Test>();
    const items: DispatchItem[] = [];
    const setupErrors = new Map<Test, Error>();
    for (const test of tests) {
      try {
        const item: DispatchItem = { testPath: test.path, project: await projectFor(test), estimateMs: (test as { duration?: number }).duration ?? undefined };
        byPath.set(item, test);
        items.push(item);
      } catch (error) {
        if (error instanceof RemoteRunnerError) throw error;
        setupErrors.set(test, error as Error);
      }
    }
    hashes.save();
    hashes.onMiss = undefined;
    progress.stop();
    for (const [test, error] of setupErrors) {
      await this.#emit('test-file-start', [test]);
      await this.#emit('test-file-failure', [test, toJestError({ message: `jest-runner-remote-lambda could not prepare this file: ${error.message}`, stack: error.stack })]);
    }

    let retries = 0;
    const hosts = new Map<string, Host>();
    const handlerTiming: Record<string, number> = {};
    const invokeStart = performance.now();
    try {
      await dispatch(items, {
        backend,
        concurrency: Math.max(1, workers),
        retries: options.retries,
        runId,
        globalConfig: jsonClone(this.#globalConfig) as Record<string, unknown>,
        // Small files together: only where an invocation costs more than a message to a worker.
        batchMs: remote ? options.batchMs : 0,
        // Reproduce the path Jest itself would take: in its own process, or in a pool worker.
        mode: inBand || (remote && Boolean(runOptions?.serial)) ? 'in-band' : 'worker',
        // Tests in this very process: its CPU says nothing about reporting, and Jest's order stays.
        ...(inBand ? { clientMsPerFile: 0 } : {}),
        signal: controller.signal,
        changedFiles: this.#context.changedFiles && [...this.#context.changedFiles],
        sourcesRelatedToTestsInChangedFiles: this.#context.sourcesRelatedToTestsInChangedFiles && [...this.#context.sourcesRelatedToTestsInChangedFiles],
        onStart: async (item) => {
          if (watcher.isInterrupted()) controller.abort();
          else await this.#emit('test-file-start', [byPath.get(item)]);
        },
        onEvent: (_item, event: TestEvent) => this.#emit(event.name, event.args),
        onRetry: () => void retries++,
        onOutput: (output) => {
          if (output.stdout) process.stdout.write(output.stdout);
          if (output.stderr) process.stderr.write(output.stderr);
        },
        onOutcome: async (item, outcome) => {
          const test = byPath.get(item)!;
          if (outcome.kind !== 'cancelled') {
            for (const [phase, ms] of Object.entries(outcome.timing ?? {})) handlerTiming[phase] = (handlerTiming[phase] ?? 0) + ms;
            if (outcome.host) hosts.set(JSON.stringify(outcome.host), outcome.host);
          }
          if (outcome.kind === 'result') {
            try {
              applyWrites(outcome.writes, [test.context.config.rootDir, ...test.context.config.roots]);
            } catch (error) {
              await this.#emit('test-file-failure', [test, toJestError({ message: (error as Error).message })]);
              return;
            }
            const shipped = shippedFiles.get(item.project.key)!;
            await this.#emit('test-file-success', [test, toTestResult(test.path, outcome.result, { shipped, mapsDir: path.join(cacheDir, 'v8-source-maps') }) as TestResult]);
          } else if (outcome.kind === 'failure') {
            await this.#emit('test-file-failure', [test, toJestError(outcome.error)]);
          }
        },
      });
    } finally {
      if (!watchMode) {
        backends.forEach((b, k) => {
          if (b === backend) backends.delete(k);
        });
        await backend.close();
      }
    }
    if (backend.name === 'lambda' && !this.#globalConfig.silent) {
      // (a backend kept for watch mode counts across runs: this run's share only)
      const stats = statsSince((backend as LambdaBackend).stats, lambdaStatsAtStart!);
      process.stderr.write(`${lambdaSummary({ files: items.length, retries, shipped, stats, hosts: [...hosts.values()], bucket: options.bucket })}\n`);
    } else if (shouldShowProgress({ silent: this.#globalConfig.silent, json: this.#globalConfig.json })) {
      process.stderr.write(`${localSummary({ files: items.length, retries, shipped, workers, isolate: options.isolate })}\n`);
    }
    if (options.debug) {
      const total = performance.now() - started;
      const dispatchMs = performance.now() - invokeStart;
      // requests as this side timed them, minus the tests' own run time inside the handler
      const perFile = items.length ? ((handlerTiming.request ?? 0) - (handlerTiming.run ?? 0)) / items.length : 0;
      process.stderr.write(
        `[remote-lambda] backend=${backend.name} workers=${workers || 'in-band'} files=${items.length} retries=${retries} ` +
          `mirror=${timing.mirror!.toFixed(0)}ms ship=${timing.ship!.toFixed(0)}ms dispatch=${dispatchMs.toFixed(0)}ms ` +
          `total=${total.toFixed(0)}ms hashed=${hashes.misses} cached=${hashes.hits} ` +
          `blobs new=${shipped.newBlobs} (${shipped.newBytes} B) cached=${shipped.cachedBlobs} (${shipped.cachedBytes} B)` +
          `${backend.name === 'lambda' ? ` inline=${(backend as LambdaBackend).stats.inlineBlobBytes} B` : ''}\n` +
          `[remote-lambda] handler (sum over files, request = as timed here): ${Object.entries(handlerTiming)
            .map(([k, v]) => `${k}=${v.toFixed(0)}ms`)
            .join(' ')}; overhead outside the test run ≈ ${perFile.toFixed(1)} ms/file\n`,
      );
    }
  }
}

/**
 * Yarn Plug'n'Play keeps packages in zip archives and resolves them through its own loader: there
 * is no node_modules tree to ship or link, and the handler could not resolve anything. Say so at
 * once rather than failing file by file.
 */
function refuseYarnPnp(rootDir: string): void {
  const pnp = (process.versions as { pnp?: string }).pnp !== undefined;
  if (!pnp) return;
  throw new RemoteRunnerError(
    'UNSUPPORTED',
    `jest-runner-remote-lambda cannot run under Yarn Plug'n'Play (this Jest runs with Yarn's PnP loader, in ${rootDir}).\n` +
      'Use the node-modules linker: add "nodeLinker: node-modules" to .yarnrc.yml and run yarn install again.',
  );
}

function getBackend(options: ResolvedOptions, cacheDir: string, workers: number, jest: LocatedJest, workerIdleMemoryLimit?: number): Backend {
  const key = JSON.stringify([options.backend, cacheDir, workers, jest.forceColor, options.function, options.qualifier, options.bucket, options.bucketPrefix]);
  let backend = backends.get(key);
  if (!backend) {
    if (options.backend === 'lambda') {
      // Loaded only when used: the AWS SDK costs a few hundred milliseconds to load.
      const { LambdaBackend } = require('./backends/lambda') as typeof import('./backends/lambda');
      backend = new LambdaBackend({
        functionName: options.function!,
        qualifier: options.qualifier,
        region: options.region,
        cacheDir,
        invokeTimeoutMs: options.invokeTimeoutMs,
        store: options.bucket ? { kind: 's3', bucket: options.bucket, prefix: options.bucketPrefix, region: options.region } : undefined,
      });
    } else {
      backend = new LocalBackend({ workers, cacheDir, forceColor: jest.forceColor, workerIdleMemoryLimit });
    }
    backends.set(key, backend);
  }
  return backend;
}

/** What crosses to a remote process: Jest's own NODE_ENV, locale and time zone, and an allowlist. */
function forwardedEnv(allow: string[], forceColor: boolean): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ['NODE_ENV', 'TZ', 'CI', 'LANG', 'LC_ALL', ...allow]) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  // Matcher messages (and so snapshots) depend on colour: use the decision Jest's workers would get.
  env.FORCE_COLOR = forceColor ? '1' : '0';
  if (process.env.NO_COLOR !== undefined) env.NO_COLOR = process.env.NO_COLOR;
  return env;
}

function stringsOf(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) stringsOf(v, out);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) stringsOf(v, out);
  return out;
}

function jsonClone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
