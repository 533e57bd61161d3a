'use strict';
// Measures the Jest main process's CPU time per finished test file (the simulator's clientPerFileMs):
// runs two projects of trivial test files (200 and 1,000 files) with a reporter that reads
// process.cpuUsage() between onRunStart and onRunComplete, and takes the slope between them, so
// fixed costs (config, haste map, our mirror) cancel. Each size runs twice; the second (warm) run counts.
//
//   node bench/scale/client-cpu.js [--runner=/abs/path/to/dist/src/index.cjs] [--workers=2]
//
// Without --runner it measures Jest's default runner. Prints JSON.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');
const { parseArgs } = require('util');

const { values: args } = parseArgs({ options: { runner: { type: 'string' }, workers: { type: 'string' } }, strict: true });
const workers = Number(args.workers || 2);
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'client-cpu-'));
const jestPackage = require.resolve('jest/package.json', { paths: [path.join(__dirname, '..', '..')] });
const jestBin = path.join(path.dirname(jestPackage), 'bin', 'jest.js');
const out = path.join(root, 'cpu.jsonl');

fs.writeFileSync(
  path.join(root, 'cpu-reporter.js'),
  `class CpuReporter {
  onRunStart() { this.start = process.cpuUsage(); }
  onRunComplete(_contexts, results) {
    const u = process.cpuUsage(this.start);
    require('fs').appendFileSync(${JSON.stringify(out)}, JSON.stringify({ files: results.numTotalTestSuites, mainCpuMs: (u.user + u.system) / 1000 }) + '\\n');
  }
}
module.exports = CpuReporter;
`,
);

function project(files) {
  const dir = path.join(root, `p${files}`);
  fs.mkdirSync(path.join(dir, 'test'), { recursive: true });
  for (let i = 0; i < files; i++) {
    fs.writeFileSync(
      path.join(dir, 'test', `f${i}.test.js`),
      `test('a', () => { expect(1 + ${i}).toBe(${i} + 1); });\ntest('b', () => { expect([1, 2]).toEqual([1, 2]); });\ntest('c', () => { expect({ a: ${i} }).toMatchObject({ a: ${i} }); });\n`,
    );
  }
  fs.writeFileSync(
    path.join(dir, 'jest.config.js'),
    `module.exports = { rootDir: __dirname, testEnvironment: 'node', reporters: ['default', ${JSON.stringify(path.join(root, 'cpu-reporter.js'))}] };\n`,
  );
  return dir;
}

const sizes = [200, 1000];
const dirs = sizes.map(project);
const jestArgs = [jestBin, `-w`, String(workers), `--cacheDirectory=${path.join(root, 'cache')}`];
if (args.runner) jestArgs.push(`--runner=${args.runner}`);
const env = { ...process.env, JEST_REMOTE_LAMBDA_WORKERS: String(workers) };
for (let round = 0; round < 2; round++) {
  for (const dir of dirs) execFileSync(process.execPath, jestArgs, { cwd: dir, env, stdio: 'ignore' });
}
const lines = fs
  .readFileSync(out, 'utf8')
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l));
const warm = lines.slice(sizes.length);
const slope = (warm[1].mainCpuMs - warm[0].mainCpuMs) / (warm[1].files - warm[0].files);
console.log(
  JSON.stringify({ runner: args.runner || 'jest default', workers, node: process.version, runs: lines, mainCpuMsPerFile: Number(slope.toFixed(3)) }, null, 1),
);
fs.rmSync(root, { recursive: true, force: true });
