/**
 * `npx jest-runner-remote-lambda ls`: what a run from this folder would ship to Lambda, project by
 * project (read with the project's own jest-config, as Jest reads it), by top folder with sizes and
 * counts; what is held back and why; and what git ignores but is shipped anyway (build outputs
 * tests import, generated code), which is where to look for what `exclude` could save.
 */
import path from 'node:path';
import type { Config } from '@jest/types';
import { RemoteRunnerError } from '../errors';
import { ignoredUnder } from '../mirror/git';
import { holdBack, type HeldBack } from '../mirror/hold-back';
import { cachesOf, mirrorInputOf } from '../mirror/prepare';
import { buildMirror, type Mirror } from '../mirror/walk';
import { envName, resolveOptions } from '../options';

type ReadConfigs = (argv: Config.Argv, projectPaths: string[]) => Promise<{ globalConfig: Config.GlobalConfig; configs: Config.ProjectConfig[] }>;

export async function ls(out: (s: string) => void, cwd = process.cwd()): Promise<number> {
  const { globalConfig, configs } = await jestConfigs(cwd);
  for (const config of configs) {
    const options = resolveOptions(config.rootDir, (config as { runnerOptions?: unknown }).runnerOptions);
    const cacheDir = options.cacheDirectory ?? path.join(config.cacheDirectory, 'remote-lambda');
    const { hashes, scans } = cachesOf(cacheDir, config);
    const mirror = buildMirror(mirrorInputOf(config, options, { cacheDir, coverageDirectory: globalConfig.coverageDirectory, remote: true }), hashes);
    const { mirror: shipped, heldBack } = holdBack(mirror, { rootDir: config.rootDir, include: options.include, scans });
    hashes.save();
    scans.save();
    const name = config.displayName?.name ? `project ${config.displayName.name}, ` : '';
    out(`What a run on Lambda ships for ${name}rootDir ${config.rootDir} (paths relative to ${shipped.localBase}):\n`);
    out(table(byTopFolder(shipped)));
    out(`  total: ${count(shipped.manifest.files.length)}, ${size(shipped.bytes)}\n`);
    if (options.backend === 'local' && !options.isolate)
      out('  (backend "local" runs in place: nothing travels; this is what "isolate" or the lambda backend copy)\n');
    const ignored = ignoredButShipped(shipped);
    if (ignored.length > 0) {
      out('\nIgnored by git but shipped (tests may import them: generated code, built packages; "exclude" what no test needs):\n');
      out(table(ignored));
    }
    out(heldBackSection(heldBack, config.rootDir));
    out('\n');
  }
  return 0;
}

export async function jestConfigs(cwd: string): Promise<{ globalConfig: Config.GlobalConfig; configs: Config.ProjectConfig[] }> {
  // jest-config as the project's own Jest has it (pnpm keeps it beside jest-cli or @jest/core)
  const from = ['jest', 'jest-cli', '@jest/core'].flatMap((pkg) => {
    try {
      return [path.dirname(require.resolve(`${pkg}/package.json`, { paths: [cwd] }))];
    } catch {
      return [];
    }
  });
  for (const dir of [...from, cwd]) {
    let resolved: string;
    try {
      resolved = require.resolve('jest-config', { paths: [dir] });
    } catch {
      continue;
    }
    const { readConfigs } = require(resolved) as { readConfigs: ReadConfigs };
    return readConfigs({ $0: 'jest', _: [] } as unknown as Config.Argv, [cwd]);
  }
  throw new RemoteRunnerError(
    'JEST_NOT_FOUND',
    `Could not find Jest's jest-config from ${cwd}.\nRun ls from the folder you run npx jest in, after npm install --save-dev jest.`,
  );
}

type Row = [label: string, files: number, bytes: number, note?: string];

/** Files by their first folder (node_modules with its package count; loose files of the base together). */
function byTopFolder(m: Mirror): Row[] {
  const rows = new Map<string, Row>();
  for (const f of m.manifest.files) {
    const slash = f.path.indexOf('/');
    const label = slash === -1 ? '(files at the top)' : `${f.path.slice(0, slash)}/`;
    const row = rows.get(label) ?? [label, 0, 0];
    row[1]++;
    row[2] += f.size;
    rows.set(label, row);
  }
  const packages = m.manifest.packDirs?.length ?? 0;
  const nm = rows.get('node_modules/');
  if (nm && packages > 0) nm[3] = `${packages} packages, one pack each`;
  return [...rows.values()].sort((a, b) => b[2] - a[2]);
}

/** Shipped files (outside node_modules) under what git ignores, by the ignored file or folder. */
function ignoredButShipped(m: Mirror): Row[] {
  const ignored = ignoredUnder(m.localBase)?.filter((p) => !p.split(path.sep).includes('node_modules'));
  if (!ignored || ignored.length === 0) return [];
  const rows = new Map<string, Row>();
  for (const f of m.manifest.files) {
    if (f.path.split('/').includes('node_modules')) continue;
    const abs = path.join(m.localBase, ...f.path.split('/'));
    const under = ignored.find((p) => (p.endsWith(path.sep) ? abs.startsWith(p) : abs === p));
    if (!under) continue;
    const label = path.relative(m.localBase, under).split(path.sep).join('/') + (under.endsWith(path.sep) ? '/' : '');
    const row = rows.get(label) ?? [label, 0, 0];
    row[1]++;
    row[2] += f.size;
    rows.set(label, row);
  }
  return [...rows.values()].sort((a, b) => b[2] - a[2]);
}

function heldBackSection(held: HeldBack[], rootDir: string): string {
  if (held.length === 0) return '\nHeld back: nothing (no file looks like a secret).\n';
  const lines = held.map((h) => `  ${path.relative(rootDir, h.file).split(path.sep).join('/')}  ${h.reason}`);
  return (
    `\nHeld back on this machine (${held.length}, they look like secrets; list one in "include" or ${envName('include')} to ship it):\n` +
    `${lines.join('\n')}\n`
  );
}

function table(rows: Row[]): string {
  const width = Math.max(...rows.map((r) => r[0].length));
  return rows
    .map(([label, files, bytes, note]) => `  ${label.padEnd(width)}  ${count(files).padStart(12)}  ${size(bytes).padStart(9)}${note ? `  (${note})` : ''}\n`)
    .join('');
}

function size(bytes: number): string {
  return bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function count(files: number): string {
  return `${files} file${files === 1 ? '' : 's'}`;
}
