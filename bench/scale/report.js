'use strict';
// Text outputs: the console table and bench/results/scale.md.
const { DEFAULTS, SOURCES, coldStartMs, clientStartMs } = require('./params');
const { TARGET_BOUND_ABOVE_MS, TARGET_RATIO } = require('./grid');

const fmtS = (s) => (s >= 100 ? s.toFixed(0) : s >= 10 ? s.toFixed(1) : s.toFixed(2));
const fmtX = (x) => `${x.toFixed(2)}×`;

function targetCell(row) {
  if (!row.boundTargetApplies) return '–';
  return row.boundTargetMet ? 'met' : `**missed** (worst ${fmtX(row.worstOursOverBound)})`;
}

function moduloCell(row) {
  if (row.vsModulo === 'better') return 'better';
  if (row.vsModulo === 'tie') return 'tie';
  return `**worse** (worst ${fmtX(row.worstOursOverModulo)})`;
}

/** The full table for one suite, as markdown. */
function fullTable(rows) {
  const lines = [
    '| N | C | ours (s) | modulo (s) | static LPT (s) | bound (s) | floor (s) | ours / bound | ours / floor | ours / modulo | ours / static | client busy | queue in file order (s) | bound > 30 s ⇒ ours ≤ 1.1× bound | ours vs modulo |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.files.toLocaleString('en-US')} | ${r.concurrency} | ${fmtS(r.oursS)} | ${fmtS(r.moduloS)} | ${fmtS(r.staticS)} | ${fmtS(r.boundS)} | ${fmtS(r.floorS)} | ` +
        `${fmtX(r.oursOverBound)} | ${fmtX(r.oursOverFloor)} | ${fmtX(r.oursOverModulo)} | ${fmtX(r.oursOverStatic)} | ${(100 * r.clientBusyShare).toFixed(0)} % | ${fmtS(r.queueFileOrderS)} | ${targetCell(r)} | ${moduloCell(r)} |`,
    );
  }
  return lines.join('\n');
}

/** One line per suite: how the targets fare over its grid. */
function targetSummary(rows) {
  const applies = rows.filter((r) => r.boundTargetApplies);
  const met = applies.filter((r) => r.boundTargetMet);
  const worst = applies.length ? Math.max(...applies.map((r) => r.worstOursOverBound)) : null;
  const count = (v) => rows.filter((r) => r.vsModulo === v).length;
  return {
    points: rows.length,
    boundAbove30: applies.length,
    boundTargetMet: met.length,
    worstOursOverBoundWhereApplies: worst,
    medianOursOverFloor: median(rows.map((r) => r.oursOverFloor)),
    worstOursOverFloor: Math.max(...rows.map((r) => r.oursOverFloor)),
    better: count('better'),
    tie: count('tie'),
    worse: count('worse'),
  };
}

function summaryTable(bySuite) {
  const lines = [
    '| suite | grid points | bound > 30 s | of those ours ≤ 1.1× bound | worst ours / bound there | ours / floor (median, worst) | ours vs modulo: better / tie / worse |',
    '|---|---:|---:|---:|---:|---:|---|',
  ];
  for (const [suite, rows] of Object.entries(bySuite)) {
    const s = targetSummary(rows);
    lines.push(
      `| ${suite} | ${s.points} | ${s.boundAbove30} | ${s.boundTargetMet} | ${s.worstOursOverBoundWhereApplies === null ? '–' : fmtX(s.worstOursOverBoundWhereApplies)} | ` +
        `${fmtX(s.medianOursOverFloor)}, ${fmtX(s.worstOursOverFloor)} | ${s.better} / ${s.tie} / ${s.worse} |`,
    );
  }
  return lines.join('\n');
}

