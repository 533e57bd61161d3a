/**
 * What git knows about a few files: which are tracked (project content, shipped as they are) and,
 * for `ls`, which folders it ignores. One `git ls-files` per repository, for the files asked about
 * only; without git (not a repository, git not installed) nothing is tracked.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** The subset of `files` (absolute paths) that git tracks, asked once per repository holding some. */
export function trackedAmong(files: string[]): Set<string> {
  const tracked = new Set<string>();
  const byRepo = new Map<string, string[]>();
  for (const file of files) {
    const root = repoRootOf(path.dirname(file));
    if (root) byRepo.set(root, [...(byRepo.get(root) ?? []), file]);
  }
  for (const [root, inRepo] of byRepo) {
    // (a long list is asked as the whole index instead: command lines have a limit)
    const pathspecs = inRepo.length <= 500 ? inRepo.map((f) => `:(literal)${path.relative(root, f)}`) : [];
    const listed = git(root, ['ls-files', '-z', '--cached', '--', ...pathspecs]);
    if (listed === undefined) continue;
    const asked = new Set(inRepo);
    for (const rel of listed.split('\0')) {
      const abs = path.join(root, rel);
      if (rel && asked.has(abs)) tracked.add(abs);
    }
  }
  return tracked;
}

/** Files and folders (absolute; folders end with a separator) git ignores under `dir`, or undefined without git. */
export function ignoredUnder(dir: string): string[] | undefined {
  const root = repoRootOf(dir);
  if (!root) return undefined;
  const listed = git(root, [
    'ls-files',
    '-z',
    '--others',
    '--ignored',
    '--exclude-standard',
    '--directory',
    '--',
    `:(literal)${path.relative(root, dir) || '.'}`,
  ]);
  return listed
    ?.split('\0')
    .filter(Boolean)
    .map((rel) => (rel.endsWith('/') ? path.join(root, rel.slice(0, -1)) + path.sep : path.join(root, rel)));
}

const roots = new Map<string, string | undefined>();

/** The nearest folder at or above `dir` holding `.git` (a folder, or a worktree's file). */
function repoRootOf(dir: string): string | undefined {
  if (roots.has(dir)) return roots.get(dir);
  const parent = path.dirname(dir);
  const root = fs.existsSync(path.join(dir, '.git')) ? dir : parent === dir ? undefined : repoRootOf(parent);
  roots.set(dir, root);
  return root;
}

function git(cwd: string, args: string[]): string | undefined {
  const env = { ...process.env };
  // (a run from inside a git hook inherits these, which would point git at another repository)
  for (const name of ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE', 'GIT_PREFIX']) delete env[name];
  const r = spawnSync('git', args, { cwd, env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'] });
  return r.status === 0 ? r.stdout : undefined;
}
