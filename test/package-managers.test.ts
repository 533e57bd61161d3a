/**
 * Where users are: the package as `npm pack` makes it, installed with pnpm, yarn v1 and Yarn Berry
 * (node_modules linker) into unrelated projects next to their own Jest, selected with
 * `runner: 'remote-lambda'` and run as users run Jest there (`pnpm jest`, `yarn jest`, `npx jest`);
 * then compared test by test with Jest's default runner, in band and on the worker pool. Also a
 * pnpm workspace monorepo (Jest `projects`, one package importing the other through its workspace
 * link), the pnpm layouts on the lambda backend (serverless-offline), and Yarn Plug'n'Play.
 *
 * The package managers come from the npm registry into a temporary folder (pinned versions, see
 * support/pm-tools.ts); if that fails, every test here fails with the reason.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { packRunner } from './support/pack';
import { startFleet } from './support/fleet';
import { FUNCTION_NAME, type Offline } from './support/offline';
import { installTools, run, runOk, writeFiles, type Manager, type Tools } from './support/pm-tools';
import { REPO, comparable, runJest, type JestRun } from './support/run-jest';

const versionOf = (name: string) =>
  (JSON.parse(fs.readFileSync(require.resolve(`${name}/package.json`, { paths: [REPO] }), 'utf8')) as { version: string }).version;
const JEST = `jest@${versionOf('jest')}`;
const LODASH = `lodash@${versionOf('lodash')}`;

let work: string;
let tarball: string;
/** The package as the tarball holds it (its dist/ serves the emulated Lambda: same build as the runner). */
let unpacked: string;
let tools: Tools;
/** Projects installed by earlier tests, for the later ones (tests of a file run in order). */
const installed = new Map<string, string>();

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'jrl-pm-'));
  for (const built of ['dist/src/index.cjs', 'dist/handler/worker.js', 'dist/handler/index.js']) {
    if (!fs.existsSync(path.join(REPO, built))) throw new Error(`${built} is missing: run \`npm run build\` first (the tarball ships dist/).`);
  }
  tarball = packRunner(work);
  fs.mkdirSync(path.join(work, 'unpacked'));
  execFileSync('tar', ['-xzf', tarball, '-C', path.join(work, 'unpacked')]);
  unpacked = path.join(work, 'unpacked', 'package');
  tools = installTools(path.join(work, 'tools'));
}, 300_000);

afterAll(() => {
  // About 90,000 files (five installs, an emulated Lambda's store and tree): on a busy disk removing
  // them takes up to a minute, so it happens in the background instead of holding up the suite.
  if (work) spawn('rm', ['-rf', work], { detached: true, stdio: 'ignore' }).unref();
});

function project(name: string): string {
  const dir = installed.get(name);
  if (!dir) throw new Error(`The ${name} project was not installed: see the failure of its install test above.`);
  return dir;
}

/** What a user keeps between runs; our own content store and run directories stay inside `work`. */
const runnerCache = () => ({ JEST_REMOTE_LAMBDA_CACHE_DIRECTORY: path.join(work, 'remote-lambda-cache') });

// ---------------------------------------------------------------------------------------------
// One small project per package manager
// ---------------------------------------------------------------------------------------------

