/**
 * The run's timeline (`timeline` option): a Chrome trace-event file (Perfetto, chrome://tracing)
 * with one lane per execution environment (a Lambda container or a local worker, named by its id
 * and marked cold for its first file), each request and each test file a complete event with its
 * phases inside, and beside it a self-contained HTML picture of the same run (./timeline-html.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import writeFileAtomic from 'write-file-atomic';
import type { DispatchItem, FileOutcome, RequestRecord } from '../dispatch';
import type { FileResponse, RunResponse } from '../protocol';
import { timelineHtml } from './timeline-html';

/** One complete event ("ph": "X") of the trace, in microseconds from the run's start. */
export interface TraceEvent {
  name: string;
  cat: string;
  ph: 'X' | 'M' | 'i';
  ts: number;
  dur?: number;
  pid: number;
  tid: number;
  s?: 't';
  args?: Record<string, unknown>;
}

export interface Lane {
  tid: number;
  name: string;
  kind: 'runner' | 'lambda' | 'local' | 'unanswered';
}

/** What the picture and the summary need besides the events. */
export interface TimelineTotals {
  wallMs: number;
  prepareMs: number;
  files: number;
  failedFiles: number;
  requests: number;
  faults: number;
  retriedFiles: number;
  environments: number;
  coldEnvironments: number;
  localFiles: number;
  /** Files that failed, ran again and passed (rerunFailures). */
  flakyFiles: number;
  longest: Array<{ testPath: string; ms: number; lane: string }>;
}

export interface FileSpan {
  testPath: string;
  status: string;
  lane: Lane;
  startMs: number;
  endMs: number;
  cold: boolean;
  local?: string;
  /** It failed, ran again (rerunFailures) and passed. */
  flaky?: boolean;
}

type FileStatus = 'passed' | 'failed' | 'skipped' | 'error';

// Phases the handler reports that are the environment getting ready, not the tests.
const SETUP_PHASES = new Set(['parse', 'project', 'fetch', 'materialize', 'prepare']);

export class Timeline {
  readonly file: string;
  readonly #rootDir: string;
  readonly #start: number;
  #dispatchStart: number | undefined;
  #prepare: Record<string, number> = {};
  readonly #requests: RequestRecord[] = [];
  readonly #taken = new Map<DispatchItem, number>();
  readonly #done = new Map<DispatchItem, { status: FileStatus; at: number; mapMs: number }>();
  readonly #local = new Map<string, string>();
  readonly #flaky = new Map<string, { attempts: number; firstFailure: string }>();

  /** `start`: when Jest handed the files over (performance.now()). */
  constructor(file: string, rootDir: string, start: number) {
    this.file = path.resolve(rootDir, file);
    this.#rootDir = rootDir;
    this.#start = start;
  }

  /** Hashing and shipping are done: the files go out now. `phases`: mirror and ship, in ms. */
  prepared(phases: Record<string, number>, at: number): void {
    this.#dispatchStart ??= at;
    this.#prepare = phases;
  }

