/**
 * The "report" step of a run: each file's outcome becomes the event Jest's scheduler expects
 * (`test-file-success` with a native TestResult, or `test-file-failure`), snapshot files come back
 * into the checkout, and the run ends with its summary line (and, with `debug`, its phases).
 */
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Test, TestEvents, TestResult } from '@jest/test-result';
import type Emittery from 'emittery';
import type { LambdaBackend } from '../backends/lambda/invoke';
import type { InvocationStats } from '../backends/lambda/billing';
import type { Connection } from '../backends/registry';
import type { DispatchItem, FileOutcome, RequestRecord } from '../dispatch';
import { failed } from '../dispatch/reruns';
import type { PreparedRun, ProjectPreparer } from '../mirror/prepare';
import type { RunSettings } from '../options';
import type { Host, ProcessOutput } from '../protocol';
import { NO_SHIP_STATS } from '../ship/blob-store';
import type { DeliveryStats } from '../ship/delivery';
import { shouldShowProgress } from './progress';
import type { Timeline } from './timeline';
import { heldBackLine, lambdaSummary, localSummary, rerunLine, statsSince } from './summary';
import { toJestError, toTestResult } from './test-result';
import { applyWrites } from './writes';

export class RunReport {
  readonly #events: Emittery<TestEvents>;
  readonly #settings: RunSettings;
  readonly #connection: Connection;
  readonly #started: number;
  /** Counters of a connection kept across watch-mode runs, at this run's start. */
  readonly #statsAtStart: { invocations?: InvocationStats; delivery: DeliveryStats };
  readonly #hosts = new Map<string, Host>();
  readonly #handlerTiming: Record<string, number> = {};
  #dispatchStarted = 0;
  /** This process's CPU time when dispatch started: its cost per result (the debug line). */
  #dispatchCpu = process.cpuUsage();
  #retries = 0;
  /** The run's own prepared files (they count in the summary); files run locally besides add to #tests. */
  #run: PreparedRun | undefined;
  #preparer: ProjectPreparer | undefined;
  /** The tree size each environment that answered last reported (environment id -> bytes). */
  readonly #trees = new Map<string, number>();
  readonly #tests = new Map<DispatchItem, { test: Test; preparer: ProjectPreparer }>();
  readonly #startedFiles = new Set<Test>();
  /** Files that ran on this machine during a Lambda run, and why. */
  readonly #local = new Map<Test, string>();
  /** Files that failed and ran again (rerunFailures): the first failure, and the attempts so far. */
  readonly #reruns = new Map<Test, { first: Exclude<FileOutcome, { kind: 'cancelled' }>; attempts: number }>();
  /** Files that ran again, by their last attempt: passed (flaky) or failed every time. */
  readonly #rerunEnds: Array<{ test: Test; attempts: number; passed: boolean }> = [];
  /** The run's timeline, when the `timeline` option asks for one. */
  timeline: Timeline | undefined;

  /** `started`: when Jest handed the files over (performance.now()). */
  constructor(events: Emittery<TestEvents>, settings: RunSettings, connection: Connection, started: number) {
    this.#events = events;
    this.#started = started;
    this.#settings = settings;
    this.#connection = connection;
    this.#statsAtStart = { invocations: this.#lambda && { ...this.#lambda.stats }, delivery: { ...connection.delivery.stats } };
  }

