export const REPO: string;

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
    assertionResults: Array<Record<string, unknown> & { failureMessages: string[]; status: string; fullName: string }>;
  }>;
  coverageMap?: Record<string, unknown>;
}

export interface JestRun {
  status: number | null;
  stdout: string;
  stderr: string;
  json: JestJson;
  console: Record<string, Array<{ type: string; message: string; origin: string }>>;
  caseResults: Record<string, string[]>;
}

export function runJest(cwd: string, options: { runner: 'default' | 'remote-lambda'; args?: string[]; env?: NodeJS.ProcessEnv; runnerPath?: string }): JestRun;
/**
 * Like runJest, without blocking; `wrap` prefixes the command (e.g. a namespace launcher) and
 * `resolveFrom` is where Jest is found when `cwd` only exists inside that wrapper.
 */
export function runJestAsync(
  cwd: string,
  options: { runner: 'default' | 'remote-lambda'; args?: string[]; env?: NodeJS.ProcessEnv; runnerPath?: string; wrap?: string[]; resolveFrom?: string },
): Promise<JestRun>;
export function comparable(run: JestRun): unknown;
export function compareTests(
  reference: JestRun,
  ours: JestRun,
): { total: number; matched: number; mismatches: Array<{ key: string; reference: unknown; ours: unknown }> };
export function junitComparable(xml: string): { head: string; suites: string[] };