  taken(item: DispatchItem, at: number): void {
    if (!this.#taken.has(item)) this.#taken.set(item, at);
  }

  request(record: RequestRecord): void {
    this.#requests.push(record);
  }

  /** A file's outcome reached Jest; `mapMs`: the time that took here (result mapping, reporters' events). */
  outcome(item: DispatchItem, outcome: FileOutcome, at: number, mapMs: number): void {
    if (outcome.kind === 'cancelled') return;
    this.#done.set(item, { status: statusOf(outcome), at, mapMs });
  }

  /** A file of a Lambda run that ran on this machine, and why. */
  ranLocally(testPath: string, reason: string): void {
    this.#local.set(testPath, reason);
  }

  /** A file that failed, ran again (rerunFailures) and passed on attempt `attempts`. */
  flaky(testPath: string, attempts: number, firstFailure: string): void {
    this.#flaky.set(testPath, { attempts, firstFailure });
  }

  /** The trace and the picture, from what was recorded; returns the totals for the summary line. */
  write(): TimelineTotals {
    const built = this.build();
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const trace = {
      traceEvents: built.events,
      displayTimeUnit: 'ms',
      otherData: {
        producer: 'jest-runner-remote-lambda',
        rootDir: this.#rootDir,
        totals: built.totals,
        flaky: [...this.#flaky].map(([testPath, f]) => ({ testPath, passedOnAttempt: f.attempts, firstFailure: f.firstFailure })),
      },
    };
    writeFileAtomic.sync(this.file, `${JSON.stringify(trace)}\n`);
    writeFileAtomic.sync(htmlPathOf(this.file), timelineHtml(built));
    return built.totals;
  }

  build(): { events: TraceEvent[]; lanes: Lane[]; files: FileSpan[]; totals: TimelineTotals } {
    const us = (at: number) => Math.max(0, Math.round((at - this.#start) * 1000));
    const lanes = new Map<string, Lane>();
    const laneEnd = new Map<number, number>();
    const events: TraceEvent[] = [];
    const laneOf = (key: string, name: string, kind: Lane['kind']) => {
      let lane = lanes.get(key);
      if (!lane) lanes.set(key, (lane = { tid: lanes.size + 1, name, kind }));
      return lane;
    };
    // (one environment serves one request at a time; the client's clock may see two overlap by a hair)
    const place = (lane: Lane, from: number, to: number) => {
      const ts = Math.max(us(from), laneEnd.get(lane.tid) ?? 0);
      const end = Math.max(ts, us(to));
      laneEnd.set(lane.tid, end);
      return { ts, dur: end - ts };
    };
    const rel = (p: string) => path.relative(this.#rootDir, p) || p;

    const runner = laneOf('runner', 'this process (Jest)', 'runner');
    const dispatchAt = this.#dispatchStart ?? this.#start;
    const prep = place(runner, this.#start, dispatchAt);
    events.push({ name: 'prepare', cat: 'prepare', ph: 'X', ...prep, pid: 1, tid: runner.tid, args: { ...this.#prepare } });
    let cursor = prep.ts;
    for (const [phase, ms] of Object.entries(this.#prepare)) {
      const dur = Math.min(Math.round(ms * 1000), prep.ts + prep.dur - cursor);
      events.push({ name: phase, cat: 'prepare', ph: 'X', ts: cursor, dur: Math.max(0, dur), pid: 1, tid: runner.tid });
      cursor += Math.max(0, dur);
    }

    const files: FileSpan[] = [];
    const attempts = new Map<DispatchItem, number>();
    const environments = new Map<string, boolean>();
    const laneCold = new Map<number, boolean>();
    let faults = 0;
    const sorted = [...this.#requests].sort((a, b) => a.sentAt - b.sentAt);
    // A file that failed and ran again (rerunFailures) was answered more than once: each answer is
    // an event of its own (cat "attempt"), the last one is the file's (cat "file").
    const answers = new Map<DispatchItem, RequestRecord[]>();
    for (const r of sorted) {
      if (r.response) for (const [i] of fileResponses(r.response).entries()) answers.set(r.items[i]!, [...(answers.get(r.items[i]!) ?? []), r]);
    }
    for (const r of sorted) {
      // (attempts: the answered one and those that met a fault; need-blobs rounds are one attempt)
      const faulted = Boolean(r.error) || r.response?.status === 'crashed';
      for (const item of r.items) attempts.set(item, (attempts.get(item) ?? 1) + (faulted ? 1 : 0));
      const env = r.response?.environment;
      const local = r.backend !== 'lambda';
      const lane = env
        ? laneOf(`env:${env.id}`, local ? `local worker ${env.pid ?? env.id}` : `Lambda environment ${env.id}`, local ? 'local' : 'lambda')
        : laneOf(`slot:${r.backend}:${r.lane}`, `${r.backend} slot ${r.lane + 1} (no answer)`, 'unanswered');
      const cold = env ? env.filesBefore === 0 : false;
      if (env && !environments.has(env.id)) {
        environments.set(env.id, cold);
        laneCold.set(lane.tid, cold);
      }
      const answered = r.response && ['completed', 'failed', 'batch'].includes(r.response.status);
      const results = answered ? fileResponses(r.response!) : [];
      // (a file's outcome belongs to its last answer: an earlier attempt's request ends with its answer)
      const mapped = results.map((_, i) => (answers.get(r.items[i]!)?.at(-1) === r ? this.#done.get(r.items[i]!) : undefined));
      const lastMapped = Math.max(r.endedAt, ...mapped.map((d) => (d ? d.at : 0)));
      const span = place(lane, r.sentAt, lastMapped);
      const name = r.error ? `fault: ${firstLine(r.error.message)}` : answered ? 'request' : (r.response?.status ?? 'request');
      if (faulted) faults++;
      events.push({
        name,
        cat: r.error || r.response?.status === 'crashed' ? 'fault' : answered ? 'request' : 'setup',
        ph: 'X',
        ...span,
        pid: 1,
        tid: lane.tid,
        args: {
          testPaths: r.items.map((i) => rel(i.testPath)),
          ...(env ? { environment: env.id, cold } : {}),
          ...(r.error ? { error: r.error.message } : {}),
          ...(r.response?.status === 'crashed' ? { error: r.response.error.message } : {}),
        },
      });
      // Inside an answered request: each file in turn, its phases inside it, then its result mapping.
      let at = span.ts;
      const budget = Math.max(0, us(r.endedAt) - span.ts);
      const total = results.reduce((n, f) => n + phaseSum(f.timing), 0) * 1000;
      const scale = total > budget && total > 0 ? budget / total : 1;
      for (const [i, result] of results.entries()) {
        const item = r.items[i]!;
        const answered = answers.get(item) ?? [r];
        const attempt = answered.indexOf(r) + 1;
        const final = attempt === answered.length;
        const flaky = this.#flaky.has(item.testPath) ? { flaky: true } : {};
        const done = mapped[i];
        const phases = Object.entries(result.timing).filter(([k]) => k !== 'request');
        const fileStart = at;
        const children: TraceEvent[] = [];
        for (const [phase, ms] of phases) {
          const dur = Math.round(ms * 1000 * scale);
          children.push({ name: phase, cat: SETUP_PHASES.has(phase) ? 'setup-phase' : 'test-phase', ph: 'X', ts: at, dur, pid: 1, tid: lane.tid });
          at += dur;
        }
        const isLast = i === results.length - 1;
        let end = isLast ? Math.max(at, us(r.endedAt)) : at;
        if (done && done.mapMs > 0) {
          const mapFrom = Math.max(end, us(done.at - done.mapMs));
          children.push({ name: 'result mapping', cat: 'mapping', ph: 'X', ts: mapFrom, dur: Math.round(done.mapMs * 1000), pid: 1, tid: lane.tid });
          end = mapFrom + Math.round(done.mapMs * 1000);
        }
        end = Math.min(end, span.ts + span.dur);
        const status =
          done?.status ??
          statusOf(
            result.status === 'completed' ? { kind: 'result', result: result.result, writes: [], timing: {} } : { kind: 'failure', error: result.error },
          );
        const taken = this.#taken.get(item);
        const localReason = this.#local.get(item.testPath);
        events.push({
          name: final ? rel(item.testPath) : `${rel(item.testPath)} (attempt ${attempt})`,
          cat: final ? 'file' : 'attempt',
          ph: 'X',
          ts: fileStart,
          dur: Math.max(0, end - fileStart),
          pid: 1,
          tid: lane.tid,
          args: {
            testPath: item.testPath,
            status,
            ...(env ? { environment: env.id, cold: env.filesBefore + i === 0 } : {}),
            queuedMs: taken !== undefined ? Math.round(taken - dispatchAt) : undefined,
            attempts: attempts.get(item),
            ...(answered.length > 1 ? { attempt, ...flaky } : {}),
            ...(localReason ? { ranLocally: localReason } : {}),
          },
        });
        events.push(...children.map((c) => ({ ...c, dur: Math.max(0, Math.min(c.dur ?? 0, end - c.ts)) })));
        at = end;
        if (!final) continue;
        files.push({
          testPath: item.testPath,
          status,
          lane,
          startMs: fileStart / 1000,
          endMs: end / 1000,
          cold: env ? env.filesBefore + i === 0 : false,
          ...(localReason ? { local: localReason } : {}),
          ...flaky,
        });
      }
    }
    for (const lane of lanes.values()) {
      const cold = laneCold.get(lane.tid);
      const name = cold === undefined ? lane.name : `${lane.name} (${cold ? 'cold' : 'warm'} at first)`;
      events.unshift({ name: 'thread_name', cat: '__metadata', ph: 'M', ts: 0, pid: 1, tid: lane.tid, args: { name } });
      events.unshift({ name: 'thread_sort_index', cat: '__metadata', ph: 'M', ts: 0, pid: 1, tid: lane.tid, args: { sort_index: lane.tid } });
    }
    events.unshift({ name: 'process_name', cat: '__metadata', ph: 'M', ts: 0, pid: 1, tid: 0, args: { name: 'jest-runner-remote-lambda run' } });

    const end = Math.max(us(performance.now()), ...events.map((e) => e.ts + (e.dur ?? 0)));
    const longest = [...files]
      .sort((a, b) => b.endMs - b.startMs - (a.endMs - a.startMs))
      .slice(0, 3)
      .map((f) => ({ testPath: rel(f.testPath), ms: Math.round(f.endMs - f.startMs), lane: f.lane.name }));
    const retriedFiles = [...attempts.values()].filter((n) => n > 1).length;
    // (a file run again here has two events: its last one holds its result)
    const final = new Map<string, FileSpan>();
    for (const f of [...files].sort((a, b) => a.endMs - b.endMs)) final.set(f.testPath, f);
    const totals: TimelineTotals = {
      wallMs: Math.round(end / 1000),
      prepareMs: Math.round(prep.dur / 1000),
      files: final.size,
      failedFiles: [...final.values()].filter((f) => f.status === 'failed' || f.status === 'error').length,
      requests: this.#requests.length,
      faults,
      retriedFiles,
      environments: environments.size,
      coldEnvironments: [...environments.values()].filter(Boolean).length,
      localFiles: [...final.values()].filter((f) => f.lane.kind === 'local').length,
      flakyFiles: this.#flaky.size,
      longest,
    };
    return { events, lanes: [...lanes.values()], files, totals };
  }
}

export function htmlPathOf(file: string): string {
  return `${file.replace(/\.json$/, '')}.html`;
}

/** "remote-lambda: timeline in t.json (picture: t.html); longest files: a (2.1 s), b (1.9 s), c (1.2 s)." */
export function timelineLine(file: string, totals: TimelineTotals, cwd = process.cwd()): string {
  const show = (p: string) => (path.relative(cwd, p).startsWith('..') ? p : path.relative(cwd, p));
  const longest = totals.longest.map((f) => `${f.testPath} (${(f.ms / 1000).toFixed(1)} s)`).join(', ');
  return `remote-lambda: timeline in ${show(file)} (open it in https://ui.perfetto.dev; picture: ${show(htmlPathOf(file))})${longest ? `; longest files: ${longest}` : ''}.`;
}

function fileResponses(response: RunResponse): FileResponse[] {
  if (response.status === 'batch') return response.results;
  if (response.status === 'completed' || response.status === 'failed') return [response];
  return [];
}

function phaseSum(timing: Record<string, number>): number {
  return Object.entries(timing).reduce((n, [k, v]) => (k === 'request' ? n : n + v), 0);
}

function statusOf(outcome: Exclude<FileOutcome, { kind: 'cancelled' }>): FileStatus {
  if (outcome.kind === 'failure') return 'error';
  const r = outcome.result as { numFailingTests: number; numPassingTests: number; testExecError?: unknown; skipped?: boolean };
  if (r.testExecError || r.numFailingTests > 0) return 'failed';
  return r.skipped || r.numPassingTests === 0 ? 'skipped' : 'passed';
}

function firstLine(message: string): string {
  const line = message.split('\n')[0] ?? '';
  return line.length > 80 ? `${line.slice(0, 77)}…` : line;
}
