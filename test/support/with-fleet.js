#!/usr/bin/env node
/**
 * Runs one command against the local Lambda fleet (test/support/fleet) with s3rver as the bucket,
 * serving this checkout's built handler, then stops both: for trying a real project's suite on
 * Lambda as it is (private /tmp, read-only code, no git, another process per environment).
 *
 *   npm run build && node test/support/with-fleet.js [--concurrency=N] [--memory=MB] [--ephemeral=MB] [--fnenv=K=V ...] -- <command> [args...]
 *   e.g. node test/support/with-fleet.js -- node test/support/parity-cli.js ../some-project --runner=$PWD/dist/src/index.cjs
 *
 * --ephemeral is the function's /tmp (default 2048 MB, what `deploy` gives it).
 * --fnenv sets a variable of the function's own configuration (e.g. NODE_OPTIONS=--experimental-vm-modules).
 * The command gets JEST_REMOTE_LAMBDA_BACKEND=lambda and the stack's endpoints and credentials on
 * top of this environment; the exit code is the command's.
 */
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { parseArgs } = require('node:util');
const { startFleetStack } = require('./offline');

const REPO = path.resolve(__dirname, '../..');

async function main() {
  const dash = process.argv.indexOf('--');
  if (dash === -1 || dash === process.argv.length - 1)
    throw new Error('usage: with-fleet.js [--concurrency=N] [--memory=MB] [--ephemeral=MB] [--fnenv=K=V ...] -- <command> [args...]');
  const { values } = parseArgs({
    args: process.argv.slice(2, dash),
    options: { concurrency: { type: 'string' }, memory: { type: 'string' }, ephemeral: { type: 'string' }, fnenv: { type: 'string', multiple: true } },
    strict: true,
  });
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'jrl-with-fleet-'));
  const stack = await startFleetStack(REPO, work, 'jrl-with-fleet', {
    ...(values.concurrency ? { concurrency: Number(values.concurrency) } : {}),
    ...(values.memory ? { memoryMb: Number(values.memory) } : {}),
    ephemeralMb: Number(values.ephemeral ?? 2048),
    environment: Object.fromEntries((values.fnenv ?? []).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])),
  });
  try {
    const [command, ...args] = process.argv.slice(dash + 1);
    const run = spawnSync(command, args, { stdio: 'inherit', env: { ...process.env, JEST_REMOTE_LAMBDA_BACKEND: 'lambda', ...stack.env } });
    process.exitCode = run.status ?? 1;
  } finally {
    await stack.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
