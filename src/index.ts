/**
 * jest-runner-remote-lambda: a Jest custom runner (`runner: "remote-lambda"`). Each test file is
 * shipped as a content-addressed mirror and run by the handler on a backend; the answers become
 * native Jest results and events, so reporters, --json and IDEs see an ordinary run.
 *
 * A run, as the folders tell it: options (resolve) -> mirror (prepare each project) -> ship ->
 * dispatch -> backends -> handler/ -> results (report).
 */
import crypto from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Test, TestEvents } from '@jest/test-result';
import type { Config } from '@jest/types';
import Emittery from 'emittery';
import { connect, disconnect } from './backends/registry';
import { dispatch, type DispatchItem, type FileOutcome, type RequestRecord } from './dispatch';
import { LocalRuns } from './dispatch/local-runs';
import { wroteSnapshots } from './dispatch/reruns';
import { StoreAccessError, UnusableBackendError } from './errors';
import { ProjectPreparer, type PreparedRun } from './mirror/prepare';
import { resolveRun } from './options';
import type { FetchedPackages, ProcessOutput, TestEvent, TransformEntry } from './protocol';
import { createProgress } from './results/progress';
import { RunReport } from './results/report';
import { Timeline, timelineLine } from './results/timeline';

export { defineRemoteLambdaOptions, type RemoteLambdaOptions } from './options';
export { RemoteRunnerError } from './errors';

type TestWatcher = {
  isInterrupted(): boolean;
  on(event: 'change', listener: (state: { interrupted: boolean }) => void): unknown;
};
type RunnerContext = { changedFiles?: Set<string>; sourcesRelatedToTestsInChangedFiles?: Set<string> };

export default class RemoteLambdaRunner {
  readonly supportsEventEmitters = true;
  readonly isSerial = false;
  readonly #globalConfig: Config.GlobalConfig;
  readonly #context: RunnerContext;
  readonly #runnerOptions: unknown;
  readonly #events = new Emittery<TestEvents>();

  constructor(globalConfig: Config.GlobalConfig, context: RunnerContext = {}, runnerOptions?: unknown) {
    this.#globalConfig = globalConfig;
    this.#context = context;
    this.#runnerOptions = runnerOptions;
  }

  on<Name extends keyof TestEvents>(eventName: Name, listener: (eventData: TestEvents[Name]) => void | Promise<void>): () => void {
    return this.#events.on(eventName, listener);
  }

  async runTests(tests: Test[], watcher: TestWatcher, runOptions?: { serial: boolean }): Promise<void> {
    if (tests.length === 0) return;
    const started = performance.now();
    const globalConfig = this.#globalConfig;
    const first = tests[0]!.context.config;
    const settings = resolveRun(globalConfig, first, this.#runnerOptions, Boolean(runOptions?.serial));
    if (settings.notice) process.stderr.write(`${settings.notice}\n`);
    const connection = connect(settings);
    const report = new RunReport(this.#events, settings, connection, started);
    const timeline = settings.options.timeline ? new Timeline(settings.options.timeline, first.rootDir, started) : undefined;
    report.timeline = timeline;
    const controller = new AbortController();
    watcher.on('change', (state) => state.interrupted && controller.abort());
    const common = {
      retries: settings.options.retries,
      runId: crypto.randomUUID(),
      globalConfig: JSON.parse(JSON.stringify(globalConfig)) as Record<string, unknown>,
      // Reproduce the path Jest itself would take: in its own process, or in a pool worker.
      mode: settings.mode,
      signal: controller.signal,
      changedFiles: this.#context.changedFiles && [...this.#context.changedFiles],
      sourcesRelatedToTestsInChangedFiles: this.#context.sourcesRelatedToTestsInChangedFiles && [...this.#context.sourcesRelatedToTestsInChangedFiles],
      onEvent: (_item: unknown, event: TestEvent) => this.#events.emit(event.name, event.args as TestEvents[typeof event.name]),
      onRetry: () => report.retried(),
      onOutput: (output: ProcessOutput) => report.output(output),
      onRequest: (request: RequestRecord) => {
        report.request(request);
        timeline?.request(request);
      },
      onFetchedPackages: (item: DispatchItem, fetched: FetchedPackages) => preparer.learned(item, fetched),
      transformsOf: (item: DispatchItem) => preparer.transformsOf(item),
      onTransforms: (item: DispatchItem, entries: TransformEntry[]) => preparer.transformsMade(item, entries),
      // An update (-u) writes snapshots from what its attempt produced: once, so nothing runs again.
      rerunFailures: globalConfig.updateSnapshot === 'all' ? 0 : settings.options.rerunFailures,
      onRerun: (item: DispatchItem, outcome: FileOutcome, attempt: number) => report.rerun(item, outcome, attempt),
      mayRerun: (item: DispatchItem, outcome: FileOutcome): boolean => !wroteSnapshots(outcome) && !local?.takesOver(item, outcome),
    };
    // On Lambda, some files may run here instead: runLocally, environmental failures, fallback.
    const local: LocalRuns | undefined = settings.remote ? new LocalRuns(settings, globalConfig, first.rootDir, report, common) : undefined;
    // Before the first test starts only: Jest's reporter owns the terminal after that.
    const preparer = new ProjectPreparer(settings, globalConfig, connection, createProgress({ silent: globalConfig.silent, json: globalConfig.json }));
    preparer.prewarm(tests);
    try {
      const run = await prepareOrFallBack(preparer, local?.split(tests) ?? tests, local);
      await report.prepared(run, preparer);
      timeline?.prepared({ mirror: preparer.timing.mirror, ship: preparer.timing.ship }, performance.now());
      await dispatch(run.items, {
        ...common,
        ...connection,
        concurrency: Math.max(1, settings.workers),
        // Small files together: only where an invocation costs more than a message to a worker.
        batchMs: settings.remote ? settings.options.batchMs : 0,
        // Tests in this very process: its CPU says nothing about reporting, and Jest's order stays.
        ...(settings.inBand ? { clientMsPerFile: 0 } : {}),
        signal: local ? AbortSignal.any([controller.signal, local.stopRemote.signal]) : controller.signal,
        onStart: async (item) => (watcher.isInterrupted() ? controller.abort() : report.start(item)),
        ...(local ? { onEvent: (item: DispatchItem, event: TestEvent) => local.event(item, event) } : {}),
        onOutcome: (item, outcome) => (local ? local.outcome(item, outcome) : report.outcome(item, outcome)),
      });
      await local?.finish(run.items, controller.signal.aborted);
      preparer.finish();
    } finally {
      await disconnect(connection, settings.watchMode);
    }
    report.finish({ silent: globalConfig.silent, json: globalConfig.json });
    if (timeline) {
      const totals = timeline.write();
      if (!globalConfig.silent) process.stderr.write(`${timelineLine(timeline.file, totals)}\n`);
    }
  }
}

/** The remote side's preparation; when it shows the function cannot be used, the fallback takes the files. */
async function prepareOrFallBack(preparer: ProjectPreparer, tests: Test[], local: LocalRuns | undefined): Promise<PreparedRun> {
  try {
    const run = await preparer.prepare(tests);
    return local ? local.takeHeldBack(run) : run;
  } catch (error) {
    if (!local || !(error instanceof StoreAccessError || error instanceof UnusableBackendError)) throw error;
    return local.unusable(tests, error);
  }
}
