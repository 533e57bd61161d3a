/**
 * The files of a Lambda run that run on this machine instead, on the embedded backend, in the same
 * run and reported like the rest:
 *   - from the start: `runLocally` globs, and files remembered from an earlier environmental failure;
 *   - once more: a file whose remote run failed in a way that looks environmental (`rerunLocally`);
 *     its local result is the one reported, and it is remembered for the next run;
 *   - the rest of the run when the function cannot be used at all (`fallback: "local"`), or, with
 *     `fallback: "fail"`, every remaining file reported failed with that error.
 * Every file still yields exactly one result.
 */
import type { Test } from '@jest/test-result';
import type { Config } from '@jest/types';
import { connect, disconnect, type Connection } from '../backends/registry';
import { RemoteRunnerError } from '../errors';
import { ProjectPreparer, type PreparedRun } from '../mirror/prepare';
import type { RunSettings } from '../options';
import type { Progress } from '../results/progress';
import { coverageWouldDiffer, environmentalFailure } from '../results/environmental';
import type { RunReport } from '../results/report';
import type { TestEvent } from '../protocol';
import { dispatch, type DispatchItem, type DispatchOptions, type FileOutcome } from './index';
import { Placement } from './placement';

/** With no answer from the function for this long, throttling or 5xx mean the whole run falls back. */
const UNUSABLE_AFTER_MS = 30_000;

type Common = Omit<DispatchOptions, 'backend' | 'delivery' | 'concurrency' | 'batchMs' | 'onStart' | 'onOutcome'>;

export class LocalRuns {
  /** Stops the remote dispatch (the function cannot be used). */
  readonly stopRemote = new AbortController();
  readonly #settings: RunSettings;
  readonly #globalConfig: Config.GlobalConfig;
  readonly #report: RunReport;
  readonly #common: Common;
  readonly #placement: Placement;
  readonly #running: Array<Promise<void>> = [];
  /** Remote items whose outcome is known (reported, or handed over to a local run). */
  readonly #settled = new Set<DispatchItem>();
  /** A remote file's test-case events, held until its outcome says whether they count. */
  readonly #events = new Map<DispatchItem, TestEvent[]>();
  #connection: Connection | undefined;
  #preparer: ProjectPreparer | undefined;
  #lastAnswerAt = Date.now();
  #unusable: string | undefined;
  /** The whole error that made the function unusable, fix included, for each file it leaves unrun. */
  #unusableDetail: string | undefined;

  constructor(settings: RunSettings, globalConfig: Config.GlobalConfig, rootDir: string, report: RunReport, common: Common) {
    this.#settings = settings;
    this.#globalConfig = globalConfig;
    this.#report = report;
    this.#common = common;
    this.#placement = new Placement(settings.cacheDir, rootDir, settings.options.runLocally);
  }

  /** The tests that go to Lambda; the others start here now. */
  split(tests: Test[]): Test[] {
    const local: Test[] = [];
    const remote: Test[] = [];
    for (const test of tests) {
      const reason = this.#placement.localReason(test.path);
      if (reason) {
        this.#report.ranLocally(test, reason);
        local.push(test);
      } else remote.push(test);
    }
    if (local.length > 0) this.#run(local);
    return remote;
  }

