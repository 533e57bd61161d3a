#!/usr/bin/env node
/**
 * Cold environments against warm ones, on the Lambda-like fleet (test/support/fleet, s3rver as the
 * bucket, the built handler): for each suite, a first run (it fills the bucket), a warm run (the
 * same environments again), then every environment recycled and a cold run with the store already
 * holding the code ("the next morning"). Each with only the packages each file needs (`packages:
 * "needed"`, the default) and, for comparison, with the whole node_modules (`"all"`, as before).
 * Billed time is summed from the fleet's REPORT lines (the runner's summary), the bytes a cold
 * environment holds come from the environments' own answers.
 *
 *   npm run build && node bench/cold-start.js [--json=bench/results/cold-start.json] [--quick] [--concurrency=4] [suite dirs...]
 *
 * Suites: examples/typescript-basics (ts-jest) and examples/react-jsdom (babel, jsdom), both on
 * this repository's node_modules (the big one); more as folders on the command line.
 * Last line: {"suites": [{"name", "coldBilledMs", "warmBilledMs", "coldBytesPerEnv", "fullTreeBytes", ...}], "clientMsPerResult"}.
 */
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startFleetStack } = require('../test/support/offline');
const { benchArgs, printFigures } = require('./support/args');

const REPO = path.resolve(__dirname, '..');
const args = benchArgs('cold-start', { defaults: { concurrency: 4, clientFiles: 1000 }, quick: { concurrency: 2, clientFiles: 40 } });
// (quick: the ts-jest suite alone, and with every package only its cold run)
const SUITES =
  args.positionals.length > 0
    ? args.positionals.map((p) => path.resolve(p))
    : (args.quick ? ['typescript-basics'] : ['typescript-basics', 'react-jsdom']).map((e) => path.join(REPO, 'examples', e));

const log = (line) => process.stderr.write(`[cold-start] ${line}\n`);

/** One run of the suite's own Jest with our runner on the fleet; the figures its summary and debug lines give. */
function run(cwd, env) {
  const jestBin = require.resolve('jest/bin/jest', { paths: [cwd] });
  const started = process.hrtime.bigint();
  // (not --silent: it would hide the runner's summary, where the billed time is)
  const child = spawnSync(process.execPath, [jestBin, '--ci'], {
    cwd,
    env: { ...process.env, JEST_WORKER_ID: '', FORCE_COLOR: '0', JEST_REMOTE_LAMBDA_DEBUG: '1', ...env },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  const text = child.stderr;
  const number = (re) => {
    const m = re.exec(text);
    return m ? Number(m[1]) : undefined;
  };
  const memoryMb = number(/on Lambda \([^)]*?, (\d+) MB\)/);
  const gbSeconds = number(/billed ([\d.]+) GB-s/);
  const figures = {
    wallMs: Math.round(wallMs),
    billedMs: gbSeconds !== undefined && memoryMb ? Math.round((gbSeconds / (memoryMb / 1024)) * 1000) : undefined,
    treeBytesPerEnv: mb(number(/trees: \d+ environment\(s\), ([\d.]+) MB on average/)),
    environments: number(/trees: (\d+) environment\(s\)/),
    storeBytes: number(/cached=\d+ \((\d+) B\) inline=/),
    broughtIn: number(/brought in during the run for (\d+) file\(s\)/) ?? 0,
    // the handler's phases summed over files (ms): where a cold environment's time goes
    phases: Object.fromEntries(
      [...(/handler \(sum over files[^:]*\): ([^;]*);/.exec(text)?.[1].matchAll(/(\w+)=(\d+)ms/g) ?? [])].map((m) => [m[1], Number(m[2])]),
    ),
    failed: number(/Tests:\s+(\d+) failed/) ?? 0,
    passed: number(/Tests:\s+(?:\d+ failed, )?(\d+) passed/),
  };
  if (child.status !== 0 || figures.billedMs === undefined || figures.treeBytesPerEnv === undefined) {
    throw new Error(`jest failed in ${cwd} (status ${child.status}):\n${text.slice(-4000)}`);
  }
  return figures;
}

const mb = (x) => (x === undefined ? undefined : Math.round(x * 1024 * 1024));

/**
 * The client's CPU per result on the fleet: a suite of trivial files (the client's cost dominates
 * there), run twice; the second run's figure as the runner measures it (its CPU while files ran,
 * per result: sending, reading answers, Jest's results and reporters).
 */
function clientMsPerResult(work, env) {
  const dir = path.join(work, 'client');
  fs.mkdirSync(path.join(dir, 'test'), { recursive: true });
  fs.mkdirSync(path.join(dir, '.git'));
  fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(dir, 'node_modules'));
  for (let i = 0; i < args.clientFiles; i++) fs.writeFileSync(path.join(dir, 'test', `f${i}.test.js`), `test('a', () => expect(1 + ${i}).toBe(${i} + 1));\n`);
  fs.writeFileSync(path.join(dir, 'jest.config.js'), "module.exports = { rootDir: __dirname, runner: 'remote-lambda', testEnvironment: 'node' };\n");
  let figure;
  // (a first run brings the environments up and the files in; the second is measured)
  for (let round = 0; round < 2; round++) {
    const child = spawnSync(process.execPath, [require.resolve('jest/bin/jest', { paths: [REPO] }), '--ci', '--silent'], {
      cwd: dir,
      env: { ...process.env, ...env, JEST_WORKER_ID: '', JEST_REMOTE_LAMBDA_DEBUG: '1' },
      encoding: 'utf8',
    });
    figure = /client: ([\d.]+) ms of CPU per result/.exec(child.stderr)?.[1];
    if (child.status !== 0 || figure === undefined) throw new Error(`client suite of ${args.clientFiles} files failed:\n${child.stderr.slice(-3000)}`);
  }
  return Number(figure);
}

