/** Types of test/support/fleet (plain JavaScript so benchmarks can use it too). */
export type FaultKind = 'kill' | 'hang' | 'garbage' | 'throttle' | 'init-crash' | 'slow-start' | 'pass';

export interface FaultPlan {
  /** The n-th invocation gets script[n]; later ones `then` (default 'pass'), or a random draw. */
  script?: FaultKind[];
  then?: FaultKind;
  random?: { seed: number; rate: number; weights: Partial<Record<FaultKind, number>> };
  /** A 'throttle' refuses this many invocations in a row. */
  throttleBurst?: number;
}

export interface FleetOptions {
  /** The deployment package: file name in /var/task -> path of its content. */
  code: Record<string, string>;
  functionName?: string;
  region?: string;
  handler?: string;
  memoryMb?: number;
  timeoutSec?: number;
  ephemeralMb?: number;
  /** Reserved concurrency: invocations in flight beyond it get 429. */
  concurrency?: number;
  /** New environments: `initial` at once, then `perSecond`; beyond it 429. */
  burst?: { initial: number; perSecond: number };
  /** Added before each new environment starts (placement, code download). */
  coldStartMs?: number;
  slowStartMs?: number;
  idleTtlMs?: number;
  /** A 'kill' fault strikes within this many ms of the event reaching the environment. */
  killWithinMs?: number;
  /** The function's configured environment variables. */
  environment?: Record<string, string>;
  /** Credentials of the function's role, as Lambda puts them in the environment. */
  role?: { accessKeyId: string; secretAccessKey: string; sessionToken: string };
  aliases?: string[];
  faults?: FaultPlan;
  /** 'auto' (default): namespaces where possible; true: fail without them; false: plain processes. */
  isolate?: 'auto' | boolean;
  /** The node binary the environments run (default: this one). */
  nodeBinary?: string;
  workDir?: string;
}

export interface FleetEnvironment {
  id: number;
  /** The process the fleet started (setpriv, then unshare). */
  pid: number;
  /** This machine's pid of the runtime inside (PID 1 of the environment's namespace). */
  runtimePid?: number;
  state: 'init' | 'idle' | 'busy' | 'dead';
  version: number;
  invocations: number;
  retiring: boolean;
}

export interface FleetStats {
  functionName: string;
  version: number;
  isolation: string;
  memoryLimit: { method: string; note: string };
  inFlight: number;
  environments: FleetEnvironment[];
  faultsInjected: Record<Exclude<FaultKind, 'pass'> | 'total', number>;
  invocations: number;
  throttled: { concurrency: number; burst: number; injected: number };
  coldStarts: number;
  initDurationsMs: number[];
  /** Each answered invocation, in order: its environment, cold or warm, handler time (ms), handler status (or the outcome). */
  invocationTimes: Array<{ env: number; cold: boolean; ms: number; status: string }>;
  started: number;
  ended: Record<string, number>;
  outcomes: Record<string, number>;
}

export interface Fleet {
  endpoint: string;
  functionName: string;
  workDir: string;
  pid: number;
  /** Environment for a run of our runner against this fleet. */
  env: NodeJS.ProcessEnv;
  output(): string;
  stats(): Promise<FleetStats>;
  log(): Promise<string[]>;
  deploy(files: Record<string, string>): Promise<{ version: number }>;
  recycle(): Promise<unknown>;
  setFaults(plan: FaultPlan): Promise<unknown>;
  configure(options: Partial<FleetOptions>): Promise<unknown>;
  stop(): Promise<void>;
}

export function startFleet(options: FleetOptions): Promise<Fleet>;
/** Why environments cannot be isolated here, or undefined when they can. */
export function isolationUnavailable(): string | undefined;