const CONSUMER_FILES: Record<string, string> = {
  'jest.config.js': "module.exports = {\n  runner: 'remote-lambda',\n  testEnvironment: 'node',\n};\n",
  'src/greet.js': "const _ = require('lodash');\nexports.shout = (s) => `${_.toUpper(s)}!`;\nexports.words = (s) => _.words(s);\n",
  'test/mock.test.js': [
    "jest.mock('lodash', () => ({ ...jest.requireActual('lodash'), toUpper: jest.fn(() => 'MOCKED') }));",
    "const _ = require('lodash');",
    "const { shout, words } = require('../src/greet');",
    "test('jest.mock of lodash, installed by this package manager, reaches the module under test', () => {",
    "  expect(shout('hi')).toBe('MOCKED!');",
    "  expect(_.toUpper).toHaveBeenCalledWith('hi');",
    '});',
    "test('jest.requireActual keeps the rest of lodash', () => {",
    "  expect(words('fast test runs')).toEqual(['fast', 'test', 'runs']);",
    '});',
    '',
  ].join('\n'),
  'test/fixture.test.js': [
    "const fs = require('fs');",
    "const path = require('path');",
    "test('reads a fixture file next to the test', () => {",
    "  const order = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'order.json'), 'utf8'));",
    '  expect(order.items).toHaveLength(3);',
    "  console.log('fixture items', order.items.join(','));",
    '});',
    "test('lodash resolves from this project\\'s node_modules', () => {",
    "  expect(require.resolve('lodash')).toMatch(/node_modules/);",
    "  expect(require('lodash').chunk([1, 2, 3], 2)).toEqual([[1, 2], [3]]);",
    '});',
    "test('reads a text fixture', () => {",
    "  expect(fs.readFileSync(path.join(__dirname, 'fixtures', 'note.txt'), 'utf8').trim()).toBe('hello from a fixture');",
    '});',
    '',
  ].join('\n'),
  'test/fixtures/order.json': '{ "items": ["tea", "milk", "bread"] }\n',
  'test/fixtures/note.txt': 'hello from a fixture\n',
};

interface ManagerCase {
  manager: Manager;
  /** Files besides package.json that configure the manager. */
  setup(tools: Tools): Record<string, string>;
  /** `<manager> add` of jest, lodash and the runner's tarball. */
  add(tarball: string): string[];
  /** What users type to run Jest with this manager. */
  jest: string[];
}

const CASES: ManagerCase[] = [
  {
    manager: 'pnpm',
    setup: () => ({}),
    // strict-dep-builds: pnpm (>= 10.x) exits 1 on build scripts it did not approve, and Jest 30's
    // own jest-haste-map depends on @parcel/watcher (a build script): unrelated to this runner.
    add: (tgz) => ['add', '--save-dev', '--prefer-offline', '--config.strict-dep-builds=false', JEST, LODASH, tgz],
    jest: ['jest'],
  },
  {
    manager: 'yarn',
    setup: (t) => ({ '.yarnrc': `registry "${t.registry}"\n` }),
    add: (tgz) => ['add', '--dev', '--prefer-offline', '--non-interactive', '--no-progress', JEST, LODASH, `file:${tgz}`],
    jest: ['jest'],
  },
  {
    manager: 'berry',
    setup: (t) => ({ '.yarnrc.yml': berryRc(t, 'node-modules'), 'yarn.lock': '' }),
    add: (tgz) => ['add', '--dev', JEST, LODASH, `jest-runner-remote-lambda@file:${tgz}`],
    jest: ['jest'],
  },
];

function berryRc(t: Tools, nodeLinker: 'node-modules' | 'pnp'): string {
  return [
    `nodeLinker: ${nodeLinker}`,
    'enableGlobalCache: true',
    'enableTelemetry: false',
    'enableImmutableInstalls: false',
    `npmRegistryServer: "${t.registry.replace(/\/$/, '')}"`,
    '',
  ].join('\n');
}

/** Same runner in both runs, in band (-i) or on a 2-worker pool (an empty cache has no timings). */
function compareModes(cwd: string, label: string): void {
  const cache = (mode: string, runner: string) => `--cacheDirectory=${path.join(work, 'jest-cache', `${label}-${mode}-${runner}`)}`;
  const env = { JEST_REMOTE_LAMBDA_DEBUG: '1' };
  const inBand = (runner: 'default' | 'remote-lambda') => runJest(cwd, { runner, env, args: ['-i', cache('in-band', runner)] });
  const pool = (runner: 'default' | 'remote-lambda') => runJest(cwd, { runner, env, args: ['--maxWorkers=2', cache('pool', runner)] });

  const reference = inBand('default');
  expect(reference.json.numTotalTests).toBeGreaterThan(0);
  const ours = inBand('remote-lambda');
  expect(ours.stderr).toContain('[remote-lambda] backend=local workers=in-band ');
  expect(comparable(ours)).toEqual(comparable(reference));

  const poolReference = pool('default');
  const poolOurs = pool('remote-lambda');
  expect(poolOurs.stderr).toContain('[remote-lambda] backend=local workers=2 ');
  expect(comparable(poolOurs)).toEqual(comparable(poolReference));
}

