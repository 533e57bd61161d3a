/**
 * On the Lambda backend (the Lambda-like fleet, s3rver, the real AWS SDK): an environment brings in
 * only the installed packages its files need, from each file's module graph, and a package the
 * graph cannot see (a require of a computed name, a fixture read from a package, an existsSync
 * probe, a require whose failure the code swallows, a package a transformer loads) is brought in
 * when a test reaches for it, the file runs again, and the runner sends it up front the next time.
 * Every run gives the default runner's results, with a bucket and without.
 */
import fs from 'node:fs';
import path from 'node:path';
import { consumerProject } from './support/pack';
import { startFleetStack, type FleetStack } from './support/offline';
import { comparable, runJest, type JestRun } from './support/run-jest';

let work: string;
let project: string;
let stack: FleetStack;

const PACKAGES: Record<string, Record<string, string>> = {
  'jrl-transform-helper': { 'index.js': 'module.exports = (source) => source;\n' },
  'jrl-dyn': { 'index.js': "module.exports = 'dynamic';\n" },
  'jrl-fixture': { 'data.json': '{ "answer": 42 }\n' },
  'jrl-probe': { marker: 'here\n' },
  'jrl-swallowed': { 'index.js': "module.exports = 'found';\n" },
  'jrl-static': { 'index.js': "module.exports = `static+${require('jrl-static-dep')}`;\n" },
  'jrl-static-dep': { 'index.js': "module.exports = 'dep';\n" },
  // nothing reads it: no environment should hold it
  'jrl-unused': { 'big.bin': 'x'.repeat(4 * 1024 * 1024) },
};

const FILES: Record<string, string> = {
  'jest.config.js': "module.exports = { runner: 'remote-lambda', testEnvironment: 'node', transform: { '\\\\.js$': '<rootDir>/transform.js' } };\n",
  // a package named by a computed string, loaded outside the tests' modules (as babel loads a preset)
  'transform.js':
    "module.exports = {\n  process(source) {\n    const helper = require(['jrl', 'transform', 'helper'].join('-'));\n    return { code: helper(source) };\n  },\n};\n",
  'static.test.js': "const value = require('jrl-static');\ntest('a package and its declared dependency', () => expect(value).toBe('static+dep'));\n",
  'dynamic.test.js': "const name = ['jrl', 'dyn'].join('-');\ntest('a require of a computed name', () => expect(require(name)).toBe('dynamic'));\n",
  'fixture.test.js':
    "const fs = require('fs');\nconst path = require('path');\ntest('a fixture read from a package', () => {\n  const data = JSON.parse(fs.readFileSync(path.join(__dirname, 'node_modules', 'jrl-fixture', 'data.json'), 'utf8'));\n  expect(data.answer).toBe(42);\n});\n",
  'probe.test.js':
    "const fs = require('fs');\nconst path = require('path');\nconst present = fs.existsSync(path.join(__dirname, 'node_modules', 'jrl-probe', 'marker'));\ntest('a probe for a file in a package', () => expect(present).toBe(true));\n",
  'swallowed.test.js':
    "let found;\ntry {\n  found = require(['jrl', 'swallowed'].join('-'));\n} catch {\n  found = 'missing';\n}\ntest('a require whose failure the code catches', () => expect(found).toBe('found'));\n",
  'plain.test.js': "test('needs no package', () => expect(1 + 1).toBe(2));\n",
};

beforeAll(async () => {
  ({ work, project } = consumerProject('jrl-packages-', 'packages-consumer'));
  for (const [name, files] of Object.entries(PACKAGES)) {
    const dir = path.join(project, 'node_modules', name);
    fs.mkdirSync(dir, { recursive: true });
    const dependencies = name === 'jrl-static' ? { 'jrl-static-dep': '1.0.0' } : {};
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', dependencies }));
    for (const [file, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, file), content);
  }
  for (const [file, content] of Object.entries(FILES)) fs.writeFileSync(path.join(project, file), content);
  stack = await startFleetStack(path.resolve(__dirname, '..'), work, 'jrl-packages');
}, 600_000);

afterAll(async () => {
  await stack?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

const lambda = (env: NodeJS.ProcessEnv): JestRun =>
  runJest(project, { runner: 'remote-lambda', env: { ...stack.env, JEST_REMOTE_LAMBDA_DEBUG: '1', JEST_REMOTE_LAMBDA_CONCURRENCY: '2', ...env } });
const broughtIn = (run: JestRun) => Number(/brought in during the run for (\d+) file\(s\)/.exec(run.stderr)?.[1]);
const transformsMade = (run: JestRun) => Number(/(\d+) made by this run's environments/.exec(run.stderr)?.[1] ?? 'NaN');
const mb = (run: JestRun, pattern: RegExp) => Number(pattern.exec(run.stderr)?.[1]);

test.each([
  ['with a bucket', {}],
  ['without a bucket (blobs inline)', { JEST_REMOTE_LAMBDA_BUCKET: '' }],
])(
  "%s: packages the graph cannot see are brought in when touched, with the default runner's results; the next run sends them up front",
  async (name, extra) => {
    const reference = runJest(project, { runner: 'default' });
    expect(reference.json.numPassedTests).toBe(Object.keys(FILES).filter((f) => f.endsWith('.test.js')).length);
    const env = { ...extra, JEST_REMOTE_LAMBDA_CACHE_DIRECTORY: path.join(work, `cache-${name.split(' ')[0]}`) };
    await stack.fleet.recycle();
    const first = lambda(env);
    expect(comparable(first)).toEqual(comparable(reference));
    // dynamic, fixture, probe and swallowed; the transformer's helper (every file's) with whichever came first
    expect(broughtIn(first)).toBeGreaterThanOrEqual(4);
    // an environment holds what its files needed, well short of everything installed (jrl-unused alone is 4 MB)
    const installed = mb(first, /of ([\d.]+) MB installed/);
    expect(mb(first, /MB on average, ([\d.]+) MB at most/)).toBeLessThan(installed - 4);

    // new environments: what the first run had to bring in now comes with the requests
    await stack.fleet.recycle();
    const second = lambda(env);
    expect(comparable(second)).toEqual(comparable(reference));
    expect(broughtIn(second)).toBe(0);
    // the second run's environments started while it prepared (with a bucket, each bringing in the
    // first run's project and loading its Jest: no file's request had to load Jest)
    expect(second.stderr).toMatch(/ \(\+2 warm-ups\), /);
    if (name === 'with a bucket') {
      expect(second.stderr).not.toMatch(/\[remote-lambda\] handler \(sum over files[^\n]* prepare=/);
      // what the first run's environments transformed, the new ones brought in instead of transforming again
      expect(transformsMade(first)).toBeGreaterThanOrEqual(Object.keys(FILES).filter((f) => f.endsWith('.test.js')).length);
      expect(transformsMade(second)).toBe(0);
    } else expect(second.stderr).not.toMatch(/\[remote-lambda\] transforms:/);
  },
  600_000,
);

test('packages "all": every environment holds the whole node_modules, with the same results', async () => {
  const reference = runJest(project, { runner: 'default' });
  await stack.fleet.recycle();
  const all = lambda({ JEST_REMOTE_LAMBDA_PACKAGES: 'all', JEST_REMOTE_LAMBDA_CACHE_DIRECTORY: path.join(work, 'cache-all') });
  expect(comparable(all)).toEqual(comparable(reference));
  expect(all.stderr).not.toMatch(/\[remote-lambda\] packages:/);
  // (the trees hold jrl-unused too)
  expect(mb(all, /MB on average, ([\d.]+) MB at most/)).toBeGreaterThan(4);
}, 600_000);
