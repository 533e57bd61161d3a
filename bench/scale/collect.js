'use strict';
// Turns a suite's own `jest --json --outputFile=...` output into bench/data/<name>.json: numbers only
// (per-file wall durations and result sizes, in path order; no paths, no code of the suite).
//
//   node bench/scale/collect.js --name=luxon --repo=moment/luxon --dir=/tmp/suites/luxon \
//     --command="npx jest" --env="TZ=America/New_York LANG=en_US.utf8" \
//     --run=warm:/tmp/suites/out/luxon.warm.json:/tmp/suites/out/luxon.warm.meta.json \
//     --run=cold:/tmp/suites/out/luxon.cold.json:/tmp/suites/out/luxon.cold.meta.json
//
// The first --run is the one the simulator samples from. A meta file is
// {"wallMs": <the run's own wall time>, "rc": <exit code>, "load": "<loadavg>"}.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');
const { parseArgs } = require('util');
const { summarize } = require('./suite');

const OPTIONS = { name: {}, repo: {}, dir: {}, command: {}, env: {}, run: { multiple: true, default: [] } };

function readRun(spec) {
  const [label, jsonPath, metaPath] = spec.split(':');
  const report = JSON.parse(fs.readFileSync(jsonPath, 'utf8'));
  const meta = metaPath ? JSON.parse(fs.readFileSync(metaPath, 'utf8')) : {};
  const files = [...report.testResults].sort((a, b) => (a.name < b.name ? -1 : 1));
  const perFileMs = files.map((r) => r.endTime - r.startTime);
  const perFileResultBytes = files.map((r) => Buffer.byteLength(JSON.stringify(r)));
  return {
    label,
    wallMs: meta.wallMs ?? null,
    exitCode: meta.rc ?? null,
    loadAverage: meta.load ?? null,
    tests: report.numTotalTests,
    failedTests: report.numFailedTests,
    failedFiles: report.numFailedTestSuites,
    perFileMs,
    perFileResultBytes,
    stats: summarize(perFileMs),
    sumOfFilesMs: perFileMs.reduce((s, d) => s + d, 0),
  };
}

function main() {
  const { values: args } = parseArgs({
    options: Object.fromEntries(Object.entries(OPTIONS).map(([k, o]) => [k, { type: 'string', ...o }])),
    strict: true,
  });
  const runs = args.run.map(readRun);
  const git = (...a) => execFileSync('git', ['-C', args.dir, ...a], { encoding: 'utf8' }).trim();
  const jestPkg = require.resolve('jest/package.json', { paths: [args.dir] });
  const main = runs[0];
  const data = {
    name: args.name,
    repo: args.repo,
    commit: git('rev-parse', 'HEAD'),
    commitDate: git('log', '-1', '--format=%cI'),
    jestVersion: JSON.parse(fs.readFileSync(jestPkg, 'utf8')).version,
    command: args.command,
    env: args.env || '',
    note: args.note || '',
    machine: { cores: os.cpus().length, node: process.version, platform: `${os.platform()} ${os.arch()}` },
    measuredOn: new Date().toISOString().slice(0, 10),
    sampledRun: main.label,
    files: main.perFileMs.length,
    stats: main.stats,
    perFileMs: main.perFileMs.map((d) => Math.round(d)),
    perFileResultBytes: main.perFileResultBytes,
    runs: Object.fromEntries(
      runs.map((r) => [
        r.label,
        {
          wallMs: r.wallMs,
          exitCode: r.exitCode,
          loadAverage: r.loadAverage,
          tests: r.tests,
          failedTests: r.failedTests,
          failedFiles: r.failedFiles,
          sumOfFilesMs: Math.round(r.sumOfFilesMs),
          stats: r.stats,
          ...(r === main ? {} : { perFileMs: r.perFileMs.map((d) => Math.round(d)) }),
        },
      ]),
    ),
  };
  const out = path.join(__dirname, '..', 'data', `${args.name}.json`);
  fs.writeFileSync(out, `${JSON.stringify(data, null, 1)}\n`);
  console.log(`${out}: ${data.files} files, total ${data.stats.totalMs} ms, median ${data.stats.medianMs} ms, max share ${data.stats.maxShareOfTotal}`);
}

main();
