#!/usr/bin/env node
/**
 * Wall time of Jest's default runner vs ours (embedded local backend) on the same project, same
 * worker count, runs alternating (A B, B A, ...) so machine noise hits both sides alike.
 *
 *   node bench/overhead.js [--runs=5] [--workers=N] [--json=out.json] [--quick] [project dirs...]
 *
 * Without project dirs it uses every example that passes with both runners (with --quick: one run
 * of examples/typescript-basics). "cold" gives each
 * run a fresh Jest cacheDirectory (so transforms, our hash cache, content store and run
 * directories all start empty); "warm" reuses one per runner after a warm-up run.
 */
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { benchArgs, printFigures } = require('./support/args');

const REPO = path.resolve(__dirname, '..');
const args = benchArgs('overhead', { defaults: { runs: 5, workers: '' }, quick: { runs: 1 } });
const runs = args.runs;
const workers = args.workers || undefined;
const ENV = { 'native-esm': { NODE_OPTIONS: '--experimental-vm-modules --no-warnings' } };
const SKIP = new Set(['failures']); // fails on purpose; timing a failing suite says little

const projects = args.positionals.map((p) => path.resolve(p));
if (projects.length === 0 && args.quick) projects.push(path.join(REPO, 'examples', 'typescript-basics'));
if (projects.length === 0) {
  const examples = path.join(REPO, 'examples');
  for (const name of fs.readdirSync(examples).sort()) {
    if (SKIP.has(name) || !fs.existsSync(path.join(examples, name, 'package.json'))) continue;
    projects.push(path.join(examples, name));
  }
}

const statuses = new Set();

function runOnce(cwd, runner, cacheDirectory) {
  const jestBin = require.resolve('jest/bin/jest', { paths: [cwd] });
  const argv = [jestBin, '--ci', '--silent', `--cacheDirectory=${cacheDirectory}`, `--runner=${runner === 'default' ? 'jest-runner' : 'remote-lambda'}`];
  if (workers) argv.push(`--maxWorkers=${workers}`);
  const env = { ...process.env, ...ENV[path.basename(cwd)] };
  delete env.JEST_WORKER_ID;
  const start = process.hrtime.bigint();
  const child = spawnSync(process.execPath, argv, { cwd, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  // A suite may fail on its own (public suites do); it must fail the same way with both runners.
  if (child.status !== 0 && child.status !== 1) throw new Error(`${runner} crashed in ${cwd} (status ${child.status}):\n${child.stderr.slice(-3000)}`);
  statuses.add(`${path.basename(cwd)}:${runner}:${child.status}`);
  return ms;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function measure(cwd, mode) {
  const times = { default: [], ours: [] };
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'jrl-bench-'));
  const warmDir = { default: path.join(tmp, 'warm-default'), ours: path.join(tmp, 'warm-ours') };
  if (mode === 'warm') {
    runOnce(cwd, 'default', warmDir.default);
    runOnce(cwd, 'ours', warmDir.ours);
  }
  for (let i = 0; i < runs; i++) {
    const order = i % 2 === 0 ? ['default', 'ours'] : ['ours', 'default'];
    for (const runner of order) {
      const dir = mode === 'warm' ? warmDir[runner] : path.join(tmp, `cold-${runner}-${i}`);
      times[runner].push(runOnce(cwd, runner, dir));
    }
  }
  fs.rmSync(tmp, { recursive: true, force: true });
  return { default: median(times.default), ours: median(times.ours), samples: times };
}

const rows = [];
console.log(`runs per cell: ${runs} (alternating), workers: ${workers ?? "Jest's default"}, cores: ${os.cpus().length}, node ${process.version}`);
console.log('project'.padEnd(22) + 'mode  default(ms)  ours(ms)  ratio');
for (const cwd of projects) {
  for (const mode of ['cold', 'warm']) {
    const r = measure(cwd, mode);
    const ratio = r.ours / r.default;
    rows.push({
      project: path.basename(cwd),
      mode,
      defaultMs: Math.round(r.default),
      oursMs: Math.round(r.ours),
      ratio: Number(ratio.toFixed(3)),
      samples: r.samples,
    });
    console.log(
      `${path.basename(cwd).padEnd(22)}${mode.padEnd(6)}${String(Math.round(r.default)).padStart(11)}${String(Math.round(r.ours)).padStart(10)}  ${ratio.toFixed(2)}x`,
    );
  }
}
const geo = (mode) => Math.exp(rows.filter((r) => r.mode === mode).reduce((s, r) => s + Math.log(r.ratio), 0) / rows.filter((r) => r.mode === mode).length);
for (const cwd of projects) {
  const name = path.basename(cwd);
  const seen = [...statuses].filter((s) => s.startsWith(`${name}:`)).map((s) => s.split(':')[2]);
  if (new Set(seen).size > 1)
    console.log(`warning: ${name} exited differently between runners: ${[...statuses].filter((s) => s.startsWith(`${name}:`)).join(', ')}`);
}
console.log(`geometric mean ratio: cold ${geo('cold').toFixed(2)}x, warm ${geo('warm').toFixed(2)}x`);
fs.mkdirSync(path.dirname(args.json), { recursive: true });
fs.writeFileSync(args.json, JSON.stringify({ runs, workers: workers ?? null, rows, geomean: { cold: geo('cold'), warm: geo('warm') } }, null, 2));
printFigures({ runs, projects: rows.map(({ project, mode, ratio }) => ({ project, mode, ratio })), geomean: { cold: geo('cold'), warm: geo('warm') } });
