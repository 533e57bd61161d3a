/**
 * The layout keeps its promises: imports between the runner (src/) and the handler (handler/) run
 * in one direction. The handler takes from src/ only what crosses the boundary with it (the
 * protocol, the version, the error types) and the ship stage it shares; only the embedded backend
 * (src/backends/), which hosts the handler in this process or in its workers, imports handler/.
 */
import fs from 'node:fs';
import path from 'node:path';
import { REPO } from './support/run-jest';

const HANDLER_MAY_IMPORT = [/^src\/protocol$/, /^src\/version$/, /^src\/errors$/, /^src\/ship\//];
const MAY_IMPORT_HANDLER = /^src\/backends\//;

/** Every relative module a file imports, requires or re-exports, as a repository path without extension. */
export function importsOf(file: string, text = fs.readFileSync(file, 'utf8')): string[] {
  const specifiers = [...text.matchAll(/(?:\bfrom\s*|\brequire\(\s*|\bimport\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => m[1]!);
  return specifiers.map((s) =>
    path
      .relative(REPO, path.resolve(path.dirname(file), s))
      .split(path.sep)
      .join('/')
      .replace(/\.(ts|js)$/, '')
      .replace(/\/index$/, ''),
  );
}

function sources(dir: string): string[] {
  return fs
    .readdirSync(path.join(REPO, dir), { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => path.join(REPO, dir, f));
}

/** [importing file, imported module] pairs that break the rule. */
function violations(): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const file of sources('handler')) {
    for (const target of importsOf(file)) {
      if (target.startsWith('src/') && !HANDLER_MAY_IMPORT.some((allowed) => allowed.test(target))) out.push([path.relative(REPO, file), target]);
    }
  }
  for (const file of sources('src')) {
    const from = path.relative(REPO, file);
    for (const target of importsOf(file)) {
      if (target.startsWith('handler/') && !MAY_IMPORT_HANDLER.test(from)) out.push([from, target]);
    }
  }
  return out;
}

test('handler/ imports from src/ only the protocol, the version, the errors and src/ship/; only src/backends/ imports handler/', () => {
  expect(violations()).toEqual([]);
});

test('the check sees every kind of import, and would catch a break of either rule', () => {
  const handlerFile = path.join(REPO, 'handler', 'example.ts');
  const text = [
    "import { a } from '../src/dispatch/schedule';",
    "import type { B } from '../src/protocol';",
    "const c = require('../src/results/summary') as typeof import('../src/options');",
    "export { d } from './materialize';",
  ].join('\n');
  expect(importsOf(handlerFile, text)).toEqual(['src/dispatch/schedule', 'src/protocol', 'src/results/summary', 'src/options', 'handler/materialize']);
  const allowed = (target: string) => HANDLER_MAY_IMPORT.some((rule) => rule.test(target));
  expect(['src/dispatch/schedule', 'src/results/summary', 'src/options'].filter(allowed)).toEqual([]);
  expect(['src/protocol', 'src/ship/pack', 'src/errors', 'src/version'].every(allowed)).toBe(true);
  expect(MAY_IMPORT_HANDLER.test('src/results/report.ts')).toBe(false);
  expect(MAY_IMPORT_HANDLER.test('src/backends/local/pool.ts')).toBe(true);
});

test('src/ reads as the pipeline: one folder per stage', () => {
  const folders = fs
    .readdirSync(path.join(REPO, 'src'), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
  expect(folders).toEqual(['backends', 'cli', 'dispatch', 'mirror', 'options', 'results', 'ship']);
});
