/**
 * The progress display before tests start and the summary line after: shown on a terminal (here a
 * pseudo-terminal from util-linux `script`), absent in CI, with --silent and with --json.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { shouldShowProgress } from '../src/results/progress';
import { REPO } from './support/run-jest';

const tty = { isTTY: true } as NodeJS.WriteStream;
const pipe = { isTTY: false } as NodeJS.WriteStream;

test('shown on a terminal only, and never in CI, with --silent or with --json', () => {
  expect(shouldShowProgress({ stream: tty, env: {} })).toBe(true);
  expect(shouldShowProgress({ stream: pipe, env: {} })).toBe(false);
  expect(shouldShowProgress({ stream: tty, env: { CI: 'true' } })).toBe(false);
  expect(shouldShowProgress({ stream: tty, env: { CI: 'false' } })).toBe(true);
  expect(shouldShowProgress({ stream: tty, env: {}, silent: true })).toBe(false);
  expect(shouldShowProgress({ stream: tty, env: {}, json: true })).toBe(false);
});

describe('in a pseudo-terminal', () => {
  let work: string;
  beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'jrl-progress-'));
    fs.cpSync(path.join(REPO, 'examples', 'fixtures'), path.join(work, 'app'), { recursive: true });
    fs.mkdirSync(path.join(work, 'app', '.git'));
    fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(work, 'app', 'node_modules'));
  });
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  /** Jest in a terminal with a fresh cache (so every file is hashed); everything it printed. */
  const inTerminal = (env: NodeJS.ProcessEnv, args: string[] = []) => {
    const cache = fs.mkdtempSync(path.join(work, 'cache-'));
    const jest = [process.execPath, require.resolve('jest/bin/jest'), `--cacheDirectory=${cache}`, ...args].map((a) => `'${a}'`).join(' ');
    const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
    delete childEnv.JEST_WORKER_ID;
    if (env.CI === undefined) delete childEnv.CI;
    const r = spawnSync('script', ['-qfec', jest, '/dev/null'], { cwd: path.join(work, 'app'), env: childEnv, encoding: 'utf8', timeout: 120_000 });
    // (colours and cursor movements removed: a terminal gets them)
    // eslint-disable-next-line no-control-regex -- terminal escape sequences
    return { status: r.status, out: r.stdout.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '') };
  };

  test("a developer sees hashing progress, then Jest's own output, then one summary line", () => {
    // (isolated: the project is hashed and mirrored, as for a remote run; in place nothing is)
    const r = inTerminal({ JEST_REMOTE_LAMBDA_ISOLATE: '1' });
    expect(r.out).toMatch(/remote-lambda hashing \[[^\]]*\] \d+\/\d+ files/);
    expect(r.out).toMatch(
      /remote-lambda: 3 file\(s\) on the local backend \((in band|\d+ workers?), isolated\), 0 retries; stored [\d.]+ MB new \(\d+ files?\), [\d.]+ MB unchanged/,
    );
    // the bar is gone before the first result line of Jest's reporter
    expect(r.out.indexOf('remote-lambda hashing')).toBeLessThan(r.out.indexOf('PASS'));
    expect(r.status).toBe(0);
  });

  test('in place, only the summary line', () => {
    const r = inTerminal({});
    expect(r.out).not.toContain('remote-lambda hashing');
    expect(r.out).toMatch(/remote-lambda: 3 file\(s\) on the local backend \((in band|\d+ workers?), in place\), 0 retries\r?\n/);
  });

  test.each([
    ['CI', { CI: 'true' }, []],
    ['--silent', {}, ['--silent']],
    ['--json', {}, ['--json']],
  ] as Array<[string, NodeJS.ProcessEnv, string[]]>)('with %s nothing of ours is printed', (_name, env, args) => {
    const r = inTerminal(env, args);
    expect(r.out).not.toContain('remote-lambda');
    expect(r.out).toContain(args.includes('--json') ? '"numPassedTests":22' : 'Tests:       22 passed');
  });
});