  /**
   * Prepared files, before they are dispatched; those that could not be prepared fail now. `own`:
   * the run's own backend (not files that run on this machine besides).
   */
  async prepared(run: PreparedRun, preparer: ProjectPreparer, own = true): Promise<void> {
    if (own) {
      this.#run = run;
      this.#preparer = preparer;
    }
    for (const [item, test] of run.tests) this.#tests.set(item, { test, preparer });
    for (const [test, error] of run.failures) {
      await this.#startOnce(test);
      await this.#events.emit('test-file-failure', [
        test,
        toJestError({ message: `jest-runner-remote-lambda could not prepare this file: ${error.message}`, stack: error.stack }),
      ]);
    }
    if (own) {
      this.#dispatchStarted = performance.now();
      this.#dispatchCpu = process.cpuUsage();
    }
  }

  /** Jest's test-file-start, once per file (a file run again locally started already). */
  async start(item: DispatchItem): Promise<void> {
    this.timeline?.taken(item, performance.now());
    await this.#startOnce(this.testOf(item));
  }

  async #startOnce(test: Test): Promise<void> {
    if (this.#startedFiles.has(test)) return;
    this.#startedFiles.add(test);
    await this.#events.emit('test-file-start', [test]);
  }

  testOf(item: DispatchItem): Test {
    return this.#tests.get(item)!.test;
  }

  /** Whether a local file travelled with the item's project (for the "not shipped" hint). */
  shippedFile(item: DispatchItem): (file: string) => boolean {
    return this.#tests.get(item)!.preparer.shippedFile(item.project.key);
  }

  /** Why a local file was held back from the item's project (it looks like a secret), if it was. */
  heldBackFile(item: DispatchItem): (file: string) => string | undefined {
    const { preparer } = this.#tests.get(item)!;
    return (file) => preparer.heldBack.get(file)?.reason;
  }

  /** A file of a Lambda run that runs on this machine, and why (for the summary). */
  ranLocally(test: Test, reason: string): void {
    this.#local.set(test, reason);
    this.timeline?.ranLocally(test.path, reason);
  }

  retried(): void {
    this.#retries++;
  }

  /** What a remote process printed outside the tests' console, where a worker's would appear. */
  /** Each request's answer: the size of the tree of the environment that gave it (the debug line). */
  request(request: RequestRecord): void {
    const environment = request.response?.environment;
    if (environment?.treeBytes !== undefined) this.#trees.set(environment.id, environment.treeBytes);
  }

  output(output: ProcessOutput): void {
    if (output.stdout) process.stdout.write(output.stdout);
    if (output.stderr) process.stderr.write(output.stderr);
  }

  /** A failed attempt that runs again (rerunFailures): kept aside, never reported as it is. */
  rerun(item: DispatchItem, outcome: FileOutcome, attempt: number): void {
    if (outcome.kind === 'cancelled') return;
    const test = this.testOf(item);
    this.#reruns.set(test, { first: this.#reruns.get(test)?.first ?? outcome, attempts: attempt });
  }

  /** A file's outcome to Jest; the timeline notes how long that took here (mapping, Jest's reporters). */
  async outcome(item: DispatchItem, outcome: FileOutcome): Promise<void> {
    const at = performance.now();
    await this.#deliver(item, outcome);
    const now = performance.now();
    this.timeline?.outcome(item, outcome, now, now - at);
  }

  async #deliver(item: DispatchItem, outcome: FileOutcome): Promise<void> {
    const test = this.testOf(item);
    if (outcome.kind === 'cancelled') return;
    for (const [phase, ms] of Object.entries(outcome.timing ?? {})) this.#handlerTiming[phase] = (this.#handlerTiming[phase] ?? 0) + ms;
    if (outcome.host) this.#hosts.set(JSON.stringify(outcome.host), outcome.host);
    const rerun = this.#reruns.get(test);
    const flaky = rerun !== undefined && !failed(outcome);
    if (rerun) {
      this.#rerunEnds.push({ test, attempts: rerun.attempts + 1, passed: flaky });
      if (flaky) this.timeline?.flaky(test.path, rerun.attempts + 1, firstLineOf(rerun.first));
    }
    if (outcome.kind === 'failure') {
      await this.#events.emit('test-file-failure', [test, toJestError(outcome.error)]);
      return;
    }
    try {
      applyWrites(outcome.writes, [test.context.config.rootDir, ...test.context.config.roots]);
    } catch (error) {
      await this.#events.emit('test-file-failure', [test, toJestError({ message: (error as Error).message })]);
      return;
    }
    const result = toTestResult(test.path, outcome.result, {
      shipped: this.shippedFile(item),
      heldBack: this.heldBackFile(item),
      mapsDir: path.join(this.#settings.cacheDir, 'v8-source-maps'),
    });
    // A flaky file passes, and says so where its output is read: its first failure in its console.
    if (flaky) result.console = [...((result.console as unknown[] | null | undefined) ?? []), flakyConsoleEntry(rerun.first, rerun.attempts + 1)];
    await this.#events.emit('test-file-success', [test, result as TestResult]);
  }

  /** The summary line (Lambda, or on a terminal), and the phases with `debug`. */
  finish(display: { silent?: boolean; json?: boolean }): void {
    const files = this.#run?.items.length ?? 0;
    const shipped = this.#preparer?.shipped ?? NO_SHIP_STATS;
    const { options, workers } = this.#settings;
    const delivery = statsSince(this.#connection.delivery.stats, this.#statsAtStart.delivery);
    if (this.#lambda && !display.silent) {
      // (a connection kept for watch mode counts across runs: this run's share only)
      const stats = statsSince(this.#lambda.stats, this.#statsAtStart.invocations!);
      process.stderr.write(
        `${lambdaSummary({ files, retries: this.#retries, shipped, stats, delivery, hosts: [...this.#hosts.values()], bucket: options.bucket })}\n`,
      );
    } else if (!this.#lambda && shouldShowProgress(display)) {
      process.stderr.write(`${localSummary({ files, retries: this.#retries, shipped, workers, isolate: options.isolate })}\n`);
    }
    if (this.#local.size > 0 && !display.silent) process.stderr.write(`${ranLocallyLine(this.#local, this.#settings)}\n`);
    if (this.#rerunEnds.length > 0 && !display.silent) {
      const rootDir = this.#rerunEnds[0]!.test.context.config.rootDir;
      process.stderr.write(`${rerunLine(this.#rerunEnds.map((e) => ({ ...e, testPath: path.relative(rootDir, e.test.path) })))}\n`);
    }
    const held = [...(this.#preparer?.heldBack.values() ?? [])];
    if (held.length > 0 && !display.silent) process.stderr.write(`${heldBackLine(held, this.#run?.tests.values().next().value?.context.config.rootDir)}\n`);
    if (options.debug) process.stderr.write(this.#debugLines(delivery));
  }

  #debugLines(delivery: DeliveryStats): string {
    const { backend } = this.#connection;
    const files = this.#run?.items.length ?? 0;
    const { shipped, timing, hashes, scans } = this.#preparer!;
    const now = performance.now();
    // requests as this side timed them, minus the tests' own run time inside the handler
    const perFile = files ? ((this.#handlerTiming.request ?? 0) - (this.#handlerTiming.run ?? 0)) / files : 0;
    return (
      `[remote-lambda] backend=${backend.name} workers=${this.#settings.workers || 'in-band'} files=${files} retries=${this.#retries} ` +
      `mirror=${timing.mirror.toFixed(0)}ms ship=${timing.ship.toFixed(0)}ms dispatch=${(now - this.#dispatchStarted).toFixed(0)}ms ` +
      `total=${(now - this.#started).toFixed(0)}ms hashed=${hashes?.misses ?? 0} cached=${hashes?.hits ?? 0} ` +
      `blobs new=${shipped.newBlobs} (${shipped.newBytes} B) cached=${shipped.cachedBlobs} (${shipped.cachedBytes} B)` +
      `${this.#lambda ? ` inline=${delivery.inlineBytes} B` : ''}` +
      ` scanned=${scans?.scanned ?? 0} (${scans?.scannedBytes ?? 0} B, ${(scans?.scanMs ?? 0).toFixed(0)}ms) held-back=${this.#preparer!.heldBack.size}\n` +
      packagesLine(this.#preparer!.packageStats, this.#trees) +
      transformsLine(this.#preparer!.transformStats) +
      clientLine(this.#dispatchCpu, files) +
      `[remote-lambda] handler (sum over files, request = as timed here): ${Object.entries(this.#handlerTiming)
        .map(([k, v]) => `${k}=${v.toFixed(0)}ms`)
        .join(' ')}; overhead outside the test run ≈ ${perFile.toFixed(1)} ms/file\n`
    );
  }

  get #lambda(): LambdaBackend | undefined {
    return this.#connection.backend.name === 'lambda' ? (this.#connection.backend as LambdaBackend) : undefined;
  }
}

/**
 * This process's CPU time while files ran elsewhere, per result: sending requests, reading and
 * checking answers, making Jest's results, Jest's reporters (the client's share of a large run).
 */
function clientLine(since: NodeJS.CpuUsage, files: number): string {
  if (files === 0) return '';
  const cpu = process.cpuUsage(since);
  return `[remote-lambda] client: ${((cpu.user + cpu.system) / 1000 / files).toFixed(2)} ms of CPU per result while files ran\n`;
}

/** Jest's transforms shared through the store (handler/transforms.ts); empty without a store. */
function transformsLine(stats: ProjectPreparer['transformStats']): string {
  if (!stats.shared) return '';
  return `[remote-lambda] transforms: ${stats.indexed} in the index environments bring in; ${stats.made} made by this run's environments (shared from the next run)\n`;
}

/** What each file's environment brings of node_modules, against the whole (./mirror/needs.ts); empty when all of it goes. */
function packagesLine(stats: ProjectPreparer['packageStats'], trees: Map<string, number>): string {
  const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  const sizes = [...trees.values()];
  const treeLine =
    sizes.length > 0
      ? `[remote-lambda] trees: ${sizes.length} environment(s), ${mb(sizes.reduce((a, b) => a + b, 0) / sizes.length)} on average, ${mb(Math.max(...sizes))} at most\n`
      : '';
  if (stats.files === 0) return treeLine;
  return (
    `[remote-lambda] packages: base=${stats.basePacks} (${mb(stats.baseBytes)}) + ${mb(stats.fileBytes / stats.files)} per file on average, ` +
    `of ${mb(stats.fullBytes)} installed; graphs parsed for ${stats.parsed} file(s) (the rest cached), unknown for ${stats.unknown}; ` +
    `brought in during the run for ${stats.fetched} file(s)${stats.fetchedPackages.size > 0 ? `: ${[...stats.fetchedPackages].sort().slice(0, 10).join(', ')}${stats.fetchedPackages.size > 10 ? ', …' : ''}` : ''}\n` +
    treeLine
  );
}

/** "remote-lambda: 2 file(s) ran on this machine: a.test.js (runLocally), b.test.js (failed remotely: …)". */
function ranLocallyLine(files: Map<Test, string>, settings: RunSettings): string {
  const rootDir = [...files.keys()][0]!.context.config.rootDir;
  const list = [...files].map(([test, reason]) => `${path.relative(rootDir, test.path)} (${reason})`).join(', ');
  const remembered = [...files.values()].some((r) => r.startsWith('failed remotely') || r.startsWith('passed remotely') || r.startsWith('remembered'));
  return (
    `remote-lambda: ${files.size} file(s) ran on this machine instead of Lambda: ${list}.` +
    (remembered
      ? ` Files that failed remotely for want of this machine run here from now on (npx jest --clearCache forgets them); list them in "runLocally" (${settings.options.runLocally.length ? 'already set' : 'JEST_REMOTE_LAMBDA_RUN_LOCALLY'}) to make it explicit.`
      : '')
  );
}

/** The message of a failed attempt (the whole failure, as Jest would have printed it). */
function failureText(outcome: Exclude<FileOutcome, { kind: 'cancelled' }>): string {
  if (outcome.kind === 'failure') return outcome.error.message;
  const r = outcome.result as { failureMessage?: string | null; testExecError?: { message?: string } };
  return r.failureMessage ?? r.testExecError?.message ?? 'a test failed';
}

function firstLineOf(outcome: Exclude<FileOutcome, { kind: 'cancelled' }>): string {
  // eslint-disable-next-line no-control-regex
  const plain = failureText(outcome).replace(/\u001b\[[0-9;]*m/g, '');
  return (
    plain
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l && !l.startsWith('●')) ?? ''
  );
}

/** A console entry of the flaky file's passing result: Jest's reporters and --json show it with its output. */
function flakyConsoleEntry(first: Exclude<FileOutcome, { kind: 'cancelled' }>, passedOn: number): { message: string; origin: string; type: string } {
  return {
    message: `jest-runner-remote-lambda: this file is flaky: it failed ${passedOn === 2 ? 'once' : `${passedOn - 1} times`}, then passed on attempt ${passedOn} (rerunFailures). Its first failure:\n\n${failureText(first)}`,
    origin: 'jest-runner-remote-lambda (rerunFailures)',
    type: 'warn',
  };
}