describe.each(CASES)('$manager project', (c) => {
  const name = c.manager;

  test('installs jest and the runner from the tarball, and the quick start works as written', () => {
    const dir = path.join(work, name);
    writeFiles(dir, { 'package.json': `${JSON.stringify({ name: `${name}-consumer`, private: true }, null, 2)}\n`, ...c.setup(tools), ...CONSUMER_FILES });
    runOk(tools.command[c.manager], c.add(tarball), dir);
    // an ordinary node_modules folder (pnpm: links into node_modules/.pnpm)
    const runnerDir = path.join(dir, 'node_modules', 'jest-runner-remote-lambda');
    expect(fs.existsSync(path.join(runnerDir, 'dist', 'src', 'index.js'))).toBe(true);
    if (c.manager === 'pnpm') expect(fs.realpathSync(runnerDir)).toContain(`${path.sep}.pnpm${path.sep}`);
    installed.set(name, dir);

    for (const [command, args] of [
      [tools.command[c.manager], c.jest],
      [['npx'], ['--no', 'jest']],
    ] as const) {
      const r = run([...command], [...args], dir, { JEST_REMOTE_LAMBDA_DEBUG: '1', ...runnerCache() });
      const output = `${r.stdout}\n${r.stderr}`;
      const label = `${command[0] === 'npx' ? 'npx' : c.manager} ${args.join(' ')}`;
      expect({ command: label, status: r.status, output }).toEqual({
        command: label,
        status: 0,
        output: expect.stringMatching(/\[remote-lambda\] backend=local [\s\S]*Tests:\s+5 passed, 5 total/),
      });
      expect(output).toContain('fixture items tea,milk,bread');
    }
  }, 240_000);

  test("gives the default runner's results test by test, in band and on the worker pool", () => {
    compareModes(project(name), name);
  }, 240_000);
});

// ---------------------------------------------------------------------------------------------
// A pnpm workspace monorepo with Jest projects
// ---------------------------------------------------------------------------------------------

