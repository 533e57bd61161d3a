#!/usr/bin/env node
// Runs a part of our suite again under Node 22 (the runner, the worker pool, the emulated Lambda
// and the Jest processes the tests start all use it), so both supported Node majors are tested
// in one CI run. Node 22 comes from the npm registry (node-<platform>-<arch>), kept in .cache/.
//   node scripts/test-node22.js [jest args...]
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const NODE_MAJOR = 22;
const TESTS = ['test/parity.test.ts', 'test/snapshot-workflows.test.ts', 'test/lambda.test.ts'];

const root = path.resolve(__dirname, '..');
const pkg = `node-${process.platform}-${process.arch}`;
const prefix = path.join(root, '.cache', `node${NODE_MAJOR}`);
const binary = path.join(prefix, 'node_modules', pkg, 'bin', 'node');

if (Number(process.versions.node.split('.')[0]) === NODE_MAJOR) {
  console.log(`Already on Node ${process.version}: nothing more to run.`);
  process.exit(0);
}
if (!fs.existsSync(binary)) {
  console.log(`Installing Node ${NODE_MAJOR} (${pkg}) into ${path.relative(root, prefix)}`);
  fs.mkdirSync(prefix, { recursive: true });
  execFileSync('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--prefix', prefix, `${pkg}@${NODE_MAJOR}`], { stdio: 'inherit' });
}
const version = execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim();
console.log(`Running ${TESTS.join(', ')} under Node ${version}`);
const jest = path.join(root, 'node_modules', 'jest', 'bin', 'jest.js');
const result = spawnSync(binary, [jest, ...TESTS, ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
  // the tests' child processes (Jest, workers, the emulator) start with process.execPath; npm and
  // npx they run find this Node first on PATH
  env: { ...process.env, PATH: `${path.dirname(binary)}${path.delimiter}${process.env.PATH}` },
});
process.exit(result.status ?? 1);
