/** Types of offline.js (plain JavaScript so benchmarks can use it too). */
export const SERVICE: string;
export const STAGE: string;
export const FUNCTION_NAME: string;

export interface Offline {
  endpoint: string;
  output(): string;
  stop(): Promise<void>;
}

export interface FaultProxy {
  endpoint: string;
  log(): string[];
  stop(): void;
}

export interface S3Emulator {
  endpoint: string;
  directory: string;
  stop(): Promise<void>;
}

export function freePort(): Promise<number>;
export function startOffline(
  repo: string,
  workDir: string,
  serviceDir: string,
  environment?: Record<string, string>,
  processEnv?: Record<string, string>,
): Promise<Offline>;
/** `bodiesFile`: every request body is appended there (what left this machine). */
/** `faultPings`: pings get the faults too (by default they pass, uncounted: the faults are meant for runs). */
export function startFaultProxy(
  target: string,
  script: string[],
  then: string | undefined,
  logFile: string,
  bodiesFile?: string,
  options?: { faultPings?: boolean },
): Promise<FaultProxy>;
export function startS3(directory: string, buckets: string[]): Promise<S3Emulator>;

export interface LambdaStack {
  s3: S3Emulator;
  offline: Offline;
  /** The function's work directory (its content store and tree). */
  lambdaTmp: string;
  /** Environment for a run of our runner on the lambda backend with the bucket. */
  env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}
/** `processEnv`: variables of the emulator's own node process (its handler runs in process), e.g. NODE_OPTIONS. */
export function startLambdaStack(repo: string, work: string, bucket: string, processEnv?: Record<string, string>): Promise<LambdaStack>;

export interface FleetStack {
  s3: S3Emulator;
  /** The fleet (named as in LambdaStack, so tests switch with one line). */
  offline: Offline;
  fleet: import('./fleet').Fleet;
  lambdaTmp: undefined;
  env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}
export function startFleetStack(repo: string, work: string, bucket: string, fleetOptions?: Partial<import('./fleet').FleetOptions>): Promise<FleetStack>;
