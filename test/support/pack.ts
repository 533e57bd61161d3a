/** `npm pack` this package and install it, next to the Jest version we test with, into a project. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO } from './run-jest';

export function packRunner(destination: string): string {
  const out = execFileSync('npm', ['pack', '--silent', '--ignore-scripts', '--pack-destination', destination], { cwd: REPO, encoding: 'utf8' });
  return path.join(destination, out.trim().split('\n').pop()!);
}

export function installWithJest(project: string, tarball: string): void {
  const jestVersion = (JSON.parse(fs.readFileSync(require.resolve('jest/package.json'), 'utf8')) as { version: string }).version;
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--save-dev', `jest@${jestVersion}`, tarball], {
    cwd: project,
    stdio: 'pipe',
    timeout: 300_000,
  });
}
