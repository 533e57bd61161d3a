/**
 * Runs a project's real `jest` CLI (its own installed version) once with Jest's default runner and
 * once with ours, and reduces both `--json` outputs to what must be equal test by test.
 * Plain JavaScript so the CLI beside it (parity-cli.js) can use it on any checkout.
 */
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const REPO = path.resolve(__dirname, '../..');
const CONSOLE_REPORTER = path.join(__dirname, 'console-reporter.js');
const TIMING_KEYS = new Set(['duration', 'startAt', 'startTime', 'endTime', 'perfStats']);

/**
 * @param {string} cwd
 * @param {{ runner: 'default' | 'remote-lambda', args?: string[], env?: NodeJS.ProcessEnv, runnerPath?: string }} options
 */
function runJest(cwd, options) {
  const call = prepare(cwd, options);
  const child = spawnSync(process.execPath, call.args, {
    cwd,
    env: call.env,
    encoding: 'utf8',
    timeout: Number(process.env.RUN_JEST_TIMEOUT_MS) || 900_000,
    maxBuffer: 256 * 1024 * 1024,
  });
  return call.collect(child.status, child.stdout, child.stderr);
}

/** The same as runJest, without blocking: for runs that must overlap (two runs at once). */
function runJestAsync(cwd, options) {
  const call = prepare(cwd, options);
  return new Promise((resolve, reject) => {
    const [command, ...rest] = options.wrap ? [...options.wrap, process.execPath, ...call.args] : [process.execPath, ...call.args];
    const child = spawn(command, rest, { cwd, env: call.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => {
      try {
        resolve(call.collect(status, stdout, stderr));
      } catch (error) {
        reject(error);
      }
    });
  });
}

function prepare(cwd, options) {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'jrl-parity-'));
  const jsonFile = path.join(out, 'result.json');
  const consoleFile = path.join(out, 'console.json');
  const jestBin = require.resolve('jest/bin/jest', { paths: [options.resolveFrom ?? cwd] });
  const runnerArgs = options.runner === 'default' ? ['--runner=jest-runner'] : options.runnerPath ? [`--runner=${options.runnerPath}`] : [];
  const args = [
    jestBin,
    '--ci',
    '--json',
    `--outputFile=${jsonFile}`,
    '--testLocationInResults',
    '--reporters=default',
    `--reporters=${CONSOLE_REPORTER}`,
    ...runnerArgs,
    ...(options.args ?? []),
  ];
  const env = { ...process.env, CONSOLE_REPORT_FILE: consoleFile, FORCE_COLOR: '0', ...options.env };
  // Our own test process runs inside a Jest worker; the child must not think it is one.
  delete env.JEST_WORKER_ID;
  const collect = (status, stdout, stderr) => {
    if (!fs.existsSync(jsonFile)) {
      throw new Error(`jest (${options.runner}) wrote no JSON in ${cwd}: status ${status}\n${stderr}\n${stdout}`);
    }
    const run = {
      status,
      stdout,
      stderr,
      json: JSON.parse(fs.readFileSync(jsonFile, 'utf8')),
      ...(fs.existsSync(consoleFile) ? JSON.parse(fs.readFileSync(consoleFile, 'utf8')) : { console: {}, caseResults: {} }),
    };
    fs.rmSync(out, { recursive: true, force: true });
    return run;
  };
  return { args, env, collect };
}

/** Everything that must match between runners: per file and per test, sorted, timings removed. */
function comparable(run) {
  const { json } = run;
  return {
    status: run.status,
    totals: {
      numTotalTests: json.numTotalTests,
      numFailedTests: json.numFailedTests,
      numPassedTests: json.numPassedTests,
      numPendingTests: json.numPendingTests,
      numTodoTests: json.numTodoTests,
      numTotalTestSuites: json.numTotalTestSuites,
      numFailedTestSuites: json.numFailedTestSuites,
      numRuntimeErrorTestSuites: json.numRuntimeErrorTestSuites,
      success: json.success,
      snapshot: stripTiming(json.snapshot),
    },
    // A file run by several `projects` appears once per project: order those by content.
    files: [...json.testResults]
      .map((file) => ({
        name: file.name,
        status: file.status,
        message: normalizeMessage(file.message),
        tests: file.assertionResults.map((t) => stripTiming({ ...t, failureMessages: t.failureMessages.map(normalizeMessage) })),
        // per project (a file run by several projects has one record each); each sequence is fixed
        console: perProject(run.console, file.name).map((records) => records.map((c) => ({ ...c, origin: withoutNodeInternals(c.origin) }))),
        // Jest reports live events of a file run by several projects under one key, interleaved
        // as the workers happen to finish: compare them as a multiset.
        caseResults: perProject(run.caseResults, file.name).map((events) => [...events].sort()),
      }))
      .sort((a, b) => a.name.localeCompare(b.name) || stableStringify(a).localeCompare(stableStringify(b))),
  };
}

