/**
 * While a file runs, the process the handler runs it in looks like a Jest worker's: `process.argv`
 * is node and jest-worker's child script (never an emulator's or the Lambda runtime's flags), and
 * on a remote side `PATH` has the project's node_modules/.bin folders in front (as `npm test`,
 * yarn and pnpm put them) and HOME and the temporary folder are writable and private to the run
 * (Lambda's HOME is not writable).
 *
 * A test that calls `process.exit()` does not end this process (a Lambda environment would die
 * with it, a pool worker would be lost): the call is recorded and the file fails with Jest's own
 * message, "process.exit called with …", pointing at the line that called it. Jest's own process
 * (in band on the embedded backend) keeps Jest's behaviour: there the trap is not installed.
 */
import { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SerializedError } from '../src/protocol';

export interface WorkerShape {
  /** argv[1]: jest-worker's child script in the tree the file runs from. */
  workerScript: string;
  /** node_modules/.bin folders to put in front of PATH, nearest first (remote trees only). */
  binDirs?: string[];
  /** A writable HOME and temporary folder for the run (remote only). */
  home?: string;
  tmp?: string;
}

/** Gives the process a Jest worker's shape; returns the function that takes it back. */
export function shapeAsJestWorker(shape: WorkerShape): () => void {
  const saved = { argv: process.argv, PATH: process.env.PATH, HOME: process.env.HOME, TMPDIR: process.env.TMPDIR };
  process.argv = [process.execPath, shape.workerScript];
  if (shape.binDirs?.length) process.env.PATH = [...shape.binDirs, ...(saved.PATH ? [saved.PATH] : [])].join(path.delimiter);
  for (const [name, dir] of [
    ['HOME', shape.home],
    ['TMPDIR', shape.tmp],
  ] as const) {
    if (!dir) continue;
    fs.mkdirSync(dir, { recursive: true });
    process.env[name] = dir;
  }
  return () => {
    process.argv = saved.argv;
    for (const name of ['PATH', 'HOME', 'TMPDIR'] as const) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  };
}

/** jest-worker's child script beside the user's jest-runner (Jest 30: build/, Jest 29: build/workers/). */
export function jestWorkerScript(runnerEntry: string): string {
  let workerDir: string;
  try {
    workerDir = path.dirname(require.resolve('jest-worker/package.json', { paths: [path.dirname(runnerEntry)] }));
  } catch {
    return path.join(path.dirname(runnerEntry), 'testWorker.js');
  }
  const candidates = [path.join(workerDir, 'build', 'processChild.js'), path.join(workerDir, 'build', 'workers', 'processChild.js')];
  return candidates.find((c) => fs.existsSync(c)) ?? candidates[0]!;
}

let trapped: Array<{ error: Error }> | undefined;

/**
 * Stands in for `process.exit` while a file runs. Jest's test environment copies `process` when the
 * file starts, so its tests call this; the handler's own process keeps the real one afterwards. A
 * call after the file ended (a stray timer) is ignored with a line on stderr: there is no file to
 * fail, and ending the process would lose the environment.
 */
function trappedExit(...args: unknown[]): never {
  const error = new Error(`process.exit called with "${args.join(', ')}"`);
  Error.captureStackTrace(error, trappedExit);
  if (!trapped) {
    process.stderr.write(`jest-runner-remote-lambda: ${error.message} outside a test file's run; this process keeps running.\n`);
    return undefined as never;
  }
  trapped.push({ error });
  // Like a real exit, nothing after the call runs; the file is reported failed when it ends.
  throw error;
}

/**
 * Runs `fn` (one file) with process.exit trapped and says whether it was called: the first call,
 * as Jest reports it (its message, and a stack that starts at the caller, as Jest's ErrorWithStack).
 */
export async function watchingExits<T>(fn: () => Promise<T>): Promise<{ value: T; exit?: SerializedError }> {
  const calls: Array<{ error: Error }> = [];
  const realExit = process.exit;
  trapped = calls;
  process.exit = trappedExit as typeof process.exit;
  try {
    const value = await fn();
    const first = calls[0]?.error;
    return first ? { value, exit: { message: first.message, stack: withoutJestWrapper(first.stack ?? ''), type: 'Error' } } : { value };
  } finally {
    process.exit = realExit;
    trapped = undefined;
  }
}

