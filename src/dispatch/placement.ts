/**
 * Which test files of a Lambda run stay on this machine from the start: those the `runLocally`
 * globs name, and those remembered from an earlier run where the file's remote failure looked
 * environmental (kept in the runner's cache, per project; Jest's --clearCache forgets them).
 */
import fs from 'node:fs';
import path from 'node:path';
import picomatch from 'picomatch';
import writeFileAtomic from 'write-file-atomic';
import { sha256 } from '../ship/sha256';

interface Remembered {
  /** The remote error that sent the file here, as the summary printed it. */
  reason: string;
  /** When (ISO date). */
  since: string;
}

export class Placement {
  readonly #rootDir: string;
  readonly #file: string;
  readonly #globs: (relative: string) => boolean;
  readonly #remembered: Record<string, Remembered>;
  #dirty = false;

  constructor(cacheDir: string, rootDir: string, runLocally: string[]) {
    this.#rootDir = rootDir;
    this.#file = path.join(cacheDir, 'run-locally', `${sha256(rootDir).slice(0, 16)}.json`);
    this.#globs = runLocally.length > 0 ? picomatch(runLocally, { dot: true }) : () => false;
    this.#remembered = read(this.#file);
  }

  /** Why a file runs here from the start, if it does. */
  localReason(testPath: string): string | undefined {
    const relative = this.#relative(testPath);
    if (this.#globs(relative)) return 'runLocally';
    const known = this.#remembered[relative];
    return known && `remembered: ${known.reason}`;
  }

  remember(testPath: string, reason: string): void {
    this.#remembered[this.#relative(testPath)] = { reason, since: new Date().toISOString() };
    this.#dirty = true;
  }

  save(): void {
    if (!this.#dirty) return;
    fs.mkdirSync(path.dirname(this.#file), { recursive: true });
    writeFileAtomic.sync(this.#file, JSON.stringify(this.#remembered, null, 1), { fsync: false });
    this.#dirty = false;
  }

  #relative(testPath: string): string {
    return path.relative(this.#rootDir, testPath).split(path.sep).join('/');
  }
}

function read(file: string): Record<string, Remembered> {
  try {
    const value = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, Remembered>) : {};
  } catch {
    return {};
  }
}
