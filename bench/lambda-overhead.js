#!/usr/bin/env node
/**
 * Per-file overhead of the lambda backend (serverless-offline on 127.0.0.1, through the real AWS
 * SDK) against the embedded local backend, side by side in one run, runs alternating; the lambda
 * backend once with one file per invocation and once with small files batched (the default). Both run
 * one file at a time (`workers` 1 / `concurrency` 1), warm (a warm-up run first), on a generated
 * project of trivial test files, so what is measured is what each file costs besides its test:
 * request building, transport (IPC or HTTP invoke), materializing, Jest environment set-up, result
 * mapping. "overhead" is the runner's own figure: (dispatch time - summed in-handler test time) / files.
 *
 *   node bench/lambda-overhead.js [--files=40] [--runs=5] [--json=bench/results/lambda-overhead.json] [--quick]
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { consumerProject, emulators, runJest, median } = require('./support/lambda-env');

const { benchArgs, printFigures } = require('./support/args');

const args = benchArgs('lambda-overhead', { defaults: { files: 40, runs: 5 }, quick: { files: 4, runs: 1 } });
const FILES = args.files;
const RUNS = args.runs;
const JSON_OUT = args.json;

async function main() {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'jrl-bench-overhead-'));
  const project = consumerProject(path.join(work, 'project'));
  const suite = path.join(project, 'many');
  fs.mkdirSync(path.join(suite, 'test'), { recursive: true });
  fs.writeFileSync(path.join(suite, 'jest.config.js'), "module.exports = { runner: 'remote-lambda', testEnvironment: 'node' };\n");
  fs.writeFileSync(path.join(suite, 'sum.js'), 'module.exports = (a, b) => a + b;\n');
  for (let i = 0; i < FILES; i++) {
    fs.writeFileSync(
      path.join(suite, 'test', `t${i}.test.js`),
      `const sum = require('../sum');\ntest('adds ${i}', () => expect(sum(${i}, 1)).toBe(${i + 1}));\n`,
    );
  }
  const emu = await emulators(work);
  const sides = {
    local: { JEST_REMOTE_LAMBDA_WORKERS: '1' },
    lambda: { ...emu.env, JEST_REMOTE_LAMBDA_BUCKET: emu.bucket, JEST_REMOTE_LAMBDA_CONCURRENCY: '1', JEST_REMOTE_LAMBDA_BATCH_MS: '0' },
    'lambda, batched': { ...emu.env, JEST_REMOTE_LAMBDA_BUCKET: emu.bucket, JEST_REMOTE_LAMBDA_CONCURRENCY: '1' },
  };
  const samples = Object.fromEntries(Object.keys(sides).map((k) => [k, []]));
  try {
    for (const env of Object.values(sides)) runJest(suite, env); // warm-up: workers, containers, caches
    for (let r = 0; r < RUNS; r++) {
      const names = Object.keys(sides);
      const order = r % 2 === 0 ? names : [...names].reverse();
      for (const name of order) samples[name].push(runJest(suite, sides[name]));
    }
  } finally {
    await emu.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
  const summary = Object.fromEntries(
    Object.entries(samples).map(([name, runs]) => [
      name,
      {
        wallMs: median(runs.map((s) => s.wallMs)),
        mirrorMs: median(runs.map((s) => s.mirrorMs)),
        shipMs: median(runs.map((s) => s.shipMs)),
        dispatchMs: median(runs.map((s) => s.dispatchMs)),
        dispatchMsPerFile: median(runs.map((s) => s.dispatchMs / s.files)),
        overheadMsPerFile: median(runs.map((s) => s.overheadMsPerFile)),
      },
    ]),
  );
  const ratio = summary.lambda.overheadMsPerFile / summary.local.overheadMsPerFile;
  const batchedRatio = summary['lambda, batched'].overheadMsPerFile / summary.local.overheadMsPerFile;
  const lines = [
    `lambda-overhead: ${FILES} trivial test files, one at a time, warm, ${RUNS} alternating runs per side (medians), ${os.cpus().length} cores, Node ${process.version}`,
    '',
    '| backend | wall (ms) | mirror (ms) | ship (ms) | dispatch (ms) | dispatch per file (ms) | overhead per file (ms) |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...Object.entries(summary).map(
      ([n, s]) =>
        `| ${n} | ${s.wallMs.toFixed(0)} | ${s.mirrorMs.toFixed(0)} | ${s.shipMs.toFixed(0)} | ${s.dispatchMs.toFixed(0)} | ${s.dispatchMsPerFile.toFixed(1)} | ${s.overheadMsPerFile.toFixed(1)} |`,
    ),
    '',
    `per-file overhead, lambda (emulator) / local: ${ratio.toFixed(2)}× one file per invocation, ${batchedRatio.toFixed(2)}× with small files batched (batchMs 250)`,
  ];
  console.log(lines.join('\n'));
  fs.mkdirSync(path.dirname(JSON_OUT), { recursive: true });
  fs.writeFileSync(
    JSON_OUT,
    JSON.stringify({ date: new Date().toISOString(), files: FILES, runs: RUNS, node: process.version, summary, ratio, batchedRatio, samples }, null, 2),
  );
  fs.writeFileSync(JSON_OUT.replace(/\.json$/, '.md'), `${lines.join('\n')}\n\nReproduce: \`node bench/lambda-overhead.js --files=${FILES} --runs=${RUNS}\`\n`);
  printFigures({
    files: FILES,
    runs: RUNS,
    overheadMsPerFile: Object.fromEntries(Object.entries(summary).map(([n, s]) => [n, s.overheadMsPerFile])),
    ratio,
    batchedRatio,
  });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
