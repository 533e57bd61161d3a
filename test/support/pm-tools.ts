/**
 * Package managers other than npm, installed from the npm registry into a folder of the test (never
 * globally, never through corepack), and run with node as a user's shell would run them.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** Pinned, so `--prefer-offline` finds them in npm's cache and a new release cannot change the test. */
export const VERSIONS = { pnpm: '12.21.0', yarn: '1.22.22', berry: '4.18.1' } as const;

export type Manager = keyof typeof VERSIONS;

export interface Tools {
  /** Command line (node + script) of each manager. */
  command: Record<Manager, string[]>;
  /** The registry npm itself uses here; yarn (both) is pointed at it too. */
  registry: string;
}

export function installTools(dir: string): Tools {
  const packages = [`pnpm@${VERSIONS.pnpm}`, `yarn@${VERSIONS.yarn}`, `@yarnpkg/cli-dist@${VERSIONS.berry}`];
  fs.mkdirSync(dir, { recursive: true });
  try {
    // --ignore-scripts: pnpm's install script only swaps its bin for a native one; we run its JS entry.
    execFileSync('npm', ['install', '--prefix', dir, '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts', '--no-save', ...packages], {
      stdio: 'pipe',
      timeout: 180_000,
      env: cleanEnv(),
    });
  } catch (error) {
    const e = error as { stderr?: Buffer; message: string };
    throw new Error(`Could not install ${packages.join(', ')} from the npm registry into ${dir}:\n${e.stderr?.toString() || e.message}`, { cause: error });
  }
  const entry = (relative: string) => {
    const file = path.join(dir, 'node_modules', relative);
    if (!fs.existsSync(file)) throw new Error(`Installed the package managers into ${dir}, but ${file} is missing.`);
    return [process.execPath, file];
  };
  const command: Record<Manager, string[]> = {
    pnpm: entry('pnpm/bin/pnpm.mjs'),
    yarn: entry('yarn/bin/yarn.js'),
    berry: entry('@yarnpkg/cli-dist/bin/yarn.js'),
  };
  for (const [manager, argv] of Object.entries(command) as Array<[Manager, string[]]>) {
    const version = run(argv, ['--version'], dir).stdout.trim();
    if (version !== VERSIONS[manager]) throw new Error(`${argv.join(' ')} --version printed "${version}", expected ${VERSIONS[manager]}.`);
  }
  const registry = execFileSync('npm', ['config', 'get', 'registry'], { encoding: 'utf8', env: cleanEnv() }).trim();
  return { command, registry };
}

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a manager (or anything) in `cwd` as CI would: CI=true, no stdin, no colours. */
export function run(argv: string[], args: string[], cwd: string, env: NodeJS.ProcessEnv = {}, timeout = 300_000): Run {
  const [command, ...rest] = argv;
  const child = spawnSync(command!, [...rest, ...args], {
    cwd,
    env: { ...cleanEnv(), CI: 'true', FORCE_COLOR: '0', NO_COLOR: '1', ...env },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (child.error) throw new Error(`${[command, ...rest, ...args].join(' ')} in ${cwd} could not run: ${child.error.message}`);
  return { status: child.status, stdout: child.stdout, stderr: child.stderr };
}

/** The same, throwing with the whole output unless it exits 0. */
export function runOk(argv: string[], args: string[], cwd: string, env: NodeJS.ProcessEnv = {}, timeout?: number): Run {
  const r = run(argv, args, cwd, env, timeout);
  if (r.status !== 0) {
    throw new Error(`${path.basename(argv[argv.length - 1]!)} ${args.join(' ')} in ${cwd} exited with ${r.status}:\n${r.stdout}\n${r.stderr}`);
  }
  return r;
}

/**
 * This process's environment without what a parent npm/yarn/pnpm or Jest put there (npm_config_*
 * would configure pnpm and yarn v1; YARN_* Berry; JEST_WORKER_ID Jest itself).
 */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of Object.keys(env)) {
    if (/^(npm_|pnpm_|yarn_|berry_)/i.test(key) || key === 'JEST_WORKER_ID' || key === 'INIT_CWD' || key === 'COREPACK_ROOT') delete env[key];
  }
  return env;
}

export function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(dir, name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
  }
}
