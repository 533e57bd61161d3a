/**
 * Runs a project's real `jest` CLI (its own installed version) once with Jest's default runner and
 * once with ours, and reduces both `--json` outputs to what must be equal test by test.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const REPO = path.resolve(__dirname, '../..');
const CONSOLE_REPORTER = path.join(__dirname, 'console-reporter.js');

export interface JestRun {
  status: number | null;
  stdout: string;
  stderr: string;
  json: JestJson;
  console: Record<string, Array<{ type: string; message: string; origin: string }>>;
}

export interface JestJson {
  numTotalTests: number;
  numFailedTests: number;
  numPassedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  numTotalTestSuites: number;
  numFailedTestSuites: number;
  numRuntimeErrorTestSuites: number;
  success: boolean;
  snapshot: Record<string, unknown>;
  testResults: Array<{
    name: string;
    status: string;
    message: string;
    assertionResults: Array<Record<string, unknown>>;
  }>;
  coverageMap?: Record<string, unknown>;
}

export interface RunOptions {
  runner: 'default' | 'remote-lambda';
  args?: string[];
  env?: NodeJS.ProcessEnv;
}

export function runJest(cwd: string, options: RunOptions): JestRun {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'jrl-parity-'));
  const jsonFile = path.join(out, 'result.json');
  const consoleFile = path.join(out, 'console.json');
  const jestBin = require.resolve('jest/bin/jest', { paths: [cwd] });
  const args = [
    jestBin,
    '--ci',
    '--json',
    `--outputFile=${jsonFile}`,
    '--testLocationInResults',
    '--reporters=default',
    `--reporters=${CONSOLE_REPORTER}`,
    ...(options.runner === 'default' ? ['--runner=jest-runner'] : []),
    ...(options.args ?? []),
  ];
  const env: NodeJS.ProcessEnv = { ...process.env, CONSOLE_REPORT_FILE: consoleFile, FORCE_COLOR: '0', ...options.env };
  // Our own test process runs inside a Jest worker; the child must not think it is one.
  delete env.JEST_WORKER_ID;
  const child = spawnSync(process.execPath, args, { cwd, env, encoding: 'utf8', timeout: 300_000 });
  if (!fs.existsSync(jsonFile)) {
    throw new Error(`jest (${options.runner}) wrote no JSON in ${cwd}: status ${child.status}\n${child.stderr}\n${child.stdout}`);
  }
  const run: JestRun = {
    status: child.status,
    stdout: child.stdout,
    stderr: child.stderr,
    json: JSON.parse(fs.readFileSync(jsonFile, 'utf8')) as JestJson,
    console: fs.existsSync(consoleFile) ? JSON.parse(fs.readFileSync(consoleFile, 'utf8')) : {},
  };
  fs.rmSync(out, { recursive: true, force: true });
  return run;
}

const TIMING_KEYS = new Set(['duration', 'startAt', 'startTime', 'endTime', 'perfStats']);

/** Everything that must match between runners: per file and per test, sorted, timings removed. */
export function comparable(run: JestRun): unknown {
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
    files: [...json.testResults]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((file) => ({
        name: file.name,
        status: file.status,
        message: normalizeMessage(file.message),
        tests: file.assertionResults.map((t) => stripTiming({ ...t, failureMessages: (t.failureMessages as string[]).map(normalizeMessage) })),
        console: (run.console[file.name] ?? []).map((c) => ({ ...c, origin: withoutNodeInternals(c.origin) })),
      })),
  };
}

function stripTiming(value: unknown): unknown {
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
function withoutNodeInternals(origin: string): string {
  return origin
    .split('\n')
    .filter((line) => !line.includes('(node:internal/'))
    .join('\n');
}

/** The only thing allowed to differ inside messages: Jest's own elapsed-time figures. */
function normalizeMessage(message: string): string {
  return message.replace(/\(\d+(\.\d+)? ?m?s\)/g, '(<time>)');
}