async function main() {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'jrl-bench-cold-'));
  // (/tmp as deploy gives the function: the whole tree of `packages: "all"` is held twice there)
  const stack = await startFleetStack(REPO, work, 'jrl-cold', { concurrency: args.concurrency * 2, ephemeralMb: 2048 });
  const results = [];
  let client;
  try {
    for (const suite of SUITES) {
      const name = path.basename(suite);
      const row = { name };
      for (const packages of ['needed', 'all']) {
        const env = {
          ...stack.env,
          JEST_REMOTE_LAMBDA_CONCURRENCY: String(args.concurrency),
          JEST_REMOTE_LAMBDA_PACKAGES: packages,
          JEST_REMOTE_LAMBDA_CACHE_DIRECTORY: path.join(work, `cache-${name}-${packages}`),
        };
        await stack.fleet.recycle();
        const quickAll = args.quick && packages === 'all';
        const first = quickAll ? undefined : run(suite, env);
        const warm = quickAll ? undefined : run(suite, env);
        await stack.fleet.recycle();
        const cold = run(suite, env);
        log(`${name} (${packages}): first ${JSON.stringify(first)}; warm ${JSON.stringify(warm)}; cold ${JSON.stringify(cold)}`);
        const suffix = packages === 'needed' ? '' : 'AllPackages';
        Object.assign(row, {
          [`coldBilledMs${suffix}`]: cold.billedMs,
          [`warmBilledMs${suffix}`]: warm?.billedMs,
          [`coldBytesPerEnv${suffix}`]: cold.treeBytesPerEnv,
          [`coldWallMs${suffix}`]: cold.wallMs,
          [`warmWallMs${suffix}`]: warm?.wallMs,
          [`broughtInCold${suffix}`]: cold.broughtIn,
          [`failedTests${suffix}`]: (first?.failed ?? 0) + (warm?.failed ?? 0) + cold.failed,
        });
        if (packages === 'all') row.fullTreeBytes = cold.treeBytesPerEnv;
      }
      row.coldOverWarm = Number((row.coldBilledMs / row.warmBilledMs).toFixed(2));
      row.bytesShare = Number((row.coldBytesPerEnv / row.fullTreeBytes).toFixed(3));
      results.push(row);
    }
    await stack.fleet.recycle();
    client = clientMsPerResult(work, { ...stack.env, JEST_REMOTE_LAMBDA_CONCURRENCY: String(args.concurrency) });
  } finally {
    await stack.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
  const figures = { quick: args.quick, concurrency: args.concurrency, node: process.version, suites: results, clientMsPerResult: client };
  fs.mkdirSync(path.dirname(args.json), { recursive: true });
  fs.writeFileSync(args.json, `${JSON.stringify(figures, null, 1)}\n`);
  printFigures(figures);
}

main().catch((error) => {
  process.stderr.write(`${error.stack}\n`);
  process.exit(1);
});
