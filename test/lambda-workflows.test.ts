/**
 * The workflows that touch files or reports, on the lambda backend (the local Lambda fleet serving
 * the built handler, s3rver as the bucket, the real AWS SDK): snapshots written, updated and removed
 * through -u, coverage reports of both providers, jest-junit XML, the IDE command lines, several
 * projects, and watch mode. Each compared with Jest's default runner on the same project.
 */
import fs from 'node:fs';
import path from 'node:path';
import { consumerProject } from './support/pack';
import { startFleetStack, type FleetStack } from './support/offline';
import { REPO, comparable, junitComparable, runJest, type JestRun } from './support/run-jest';
import { SNAPSHOT_STEPS, checkSnapshotSteps, snapshotWorkflow } from './support/snapshot-workflow';
import { SLOW_FILES, comparableRun, watchScenario } from './support/watch-scenario';

let work: string;
let project: string;
let stack: FleetStack;
let env: NodeJS.ProcessEnv;
beforeAll(async () => {
  ({ work, project } = consumerProject('jrl-lambda-workflows-', 'workflows-consumer', [
    'ts-jest',
    'typescript',
    '@types/jest',
    'jest-junit',
    'jest-environment-jsdom',
  ]));
  for (const example of ['typescript-basics', 'failures', 'multi-project'])
    fs.cpSync(path.join(REPO, 'examples', example), path.join(project, example), { recursive: true });
  stack = await startFleetStack(REPO, work, 'jrl-workflows');
  env = stack.env;
}, 900_000);

