/**
 * A throwaway project for a test: a folder that is a repository root (a `.git` marker, so the
 * mirror stops there), this repository's node_modules linked in (Jest, ts-jest, our runner), a
 * package.json and the files given. `runner: 'remote-lambda'` is the default jest.config.js.
 */
import fs from 'node:fs';
import path from 'node:path';
import { REPO } from './run-jest';

export interface AppSpec {
  /** package.json's name. */
  name: string;
  /** Relative path -> content; parent folders are created. */
  files?: Record<string, string>;
  /** The jest.config.js to write; null writes none. @default runner 'remote-lambda' */
  jestConfig?: string | null;
}

/** Fills `dir` (created if missing) as a project and returns it. */
export function writeApp(dir: string, spec: AppSpec): string {
  fs.mkdirSync(path.join(dir, '.git'), { recursive: true });
  fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(dir, 'node_modules'));
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: spec.name, private: true }));
  const config = spec.jestConfig === undefined ? "module.exports = { runner: 'remote-lambda' };\n" : spec.jestConfig;
  if (config !== null) fs.writeFileSync(path.join(dir, 'jest.config.js'), config);
  for (const [file, content] of Object.entries(spec.files ?? {})) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), content);
  }
  return dir;
}
