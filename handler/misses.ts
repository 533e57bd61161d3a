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

  /** `abs` was not found (or reached for) inside the tree. */
  path(abs: string, scope: 'file' | 'project' = 'file'): void {
    const key = this.#key(abs);
    if (key !== undefined) this.#note(this.#index.packOf(key), scope);
  }

  #note(pack: string | undefined, scope: 'file' | 'project'): void {
    if (pack === undefined || this.#present.has(pack)) return;
    (scope === 'project' ? this.project : this.file).add(pack);
  }

  #key(abs: string): string | undefined {
    if (!abs.startsWith(this.#root + path.sep)) return undefined;
    return abs
      .slice(this.#root.length + 1)
      .split(path.sep)
      .join('/');
  }
}

type ResolverClass = { prototype: Record<string, unknown> };
type AnyFunction = (...args: unknown[]) => unknown;

/**
 * Runs `run` with the watch listening: Node's module resolution, the prototype of the project's
 * Jest resolver (`Resolver`, the user's jest-resolve), and `fs` (sync, callback and promise forms of
 * the calls that look for a path). Everything is put back afterwards.
 */
export async function watchingMisses<T>(watch: MissWatch, Resolver: ResolverClass | undefined, run: () => Promise<T>): Promise<T> {
  const restores: Array<() => void> = [];
  const replace = (owner: Record<string, unknown>, name: string, wrap: (original: AnyFunction) => AnyFunction) => {
    const original = owner[name];
    if (typeof original !== 'function') return;
    const wrapped = wrap(original as AnyFunction);
    Object.defineProperties(wrapped, Object.getOwnPropertyDescriptors(original));
    owner[name] = wrapped;
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
  const ModuleInternals = Module as unknown as Record<string, unknown>;
  replace(
    ModuleInternals,
    '_resolveFilename',
    (original) =>
      function (this: unknown, ...args: unknown[]) {
        try {
          return original.apply(this, args);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' && typeof args[0] === 'string') {
            watch.module((args[1] as { filename?: string } | undefined)?.filename, args[0], 'project');
          }
          throw error;
        }
      },
  );
  // Jest's resolution of the test's own modules.
  if (Resolver) {
    for (const name of ['resolveModule', 'resolveModuleAsync']) {
      replace(
        Resolver.prototype,
        name,
        (original) =>
          function (this: unknown, ...args: unknown[]) {
            const failed = (error: unknown) => {
              if (typeof args[0] === 'string' && typeof args[1] === 'string') watch.module(args[0], args[1], 'file');
              throw error;
            };
            try {
              const result = original.apply(this, args);
              return result instanceof Promise ? result.catch(failed) : result;
            } catch (error) {
              return failed(error);
            }
          },
      );
    }
  }
  // Paths looked for in the tree.
  const fsRecord = fs as unknown as Record<string, unknown>;
  for (const name of ['statSync', 'lstatSync', 'readFileSync', 'readdirSync', 'openSync', 'accessSync', 'realpathSync', 'opendirSync', 'readlinkSync']) {
    replace(
      fsRecord,
      name,
      (original) =>
        function (this: unknown, ...args: unknown[]) {
          let result: unknown;
          try {
            result = original.apply(this, args);
          } catch (error) {
            if (notFound(error)) notePath(args[0]);
            throw error;
          }
          // (statSync(p, { throwIfNoEntry: false }) answers undefined)
          if (result === undefined && (name === 'statSync' || name === 'lstatSync')) notePath(args[0]);
          return result;
        },
    );
  }
  replace(
    fsRecord,
    'existsSync',
    (original) =>
      function (this: unknown, ...args: unknown[]) {
        const result = original.apply(this, args);
        if (result === false) notePath(args[0]);
        return result;
      },
  );
  for (const name of ['stat', 'lstat', 'readFile', 'readdir', 'open', 'access', 'realpath', 'opendir', 'readlink']) {
    replace(
      fsRecord,
      name,
      (original) =>
        function (this: unknown, ...args: unknown[]) {
          const last = args.length - 1;
          const callback = args[last];
          if (typeof callback === 'function') {
            args[last] = function (this: unknown, error: unknown, ...rest: unknown[]) {
              if (notFound(error)) notePath(args[0]);
              return (callback as AnyFunction).call(this, error, ...rest);
            };
          }
          return original.apply(this, args);
        },
    );
  }
  const promises = fs.promises as unknown as Record<string, unknown>;
  for (const name of ['stat', 'lstat', 'readFile', 'readdir', 'open', 'access', 'realpath', 'opendir', 'readlink']) {
    replace(
      promises,
      name,
      (original) =>
        function (this: unknown, ...args: unknown[]) {
          return (original.apply(this, args) as Promise<unknown>).catch((error: unknown) => {
            if (notFound(error)) notePath(args[0]);
            throw error;
          });
        },
    );
  }
  try {
    return await run();
  } finally {
    for (const restore of restores.reverse()) restore();
  }
}
