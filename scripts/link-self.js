// Makes `runner: 'remote-lambda'` resolvable inside this repository (examples/, test fixtures)
// the same way it is for users: node_modules/jest-runner-remote-lambda -> this package.
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const link = path.join(root, 'node_modules', 'jest-runner-remote-lambda');
try {
  if (fs.realpathSync(link) === root) process.exit(0);
  fs.rmSync(link, { recursive: true, force: true });
} catch {
  // not there yet
}
fs.mkdirSync(path.dirname(link), { recursive: true });
fs.symlinkSync(path.relative(path.dirname(link), root), link, 'dir');
