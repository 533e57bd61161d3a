/**
 * Packages installed for another platform than the function's. A package manager on a Mac lays
 * out `@swc/core-darwin-arm64`, `@esbuild/darwin-arm64`, `@unrs/resolver-binding-darwin-arm64` and
 * the like (optional dependencies with `os`/`cpu`/`libc` fields), which cannot load on Lambda
 * (Linux, x86_64 or arm64, glibc). In the tree that travels, each is replaced by its sibling for
 * the function's platform at the same version: named by the parent's optionalDependencies,
 * fetched once with `npm pack` (so the user's registry, .npmrc, auth and proxies apply as npm
 * applies them), kept in the runner's cache and shipped content-addressed like any package, so a
 * second run fetches nothing.
 *
 * Native files no sibling can replace (compiled on install by node-gyp, or downloaded by an
 * install script) are detected by their headers (ELF, Mach-O, PE, and the architecture) and named,
 * with what to do.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Manifest } from '../protocol';
import type { HashCache } from './hash-cache';
import type { Mirror } from './walk';

export interface TargetPlatform {
  /** process.platform and process.arch of the function: linux, x64 or arm64. */
  os: string;
  cpu: string;
  libc: 'glibc' | 'musl';
}

interface PackageInfo {
  name?: string;
  version?: string;
  os?: string[];
  cpu?: string[];
  libc?: string[];
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

export interface Replacement {
  /** The package installed for this machine, e.g. @swc/core-darwin-arm64@1.15.8. */
  from: string;
  /** Its sibling for the function, e.g. @swc/core-linux-x64-gnu@1.15.8. */
  to: string;
}

export interface ForeignBinary {
  /** The installed package the file belongs to (or its folder). */
  owner: string;
  file: string;
  /** What the file was built for, e.g. "darwin arm64 (Mach-O)". */
  builtFor: string;
}

export interface Retargeted {
  mirror: Mirror;
  replaced: Replacement[];
  /** Packages of another platform with no sibling for the function. */
  unresolved: string[];
  /**
   * Optional dependencies for another platform only, with no sibling for the function (fsevents):
   * left out of the tree, as an install on the function's platform would leave them out.
   */
  omitted: string[];
  /** Native files built for another platform that no replacement covers. */
  binaries: ForeignBinary[];
}

const execFileAsync = promisify(execFile);

/** Whether a package's os/cpu/libc fields (npm's rules: a list, "!x" excludes x) admit `target`. */
export function runsOn(info: PackageInfo, target: TargetPlatform): boolean {
  return admits(info.os, target.os) && admits(info.cpu, target.cpu) && admits(info.libc, target.libc);
}

function admits(list: string[] | undefined, value: string): boolean {
  if (!Array.isArray(list) || list.length === 0) return true;
  if (list.includes(`!${value}`)) return false;
  const positive = list.filter((v) => !v.startsWith('!'));
  return positive.length === 0 || positive.includes(value);
}

/** Installed packages (pack folders) of the manifest with their package.json. */
function packages(mirror: Mirror): Map<string, PackageInfo> {
  const byPath = new Map(mirror.manifest.files.map((f) => [f.path, f]));
  const out = new Map<string, PackageInfo>();
  for (const dir of mirror.manifest.packDirs ?? []) {
    const entry = byPath.get(`${dir}/package.json`);
    const source = entry && mirror.sources.get(entry.hash);
    if (!source) continue;
    try {
      out.set(dir, JSON.parse(fs.readFileSync(source, 'utf8')) as PackageInfo);
    } catch {
      // not a package.json we can read: not a platform package either
    }
  }
  return out;
}

/** The installed packages that cannot run on one of `targets` at least, by folder. */
export function foreignPackages(mirror: Mirror, targets: TargetPlatform[]): Map<string, PackageInfo> {
  const out = new Map<string, PackageInfo>();
  for (const [dir, info] of packages(mirror)) {
    if ((info.os || info.cpu || info.libc) && !targets.every((t) => runsOn(info, t))) out.set(dir, info);
  }
  return out;
}

/**
 * The mirror with a sibling, fetched into the cache once, beside every platform package for each
 * of `targets` it cannot run on (the function's platform; both Lambda architectures while it is
 * not known yet); a package that runs on none of them no longer travels.
 */
export async function retarget(
  mirror: Mirror,
  targets: TargetPlatform[],
  context: { cacheDir: string; projectDir: string; hashes: HashCache },
): Promise<Retargeted> {
  const all = packages(mirror);
  const foreign = foreignPackages(mirror, targets);
  const replaced: Replacement[] = [];
  const unresolved: string[] = [];
  const omitted: string[] = [];
  const files = new Map(mirror.manifest.files.map((f) => [f.path, f]));
  const links = new Map(mirror.manifest.links.map((l) => [l.path, l]));
  const packDirs = new Set(mirror.manifest.packDirs ?? []);
  const sources = new Map(mirror.sources);
  const fetched = new Map<string, string | undefined>();
  for (const [dir, info] of foreign) {
    const name = info.name ?? packageNameOf(dir);
    const id = `${name}@${info.version ?? ''}`;
    const places = placesOf(dir, name, links);
    if (!targets.some((t) => runsOn(info, t))) {
      // Nothing loads the package itself on the function: it travels no more.
      for (const key of [...files.keys()]) if (key.startsWith(`${dir}/`)) files.delete(key);
      packDirs.delete(dir);
      for (const place of places) links.delete(`${place}/${name}`);
    }
    for (const target of targets.filter((t) => !runsOn(info, t))) {
      const key = `${id} ${target.os}-${target.cpu}-${target.libc}`;
      if (!fetched.has(key)) fetched.set(key, await sibling(name, info.version ?? '', all, target, context));
      const extracted = fetched.get(key);
      if (!extracted) {
        const list = optionalEverywhere(name, all) && !targets.some((t) => runsOn(info, t)) ? omitted : unresolved;
        if (!list.includes(id)) list.push(id);
        continue;
      }
      const replacement = JSON.parse(fs.readFileSync(path.join(extracted, 'package.json'), 'utf8')) as PackageInfo;
      const to = `${replacement.name}@${replacement.version}`;
      if (!replaced.some((r) => r.from === id && r.to === to)) replaced.push({ from: id, to });
      for (const place of places) {
        const at = `${place}/${replacement.name}`;
        packDirs.add(at);
        for (const entry of walkFiles(extracted)) {
          const st = fs.statSync(entry.abs);
          const hash = context.hashes.hashOf(entry.abs, st);
          files.set(`${at}/${entry.rel}`, { path: `${at}/${entry.rel}`, hash, size: st.size, ...(st.mode & 0o111 ? { executable: true } : {}) });
          sources.set(hash, entry.abs);
        }
      }
    }
  }
  const manifest: Manifest = {
    ...mirror.manifest,
    files: [...files.values()].sort(byPath),
    links: [...links.values()].sort(byPath),
    ...(packDirs.size > 0 ? { packDirs: [...packDirs].sort() } : {}),
  };
  const out = { ...mirror, manifest, sources };
  return { mirror: out, replaced, unresolved, omitted, binaries: foreignBinaries(out, targets, foreign) };
}

/**
 * The node_modules folders a sibling must go to: where the package is, and where links to it are
 * (pnpm's layout links each dependency beside its dependent).
 */
function placesOf(dir: string, name: string, links: Map<string, unknown>): Set<string> {
  const places = new Set([dir.slice(0, dir.length - name.length - 1)]);
  for (const link of links.keys()) if (link.endsWith(`/node_modules/${name}`)) places.add(link.slice(0, link.length - name.length - 1));
  return places;
}

/** The folder of `name`@`version`'s sibling for `target`, fetched and unpacked into the cache; undefined when there is none. */
async function sibling(
  name: string,
  version: string,
  all: Map<string, PackageInfo>,
  target: TargetPlatform,
  context: { cacheDir: string; projectDir: string },
): Promise<string | undefined> {
  // The parents name the siblings: the optionalDependencies that list this package list them all.
  const candidates = new Map<string, string>();
  for (const info of all.values()) {
    const optional = info.optionalDependencies ?? {};
    if (!(name in optional)) continue;
    for (const [other, range] of Object.entries(optional)) if (other !== name) candidates.set(other, /^\d/.test(range) ? range : version);
  }
  // (a parent's other optional packages may be of another family: rollup lists fsevents beside its own binaries)
  const family = familyOf(name);
  for (const candidate of [...candidates.keys()].filter((c) => namedFor(c, target) && familyOf(c) === family).sort((a, b) => score(b) - score(a))) {
    const dir = await fetchPackage(candidate, candidates.get(candidate)!, context);
    const info = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as PackageInfo;
    if (runsOn(info, target)) return dir;
  }
  return undefined;
}

/** Whether every package that depends on `name` lists it as optional (its absence is expected). */
function optionalEverywhere(name: string, all: Map<string, PackageInfo>): boolean {
  let listed = false;
  for (const info of all.values()) {
    if (info.optionalDependencies && name in info.optionalDependencies) listed = true;
    else if (info.dependencies && name in info.dependencies) return false;
  }
  return listed;
}

const PLATFORM_TOKENS = new Set(
  'darwin linux win32 windows freebsd openbsd netbsd android sunos aix x64 x86_64 amd64 ia32 x86 arm arm64 aarch64 armv7 universal riscv64 ppc64 ppc64le s390x loong64 mips64el wasm32 gnu glibc musl msvc gnueabihf musleabihf eabi'.split(
    ' ',
  ),
);

/** A platform package's name without its platform: `@swc/core-darwin-arm64` and `@swc/core-linux-x64-gnu` are both `@swc/core`. */
export function familyOf(name: string): string {
  const slash = name.startsWith('@') ? name.indexOf('/') + 1 : 0;
  const rest = name
    .slice(slash)
    .split('-')
    .filter((t) => !PLATFORM_TOKENS.has(t.toLowerCase()));
  return `${name.slice(0, slash)}${rest.join('-')}`;
}

const ARCH_TOKENS: Record<string, string[]> = { x64: ['x64', 'x86_64', 'amd64'], arm64: ['arm64', 'aarch64'] };

/** Whether a package's name says it is for `target` (checked against its package.json once fetched). */
function namedFor(name: string, target: TargetPlatform): boolean {
  const tokens = name.toLowerCase().split(/[-_/@.]+/);
  const arch = ARCH_TOKENS[target.cpu] ?? [target.cpu];
  const muslName = tokens.some((t) => t.includes('musl'));
  return tokens.includes(target.os) && tokens.some((t) => arch.includes(t)) && (target.libc === 'musl' ? muslName : !muslName);
}

/** Prefer names that say glibc ("gnu", "glibc") over those that say nothing. */
function score(name: string): number {
  return /(?:^|[-_])(gnu|glibc)(?:$|[-_])/.test(name) ? 1 : 0;
}

/** `npm pack name@version` into the cache (once), unpacked; returns the package folder. */
async function fetchPackage(name: string, version: string, context: { cacheDir: string; projectDir: string }): Promise<string> {
  const dir = path.join(context.cacheDir, 'platform-packages', `${name.replace('/', '+')}@${version}`);
  const packageDir = path.join(dir, 'package');
  if (fs.existsSync(path.join(packageDir, 'package.json'))) return packageDir;
  const { extract } = require('tar') as typeof import('tar');
  const download = `${dir}.download-${process.pid}`;
  fs.mkdirSync(download, { recursive: true });
  try {
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const { stdout } = await execFileAsync(npm, ['pack', `${name}@${version}`, '--json', '--pack-destination', download], {
      cwd: context.projectDir,
      maxBuffer: 16 * 1024 * 1024,
      shell: process.platform === 'win32',
    });
    const [packed] = JSON.parse(stdout) as Array<{ filename: string }>;
    await extract({ file: path.join(download, packed!.filename), cwd: download });
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(download, dir);
  } catch (error) {
    fs.rmSync(download, { recursive: true, force: true });
    throw new Error(`Could not fetch ${name}@${version} with npm pack (for the function's platform): ${(error as Error).message.split('\n')[0]}`, {
      cause: error,
    });
  }
  return packageDir;
}

function* walkFiles(root: string, rel = ''): Generator<{ abs: string; rel: string }> {
  for (const d of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${d.name}` : d.name;
    if (d.isDirectory()) yield* walkFiles(root, r);
    else if (d.isFile()) yield { abs: path.join(root, r), rel: r };
  }
}

/** Native files (.node) in the tree built for a platform none of `targets` is, each named with its package. */
function foreignBinaries(mirror: Mirror, targets: TargetPlatform[], foreign: Map<string, PackageInfo>): ForeignBinary[] {
  const out: ForeignBinary[] = [];
  const packDirs = [...(mirror.manifest.packDirs ?? [])].sort((a, b) => b.length - a.length);
  for (const file of mirror.manifest.files) {
    if (!file.path.endsWith('.node')) continue;
    const source = mirror.sources.get(file.hash);
    const builtFor = source ? binaryPlatform(source) : undefined;
    if (!builtFor || targets.some((t) => builtFor.os === t.os && builtFor.cpu === t.cpu)) continue;
    const owner = packDirs.find((d) => file.path.startsWith(`${d}/`)) ?? path.posix.dirname(file.path);
    if (foreign.has(owner)) continue;
    out.push({ owner: packageNameOf(owner), file: file.path, builtFor: `${builtFor.os} ${builtFor.cpu} (${builtFor.format})` });
  }
  return out;
}

/** The platform a native file was built for, from its header. */
export function binaryPlatform(file: string): { os: string; cpu: string; format: string } | undefined {
  const header = Buffer.alloc(64);
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    fs.readSync(fd, header, 0, 64, 0);
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
  if (header.readUInt32BE(0) === 0x7f454c46) {
    const machine = header.readUInt16LE(18);
    return { os: 'linux', cpu: machine === 62 ? 'x64' : machine === 183 ? 'arm64' : machine === 3 ? 'ia32' : `machine ${machine}`, format: 'ELF' };
  }
  const magic = header.readUInt32LE(0);
  if (magic === 0xfeedfacf || magic === 0xfeedface) {
    const cpuType = header.readUInt32LE(4);
    return { os: 'darwin', cpu: cpuType === 0x01000007 ? 'x64' : cpuType === 0x0100000c ? 'arm64' : `cpu ${cpuType}`, format: 'Mach-O' };
  }
  if (header.readUInt32BE(0) === 0xcafebabe) return { os: 'darwin', cpu: 'universal', format: 'Mach-O universal' };
  if (header.toString('latin1', 0, 2) === 'MZ') return { os: 'win32', cpu: 'unknown', format: 'PE' };
  return undefined;
}

/** `node_modules/@scope/name` -> `@scope/name`. */
function packageNameOf(dir: string): string {
  const parts = dir.split('/');
  const last = parts[parts.length - 1]!;
  const scope = parts[parts.length - 2];
  return scope?.startsWith('@') ? `${scope}/${last}` : last;
}

function byPath<T extends { path: string }>(a: T, b: T): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}
