/**
 * The whole snapshot workflow on a copy of examples/snapshots, each step run once with Jest's
 * default runner and once with ours from the same starting tree: the results (test by test,
 * snapshot summary, exit code) and the files left behind (.snap files, inline snapshots rewritten
 * into test files, deleted snapshot files) must be equal byte for byte.
 */
import fs from 'node:fs';
import path from 'node:path';
import { REPO, comparable, type JestRun } from './run-jest';

declare const expect: jest.Expect;

export type Runner = (cwd: string, runner: 'default' | 'remote-lambda', args: string[]) => JestRun;

export interface StepOutcome {
  step: string;
  reference: { result: unknown; tree: Record<string, string> };
  ours: { result: unknown; tree: Record<string, string> };
  /** The runs themselves, for checks that the step did what it is meant to. */
  run: JestRun;
  oursRun: JestRun;
}

type Tree = Record<string, string>;

function readTree(dir: string, rel = ''): Tree {
  const out: Tree = {};
  for (const d of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const p = rel ? `${rel}/${d.name}` : d.name;
    if (d.name === 'node_modules' || d.name === '.jest-cache') continue;
    if (d.isDirectory()) Object.assign(out, readTree(dir, p));
    else out[p] = fs.readFileSync(path.join(dir, p), 'utf8');
  }
  return out;
}

function writeTree(dir: string, tree: Tree): void {
  for (const p of Object.keys(readTree(dir))) if (!(p in tree)) fs.rmSync(path.join(dir, p));
  for (const [p, content] of Object.entries(tree)) {
    fs.mkdirSync(path.dirname(path.join(dir, p)), { recursive: true });
    fs.writeFileSync(path.join(dir, p), content);
  }
}

function edit(dir: string, file: string, change: (s: string) => string): void {
  const p = path.join(dir, file);
  const before = fs.readFileSync(p, 'utf8');
  const after = change(before);
  if (after === before) throw new Error(`editing ${file} changed nothing`);
  fs.writeFileSync(p, after);
}

/** Runs every step; `dir` becomes the project (a copy of examples/snapshots, inline snapshots emptied). */
export function snapshotWorkflow(dir: string, run: Runner): StepOutcome[] {
  fs.cpSync(path.join(REPO, 'examples', 'snapshots'), dir, { recursive: true });
  fs.rmSync(path.join(dir, 'test', '__snapshots__'), { recursive: true, force: true });
  edit(dir, 'test/inline.test.js', (s) =>
    s
      .replace(/toMatchInlineSnapshot\(`[\s\S]*?`\)/g, 'toMatchInlineSnapshot()')
      .replace(/toThrowErrorMatchingInlineSnapshot\(`[\s\S]*?`\)/g, 'toThrowErrorMatchingInlineSnapshot()'),
  );

  const outcomes: StepOutcome[] = [];
  const step = (name: string, args: string[]) => {
    const start = readTree(dir);
    const reference = run(dir, 'default', args);
    const referenceTree = readTree(dir);
    writeTree(dir, start);
    const ours = run(dir, 'remote-lambda', args);
    outcomes.push({
      step: name,
      reference: { result: comparable(reference), tree: referenceTree },
      ours: { result: comparable(ours), tree: readTree(dir) },
      run: reference,
      oursRun: ours,
    });
  };

  step(SNAPSHOT_STEPS[0], ['--ci=false']);
  edit(dir, 'test/invoice.test.js', (s) =>
    s.replace(
      "describe('invoices', () => {",
      "describe('invoices', () => {\n  test('a new test', () => {\n    expect({ fresh: true }).toMatchSnapshot();\n  });\n",
    ),
  );
  step(SNAPSHOT_STEPS[1], []);
  edit(dir, 'src/invoice.js', (s) => s.replace('reduced: 0.055', 'reduced: 0.07'));
  step(SNAPSHOT_STEPS[2], []);
  step(SNAPSHOT_STEPS[3], ['-u']);
  edit(dir, 'test/invoice.test.js', (s) => s.replace("    ['zero', 1000],\n", ''));
  step(SNAPSHOT_STEPS[4], []);
  step(SNAPSHOT_STEPS[5], ['-u']);
  fs.rmSync(path.join(dir, 'test', 'invoice.test.js'));
  step(SNAPSHOT_STEPS[6], []);
  step(SNAPSHOT_STEPS[7], ['-u']);
  return outcomes;
}

export const SNAPSHOT_STEPS = [
  'a first run writes every snapshot, inline ones into the test file',
  '--ci fails on a snapshot that is missing and writes nothing',
  'a changed value fails its snapshots with a diff',
  '-u updates the snapshots and writes the missing one',
  'a removed test leaves an obsolete snapshot, reported',
  '-u removes the obsolete snapshot',
  'a deleted test file leaves an obsolete snapshot file, reported',
  '-u deletes the obsolete snapshot file',
] as const;

/** The steps did what they are meant to, so that comparing them is not vacuous. */
export function checkSnapshotSteps(outcomes: StepOutcome[]): void {
  const at = (i: number) => outcomes.find((o) => o.step === SNAPSHOT_STEPS[i])!;
  const snapshot = (i: number) => at(i).run.json.snapshot;
  const snapFile = (i: number) => at(i).reference.tree['test/__snapshots__/invoice.test.js.snap'];
  expect(snapshot(0)).toMatchObject({ added: 9, failure: false, filesAdded: 2 });
  expect(at(0).reference.tree['test/inline.test.js']).toContain('toMatchInlineSnapshot(`19.99 EUR`)');
  expect(snapFile(0)).toContain('"issuedAt": Any<Date>');
  expect(snapshot(1)).toMatchObject({ added: 0, failure: true, unmatched: 1, filesUnmatched: 1 });
  expect(snapFile(1)).not.toContain('a new test');
  expect(snapshot(2)).toMatchObject({ unmatched: 5, filesUnmatched: 2 });
  expect(snapshot(3)).toMatchObject({ updated: 4, added: 1, filesUpdated: 2, failure: false });
  expect(at(3).reference.tree['test/inline.test.js']).toContain('"tax": 0.63 EUR');
  expect(snapshot(4)).toMatchObject({ unchecked: 1, failure: true });
  expect(snapFile(4)).toContain('tax at the zero rate');
  expect(snapshot(5)).toMatchObject({ didUpdate: true, failure: false });
  expect(snapFile(5)).not.toContain('tax at the zero rate');
  expect(snapshot(6)).toMatchObject({ filesRemoved: 1, failure: true });
  expect(snapFile(6)).toBeDefined();
  expect(snapshot(7)).toMatchObject({ filesRemoved: 1, failure: false });
  expect(snapFile(7)).toBeUndefined();
}
