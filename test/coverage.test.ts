/**
 * Coverage collected where the tests run comes back and merges locally: the same numbers, file by
 * file, as the default runner, for both providers, and thresholds fail the run the same way.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO, runJest } from './support/run-jest';

// [example, provider, whether the 100%-lines threshold fails there, collectCoverageFrom]
const cases: Array<[string, 'babel' | 'v8', boolean, string | undefined]> = [
  ['mocking', 'babel', true, undefined],
  ['mocking', 'v8', true, undefined],
  ['typescript-basics', 'babel', false, undefined],
  ['typescript-basics', 'v8', false, undefined],
  // an untested file (src/legacy.ts) is reported at 0 % and fails the threshold
  ['typescript-basics', 'babel', true, 'src/**/*.ts'],
  ['typescript-basics', 'v8', true, 'src/**/*.ts'],
];

test.each(cases)(
  '%s with the %s provider: same coverage reports and threshold verdict (threshold fails: %s, collectCoverageFrom: %s)',
  (example, provider, thresholdFails, from) => {
    const cwd = path.join(REPO, 'examples', example);
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'jrl-coverage-'));
    try {
      const summaries = (['default', 'remote-lambda'] as const).map((runner) => {
        const dir = path.join(out, runner);
        const run = runJest(cwd, {
          runner,
          args: [
            '--coverage',
            `--coverageProvider=${provider}`,
            '--coverageReporters=json-summary',
            '--coverageReporters=json',
            '--coverageReporters=lcov',
            '--coverageReporters=text',
            `--coverageDirectory=${dir}`,
            '--coverageThreshold={"global":{"lines":100}}',
            ...(from ? [`--collectCoverageFrom=${from}`] : []),
          ],
        });
        const summary = JSON.parse(fs.readFileSync(path.join(dir, 'coverage-summary.json'), 'utf8')) as Record<string, unknown>;
        // every count, location, local path and istanbul's per-file hash
        const final = JSON.parse(fs.readFileSync(path.join(dir, 'coverage-final.json'), 'utf8')) as Record<string, unknown>;
        const threshold = run.stderr.split('\n').filter((l) => /does not meet .* threshold/.test(l));
        const lcov = fs.readFileSync(path.join(dir, 'lcov.info'), 'utf8');
        // the text reporter's table, as printed
        const text = run.stdout.split('\n').filter((l) => /^[-\w. /]*\|/.test(l));
        return { status: run.status, summary, final, threshold, lcov, text };
      });
      const [reference, ours] = summaries;
      expect(Object.keys(reference!.summary).length).toBeGreaterThan(1);
      expect(reference!.text.length).toBeGreaterThan(3);
      if (from) expect(reference!.lcov).toContain('SF:src/legacy.ts');
      expect(reference!.threshold.length > 0).toBe(thresholdFails);
      expect(reference!.status).toBe(thresholdFails ? 1 : 0);
      expect(ours).toEqual(reference);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  },
);
