/** `npm pack` this package and install it, next to the Jest version we test with, into a project. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO } from './run-jest';

export function packRunner(destination: string): string {
  const out = execFileSync('npm', ['pack', '--silent', '--ignore-scripts', '--pack-destination', destination], { cwd: REPO, encoding: 'utf8' });
  return path.join(destination, out.trim().split('\n').pop()!);
}

/**
 * Installs the tarball next to `jest` and any `extras` (package names), each at the version this
 * repository itself has installed, so consumer projects match what the examples were written for.
 */
export function installWithJest(project: string, tarball: string, extras: string[] = []): void {
  const versionOf = (name: string) =>
    (JSON.parse(fs.readFileSync(require.resolve(`${name}/package.json`, { paths: [REPO] }), 'utf8')) as { version: string }).version;
  const packages = ['jest', ...extras].map((name) => `${name}@${versionOf(name)}`);
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--save-dev', ...packages, tarball], {
    cwd: project,
    stdio: 'pipe',
    timeout: 300_000,
  });
}

/**
 * A consumer project in a new temporary folder (`<work>/project`, a git root of its own) with the
 * packed runner installed next to Jest and `extras`.
 */
export function consumerProject(prefix: string, name: string, extras: string[] = []): { work: string; project: string; tarball: string } {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const project = path.join(work, 'project');
  fs.mkdirSync(path.join(project, '.git'), { recursive: true });
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name, private: true }));
  const tarball = packRunner(work);
  installWithJest(project, tarball, extras);
  return { work, project, tarball };
}
