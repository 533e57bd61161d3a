/**
 * A project installed as on a Mac (darwin arm64) runs on the Lambda backend (Linux x64: the
 * Lambda-like fleet and s3rver) with the default runner's results: its platform packages
 * (@swc/core, esbuild, Jest 30's resolver binding) are swapped for the function's, with npm's,
 * pnpm's and Yarn's layouts. Jest's own process on this Linux machine gets the Linux bindings from
 * outside the project (NODE_PATH), as a real Mac has its own. Native files nothing can swap are
 * named before the run.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { binaryPlatform, runsOn } from '../src/mirror/platform';
import { packRunner } from './support/pack';
import { startFleetStack, type FleetStack } from './support/offline';
import { installTools, runOk, writeFiles, type Tools } from './support/pm-tools';
import { REPO, comparable, runJest } from './support/run-jest';

const versionOf = (name: string) =>
  (JSON.parse(fs.readFileSync(require.resolve(`${name}/package.json`, { paths: [REPO] }), 'utf8')) as { version: string }).version;
const JEST = versionOf('jest');
const SWC_JEST = '0.2.39';
const SWC_CORE = '1.15.8';
const ESBUILD = versionOf('esbuild');

const MAC = { os: 'darwin', cpu: 'arm64', libc: 'glibc' } as const;
const LAMBDA_X64 = { os: 'linux', cpu: 'x64', libc: 'glibc' } as const;

test('os/cpu/libc fields are read as npm reads them', () => {
  expect(runsOn({ os: ['darwin'], cpu: ['arm64'] }, MAC)).toBe(true);
  expect(runsOn({ os: ['darwin'], cpu: ['arm64'] }, LAMBDA_X64)).toBe(false);
  expect(runsOn({ os: ['!win32'] }, LAMBDA_X64)).toBe(true);
  expect(runsOn({ os: ['linux'], cpu: ['x64'], libc: ['musl'] }, LAMBDA_X64)).toBe(false);
  expect(runsOn({}, LAMBDA_X64)).toBe(true);
});

test('native files are told apart by their headers: ELF and its machine, Mach-O and its CPU, PE', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jrl-binaries-'));
  const header = (bytes: number[]) => Buffer.concat([Buffer.from(bytes), Buffer.alloc(64)]);
  const macho = path.join(dir, 'mac.node');
  fs.writeFileSync(macho, header([0xcf, 0xfa, 0xed, 0xfe, 0x0c, 0x00, 0x00, 0x01]));
  const pe = path.join(dir, 'win.node');
  fs.writeFileSync(pe, header([0x4d, 0x5a]));
  expect(binaryPlatform(macho)).toEqual({ os: 'darwin', cpu: 'arm64', format: 'Mach-O' });
  expect(binaryPlatform(pe)).toEqual({ os: 'win32', cpu: 'unknown', format: 'PE' });
  // a real one: @parcel/watcher's binding, installed for this machine
  const elf = require.resolve('@parcel/watcher-linux-x64-glibc/watcher.node', { paths: [REPO] });
  expect(binaryPlatform(elf)).toEqual({ os: 'linux', cpu: 'x64', format: 'ELF' });
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('installed as on a Mac, run on Lambda', () => {
  let work: string;
  let tarball: string;
  let tools: Tools;
  let stack: FleetStack;

  const FILES = {
    'jest.config.js': "module.exports = { runner: 'remote-lambda', transform: { '^.+\\\\.tsx?$': '@swc/jest' } };\n",
    'src/price.ts': 'export const withTax = (net: number): number => Math.round(net * 1.2 * 100) / 100;\n',
    'test/price.test.ts': [
      "import { withTax } from '../src/price';",
      "test('adds tax', () => expect(withTax(10)).toBe(12));",
      "test('fails at a TypeScript line', () => {",
      '  const net: number = 5;',
      '  expect(withTax(net)).toBe(7);',
      '});',
      '',
    ].join('\n'),
    'test/esbuild.test.ts': [
      "import { transformSync } from 'esbuild';",
      "test('esbuild runs its platform binary', () => {",
      "  expect(transformSync('let x: number = 1', { loader: 'ts' }).code).toBe('let x = 1;\\n');",
      '});',
      '',
    ].join('\n'),
  };
  const DEPENDENCIES = { jest: JEST, '@swc/jest': SWC_JEST, '@swc/core': SWC_CORE, esbuild: ESBUILD };

  beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'jrl-platform-'));
    tarball = packRunner(work);
    tools = installTools(path.join(work, 'tools'));
    // /tmp as `deploy` sizes it (2048 MB): three installs of this app with @swc/core and esbuild
    // (about 200 MB each, held twice: blobs and tree) pass through one environment; Lambda's own
    // default of 512 MB is too small for that, which the runner reports with the size to ask for.
    stack = await startFleetStack(REPO, work, 'jrl-platform', { ephemeralMb: 2048 });
  }, 900_000);

  afterAll(async () => {
    await stack?.stop();
    fs.rmSync(work, { recursive: true, force: true });
  });

  const project = (name: string): string => {
    const dir = path.join(work, name);
    fs.mkdirSync(path.join(dir, '.git'), { recursive: true });
    writeFiles(dir, FILES);
    return dir;
  };

  /** The version of `name` installed in the project (npm's and Yarn's flat layout, or pnpm's .pnpm folder). */
  const installedVersion = (dir: string, name: string): string => {
    const direct = path.join(dir, 'node_modules', name, 'package.json');
    if (fs.existsSync(direct)) return (JSON.parse(fs.readFileSync(direct, 'utf8')) as { version: string }).version;
    const prefix = `${name.replace('/', '+')}@`;
    const entry = fs.readdirSync(path.join(dir, 'node_modules', '.pnpm')).find((d) => d.startsWith(prefix));
    if (!entry) throw new Error(`${name} is not installed in ${dir}`);
    return entry.slice(prefix.length).split('_')[0]!;
  };

  /** Linux bindings of the very versions the project installed, outside it, for Jest's own process here. */
  const linuxBindingsFor = (dir: string): string => {
    const bindings = path.join(work, `${path.basename(dir)}-linux-bindings`);
    fs.mkdirSync(bindings);
    fs.writeFileSync(path.join(bindings, 'package.json'), JSON.stringify({ name: 'linux-bindings', private: true }));
    const specs = [
      `@unrs/resolver-binding-linux-x64-gnu@${installedVersion(dir, 'unrs-resolver')}`,
      `@swc/core-linux-x64-gnu@${installedVersion(dir, '@swc/core')}`,
      `@esbuild/linux-x64@${installedVersion(dir, 'esbuild')}`,
    ];
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...specs], { cwd: bindings, stdio: 'pipe', timeout: 300_000 });
    return path.join(bindings, 'node_modules');
  };

  const compare = (dir: string, label: string) => {
    const local = { NODE_PATH: linuxBindingsFor(dir) };
    const reference = runJest(dir, { runner: 'default', env: local });
    const ours = runJest(dir, {
      runner: 'remote-lambda',
      env: { ...local, ...stack.env, JEST_REMOTE_LAMBDA_CACHE_DIRECTORY: path.join(work, `cache-${label}`) },
    });
    expect(reference.json.numTotalTests).toBe(3);
    expect(reference.json.numFailedTests).toBe(1);
    expect(comparable(ours)).toEqual(comparable(reference));
    // every file ran on the function: none was sent back here as environmental
    expect(ours.stderr).toMatch(/remote-lambda: 2 file\(s\) on Lambda/);
    expect(ours.stderr).not.toContain('ran on this machine');
    // (the function was asked its platform before anything shipped: only its architecture's packages travel)
    expect(ours.stderr).toMatch(
      /platform packages shipped for the function \(linux x64\) in place of this machine's: .*@swc\/core-darwin-arm64@[\d.]+ -> @swc\/core-linux-x64-gnu@[\d.]+[,.]/,
    );
    expect(ours.stderr).not.toContain('linux-arm64');
    // a package for the laptop's platform only (fsevents, optional under jest-haste-map) is left
    // out, as an install on Linux leaves it out; it is no one's sibling either
    if (fs.readdirSync(dir, { recursive: true }).some((p) => path.basename(String(p)) === 'fsevents' && String(p).includes('node_modules'))) {
      expect(ours.stderr).toMatch(/left out for the function \(linux x64\), as an install there would: fsevents@[\d.]+/);
    }
    expect(ours.stderr).not.toMatch(/fsevents@[\d.]+ -> /);
    // the second run ships nothing new
    const again = runJest(dir, {
      runner: 'remote-lambda',
      env: { ...local, ...stack.env, JEST_REMOTE_LAMBDA_CACHE_DIRECTORY: path.join(work, `cache-${label}`) },
    });
    expect(comparable(again)).toEqual(comparable(reference));
    expect(again.stderr).toMatch(
      /platform packages shipped for the function \(linux x64\) in place of this machine's: .*@swc\/core-darwin-arm64@[\d.]+ -> @swc\/core-linux-x64-gnu@[\d.]+[,.]/,
    );
    expect(again.stderr).toMatch(/uploaded 0\.\d MB compressed \([01] packs?\), \d+ packs already in/);
    return ours;
  };

  test('npm (npm install --os=darwin --cpu=arm64)', () => {
    const dir = project('npm');
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'mac-npm', private: true }));
    const specs = [...Object.entries(DEPENDENCIES).map(([n, v]) => `${n}@${v}`), tarball];
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--os=darwin', '--cpu=arm64', '--save-dev', ...specs], {
      cwd: dir,
      stdio: 'pipe',
      timeout: 600_000,
    });
    expect(fs.existsSync(path.join(dir, 'node_modules', '@swc', 'core-darwin-arm64'))).toBe(true);
    expect(fs.existsSync(path.join(dir, 'node_modules', '@swc', 'core-linux-x64-gnu'))).toBe(false);
    // a package whose native file was built on install for the Mac: nothing can swap it
    writeFiles(path.join(dir, 'node_modules', 'native-thing'), { 'package.json': JSON.stringify({ name: 'native-thing', version: '1.0.0' }) });
    fs.mkdirSync(path.join(dir, 'node_modules', 'native-thing', 'build', 'Release'), { recursive: true });
    fs.writeFileSync(
      path.join(dir, 'node_modules', 'native-thing', 'build', 'Release', 'thing.node'),
      Buffer.concat([Buffer.from([0xcf, 0xfa, 0xed, 0xfe, 0x0c, 0, 0, 1]), Buffer.alloc(64)]),
    );
    const ours = compare(dir, 'npm');
    expect(ours.stderr).toContain(
      'remote-lambda: warning: native files of native-thing (built for darwin arm64 (Mach-O)) cannot load on the function (linux x64): node_modules/native-thing/build/Release/thing.node.',
    );
  }, 900_000);

  test('pnpm (supportedArchitectures darwin/arm64: the .pnpm layout)', () => {
    const dir = project('pnpm');
    const pkg = {
      name: 'mac-pnpm',
      private: true,
      devDependencies: { ...DEPENDENCIES, 'jest-runner-remote-lambda': `file:${tarball}` },
      pnpm: { supportedArchitectures: { os: ['darwin'], cpu: ['arm64'] } },
    };
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pkg));
    // (pnpm 10 and later read their settings here rather than from package.json)
    fs.writeFileSync(path.join(dir, 'pnpm-workspace.yaml'), 'supportedArchitectures:\n  os: [darwin]\n  cpu: [arm64]\n');
    runOk(tools.command.pnpm, ['install', '--config.strict-dep-builds=false', `--registry=${tools.registry}`], dir, {}, 600_000);
    expect(fs.readdirSync(path.join(dir, 'node_modules', '.pnpm')).some((d) => d.startsWith('@swc+core-darwin-arm64@'))).toBe(true);
    compare(dir, 'pnpm');
  }, 900_000);

  test('Yarn Berry (node-modules linker, supportedArchitectures darwin/arm64)', () => {
    const dir = project('yarn');
    const pkg = { name: 'mac-yarn', private: true, devDependencies: { ...DEPENDENCIES, 'jest-runner-remote-lambda': `file:${tarball}` } };
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pkg));
    fs.writeFileSync(
      path.join(dir, '.yarnrc.yml'),
      [
        'nodeLinker: node-modules',
        `npmRegistryServer: "${tools.registry}"`,
        'enableGlobalCache: false',
        'supportedArchitectures:',
        '  os: [darwin]',
        '  cpu: [arm64]',
        '',
      ].join('\n'),
    );
    fs.writeFileSync(path.join(dir, 'yarn.lock'), '');
    runOk(tools.command.berry, ['install'], dir, { YARN_ENABLE_IMMUTABLE_INSTALLS: 'false' }, 600_000);
    expect(fs.existsSync(path.join(dir, 'node_modules', '@swc', 'core-darwin-arm64'))).toBe(true);
    compare(dir, 'yarn');
  }, 900_000);
});
