/**
 * Private run directories of the embedded backend with `isolate`: one per project and checkout,
 * held with a lock file naming its process, so a concurrent run of the same checkout gets its own.
 */
import fs from 'node:fs';
import path from 'node:path';
import { sha256 } from '../../ship/sha256';

export class RunDirectories {
  readonly #rootsDir: string;
  readonly #held = new Map<string, { dir: string; lock: string }>();

  constructor(cacheDir: string) {
    this.#rootsDir = path.join(cacheDir, 'roots');
  }

  /** The prefix under which the tree of (checkout, project) is materialized. */
  prefixFor(localBase: string, configId: string): string {
    const key = `${localBase}\0${configId}`;
    const known = this.#held.get(key);
    if (known) return known.dir;
    const name = sha256(key).slice(0, 16);
    fs.mkdirSync(this.#rootsDir, { recursive: true });
    for (const dir of [path.join(this.#rootsDir, name), path.join(this.#rootsDir, `${name}-${process.pid}`)]) {
      const lock = `${dir}.lock`;
      if (takeLock(lock)) {
        this.#held.set(key, { dir, lock });
        return dir;
      }
    }
    throw new Error(`Could not lock a run directory under ${this.#rootsDir}.`);
  }

  release(): void {
    for (const { lock } of this.#held.values()) fs.rmSync(lock, { force: true });
    this.#held.clear();
  }
}

function takeLock(lock: string): boolean {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: 'wx' });
      return true;
    } catch {
      const owner = Number(fs.readFileSync(lock, 'utf8'));
      if (owner === process.pid) return true;
      if (owner > 0 && isAlive(owner)) return false;
      fs.rmSync(lock, { force: true }); // stale: its process is gone
    }
  }
  return false;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
