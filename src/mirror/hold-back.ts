/**
 * Nothing secret leaves this machine unless asked for: after the walk, once per project, files
 * that look like credentials are taken out of the mirror.
 *
 * - By name (`.env*`, keys, `.aws/`, `.npmrc` with a token, …), unless git tracks the file: a
 *   committed `.env.test` is project content. Without git every such file is held back.
 * - By content, for every file whose bytes were never scanned before (a persisted set of hashes,
 *   so a warm run reads nothing): high-confidence secret formats (src/mirror/secrets.ts), tracked
 *   or not; a test fixture with a fake key is held back too, and named.
 *
 * Installed packages (node_modules) are exempt from both: they come from a registry (already
 * public), many ship test keys and example `.env` files, and they are most of the bytes.
 * A file listed in `include` (itself, or a folder holding it below rootDir) always travels.
 */
import fs from 'node:fs';
import path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { trackedAmong } from './git';
import { credentialName, RULES_VERSION, scanContent, type Finding } from './secrets';
import type { Mirror } from './walk';

export interface HeldBack {
  /** The local file. */
  file: string;
  /** Its path in the tree (posix, relative to the mirror's base). */
  key: string;
  /** Why, e.g. "an environment file, not tracked by git" or "npm token npm_…(40 chars) at line 3". */
  reason: string;
}

export interface HoldBackInput {
  rootDir: string;
  /** Absolute paths from the `include` option. */
  include: string[];
  scans: ScanCache;
}

export function holdBack(mirror: Mirror, input: HoldBackInput): { mirror: Mirror; heldBack: HeldBack[] } {
  const byName = new Map<string, { abs: string; reason: string }>();
  const reasons = new Map<string, string>();
  const included = includedBy(input.include, input.rootDir);
  for (const f of mirror.manifest.files) {
    if (f.path.split('/').includes('node_modules')) continue;
    const abs = localFileOf(mirror, f.path, f.hash);
    if (included(abs)) continue;
    const findings = input.scans.findings(f.hash, abs, f.size);
    if (findings.length > 0) {
      reasons.set(f.path, findings.map((x) => `${x.what} at line ${x.line}`).join(', '));
      continue;
    }
    const name = credentialName(f.path);
    if (name) byName.set(f.path, { abs, reason: name });
  }
  if (byName.size > 0) {
    const tracked = trackedAmong([...byName.values()].map((c) => c.abs));
    for (const [key, c] of byName) if (!tracked.has(c.abs)) reasons.set(key, `${c.reason}, not tracked by git`);
  }
  if (reasons.size === 0) return { mirror, heldBack: [] };

  const files = mirror.manifest.files.filter((f) => !reasons.has(f.path));
  const kept = new Set(files.map((f) => f.hash));
  const heldBack: HeldBack[] = [];
  let bytes = mirror.bytes;
  const sources = new Map(mirror.sources);
  for (const f of mirror.manifest.files) {
    const reason = reasons.get(f.path);
    if (reason === undefined) continue;
    heldBack.push({ file: localFileOf(mirror, f.path, f.hash), key: f.path, reason });
    bytes -= f.size;
    if (!kept.has(f.hash)) sources.delete(f.hash);
  }
  return { mirror: { ...mirror, manifest: { ...mirror.manifest, files }, sources, bytes }, heldBack };
}

/** Whether an `include` entry names the file, or a folder holding it that is not rootDir or above. */
function includedBy(include: string[], rootDir: string): (abs: string) => boolean {
  const entries = include.map((p) => path.resolve(p)).filter((p) => !(rootDir === p || rootDir.startsWith(p + path.sep)));
  if (entries.length === 0) return () => false;
  return (abs) => entries.some((p) => abs === p || abs.startsWith(p + path.sep));
}

/** The local file for a tree path: where it is in the checkout, else where its bytes came from (a link's target). */
function localFileOf(mirror: Mirror, key: string, hash: string): string {
  const abs = path.join(mirror.localBase, ...key.split('/'));
  return fs.existsSync(abs) ? abs : (mirror.sources.get(hash) ?? abs);
}

/**
 * Verdicts by content hash, kept in the runner's cache: a file's bytes are read and scanned once,
 * ever (a package manager's config, `.npmrc` …, is credential-like only when it holds a token).
 */
export class ScanCache {
  readonly #file: string;
  readonly #verdicts: Map<string, Finding[]>;
  #dirty = false;
  scanned = 0;
  scannedBytes = 0;
  scanMs = 0;

  constructor(file: string) {
    this.#file = file;
    this.#verdicts = new Map(readVerdicts(file));
  }

  findings(hash: string, abs: string, size: number): Finding[] {
    let found = this.#verdicts.get(hash);
    if (!found) {
      const started = performance.now();
      found = scanContent(fs.readFileSync(abs));
      this.scanMs += performance.now() - started;
      this.scanned++;
      this.scannedBytes += size;
      this.#verdicts.set(hash, found);
      this.#dirty = true;
    }
    const name = path.basename(abs);
    return found.filter((f) => f.onlyIn === undefined || f.onlyIn.includes(name));
  }

  save(): void {
    if (!this.#dirty) return;
    fs.mkdirSync(path.dirname(this.#file), { recursive: true });
    writeFileAtomic.sync(this.#file, JSON.stringify({ rules: RULES_VERSION, verdicts: [...this.#verdicts] }), { fsync: false });
    this.#dirty = false;
  }
}

function readVerdicts(file: string): Array<[string, Finding[]]> {
  try {
    const data = JSON.parse(fs.readFileSync(file, 'utf8')) as { rules?: number; verdicts?: Array<[string, Finding[]]> };
    return data.rules === RULES_VERSION && Array.isArray(data.verdicts) ? data.verdicts : [];
  } catch {
    return [];
  }
}
