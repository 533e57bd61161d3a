/**
 * Notices, while a file runs in a tree that holds only some of the project's installed packages,
 * every package the run reaches for and does not find although the project has it: a module that
 * does not resolve (through Jest's resolver for the test's own modules, through Node's for what
 * runs outside Jest's sandbox: transformers, presets, the environment), or a path inside such a
 * package that does not exist (a fixture read from a package, an `existsSync` probe). It is noted
 * even when the code under test catches the error, since the code then takes another branch than
 * on the developer's machine. The handler fetches what was noted and runs the file again.
 */
import fs from 'node:fs';
import Module from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PackageIndex } from '../src/ship/packages';
import { packageNameOf } from '../src/ship/packages';

export class MissWatch {
  /** Packages the file's own modules reached for. */
  readonly file = new Set<string>();
  /** Packages reached for outside the test's module registry (needed by every file). */
  readonly project = new Set<string>();
  readonly #root: string;
  readonly #index: PackageIndex;
  readonly #present: ReadonlySet<string>;

  /** `root`: the tree's folder; `present`: the packages it holds. */
  constructor(root: string, index: PackageIndex, present: ReadonlySet<string>) {
    this.#root = root;
    this.#index = index;
    this.#present = present;
  }

  get empty(): boolean {
    return this.file.size === 0 && this.project.size === 0;
  }

  /** `request` did not resolve from module `from` (an absolute path, or none). */
  module(from: string | undefined, request: string, scope: 'file' | 'project'): void {
    if (path.isAbsolute(request)) return this.path(request, scope);
    const name = packageNameOf(request);
    if (!name) return;
    const fromKey = from ? this.#key(path.dirname(from)) : '';
    this.#note(this.#index.lookup(fromKey ?? '', name), scope);
  }

  /**
   * `abs` was not found (or reached for) inside the tree. `scope` unknown: the file's when a module
   * of the project is on the stack (the test's code reached for it), else every file's (Jest, a
   * transformer: TypeScript looking through node_modules/@types).
   */
  path(abs: string, scope?: 'file' | 'project'): void {
    const key = this.#key(abs);
    if (key !== undefined) this.#note(this.#index.packOf(key), scope);
  }