const MONOREPO_FILES: Record<string, string> = {
  'package.json': `${JSON.stringify({ name: 'mono-root', private: true }, null, 2)}\n`,
  'pnpm-workspace.yaml': "packages:\n  - 'packages/*'\n",
  'jest.config.js': "module.exports = {\n  projects: ['<rootDir>/packages/core', '<rootDir>/packages/app'],\n};\n",
  'packages/core/package.json': `${JSON.stringify({ name: '@mono/core', version: '1.0.0', main: 'src/index.js', dependencies: { lodash: versionOf('lodash') } }, null, 2)}\n`,
  'packages/core/jest.config.js': "module.exports = { displayName: 'core', runner: 'remote-lambda', testEnvironment: 'node' };\n",
  'packages/core/src/index.js': [
    "const _ = require('lodash');",
    "exports.total = (items) => _.sumBy(items, 'price');",
    'exports.label = (s) => `[${_.kebabCase(s)}]`;',
    '',
  ].join('\n'),
  'packages/core/test/core.test.js': [
    "const { total, label } = require('../src');",
    "test('sums prices', () => expect(total([{ price: 2 }, { price: 3 }])).toBe(5));",
    "test('labels', () => expect(label('Hello World')).toBe('[hello-world]'));",
    '',
  ].join('\n'),
  'packages/app/package.json': `${JSON.stringify(
    { name: '@mono/app', version: '1.0.0', main: 'src/index.js', dependencies: { '@mono/core': 'workspace:*', lodash: versionOf('lodash') } },
    null,
    2,
  )}\n`,
  'packages/app/jest.config.js': "module.exports = { displayName: 'app', runner: 'remote-lambda', testEnvironment: 'node' };\n",
  'packages/app/src/index.js': [
    "const fs = require('fs');",
    "const { total, label } = require('@mono/core');",
    'exports.invoice = (file) => {',
    "  const order = JSON.parse(fs.readFileSync(file, 'utf8'));",
    '  return `${label(order.customer)} ${total(order.items)}`;',
    '};',
    '',
  ].join('\n'),
  'packages/app/test/app.test.js': [
    "const path = require('path');",
    "const { invoice } = require('../src');",
    "test('imports @mono/core through the workspace link and reads a fixture', () => {",
    "  expect(invoice(path.join(__dirname, 'fixtures', 'order.json'))).toBe('[ada-lovelace] 7');",
    "  expect(require.resolve('@mono/core')).toMatch(/packages[\\\\/]core[\\\\/]src[\\\\/]index\\.js$/);",
    '});',
    '',
  ].join('\n'),
  'packages/app/test/mocked.test.js': [
    "jest.mock('@mono/core', () => ({ ...jest.requireActual('@mono/core'), total: jest.fn(() => 42) }));",
    "jest.mock('lodash', () => ({ ...jest.requireActual('lodash'), kebabCase: () => 'mocked' }));",
    "const path = require('path');",
    "const { invoice } = require('../src');",
    // one lodash in the pnpm store: mocking it here mocks it for @mono/core too, as Jest does
    "test('jest.mock of the workspace package, and of lodash as @mono/core sees it', () => {",
    "  expect(invoice(path.join(__dirname, 'fixtures', 'order.json'))).toBe('[mocked] 42');",
    '});',
    '',
  ].join('\n'),
  'packages/app/test/failure.test.js': [
    "const _ = require('lodash');",
    "const { total } = require('@mono/core');",
    "test('a failure thrown inside lodash keeps its stack through node_modules/.pnpm and its code frame', () => {",
    '  _.map([1], () => {',
    "    throw new Error('boom from a callback lodash called');",
    '  });',
    '});',
    "test('an assertion failure on a value computed by @mono/core', () => {",
    '  expect(total([{ price: 1 }])).toBe(2);',
    '});',
    '',
  ].join('\n'),
  'packages/app/test/fixtures/order.json': '{ "customer": "Ada Lovelace", "items": [{ "price": 3 }, { "price": 4 }] }\n',
};

describe('pnpm workspace monorepo with Jest projects', () => {
  test('installs, and `pnpm jest` at the root runs both projects through the runner', () => {
    const dir = path.join(work, 'pnpm-monorepo');
    writeFiles(dir, MONOREPO_FILES);
    runOk(tools.command.pnpm, ['add', '--workspace-root', '--save-dev', '--prefer-offline', '--config.strict-dep-builds=false', JEST, tarball], dir);
    expect(fs.readlinkSync(path.join(dir, 'packages', 'app', 'node_modules', '@mono', 'core'))).toBe(path.join('..', '..', '..', 'core'));
    installed.set('pnpm-monorepo', dir);

    const r = run(tools.command.pnpm, ['jest'], dir, { JEST_REMOTE_LAMBDA_DEBUG: '1', ...runnerCache() });
    const output = `${r.stdout}\n${r.stderr}`;
    // failure.test.js fails on purpose (its two failures are compared below)
    expect({ status: r.status, output }).toEqual({
      status: 1,
      output: expect.stringMatching(/\[remote-lambda\] backend=local [\s\S]*Tests:\s+2 failed, 4 passed, 6 total[\s\S]*Ran all test suites in 2 projects\./),
    });
    expect(output).toContain('boom from a callback lodash called');
    expect(output).not.toMatch(/Cannot find module/);
  }, 240_000);

  test("gives the default runner's results test by test, in band and on the worker pool", () => {
    compareModes(project('pnpm-monorepo'), 'pnpm-monorepo');
  }, 240_000);
});

// ---------------------------------------------------------------------------------------------
// pnpm layouts shipped to the lambda backend (the local Lambda fleet), where node_modules is not
// linked but shipped file by file: pnpm's relative links into node_modules/.pnpm, workspace links.
// ---------------------------------------------------------------------------------------------