  /**
   * Test files that preparing held back (they look like they hold a secret, e.g. a fake key of a
   * test) cannot run remotely: with rerunLocally they run here, as files that need this machine do.
   */
  takeHeldBack(run: PreparedRun): PreparedRun {
    if (!this.#settings.options.rerunLocally) return run;
    const failures: PreparedRun['failures'] = [];
    for (const [test, error] of run.failures) {
      if (error instanceof RemoteRunnerError && error.code === 'HELD_BACK') {
        this.#report.ranLocally(test, 'held back: it looks like it holds a secret');
        this.#run([test]);
      } else failures.push([test, error]);
    }
    return { ...run, failures };
  }

  /** A remote file's test-case event: passed on with its outcome, or dropped with it when the file runs here again. */
  event(item: DispatchItem, event: TestEvent): void {
    const held = this.#events.get(item);
    if (held) held.push(event);
    else this.#events.set(item, [event]);
  }

  /** A remote outcome: reported, or the file runs here (environmental failure, unusable function). */
  async outcome(item: DispatchItem, outcome: FileOutcome): Promise<void> {
    this.#settled.add(item);
    const events = this.#events.get(item) ?? [];
    this.#events.delete(item);
    const report = async () => {
      for (const event of events) await this.#common.onEvent(item, event);
      await this.#report.outcome(item, outcome);
    };
    if (outcome.kind !== 'failure' || !outcome.fault) this.#lastAnswerAt = Date.now();
    const test = this.#report.testOf(item);
    if (outcome.kind === 'failure' && outcome.fault === 'backend') return this.#backendFailed(item, outcome, report);
    const here = this.#hereInstead(item, outcome);
    if (!here) return report();
    this.#placement.remember(test.path, here.why);
    this.#report.ranLocally(test, here.failed ? `failed remotely: ${here.why}` : `passed remotely, but ${here.why}`);
    this.#run([test]);
  }

  /** Whether this remote outcome sends the file here (rerunFailures leaves such a file to it). */
  takesOver(item: DispatchItem, outcome: FileOutcome): boolean {
    return (outcome.kind === 'failure' && outcome.fault === 'backend') || this.#hereInstead(item, outcome) !== undefined;
  }

  /** Why a remote outcome means the file runs here: it failed for want of this machine, or its coverage would differ. */
  #hereInstead(item: DispatchItem, outcome: FileOutcome): { why: string; failed: boolean } | undefined {
    const { rerunLocally } = this.#settings.options;
    const failed = rerunLocally ? environmentalFailure(outcome, this.#report.shippedFile(item), this.#report.heldBackFile(item)) : undefined;
    const why = failed ?? (rerunLocally && this.#globalConfig.collectCoverage ? coverageWouldDiffer(outcome) : undefined);
    return why === undefined ? undefined : { why, failed: failed !== undefined };
  }

  /**
   * Preparing for Lambda proved the function unusable: the files run here, or (fallback "fail")
   * each fails with the error. Returns what is left of the remote run (nothing).
   */
  unusable(tests: Test[], error: Error): PreparedRun {
    this.#stop(error.message.split('\n')[0]!, error.message);
    if (this.#settings.options.fallback === 'fail') return { items: [], tests: new Map(), failures: tests.map((test) => [test, error]) };
    this.#run(tests);
    return { items: [], tests: new Map(), failures: [] };
  }

  /** After the remote dispatch: files it never answered go here (or fail), and every local run ends. */
  async finish(items: DispatchItem[], interrupted: boolean): Promise<void> {
    const left = interrupted ? [] : items.filter((item) => !this.#settled.has(item));
    if (left.length > 0 && this.#settings.options.fallback === 'local') this.#run(left.map((item) => this.#report.testOf(item)));
    else
      for (const item of left)
        await this.#report.outcome(item, { kind: 'failure', error: { message: this.#unusableMessage(), type: 'Error' }, fault: 'backend' });
    await Promise.all(this.#running);
    this.#placement.save();
    if (this.#connection) await disconnect(this.#connection, this.#settings.watchMode);
  }

  async #backendFailed(item: DispatchItem, outcome: Extract<FileOutcome, { kind: 'failure' }>, report: () => Promise<void>): Promise<void> {
    const detail = outcome.error.message.replace(/^jest-runner-remote-lambda could not get a result for this file( after \d+ attempt\(s\))?: /, '');
    const line = detail.split('\n')[0]!;
    // No answer for a while (or a fault no retry can mend: no such function, no permission): stop sending.
    if (
      Date.now() - this.#lastAnswerAt >= UNUSABLE_AFTER_MS ||
      /does not exist|Not allowed|runs a handler of protocol|handler failed/.test(outcome.error.message)
    ) {
      this.#stop(line, detail);
    }
    if (this.#settings.options.fallback === 'fail') return report();
    this.#report.ranLocally(this.#report.testOf(item), `the function could not run it: ${line}`);
    this.#run([this.#report.testOf(item)]);
  }

  #stop(reason: string, detail = reason): void {
    if (this.#unusable) return;
    this.#unusable = reason;
    this.#unusableDetail = detail;
    this.stopRemote.abort();
    if (!this.#globalConfig.silent) {
      process.stderr.write(
        this.#settings.options.fallback === 'local'
          ? `remote-lambda: the Lambda function cannot be used (${reason}); running the remaining files locally. Set "fallback": "fail" to stop instead.\n`
          : `remote-lambda: the Lambda function cannot be used (${reason}); the remaining files are reported failed ("fallback": "fail").\n`,
      );
    }
  }

  #unusableMessage(): string {
    const detail = this.#unusableDetail && this.#unusableDetail !== this.#unusable ? `\n${this.#unusableDetail}` : '';
    return (
      `jest-runner-remote-lambda did not run this file: the Lambda function cannot be used (${this.#unusable ?? 'unknown reason'}).${detail}\n` +
      'Fix the cause, or set "fallback": "local" to run such files on this machine.'
    );
  }

  /** Runs tests here (each reported once; one that already started remotely does not start again). */
  #run(tests: Test[]): void {
    this.#running.push(
      (async () => {
        const { connection, preparer } = this.#local();
        const run = await preparer.prepare(tests);
        await this.#report.prepared(run, preparer, false);
        await dispatch(run.items, {
          ...this.#common,
          ...connection,
          concurrency: Math.max(1, connection.workers),
          batchMs: 0,
          onStart: (item) => this.#report.start(item),
          onOutcome: (item, outcome) => this.#report.outcome(item, outcome),
        });
      })(),
    );
  }

  #local(): { connection: Connection & { workers: number }; preparer: ProjectPreparer } {
    const workers = Math.max(1, this.#globalConfig.maxWorkers);
    const settings: RunSettings = {
      ...this.#settings,
      options: { ...this.#settings.options, backend: 'local', isolate: false },
      remote: false,
      inBand: false,
      inPlace: true,
      workers,
    };
    this.#connection ??= connect(settings);
    const quiet: Progress = { phase: () => {}, tick: () => {}, stop: () => {} };
    this.#preparer ??= new ProjectPreparer(settings, this.#globalConfig, this.#connection, quiet);
    return { connection: { ...this.#connection, workers }, preparer: this.#preparer };
  }
}