  #note(pack: string | undefined, scope: 'file' | 'project' | undefined): void {
    if (pack === undefined || this.#present.has(pack)) return;
    if ((scope ?? this.#scopeOfCaller()) === 'project') this.project.add(pack);
    else this.file.add(pack);
  }

  #scopeOfCaller(): 'file' | 'project' {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 64;
    const stack = new Error().stack ?? '';
    Error.stackTraceLimit = limit;
    for (const m of stack.matchAll(/\(?(\/[^():]+):\d+:\d+\)?$/gm)) {
      const key = this.#key(m[1]!);
      if (key !== undefined && !key.split('/').includes('node_modules')) return 'file';
    }
    return 'project';
  }

  #key(abs: string): string | undefined {
    if (!abs.startsWith(this.#root + path.sep)) return undefined;
    return abs
      .slice(this.#root.length + 1)
      .split(path.sep)
      .join('/');
  }
}

type ResolverClass = Record<string, unknown>;
type AnyFunction = (...args: unknown[]) => unknown;

/** This module's file (the handler's bundle, once built): frames of our wrappers name it. */
const OWN_FILE = __filename;

/**
 * A stand-in for `original` that leaves no trace: errors thrown through it carry the stack they
 * would have had without it (its frame taken out, and one frame more captured so the count stays).
 */
function passThrough(
  original: AnyFunction,
  after: (args: unknown[], result: unknown, error: unknown) => void,
  prepare?: (args: unknown[]) => void,
): AnyFunction {
  const wrapped = function (this: unknown, ...args: unknown[]) {
    prepare?.(args);
    const limit = Error.stackTraceLimit;
    if (typeof limit === 'number') Error.stackTraceLimit = limit + 1;
    let result: unknown;
    try {
      result = original.apply(this, args);
    } catch (error) {
      withoutOwnFrames(error);
      after(args, undefined, error);
      throw error;
    } finally {
      Error.stackTraceLimit = limit;
    }
    after(args, result, undefined);
    return result;
  };
  Object.defineProperties(wrapped, Object.getOwnPropertyDescriptors(original));
  return wrapped;
}

function withoutOwnFrames(error: unknown): void {
  const e = error as { stack?: unknown } | null;
  if (!e || typeof e !== 'object' || typeof e.stack !== 'string' || !e.stack.includes(OWN_FILE)) return;
  try {
    e.stack = e.stack
      .split('\n')
      .filter((line) => !(line.trimStart().startsWith('at ') && line.includes(OWN_FILE)))
      .join('\n');
  } catch {
    // (a frozen error keeps its stack)
  }
}

/**
 * Runs `run` with the watch listening: Node's module resolution, the project's Jest resolver
 * (`Resolver`, the user's jest-resolve: where it looks for node modules), and `fs` (sync and
 * callback forms of the calls that look for a path). Everything is put back afterwards.
 */
export async function watchingMisses<T>(watch: MissWatch, Resolver: ResolverClass | undefined, run: () => Promise<T>): Promise<T> {
  const restores: Array<() => void> = [];
  const replace = (owner: Record<string, unknown>, name: string, wrap: (original: AnyFunction) => AnyFunction) => {
    const original = owner[name];
    if (typeof original !== 'function') return;
    owner[name] = wrap(original as AnyFunction);
    restores.push(() => (owner[name] = original));
  };
  const notFound = (error: unknown) => {
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    return code === 'ENOENT' || code === 'ENOTDIR';
  };
  const notePath = (p: unknown) => {
    const abs = typeof p === 'string' ? p : p instanceof URL && p.protocol === 'file:' ? fileURLToPath(p) : undefined;
    if (abs) watch.path(path.resolve(abs));
  };

  // Node's resolution: what runs outside Jest's module registry (transformers and their presets, Jest).
  replace(Module as unknown as Record<string, unknown>, '_resolveFilename', (original) =>
    passThrough(original, (args, _result, error) => {
      if ((error as NodeJS.ErrnoException | undefined)?.code === 'MODULE_NOT_FOUND' && typeof args[0] === 'string') {
        watch.module((args[1] as { filename?: string } | undefined)?.filename, args[0], 'project');
      }
    }),
  );
  // Jest's resolution of the test's own modules: a node module it looks for and does not find.
  if (Resolver) {
    const missed = (args: unknown[]) => {
      const basedir = (args[1] as { basedir?: unknown } | undefined)?.basedir;
      if (typeof args[0] === 'string' && typeof basedir === 'string') watch.module(path.join(basedir, 'index.js'), args[0], 'file');
    };
    replace(Resolver, 'findNodeModule', (original) =>
      passThrough(original, (args, result, error) => {
        if (error !== undefined || result === null) missed(args);
      }),
    );
    replace(Resolver, 'findNodeModuleAsync', (original) =>
      passThrough(original, (args, result) => {
        if (result instanceof Promise)
          result.then(
            (found) => found === null && missed(args),
            () => missed(args),
          );
      }),
    );
  }
  // Paths looked for in the tree.
  const fsRecord = fs as unknown as Record<string, unknown>;
  for (const name of ['statSync', 'lstatSync', 'readFileSync', 'readdirSync', 'openSync', 'accessSync', 'realpathSync', 'opendirSync', 'readlinkSync']) {
    replace(fsRecord, name, (original) =>
      passThrough(original, (args, result, error) => {
        if (notFound(error)) notePath(args[0]);
        // (statSync(p, { throwIfNoEntry: false }) answers undefined)
        else if (error === undefined && result === undefined && (name === 'statSync' || name === 'lstatSync')) notePath(args[0]);
      }),
    );
  }
  replace(fsRecord, 'existsSync', (original) =>
    passThrough(original, (args, result) => {
      if (result === false) notePath(args[0]);
    }),
  );
  const ignore = () => {};
  for (const name of ['stat', 'lstat', 'readFile', 'readdir', 'open', 'access', 'realpath', 'opendir', 'readlink']) {
    replace(fsRecord, name, (original) =>
      passThrough(original, ignore, (args) => {
        const last = args.length - 1;
        const callback = args[last];
        if (typeof callback !== 'function') return;
        const at = args[0];
        args[last] = function (this: unknown, error: unknown, ...rest: unknown[]) {
          if (notFound(error)) notePath(at);
          return (callback as AnyFunction).call(this, error, ...rest);
        };
      }),
    );
  }
  // (not fs.promises: seeing a rejection means handling it, and an unhandled one must stay unhandled)
  try {
    return await run();
  } finally {
    for (const restore of restores.reverse()) restore();
  }
}
