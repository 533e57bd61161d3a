/**
 * A large manifest (tens of thousands of node_modules files) travels as content-addressed parts,
 * so a run that changes one file ships one small part, not the whole listing again. Entries are
 * sorted by path and cut where a hash of the path hits a boundary (content-defined chunking, as
 * rsync and backup tools do): adding or changing one entry changes only the part it falls in.
 * Used on both sides; parts are validated by the same schema as any manifest after merging.
 */
import { ManifestPartSchema, ProtocolError, parseAt, type Hash, type Manifest, type ManifestPart } from '../protocol';
import { sha256 } from './sha256';

/** On average one boundary per this many entries (a part of ~10 KB compressed). */
const AVERAGE_PART_ENTRIES = 512;

type Entry = ManifestPart[number];

export interface SplitManifest {
  /** The manifest that travels in the project description: no entries of its own, only parts. */
  root: Manifest;
  parts: Map<Hash, Buffer>;
}

export function splitManifest(manifest: Manifest, average = AVERAGE_PART_ENTRIES): SplitManifest {
  const entries: Entry[] = [
    ...manifest.files.map((f): Entry => (f.executable ? ['f', f.path, f.hash, f.size, 1] : ['f', f.path, f.hash, f.size])),
    ...manifest.links.map((l): Entry => ['l', l.path, l.target]),
    ...manifest.dirs.map((d): Entry => ['d', d]),
    ...(manifest.packDirs ?? []).map((d): Entry => ['p', d]),
  ].sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : a[0] < b[0] ? -1 : 1));
  const parts = new Map<Hash, Buffer>();
  let current: Entry[] = [];
  const cut = () => {
    if (current.length === 0) return;
    const bytes = Buffer.from(JSON.stringify(current));
    parts.set(sha256(bytes), bytes);
    current = [];
  };
  for (const entry of entries) {
    current.push(entry);
    if (fnv1a(entry[1]) % average === 0) cut();
  }
  cut();
  return { root: { files: [], links: [], dirs: [], parts: [...parts.keys()] }, parts };
}

/**
 * The whole manifest from a root and the bytes of its parts (already checked against their hashes).
 * Each part is validated as it is read, so the merged manifest needs no second pass.
 */
export function mergeManifest(root: Manifest, partBytes: (hash: Hash) => Buffer): Manifest {
  const merged: Manifest & { packDirs: string[] } = {
    files: [...root.files],
    links: [...root.links],
    dirs: [...root.dirs],
    packDirs: [...(root.packDirs ?? [])],
  };
  for (const hash of root.parts ?? []) {
    let json: unknown;
    try {
      json = JSON.parse(partBytes(hash).toString('utf8'));
    } catch (error) {
      throw new ProtocolError(`Manifest part ${hash} is not JSON: ${(error as Error).message}`);
    }
    for (const e of parseAt(ManifestPartSchema, json, `manifest part ${hash}`)) {
      if (e[0] === 'f') merged.files.push({ path: e[1], hash: e[2], size: e[3], ...(e[4] ? { executable: true } : {}) });
      else if (e[0] === 'l') merged.links.push({ path: e[1], target: e[2] });
      else if (e[0] === 'd') merged.dirs.push(e[1]);
      else merged.packDirs.push(e[1]);
    }
  }
  return merged;
}

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
