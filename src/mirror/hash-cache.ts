/**
 * sha256 of file contents, remembered on disk by (path, size, mtime, ctime, inode) so an
 * unchanged file costs a stat on the next run (the same trick as git's index).
 */
import fs from 'node:fs';
import path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { sha256 } from '../ship/sha256';

type Entry = [size: number, mtimeMs: number, ctimeMs: number, ino: number, hash: string];

export class HashCache {
  readonly #file: string;
  #entries: Map<string, Entry>;
  /** Paths looked at in this run: only they are kept on save, so the file tracks the tree. */
  readonly #seen = new Set<string>();
  #dirty = false;
  hits = 0;
  misses = 0;
  /** Called for each file that had to be read and hashed (progress display). */
  onMiss: (() => void) | undefined;

  constructor(file: string) {
    this.#file = file;
    this.#entries = new Map(readEntries(file));
  }

  hashOf(abs: string, st: fs.Stats): string {
    this.#seen.add(abs);
    const known = this.#entries.get(abs);
    if (known && known[0] === st.size && known[1] === st.mtimeMs && known[2] === st.ctimeMs && known[3] === st.ino) {
      this.hits++;
      return known[4];
    }
    this.misses++;
    this.onMiss?.();
    const hash = sha256(fs.readFileSync(abs));
    this.#entries.set(abs, [st.size, st.mtimeMs, st.ctimeMs, st.ino, hash]);
    this.#dirty = true;
    return hash;
  }

  /** Files the cache knew after the last run (an estimate of this run's work). */
  get size(): number {
    return this.#entries.size;
  }

  save(): void {
    if (!this.#dirty && this.#seen.size === this.#entries.size) return;
    for (const key of this.#entries.keys()) if (!this.#seen.has(key)) this.#entries.delete(key);
    fs.mkdirSync(path.dirname(this.#file), { recursive: true });
    writeFileAtomic.sync(this.#file, JSON.stringify([...this.#entries]), { fsync: false });
    this.#dirty = false;
  }
}

function readEntries(file: string): Array<[string, Entry]> {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Array<[string, Entry]>;
  } catch {
    return [];
  }
}
