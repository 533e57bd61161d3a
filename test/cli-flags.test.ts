/**
 * The command lines people and tools actually use, each run with Jest's default runner and with
 * ours on the embedded backend: the same results test by test (and the same reports, lists and
 * exit codes). IDE command lines are the ones the VS Code Jest extension (jest-editor-support's
 * Runner) and JetBrains IDEs build.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO, comparable, junitComparable, runJest, type JestRun } from './support/run-jest';

let work: string;
const project = (name: string) => path.join(work, name);

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'jrl-flags-'));
  fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(work, 'node_modules'));
  fs.writeFileSync(path.join(work, 'package.json'), JSON.stringify({ name: 'flags', private: true }));
  for (const example of ['failures', 'fixtures', 'mocking', 'typescript-basics'])
    fs.cpSync(path.join(REPO, 'examples', example), project(example), { recursive: true });
  // the repository boundary (and, for --onlyChanged, a git history)
  execFileSync('git', ['init', '-q'], { cwd: work });
  execFileSync('git', ['add', '-A'], { cwd: work });
  execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', 'commit', '-qm', 'start'], { cwd: work });
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

const both = (cwd: string, args: string[], env?: NodeJS.ProcessEnv): [JestRun, JestRun] => [
  runJest(cwd, { runner: 'default', args, env }),
  runJest(cwd, { runner: 'remote-lambda', args, env }),
];

test.each([
  ['-t (a test name pattern)', 'fixtures', ['-t', 'parses']],
  [
    '--testNamePattern with a file path, as VS Code runs one test',
    'typescript-basics',
    ['--useStderr', '--no-coverage', '--watchAll=false', '--testNamePattern', '^Stack ', 'test/stack.test.ts'],
  ],
  [
    '--colors --verbose --testNamePattern --runTestsByPath, as JetBrains IDEs run one test',
    'typescript-basics',
    ['--colors', '--verbose', '--testNamePattern', '^Inventory', '--runTestsByPath', 'test/inventory.test.ts'],
  ],
  ['--shard=1/2', 'mocking', ['--shard=1/2']],
  ['--shard=2/2', 'mocking', ['--shard=2/2']],
  ['--silent', 'fixtures', ['--silent']],
  // (in band: which mode Jest picks on its own depends on timings the previous run cached)
  ['--verbose', 'failures', ['--verbose', '-i']],
  ['--passWithNoTests with nothing matching', 'fixtures', ['--passWithNoTests', '--testPathPatterns', 'no-such-test']],
] as Array<[string, string, string[]]>)('%s: same results as the default runner', (_name, example, args) => {
  const [reference, ours] = both(project(example), args);
  expect(comparable(ours)).toEqual(comparable(reference));
});

test('--bail stops after the first failing file, the same one, with the same exit code', () => {
  // Jest exits at once on bail, before --json is written: compare what it printed. In band, so
  // which files ran before the bail is deterministic.
  const bail = (runner: 'default' | 'remote-lambda') => {
    const r = spawnSync(
      process.execPath,
      [require.resolve('jest/bin/jest'), '--bail', '-i', '--ci', `--runner=${runner === 'default' ? 'jest-runner' : 'remote-lambda'}`],
      {
        cwd: project('failures'),
        encoding: 'utf8',
        env: { ...process.env, FORCE_COLOR: '0', JEST_WORKER_ID: '' },
      },
    );
    return {
      status: r.status,
      files: r.stderr.split('\n').filter((l) => /^(PASS|FAIL) /.test(l)),
      summary: r.stderr.split('\n').filter((l) => /^(Test Suites|Tests):/.test(l)),
    };
  };
  const reference = bail('default');
  expect(reference.files).toHaveLength(1);
  expect(reference.status).toBe(1);
  expect(bail('remote-lambda')).toEqual(reference);
});

test('the VS Code and JetBrains command lines give live per-test events and locations', () => {
  const [reference, ours] = both(project('typescript-basics'), [
    '--colors',
    '--verbose',
    '--testNamePattern',
    '^Inventory',
    '--runTestsByPath',
    'test/inventory.test.ts',
  ]);
  const events = (run: JestRun) => Object.values(run.caseResults).flat();
  expect(events(reference).length).toBeGreaterThan(2);
  expect(events(ours)).toEqual(events(reference));
  const locations = (run: JestRun) => run.json.testResults.flatMap((f) => f.assertionResults.map((t) => t.location));
  expect(locations(ours)).toEqual(locations(reference));
  expect(locations(reference).every((l) => l && typeof (l as { line: number }).line === 'number')).toBe(true);
});

test('--listTests lists the same files, and runs none', () => {
  const list = (runner: string) => {
    const r = spawnSync(process.execPath, [require.resolve('jest/bin/jest'), '--listTests', `--runner=${runner}`], {
      cwd: project('mocking'),
      encoding: 'utf8',
    });
    return { status: r.status, files: r.stdout.trim().split('\n').sort() };
  };
  const reference = list('jest-runner');
  expect(reference.files.length).toBeGreaterThan(3);
  expect(list('remote-lambda')).toEqual(reference);
});

test('--onlyChanged runs the tests related to the changed file, the same ones', () => {
  const cwd = project('typescript-basics');
  fs.appendFileSync(path.join(cwd, 'src', 'stack.ts'), '\n// changed\n');
  try {
    const [reference, ours] = both(cwd, ['--onlyChanged']);
    expect(reference.json.testResults.map((f) => path.basename(f.name))).toEqual(['stack.test.ts']);
    expect(comparable(ours)).toEqual(comparable(reference));
  } finally {
    execFileSync('git', ['checkout', '--', '.'], { cwd: work });
  }
});

test('jest-junit writes the same XML report', () => {
  const xml = (runner: 'default' | 'remote-lambda') => {
    const file = path.join(work, `junit-${runner}.xml`);
    runJest(project('failures'), { runner, args: ['--reporters=jest-junit', '-i'], env: { JEST_JUNIT_OUTPUT_FILE: file } });
    return junitComparable(fs.readFileSync(file, 'utf8'));
  };
  const reference = xml('default');
  expect(reference.suites.length).toBeGreaterThanOrEqual(4);
  expect(reference.suites.join('')).toContain('<failure');
  expect(xml('remote-lambda')).toEqual(reference);
});

test('--detectOpenHandles (Jest runs in band, so ours runs in its process) reports the same open handle', () => {
  const cwd = project('fixtures');
  fs.writeFileSync(
    path.join(cwd, 'test', 'leak.test.js'),
    "test('leaves a timer running', () => {\n  setInterval(() => {}, 60_000);\n  expect(1).toBe(1);\n});\n",
  );
  try {
    const [reference, ours] = both(cwd, ['--detectOpenHandles', '--forceExit', '--testPathPatterns', 'leak']);
    const handles = (run: JestRun) => run.stderr.slice(run.stderr.indexOf('Jest has detected')).split('\n').slice(0, 8).join('\n');
    expect(handles(reference)).toContain('Jest has detected the following 1 open handle potentially keeping Jest from exiting');
    expect(handles(reference)).toContain('setInterval');
    expect(handles(ours)).toBe(handles(reference));
    expect(comparable(ours)).toEqual(comparable(reference));
  } finally {
    fs.rmSync(path.join(cwd, 'test', 'leak.test.js'));
  }
});

test('projects with different runners: ours for one, the default for the other, same results as all default', () => {
  const cwd = project('fixtures');
  const config = path.join(cwd, 'jest.mixed.config.js');
  fs.writeFileSync(
    config,
    [
      'module.exports = {',
      '  projects: [',
      "    { displayName: 'remote', runner: 'remote-lambda', testEnvironment: 'node', testMatch: ['<rootDir>/test/orders.test.js', '<rootDir>/test/directory.test.js'] },",
      "    { displayName: 'local', testEnvironment: 'node', testMatch: ['<rootDir>/test/test-data.test.js'] },",
      '  ],',
      '};',
      '',
    ].join('\n'),
  );
  const allDefault = path.join(cwd, 'jest.all-default.config.js');
  fs.writeFileSync(allDefault, fs.readFileSync(config, 'utf8').replace("runner: 'remote-lambda', ", ''));
  try {
    // (no --runner flag: each project keeps its own runner)
    const mixed = runJest(cwd, { runner: 'remote-lambda', args: ['--config', config], env: { JEST_REMOTE_LAMBDA_DEBUG: '1' } });
    const reference = runJest(cwd, { runner: 'remote-lambda', args: ['--config', allDefault] });
    expect(mixed.stderr).toMatch(/\[remote-lambda\] backend=local \S+ files=2 /);
    expect(reference.json.numTotalTestSuites).toBe(3);
    expect(comparable(mixed)).toEqual(comparable(reference));
  } finally {
    fs.rmSync(config);
    fs.rmSync(allDefault);
  }
});