afterAll(async () => {
  await stack?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

const run = (cwd: string, runner: 'default' | 'remote-lambda', args: string[] = [], extra: NodeJS.ProcessEnv = {}): JestRun =>
  runJest(cwd, { runner, args, env: runner === 'remote-lambda' ? { ...env, ...extra } : extra });

test('the snapshot workflow: every step leaves the same results and files as the default runner', () => {
  const outcomes = snapshotWorkflow(path.join(project, 'snapshots'), (cwd, runner, args) => run(cwd, runner, args));
  for (const name of SNAPSHOT_STEPS) {
    const outcome = outcomes.find((o) => o.step === name)!;
    expect({ step: name, result: outcome.ours.result }).toEqual({ step: name, result: outcome.reference.result });
    expect({ step: name, tree: outcome.ours.tree }).toEqual({ step: name, tree: outcome.reference.tree });
  }
  checkSnapshotSteps(outcomes);
  expect(outcomes[0]!.oursRun.stderr).toMatch(/remote-lambda: \d+ file\(s\) on Lambda/);
}, 600_000);

test.each(['babel', 'v8'])('coverage with the %s provider: the same reports, untested files included, and threshold verdict', (provider) => {
  const cwd = path.join(project, 'typescript-basics');
  const reports = (runner: 'default' | 'remote-lambda') => {
    const dir = path.join(work, `coverage-${provider}-${runner}`);
    const r = run(cwd, runner, [
      '--coverage',
      `--coverageProvider=${provider}`,
      '--collectCoverageFrom=src/**/*.ts',
      '--coverageReporters=json',
      '--coverageReporters=json-summary',
      '--coverageReporters=lcov',
      '--coverageReporters=text',
      `--coverageDirectory=${dir}`,
      '--coverageThreshold={"global":{"lines":100}}',
    ]);
    return {
      status: r.status,
      final: fs.readFileSync(path.join(dir, 'coverage-final.json'), 'utf8'),
      summary: fs.readFileSync(path.join(dir, 'coverage-summary.json'), 'utf8'),
      lcov: fs.readFileSync(path.join(dir, 'lcov.info'), 'utf8'),
      text: r.stdout.split('\n').filter((l) => /^[-\w. /]*\|/.test(l)),
      threshold: r.stderr.split('\n').filter((l) => /does not meet .* threshold/.test(l)),
    };
  };
  const reference = reports('default');
  expect(reference.lcov).toContain('SF:src/legacy.ts');
  expect(reference.threshold.length).toBeGreaterThan(0);
  expect(reports('remote-lambda')).toEqual(reference);
});

test("jest-junit XML, the VS Code command line and a multi-project config give the default runner's results", () => {
  const failures = path.join(project, 'failures');
  const xml = (runner: 'default' | 'remote-lambda') => {
    const file = path.join(work, `junit-${runner}.xml`);
    run(failures, runner, ['--reporters=jest-junit', '-i'], { JEST_JUNIT_OUTPUT_FILE: file });
    return junitComparable(fs.readFileSync(file, 'utf8'));
  };
  const reference = xml('default');
  expect(reference.suites.length).toBeGreaterThan(3);
  expect(xml('remote-lambda')).toEqual(reference);

  const vscode = ['--useStderr', '--no-coverage', '--watchAll=false', '--testNamePattern', '^Stack ', 'test/stack.test.ts'];
  const ts = path.join(project, 'typescript-basics');
  expect(comparable(run(ts, 'remote-lambda', vscode))).toEqual(comparable(run(ts, 'default', vscode)));

  const multi = path.join(project, 'multi-project');
  const multiReference = run(multi, 'default');
  expect(multiReference.json.numTotalTestSuites).toBeGreaterThan(2);
  expect(comparable(run(multi, 'remote-lambda'))).toEqual(comparable(multiReference));
});

test('watch mode on Lambda: re-runs after an edit with the same results, shipping only what changed', async () => {
  const nodeModules = path.join(project, 'node_modules');
  const referenceDir = path.join(project, 'watch-reference');
  const oursDir = path.join(project, 'watch-ours');
  const reference = await watchScenario(referenceDir, 'default', nodeModules);
  const ours = await watchScenario(oursDir, 'remote-lambda', nodeModules, stack.env);
  for (const run of ['first', 'afterEdit', 'final'] as const)
    expect({ run, ...comparableRun(ours[run], oursDir) }).toEqual({ run, ...comparableRun(reference[run], referenceDir) });
  expect(ours.afterEdit.numFailedTests).toBe(1);
  expect(ours.interrupted.interrupted).toBe(true);
  expect(ours.final.numTotalTests).toBe(1 + 1 + SLOW_FILES);
  // the runner wrote nothing into the project (a write there would start another watch run)
  expect(ours.changed).toEqual(['src/calc.js']);
  // after the edit: the edited file, its manifest part and the project description were uploaded
  const debug = ours.stderr.match(/\[remote-lambda\] backend=lambda[^\r\n]*/g) ?? [];
  expect(debug[ours.afterEditIndex]).toMatch(/ hashed=1 cached=\d+ blobs new=3 /);
}, 900_000);

test('--detectOpenHandles with the lambda backend runs the files here, in band, and reports the open handle', () => {
  const cwd = path.join(project, 'leaky');
  fs.mkdirSync(cwd);
  fs.writeFileSync(path.join(cwd, 'jest.config.js'), "module.exports = { runner: 'remote-lambda', testEnvironment: 'node' };\n");
  fs.writeFileSync(path.join(cwd, 'leak.test.js'), "test('leaves a timer running', () => {\n  setInterval(() => {}, 60_000);\n  expect(1).toBe(1);\n});\n");
  const reference = run(cwd, 'default', ['--detectOpenHandles', '--forceExit']);
  const ours = run(cwd, 'remote-lambda', ['--detectOpenHandles', '--forceExit'], { JEST_REMOTE_LAMBDA_DEBUG: '1' });
  expect(ours.stderr).toContain('remote-lambda: --detectOpenHandles needs the tests in this process: running them locally, in band.');
  expect(ours.stderr).toContain('[remote-lambda] backend=local workers=in-band');
  const handles = (r: JestRun) => r.stderr.slice(r.stderr.indexOf('Jest has detected')).split('\n').slice(0, 8).join('\n');
  expect(handles(reference)).toContain('Jest has detected the following 1 open handle');
  expect(handles(ours)).toBe(handles(reference));
});
