/** `npm pack` this package and install it, next to the Jest version we test with, into a project. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
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