function compactTable(rows, grid) {
  const head = ['N \\ C', ...grid.concurrency.map(String)];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---:').join('|')}|`];
  for (const files of grid.files) {
    const cells = grid.concurrency.map((c) => {
      const r = rows.find((x) => x.files === files && x.concurrency === c);
      const mark = r.boundTargetApplies ? (r.boundTargetMet ? '' : ' ✗') : ' ·';
      const mod = r.vsModulo === 'better' ? '' : r.vsModulo === 'tie' ? ' =' : ' ✗mod';
      return `${fmtX(r.oursOverBound)}${mark} / ${fmtX(r.oursOverModulo)}${mod}`;
    });
    lines.push(`| ${files.toLocaleString('en-US')} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

function suitesTable(distributions) {
  const lines = [
    '| suite | repo @ commit | Jest | command | files | sum of files (s) | median (ms) | p90 (ms) | max (ms) | max share | run wall, warm cache (s) | run wall, cold cache (s) |',
    '|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const d of distributions) {
    const s = d.stats;
    const cold = d.runs.cold;
    lines.push(
      `| ${d.name} | ${d.repo} @ ${d.commit.slice(0, 7)} | ${d.jestVersion} | \`${d.env ? `${d.env} ` : ''}${d.command}\` | ${s.files} | ${(s.totalMs / 1000).toFixed(1)} | ${s.medianMs} | ${s.p90Ms} | ${s.maxMs} | ${(100 * s.maxShareOfTotal).toFixed(1)} % | ` +
        `${(d.runs[d.sampledRun].wallMs / 1000).toFixed(1)} | ${cold ? (cold.wallMs / 1000).toFixed(1) : '–'} |`,
    );
  }
  return lines.join('\n');
}

function paramsTable(params) {
  const lines = ['| parameter | value | kind | source / note |', '|---|---|---|---|'];
  for (const [key, value] of Object.entries(params)) {
    if (key === 'concurrency') continue;
    const [kind, note] = SOURCES[key] || ['', ''];
    const changed = DEFAULTS[key] !== value ? ' (changed by flag)' : '';
    lines.push(`| \`${key}\` | ${value}${changed} | ${kind} | ${note} |`);
  }
  return lines.join('\n');
}

/** Rows = variants, columns = suites; a cell is "met/applies · better/tie/worse". */
function sensitivityTable(sensitivity) {
  const suites = Object.keys(sensitivity[0].bySuite);
  const lines = [`| variant | ${suites.join(' | ')} |`, `|---|${suites.map(() => '---').join('|')}|`];
  for (const v of sensitivity) {
    const cells = suites.map((name) => {
      const t = v.bySuite[name].summary;
      const worst = t.worstOursOverBoundWhereApplies === null ? '' : ` (≤ ${fmtX(t.worstOursOverBoundWhereApplies)})`;
      return `${t.boundTargetMet}/${t.boundAbove30}${worst} · ${t.better}/${t.tie}/${t.worse}`;
    });
    lines.push(`| ${v.label} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

function consoleTable(rows) {
  const header = ['N', 'C', 'ours s', 'modulo s', 'static s', 'bound s', 'floor s', 'o/bound', 'o/floor', 'o/modulo', 'target', 'vs modulo'];
  const body = rows.map((r) => [
    r.files,
    r.concurrency,
    fmtS(r.oursS),
    fmtS(r.moduloS),
    fmtS(r.staticS),
    fmtS(r.boundS),
    fmtS(r.floorS),
    fmtX(r.oursOverBound),
    fmtX(r.oursOverFloor),
    fmtX(r.oursOverModulo),
    r.boundTargetApplies ? (r.boundTargetMet ? 'met' : 'MISSED') : '-',
    r.vsModulo,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => String(b[i]).length)));
  return [header, ...body].map((cols) => cols.map((c, i) => String(c).padStart(widths[i])).join('  ')).join('\n');
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

module.exports = { fullTable, summaryTable, compactTable, suitesTable, paramsTable, consoleTable, sensitivityTable, targetSummary, fmtS, fmtX, coldStartMs, clientStartMs, TARGET_BOUND_ABOVE_MS, TARGET_RATIO };
