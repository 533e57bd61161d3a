/**
 * Everything a run decides once, before any file is touched: the options, where the files run
 * (the embedded backend in this process or on its pool, or Lambda), how many at a time, in place or
 * through a mirror, and Jest's own choice of in band or pool, which the remote side reproduces.
 */
import path from 'node:path';
import type { Config } from '@jest/types';
import { RemoteRunnerError } from '../errors';
import { locateJest, type LocatedJest } from '../mirror/jest-locate';
import { resolveOptions } from './resolve';
import type { ResolvedOptions } from './schema';

export interface RunSettings {
  options: ResolvedOptions;
  jest: LocatedJest;
  /** The runner's content store, hash cache and run directories. */
  cacheDir: string;
  /** Files run on Lambda (else on the embedded backend). */
  remote: boolean;
  /** The embedded backend runs the handler in this process, as Jest does in band. */
  inBand: boolean;
  /** Files in flight: Lambda's concurrency, the pool's workers, or 0 in band. */
  workers: number;
  /** The embedded backend runs the checkout itself: no mirror, nothing hashed or shipped. */
  inPlace: boolean;
  /** The path Jest itself would take (its own process, or a pool worker); stack traces differ. */
  mode: 'in-band' | 'worker';
  watchMode: boolean;
  workerIdleMemoryLimit?: number;
  /** Printed before the run when a diagnostic keeps the files in this process. */
  notice?: string;
}

export function resolveRun(globalConfig: Config.GlobalConfig, config: Config.ProjectConfig, runnerOptions: unknown, serial: boolean): RunSettings {
  refuseYarnPnp(config.rootDir);
  const resolved = resolveOptions(config.rootDir, runnerOptions ?? (config as { runnerOptions?: unknown }).runnerOptions);
  // Diagnostics that only work in this process (open-handle detection, a debugger attached to
  // Jest) run the files here, in band, whatever the backend.
  const diagnose = globalConfig.detectOpenHandles ? '--detectOpenHandles' : process.execArgv.find((a) => /^--inspect/.test(a));
  const local = Boolean(diagnose) && resolved.backend === 'lambda';
  const options = local ? { ...resolved, backend: 'local' as const, workers: undefined } : resolved;
  const remote = options.backend === 'lambda';
  // Where Jest would run in band, so do we (in this process), unless `workers` is set explicitly.
  const inBand = !remote && serial && options.workers === undefined;
  const memoryLimit = (globalConfig as { workerIdleMemoryLimit?: unknown }).workerIdleMemoryLimit;
  return {
    options,
    jest: locateJest(config.rootDir),
    cacheDir: options.cacheDirectory ?? path.join(config.cacheDirectory, 'remote-lambda'),
    remote,
    inBand,
    workers: remote ? options.concurrency : inBand ? 0 : (options.workers ?? Math.max(1, globalConfig.maxWorkers)),
    inPlace: !remote && !options.isolate,
    mode: inBand || (remote && serial) ? 'in-band' : 'worker',
    watchMode: globalConfig.watch || globalConfig.watchAll,
    ...(typeof memoryLimit === 'number' ? { workerIdleMemoryLimit: memoryLimit } : {}),
    ...(local && !globalConfig.silent ? { notice: `remote-lambda: ${diagnose} needs the tests in this process: running them locally, in band.` } : {}),
  };
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
