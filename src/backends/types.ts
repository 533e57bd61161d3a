import type { Hash, ProjectPayload, RunRequest, RunResponse, TestEvent } from '../protocol';
import type { ShipStats } from '../ship';
import type { Mirror } from '../bundle/mirror';
import type { Progress } from '../progress';

export interface InvokeOptions {
  signal: AbortSignal;
  /** Live test-case events, for backends that can stream them. */
  onEvent: (event: TestEvent) => void;
}

export interface Backend {
  readonly name: string;
  /** Makes the project's blobs available to the remote side; returns what it had to move. */
  ship(mirror: Mirror, project: Omit<ProjectPayload, 'preparedRoot'>, progress?: Progress): Promise<{ project: ProjectPayload; stats: ShipStats }>;
  /**
   * For backends whose remote side can lack blobs (a cold container): makes `missing` reachable for
   * the next attempt of `request` and returns what to add to it: an inline pack of as many as fit,
   * or nothing after putting them (back) into a shared store. Throws a TransportError when
   * nothing can be made to fit.
   */
  supply?(request: RunRequest, missing: Hash[]): Promise<Pick<RunRequest, 'pack'>>;
  /** Moves one request to a worker. Rejects only on transport failure; failing tests resolve. */
  invoke(request: RunRequest, options: InvokeOptions): Promise<RunResponse>;
  /** Stops workers and releases resources; a backend kept for watch mode is closed on exit. */
  close(): Promise<void>;
}

/** A transport-level fault: the file may be retried elsewhere, it says nothing about the test. */
export class TransportError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'TransportError';
  }
}
