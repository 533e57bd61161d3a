/**
 * Shared set-up of the lambda benchmarks: a consumer project that installed the runner from its
 * tarball (as users do), serverless-offline serving the built handler and s3rver, on 127.0.0.1.
 */
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { startLambdaStack } = require('../../test/support/offline');

const REPO = path.resolve(__dirname, '../..');
const BUCKET = 'jrl-bench';

function versionOf(name) {
  return JSON.parse(fs.readFileSync(require.resolve(`${name}/package.json`, { paths: [REPO] }), 'utf8')).version;
}

/** A project at `dir` with jest (this repo's version), the packed runner and `extras` installed. */
function consumerProject(dir, extras = []) {
  fs.mkdirSync(dir, { recursive: true });
  fs.mkdirSync(path.join(dir, '.git'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'bench-consumer', private: true }));
  const out = execFileSync('npm', ['pack', '--silent', '--ignore-scripts', '--pack-destination', dir], { cwd: REPO, encoding: 'utf8' });
  const tarball = path.join(dir, out.trim().split('\n').pop());
  const packages = ['jest', ...extras].map((name) => `${name}@${versionOf(name)}`);
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--save-dev', ...packages, tarball], { cwd: dir, stdio: 'pipe' });
  return dir;
}

/** Emulators for one benchmark run (the same stack the tests use); `stop()` ends them. */
async function emulators(work) {
  const stack = await startLambdaStack(REPO, work, BUCKET);
  return { ...stack, bucket: BUCKET };
}

/** Runs the project's own jest with our runner and returns wall ms and the debug figures. */
function runJest(cwd, env, args = []) {
  const jestBin = require.resolve('jest/bin/jest', { paths: [cwd] });
  const started = process.hrtime.bigint();
  const child = spawnSync(process.execPath, [jestBin, '--ci', '--silent', ...args], {
    cwd,
    env: { ...process.env, JEST_WORKER_ID: '', FORCE_COLOR: '0', JEST_REMOTE_LAMBDA_DEBUG: '1', ...env },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  const debug = /files=(\d+).*?mirror=(\d+)ms ship=(\d+)ms dispatch=(\d+)ms total=(\d+)ms.*?blobs new=(\d+) \((\d+) B\) cached=(\d+) \((\d+) B\)/s.exec(
    child.stderr,
  );
  const overhead = /overhead outside the test run ≈ ([\d.]+) ms\/file/.exec(child.stderr);
  const inline = / inline=(\d+) B/.exec(child.stderr);
  if (!debug || child.status !== 0) throw new Error(`jest failed in ${cwd} (status ${child.status}):\n${child.stderr.slice(-3000)}`);
  return {
    wallMs,
    files: Number(debug[1]),
    mirrorMs: Number(debug[2]),
    shipMs: Number(debug[3]),
    dispatchMs: Number(debug[4]),
    newObjects: Number(debug[6]),
    newBytes: Number(debug[7]),
    cachedObjects: Number(debug[8]),
    cachedBytes: Number(debug[9]),
    overheadMsPerFile: overhead ? Number(overhead[1]) : NaN,
    inlineBytes: inline ? Number(inline[1]) : 0,
  };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

module.exports = { REPO, consumerProject, emulators, runJest, median };
