/**
 * Finds the user's own Jest packages (the ones running this very `npx jest`), so the handler runs
 * the same major version with the same code, whatever package manager laid them out.
 */
import fs from 'node:fs';
import path from 'node:path';
import { RemoteRunnerError } from '../errors';
import type { JestRuntime } from '../protocol';

export interface LocatedJest extends JestRuntime {
  major: number;
  /** Whether Jest's own workers would force colour (jest-worker asks supports-color). */
  forceColor: boolean;
  testResult: string;
}

let cached: LocatedJest | undefined;

export function locateJest(rootDir: string): LocatedJest {
  if (cached) return cached;
  const bases = [...jestCoreDirsInProcess(), rootDir];
  for (const base of bases) {
    const runner = tryResolve('jest-runner', base);
    if (!runner) continue;
    const runnerDir = packageDirOf(runner);
    const version = (JSON.parse(fs.readFileSync(path.join(runnerDir, 'package.json'), 'utf8')) as { version: string }).version;
    const runtime = tryResolve('jest-runtime', runnerDir);
    const hasteMap = tryResolve('jest-haste-map', runnerDir);
    const testResult = tryResolve('@jest/test-result', runnerDir);
    const worker = tryResolve('jest-worker', runnerDir);
    if (!runtime || !hasteMap || !testResult) continue;
    cached = {
      version,
      major: Number(version.split('.')[0]),
      runner,
      runtime,
      hasteMap,
      testResult,
      forceColor: worker ? supportsColorFrom(packageDirOf(worker)) : Boolean(process.stdout.isTTY),
    };
    return cached;
  }
  throw new RemoteRunnerError(
    'JEST_NOT_FOUND',
    `Could not find the Jest packages (jest-runner, jest-runtime, jest-haste-map) used by this run, from ${rootDir}.\n` +
      'Install Jest 29 or 30 in the project (npm install --save-dev jest) and run it with npx jest.',
  );
}

/** The @jest/core that loaded this runner is the authoritative one (pnpm hides the rest). */
function jestCoreDirsInProcess(): string[] {
  const dirs = new Set<string>();
  for (const file of Object.keys(require.cache)) {
    const at = file.lastIndexOf(`${path.sep}@jest${path.sep}core${path.sep}`);
    if (at !== -1) dirs.add(file.slice(0, at + '/@jest/core/'.length - 1));
  }
  return [...dirs];
}

function tryResolve(request: string, from: string): string | undefined {
  try {
    return require.resolve(request, { paths: [from] });
  } catch {
    return undefined;
  }
}

function packageDirOf(file: string): string {
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`No package.json above ${file}`);
  }
}

function supportsColorFrom(workerDir: string): boolean {
  const resolved = tryResolve('supports-color', workerDir);
  if (!resolved) return Boolean(process.stdout.isTTY);
  const supportsColor = require(resolved) as { stdout?: unknown };
  return Boolean(supportsColor.stdout);
}
