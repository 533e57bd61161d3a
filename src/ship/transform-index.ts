/**
 * The runner's list of the transforms the function's environments made for one project (see
 * handler/transforms.ts): kept in the runner's cache between runs, published each run as a blob of
 * the store for environments to bring in before they run. Entries never seen again age out first
 * once the whole would exceed a cap, so a long-lived project does not drag every old transform along.
 */
import fs from 'node:fs';
import path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import type { TransformEntry } from '../protocol';

/** Most bytes of transforms an environment brings in. */
const MAX_INDEX_BYTES = 256 * 1024 * 1024;
const VERSION = 1;

type Kept = [hash: string, pack: string, size: number, run: number];

export class TransformIndex {
  readonly #file: string;
  readonly #entries: Map<string, Kept>;
  /** This run's number: entries reported in later runs are kept before older ones. */
  readonly #run: number;
  #dirty = false;

  constructor(file: string) {
    this.#file = file;
    const stored = read(file);
    this.#entries = new Map(stored.entries);
    this.#run = stored.run + 1;
  }

  get size(): number {
    return this.#entries.size;
  }

  add(entries: TransformEntry[]): void {
    for (const [at, hash, pack, size] of entries) this.#entries.set(at, [hash, pack, size, this.#run]);
    if (entries.length > 0) this.#dirty = true;
  }

  /** The index as it travels: the newest entries up to the cap, by path; undefined when empty. */
  encoded(): Buffer | undefined {
    const newest = [...this.#entries].sort((a, b) => b[1][3] - a[1][3]);
    const kept: TransformEntry[] = [];
    let bytes = 0;
    for (const [at, [hash, pack, size]] of newest) {
      if (bytes + size > MAX_INDEX_BYTES) break;
      bytes += size;
      kept.push([at, hash, pack, size]);
    }
    if (kept.length === 0) return undefined;
    kept.sort((a, b) => (a[0] < b[0] ? -1 : 1));
    return Buffer.from(JSON.stringify(kept));
  }

  save(): void {
    if (!this.#dirty) return;
    fs.mkdirSync(path.dirname(this.#file), { recursive: true });
    writeFileAtomic.sync(this.#file, JSON.stringify({ version: VERSION, run: this.#run, entries: [...this.#entries] }), { fsync: false });
    this.#dirty = false;
  }
}

function read(file: string): { run: number; entries: Array<[string, Kept]> } {
  try {
    const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as { version: number; run: number; entries: Array<[string, Kept]> };
    if (parsed.version === VERSION && Array.isArray(parsed.entries)) return parsed;
  } catch {
    // (none yet)
  }
  return { run: 0, entries: [] };
}