describe('pnpm layouts on the lambda backend (emulated)', () => {
  let offline: Offline | undefined;
  let lambdaEnv: NodeJS.ProcessEnv;

  beforeAll(async () => {
    // The handler of the tarball (not the checkout's dist/, which may be rebuilt meanwhile)
    offline = await startFleet({ code: { 'index.js': path.join(unpacked, 'dist/handler/index.js') }, functionName: FUNCTION_NAME });
    lambdaEnv = {
      JEST_REMOTE_LAMBDA_BACKEND: 'lambda',
      JEST_REMOTE_LAMBDA_FUNCTION: FUNCTION_NAME,
      AWS_ENDPOINT_URL_LAMBDA: offline.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'x',
      AWS_SECRET_ACCESS_KEY: 'x',
    };
  }, 120_000);
  afterAll(async () => {
    await offline?.stop();
  });

  const onLambda = (cwd: string, label: string, args: string[] = []): { reference: JestRun; ours: JestRun } => {
    // -i for both: Jest's in-band path (the files still run concurrently on Lambda)
    const reference = runJest(cwd, { runner: 'default', args: ['-i', ...args] });
    const ours = runJest(cwd, {
      runner: 'remote-lambda',
      env: lambdaEnv,
      args: ['-i', `--cacheDirectory=${path.join(work, 'jest-cache', `${label}-lambda`)}`, ...args],
    });
    expect(ours.stderr).toMatch(/remote-lambda: \d+ file\(s\) on Lambda/);
    return { reference, ours };
  };

  test("a pnpm project (node_modules/.pnpm) gives the default runner's results", () => {
    const { reference, ours } = onLambda(project('pnpm'), 'pnpm');
    expect(comparable(ours)).toEqual(comparable(reference));
  }, 240_000);

  // In a workspace, packages/app/node_modules/@mono/core is a relative link to ../../../core: the
  // mirror ships the linked workspace package too (at its own place), or the link would dangle.
  test("a pnpm workspace monorepo: app's files resolve the workspace package @mono/core on Lambda", () => {
    const { reference, ours } = onLambda(project('pnpm-monorepo'), 'pnpm-monorepo', ['--selectProjects=app']);
    expect(reference.json.numTotalTests).toBe(4);
    expect(comparable(ours)).toEqual(comparable(reference));
  }, 240_000);
});

// ---------------------------------------------------------------------------------------------
// Yarn Plug'n'Play (Berry's default linker): no node_modules to link or ship
// ---------------------------------------------------------------------------------------------

describe("Yarn Plug'n'Play", () => {
  test("Jest itself runs under PnP; our runner stops at start with an error naming Plug'n'Play and the fix", () => {
    const dir = path.join(work, 'berry-pnp');
    writeFiles(dir, {
      'package.json': `${JSON.stringify({ name: 'pnp-consumer', private: true }, null, 2)}\n`,
      '.yarnrc.yml': berryRc(tools, 'pnp'),
      'yarn.lock': '',
      ...CONSUMER_FILES,
    });
    runOk(tools.command.berry, ['add', '--dev', JEST, LODASH, `jest-runner-remote-lambda@file:${tarball}`], dir);
    expect(fs.existsSync(path.join(dir, '.pnp.cjs'))).toBe(true);
    expect(fs.existsSync(path.join(dir, 'node_modules'))).toBe(false);

    const reference = run(tools.command.berry, ['jest', '--runner=jest-runner'], dir);
    expect({ status: reference.status, output: reference.stderr }).toEqual({ status: 0, output: expect.stringMatching(/Tests:\s+5 passed, 5 total/) });

    // A clear error at start, before any file runs, naming Plug'n'Play and the fix
    const ours = run(tools.command.berry, ['jest'], dir, runnerCache());
    expect(ours.status).toBe(1);
    expect(ours.stderr).toMatch(/jest-runner-remote-lambda cannot run under Yarn Plug'n'Play/);
    expect(ours.stderr).toContain('nodeLinker: node-modules');
    expect(`${ours.stdout}\n${ours.stderr}`).not.toContain('Required package missing from disk');
    expect(`${ours.stdout}\n${ours.stderr}`).not.toMatch(/Tests:\s+5 passed/);
  }, 240_000);
});
