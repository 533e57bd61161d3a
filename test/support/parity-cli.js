#!/usr/bin/env node
/**
 * Compares a real project's suite under Jest's default runner and under ours, test by test.
 *   node test/support/parity-cli.js <projectDir> [--runner=<path|name>] [--json=<file>] [-- <jest args>]
 * Prints matched/total and every mismatch; exit code 0 only when everything matched.
 */
const fs = require('node:fs');
const path = require('node:path');
const { runJest, compareTests } = require('./run-jest');

const argv = process.argv.slice(2);
const dash = argv.indexOf('--');
const own = dash === -1 ? argv : argv.slice(0, dash);
const jestArgs = dash === -1 ? [] : argv.slice(dash + 1);
const dir = path.resolve(own.find((a) => !a.startsWith('--')) ?? '.');
const flag = (name) =>
  own
    .find((a) => a.startsWith(`--${name}=`))
    ?.split('=')
    .slice(1)
    .join('=');
const runnerPath = flag('runner') ?? 'remote-lambda';

const t0 = Date.now();
const reference = runJest(dir, { runner: 'default', args: jestArgs });
const t1 = Date.now();
const ours = runJest(dir, { runner: 'remote-lambda', runnerPath, args: jestArgs });
const t2 = Date.now();
const { total, matched, mismatches } = compareTests(reference, ours);

console.log(`${path.basename(dir)}: ${matched}/${total} tests matched; exit codes ${reference.status} (default) vs ${ours.status} (remote-lambda)`);
console.log(`wall: default ${((t1 - t0) / 1000).toFixed(1)} s, remote-lambda ${((t2 - t1) / 1000).toFixed(1)} s`);
for (const m of mismatches.slice(0, 50)) {
  console.log(`\n--- ${m.key}`);
  console.log(`default: ${JSON.stringify(m.reference)?.slice(0, 1500)}`);
  console.log(`ours:    ${JSON.stringify(m.ours)?.slice(0, 1500)}`);
}
if (mismatches.length > 50) console.log(`\n... and ${mismatches.length - 50} more`);
const out = flag('json');
if (out) fs.writeFileSync(out, JSON.stringify({ total, matched, mismatches, status: [reference.status, ours.status] }, null, 2));
process.exitCode = matched === total && mismatches.length === 0 && reference.status === ours.status ? 0 : 1;
