import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { envName, resolveOptions } from '../src/options';

let rootDir: string;
beforeEach(() => {
  rootDir = fs.mkdtempSync(path.join(os.tmpdir(), 'jrl-options-'));
});
afterEach(() => fs.rmSync(rootDir, { recursive: true, force: true }));

test('defaults', () => {
  expect(resolveOptions(rootDir, undefined, {})).toEqual({
    backend: 'local',
    include: [],
    exclude: [],
    retries: 2,
    rerunFailures: 0,
    debug: false,
    concurrency: 50,
    invokeTimeoutMs: 910_000,
    batchMs: 250,
    isolate: false,
    env: [],
    bucketPrefix: 'jest-runner-remote-lambda/',
    runLocally: [],
    rerunLocally: true,
    fallback: 'local',
    packages: 'needed',
    prewarm: true,
  });
});

test('runLocally, rerunLocally and fallback from the environment, and a wrong fallback named with the fix', () => {
  expect(
    resolveOptions(rootDir, undefined, {
      JEST_REMOTE_LAMBDA_RUN_LOCALLY: 'test/git/**, test/db.test.js',
      JEST_REMOTE_LAMBDA_RERUN_LOCALLY: '0',
      JEST_REMOTE_LAMBDA_FALLBACK: 'fail',
    }),
  ).toMatchObject({
    runLocally: ['test/git/**', 'test/db.test.js'],
    rerunLocally: false,
    fallback: 'fail',
  });
  expect(() => resolveOptions(rootDir, { fallback: 'never' }, {})).toThrow(
    'Invalid jest-runner-remote-lambda option "fallback" in the runner options in your Jest config: Invalid option: expected one of "local"|"fail", got `"never"` (string).\n' +
      'Use "local" (run the remaining files here when the function cannot be used) or "fail".',
  );
});

test('a bucket given as a URL is refused with the fix', () => {
  expect(() => resolveOptions(rootDir, undefined, { JEST_REMOTE_LAMBDA_BUCKET: 's3://team-cache' })).toThrow(
    'Invalid jest-runner-remote-lambda option JEST_REMOTE_LAMBDA_BUCKET (environment): expected an S3 bucket name (3-63 lowercase letters, digits, dots, hyphens), got `"s3://team-cache"` (string).\n' +
      'Use the name of an existing S3 bucket, e.g. "my-team-jest-cache" (not an ARN or s3:// URL).',
  );
  expect(() => resolveOptions(rootDir, { bucketPrefix: 'jest' }, {})).toThrow('must be empty or end with "/"');
});

test('precedence: environment > runner options > config file > defaults', () => {
  fs.writeFileSync(path.join(rootDir, 'remote-lambda.config.json'), JSON.stringify({ retries: 1, workers: 3, exclude: ['big/**'] }));
  const options = resolveOptions(rootDir, { retries: 4, debug: true }, { JEST_REMOTE_LAMBDA_RETRIES: '7' });
  expect(options).toMatchObject({ retries: 7, debug: true, workers: 3, exclude: ['big/**'] });
});

test('include paths are resolved against rootDir; env lists are comma-separated', () => {
  const options = resolveOptions(rootDir, undefined, { JEST_REMOTE_LAMBDA_INCLUDE: '../shared, /abs/data' });
  expect(options.include).toEqual([path.resolve(rootDir, '../shared'), '/abs/data']);
});

test('an unknown option names itself and suggests the closest one', () => {
  expect(() => resolveOptions(rootDir, { worker: 2 }, {})).toThrow(
    'Unknown jest-runner-remote-lambda option "worker" in the runner options in your Jest config. Did you mean "workers"?',
  );
});

test('a wrong type names the option, shows the value with its type, and the fix', () => {
  expect(() => resolveOptions(rootDir, { workers: 0 }, {})).toThrow(
    /option "workers" in the runner options in your Jest config: .*got `0` \(number\)\.\nUse a whole number from 1 up/,
  );
  expect(() => resolveOptions(rootDir, { backend: 'lamda' }, {})).toThrow(
    /"backend".*got `"lamda"` \(string\)\.\nUse "local" \(the embedded worker pool\) or "lambda"/,
  );
});

test('environment errors name the variable', () => {
  expect(() => resolveOptions(rootDir, undefined, { JEST_REMOTE_LAMBDA_WORKERS: 'many' })).toThrow(
    /JEST_REMOTE_LAMBDA_WORKERS \(environment\): .*got `"many"` \(string\)/,
  );
  expect(() => resolveOptions(rootDir, undefined, { JEST_REMOTE_LAMBDA_RETRYS: '1' })).toThrow(
    'Unknown environment variable JEST_REMOTE_LAMBDA_RETRYS. Did you mean JEST_REMOTE_LAMBDA_RETRIES?',
  );
});

test('runner options must be an object', () => {
  expect(() => resolveOptions(rootDir, 'local', {})).toThrow(/must be an object, got `"local"` \(string\)/);
});

test('environment variable names follow the option names', () => {
  expect(envName('cacheDirectory')).toBe('JEST_REMOTE_LAMBDA_CACHE_DIRECTORY');
});

test('the lambda backend needs a function, named in the error with both ways to set it', () => {
  expect(() => resolveOptions(rootDir, undefined, { JEST_REMOTE_LAMBDA_BACKEND: 'lambda' })).toThrow(
    'Option "backend" is "lambda" but no function is named.\nSet "function" in the runner options or JEST_REMOTE_LAMBDA_FUNCTION=<name or ARN>.',
  );
  expect(
    resolveOptions(rootDir, undefined, {
      JEST_REMOTE_LAMBDA_BACKEND: 'lambda',
      JEST_REMOTE_LAMBDA_FUNCTION: 'jrl-dev-run',
      JEST_REMOTE_LAMBDA_ENV: 'API_URL,FEATURE',
    }),
  ).toMatchObject({
    backend: 'lambda',
    function: 'jrl-dev-run',
    env: ['API_URL', 'FEATURE'],
  });
});

test('rerunFailures from the environment, and a wrong value named with the fix', () => {
  expect(resolveOptions(rootDir, undefined, { JEST_REMOTE_LAMBDA_RERUN_FAILURES: '2' }).rerunFailures).toBe(2);
  expect(() => resolveOptions(rootDir, { rerunFailures: -1 }, {})).toThrow(
    /Invalid jest-runner-remote-lambda option "rerunFailures" in the runner options in your Jest config: .*, got `-1` \(number\)\.\nUse a whole number from 0 \(never run a failing file again\) to 10\./,
  );
});