/**
 * Test-by-test comparison for reports: each test of the reference run is matched by file and
 * full name (and occurrence) and counts as equal when status, messages and location are equal.
 */
function compareTests(reference, ours) {
  const index = (run) => {
    const map = new Map();
    const seen = new Map();
    for (const file of comparable(run).files) {
      for (const t of file.tests) {
        const name = `${file.name} :: ${t.fullName}`;
        const n = (seen.get(name) ?? 0) + 1;
        seen.set(name, n);
        map.set(`${name} #${n}`, t);
      }
      if (file.tests.length === 0) map.set(`${file.name} :: <file>`, { status: file.status, failureMessages: [file.message] });
    }
    return map;
  };
  const a = index(reference);
  const b = index(ours);
  const mismatches = [];
  let matched = 0;
  for (const [key, t] of a) {
    const o = b.get(key);
    if (o && stableStringify(o) === stableStringify(t)) matched++;
    else mismatches.push({ key, reference: t, ours: o ?? null });
  }
  for (const key of b.keys()) if (!a.has(key)) mismatches.push({ key, reference: null, ours: b.get(key) });
  return { total: a.size, matched, mismatches };
}

function perProject(records, file) {
  return Object.entries(records)
    .filter(([key]) => key.split('\u0000')[0] === file)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([, value]) => value);
}

function stableStringify(value) {
  return JSON.stringify(value, (_k, v) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1))) : v,
  );
}

function stripTiming(value) {
  if (Array.isArray(value)) return value.map(stripTiming);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([k]) => !TIMING_KEYS.has(k))
        .map(([k, v]) => [k, stripTiming(v)]),
    );
  }
  return value;
}

/** Frames inside Node itself depend on how the event loop resumed; Jest never prints them. */
function withoutNodeInternals(origin) {
  return origin
    .split('\n')
    .filter((line) => !line.includes('(node:internal/'))
    .join('\n');
}

/**
 * What may differ inside messages: Jest's own elapsed-time figures, and frames of Node's timer
 * internals (listOnTimeout, processTimers, runNextTicks), which appear or not depending on whether
 * ticks were pending when a timer fired: under load they come and go between two runs of Jest's
 * default runner too (seen in the `failures` example's timeout test).
 */
function normalizeMessage(message) {
  return message
    .split('\n')
    .filter((line) => !/\(node:internal\/timers:\d+:\d+\)$/.test(line.trim()) && !/^at runNextTicks \(node:internal\//.test(line.trim()))
    .join('\n')
    .replace(/\(\d+(\.\d+)? ?m?s\)/g, '(<time>)');
}

/**
 * A jest-junit report as far as it must match: elapsed times and the run's timestamp removed, and
 * suites sorted, since they are listed in the order files finished (which varies between runs of
 * Jest's own worker pool, and on the lambda backend, where files run concurrently).
 */
function junitComparable(xml) {
  // (and, as in messages, Node's timer-internal frames, which come and go with machine load)
  const normalized = normalizeMessage(
    xml
      .replace(/ time="[\d.]+"/g, ' time="<t>"')
      .replace(/ timestamp="[^"]+"/g, ' timestamp="<ts>"')
      .replace(/<\/failure>/g, '\n</failure>'),
  );
  const suites = normalized.match(/<testsuite [^>]*\/>|<testsuite [\s\S]*?<\/testsuite>/g) ?? [];
  const head = normalized.slice(0, normalized.indexOf('<testsuite '));
  return { head, suites: [...suites].sort() };
}

module.exports = { REPO, runJest, runJestAsync, comparable, compareTests, junitComparable };