/** Jest wraps process.exit (to print the same message); its frame comes first and is not the user's. */
function withoutJestWrapper(stack: string): string {
  const lines = stack.split('\n');
  const first = lines.findIndex((l) => l.trimStart().startsWith('at '));
  if (first !== -1 && /[\\/]jest-runner[\\/]/.test(lines[first]!)) lines.splice(first, 1);
  return lines.join('\n');
}

/** Programs a file's run tried to start that are not there, while a file runs (else undefined). */
let programsMissing: Set<string> | undefined;
let spawnsWatched = false;
const NOT_THERE = new Set([-os.constants.errno.ENOENT, -os.constants.errno.EACCES]);

/** The program a shell was asked to run (`sh -c "git rev-parse"` -> git), if it was a shell. */
function shellCommand(file: string, args: readonly string[]): string | undefined {
  if (!/(?:^|\/)(?:sh|bash|dash|zsh)$/.test(file)) return undefined;
  const script = args[args.indexOf('-c') + 1];
  return args.includes('-c') && script ? script.trim().split(/\s+/)[0] : undefined;
}

/**
 * Watches every child process the tests start (child_process.spawn, exec, execFile, fork and the
 * libraries built on them; spawnSync, execSync, execFileSync): a program that is not there (ENOENT, EACCES),
 * or a shell that answers 127 ("command not found"), is noted, even when the code under test
 * catches the error (`git rev-parse` failing quietly into a null). A failed file that met one
 * looks environmental to the runner (src/results/environmental.ts) and runs again on the laptop.
 */
function watchSpawns(): void {
  if (spawnsWatched) return;
  spawnsWatched = true;
  // (ChildProcess#spawn is internal: it returns the libuv error, which Node emits as 'error' later)
  type SpawnArgs = { file: string; args?: string[] };
  const proto = ChildProcess.prototype as unknown as { spawn(this: ChildProcess, options: SpawnArgs): number };
  const spawn = proto.spawn;
  proto.spawn = function (this: ChildProcess, options: SpawnArgs) {
    const err = spawn.call(this, options);
    const noted = programsMissing;
    if (noted && NOT_THERE.has(err)) noted.add(path.basename(options.file));
    const command = noted && shellCommand(options.file, options.args ?? []);
    if (noted && command) this.once('exit', (code) => code === 127 && noted.add(command));
    return err;
  };
  // The synchronous ones (spawnSync, execSync, execFileSync) share one binding, which Node still
  // hands out through the deprecated process.binding; a Node without it: async spawns only.
  const sync = syncSpawnBinding();
  if (!sync) return;
  const spawnSync = sync.spawn;
  sync.spawn = function (this: unknown, options: SpawnArgs) {
    const result = spawnSync.call(this, options);
    const noted = programsMissing;
    if (noted && NOT_THERE.has(result.error as number)) noted.add(path.basename(options.file));
    const command = noted && shellCommand(options.file, options.args ?? []);
    if (noted && command && result.status === 127) noted.add(command);
    return result;
  };
}

type SyncSpawn = (options: { file: string; args?: string[] }) => { error?: unknown; status?: number | null };

function syncSpawnBinding(): { spawn: SyncSpawn } | undefined {
  try {
    const binding = (process as unknown as { binding(name: string): { spawn?: SyncSpawn } }).binding('spawn_sync');
    return typeof binding.spawn === 'function' ? (binding as { spawn: SyncSpawn }) : undefined;
  } catch {
    return undefined;
  }
}

/** Runs `fn` (one file) noting the programs its tests tried to start that are not there. */
export async function watchingPrograms<T>(fn: () => Promise<T>): Promise<{ value: T; missing: string[] }> {
  watchSpawns();
  const missing = new Set<string>();
  programsMissing = missing;
  try {
    const value = await fn();
    return { value, missing: [...missing] };
  } finally {
    programsMissing = undefined;
  }
}
