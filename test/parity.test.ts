/**
 * Parity: every example project runs with Jest's default runner and with ours (embedded backend),
 * and the results must be equal test by test: status, names, failure messages with their stack
 * traces and code frames, locations, counts, snapshot summary, console output, exit code.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO, comparable, runJest } from './support/run-jest';

const EXAMPLES = path.join(REPO, 'examples');
const ENV: Record<string, NodeJS.ProcessEnv> = {
  'native-esm': { NODE_OPTIONS: '--experimental-vm-modules --no-warnings' },
};

const examples = fs
  .readdirSync(EXAMPLES, { withFileTypes: true })
  .filter((d) => d.isDirectory() && fs.readdirSync(path.join(EXAMPLES, d.name)).some((f) => /^jest\.config\./.test(f)))
  .map((d) => d.name)
  .sort();

test('the examples folder has the projects this suite is meant to cover', () => {
  expect(examples).toEqual(
    expect.arrayContaining([
      'babel-plugin',
      'failures',
      'fixtures',
      'jest29',
      'mocking',
      'multi-project',
      'native-esm',
      'react-jsdom',
      'snapshots',
      'typescript-basics',
    ]),
  );
});

describe.each(examples)('example %s', (name) => {
  const cwd = path.join(EXAMPLES, name);

  // Jest runs small suites with known fast timings in band, others on its worker pool; ours takes
  // the same path (in process, or its own pool) and is compared against the same mode of Jest.
  test('gives the same results test by test as the default runner: in band (in place and isolated) and on a worker pool', () => {
    const env = ENV[name];
    const reference = runJest(cwd, { runner: 'default', env });
    expect(reference.json.numTotalTests).toBeGreaterThan(0);
    const inBand = runJest(cwd, { runner: 'remote-lambda', env: { ...env, JEST_REMOTE_LAMBDA_DEBUG: '1' } });
    expect(inBand.stderr).toMatch(/\[remote-lambda\] backend=local workers=(in-band|\d+) /);
    expect(comparable(inBand)).toEqual(comparable(reference));
    // isolated: the same, from a private mirror built as a Lambda container builds it
    const isolated = runJest(cwd, { runner: 'remote-lambda', env: { ...env, JEST_REMOTE_LAMBDA_ISOLATE: '1', JEST_REMOTE_LAMBDA_DEBUG: '1' } });
    expect(isolated.stderr).toMatch(/\[remote-lambda\] backend=local .* hashed=\d+ cached=\d+ blobs new=\d+ \(\d+ B\) cached=\d+/);
    expect(comparable(isolated)).toEqual(comparable(reference));

    // An empty cache has no timings, so with 2 workers both runners use their pools.
    const pool = (runner: 'default' | 'remote-lambda') => {
      const cacheDirectory = fs.mkdtempSync(path.join(os.tmpdir(), 'jrl-pool-cache-'));
      try {
        return runJest(cwd, { runner, env: { ...env, JEST_REMOTE_LAMBDA_DEBUG: '1' }, args: ['--maxWorkers=2', `--cacheDirectory=${cacheDirectory}`] });
      } finally {
        fs.rmSync(cacheDirectory, { recursive: true, force: true });
      }
    };
    const poolReference = pool('default');
    const poolOurs = pool('remote-lambda');
    expect(poolOurs.stderr).toContain('[remote-lambda] backend=local workers=2 ');
    expect(comparable(poolOurs)).toEqual(comparable(poolReference));
  });
});
