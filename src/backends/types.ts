/**
 * A backend moves one request to something that runs the handler and brings its answer back: a
 * worker process on this machine, or a Lambda invocation. Transport only: it neither ships blobs
 * (src/ship/), nor retries or schedules (src/dispatch/).
 */
import type { TargetPlatform } from '../mirror/platform';
import type { Environment, Hash, ProjectPayload, RunRequest, RunResponse, Store, TestEvent } from '../protocol';

export interface InvokeOptions {
  signal: AbortSignal;
  /** Live test-case events, for backends that can stream them. */
  onEvent: (event: TestEvent) => void;
  /**
   * A file running again after it failed there (rerunFailures): another environment, where the
   * backend can choose one (the embedded pool can; Lambda picks its own).
   */
  avoid?: Environment;
}

export interface Backend {
  readonly name: string;
  /**
   * Sets up what the handler needs beside the blobs before the project's first request (the
   * embedded backend's shared tree); returns the project as its requests carry it.
   */
  prepare?(project: ProjectPayload): Promise<ProjectPayload>;
  /**
   * Refuses, before the first file, a run the backend cannot serve as this Jest would run it
   * (native ESM without VM modules there), with an UnusableBackendError that says what to do.
   */
  check?(local: { vmModules: boolean }): Promise<void>;
  /**
   * The platforms the remote side may have: the one its answers showed, or every candidate while
   * none is known (platform packages are shipped for each). Absent where files run on this machine.
   */
  platforms?(): TargetPlatform[];
  /**
   * Starts `count` environments while the runner prepares (hashes, ships), each bringing in the
   * project `warmUp` names (the last run's) if given; the first requests then go to them. Absent
   * where workers start with the run anyway.
   */
  prewarm?(count: number, warmUp?: { projectKey: Hash; store: Store }): void;
  /** Moves one request to a worker. Rejects only on transport failure; failing tests resolve. */
  invoke(request: RunRequest, options: InvokeOptions): Promise<RunResponse>;
  /** Stops workers and releases resources; a backend kept for watch mode is closed on exit. */
  close(): Promise<void>;
}
