// Installs the dependencies of examples that pin their own Jest (examples/jest29), from their
// lockfiles, when they are missing or older than the lockfile. Other examples use the root's.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const examples = path.resolve(__dirname, '../examples');
for (const name of fs.readdirSync(examples)) {
  const dir = path.join(examples, name);
  const lock = path.join(dir, 'package-lock.json');
  if (!fs.existsSync(lock)) continue;
  const marker = path.join(dir, 'node_modules', '.package-lock.json');
  if (fs.existsSync(marker) && fs.statSync(marker).mtimeMs >= fs.statSync(lock).mtimeMs) continue;
  console.log(`Installing examples/${name} (npm ci)`);
  execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: dir, stdio: 'inherit' });
}
