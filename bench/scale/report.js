'use strict';
// Text outputs: the console table and bench/results/scale.md.
const { DEFAULTS, SOURCES, coldStartMs, clientStartMs } = require('./params');
const { TARGET_BOUND_ABOVE_MS, TARGET_RATIO } = require('./grid');

const fmtS = (s) => (s === null || s === undefined ? '–' : s >= 100 ? s.toFixed(0) : s >= 10 ? s.toFixed(1) : s.toFixed(2));
const fmtX = (x) => `${x.toFixed(2)}×`;

/** The target fields of one strategy in a row: 'ours' (batched, the runner's default) or 'unbatched'. */
function view(row, which = 'ours') {
  if (which === 'unbatched') {
    const u = row.unbatched;
    return {
      applies: u.boundTargetApplies,
      met: u.boundTargetMet,
      overBound: u.overBound,
      worstOverBound: u.worstOverBound,
      vsModulo: u.vsModulo,
      overModulo: u.overModulo,
      worstOverModulo: u.worstOverModulo,
    };
  }
  return {
    applies: row.boundTargetApplies,
    met: row.boundTargetMet,
    overBound: row.oursOverBound,
    worstOverBound: row.worstOursOverBound,
    vsModulo: row.vsModulo,
    overModulo: row.oursOverModulo,
    worstOverModulo: row.worstOursOverModulo,
  };
}

function targetCell(row, which) {
  const v = view(row, which);
  if (!v.applies) return '–';
  return v.met ? 'met' : `**missed** (worst ${fmtX(v.worstOverBound)})`;
}

function moduloCell(row, which) {
  const v = view(row, which);
  if (v.vsModulo === 'better') return 'better';
  if (v.vsModulo === 'tie') return 'tie';
  return `**worse** (worst ${fmtX(v.worstOverModulo)})`;
}

/** The full table for one suite, as markdown. */
function fullTable(rows) {
  const lines = [
    '| N | C | ours (s) | ours, 1 file/inv. (s) | modulo (s) | modulo, batched (s) | static LPT (s) | bound (s) | floor (s) | ours: invocations / N | ours / bound | ours / floor | ours / modulo | ours / 1 file/inv. | client busy | queue in file order (s) | bound > 30 s ⇒ ≤ 1.1× bound: ours; 1 file/inv. | vs modulo: ours; 1 file/inv. |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.files.toLocaleString('en-US')} | ${r.concurrency} | ${fmtS(r.oursS)} | ${fmtS(r.oursUnbatchedS)} | ${fmtS(r.moduloS)} | ${fmtS(r.moduloBatchedS)} | ${fmtS(r.staticS)} | ${fmtS(r.boundS)} | ${fmtS(r.floorS)} | ` +
        `${(r.invocations / r.files).toFixed(2)} | ${fmtX(r.oursOverBound)} | ${fmtX(r.oursOverFloor)} | ${fmtX(r.oursOverModulo)} | ${fmtX(r.oursOverUnbatched)} | ${(100 * r.clientBusyShare).toFixed(0)} % | ${fmtS(r.queueFileOrderS)} | ` +
        `${targetCell(r)}; ${targetCell(r, 'unbatched')} | ${moduloCell(r)}; ${moduloCell(r, 'unbatched')} |`,
    );
  }
  return lines.join('\n');
}

/** How the targets fare over a suite's grid, for ours ('ours') or ours with one file per invocation ('unbatched'). */
function targetSummary(rows, which = 'ours') {
  const views = rows.map((r) => view(r, which));
  const applies = views.filter((v) => v.applies);
  const met = applies.filter((v) => v.met);
  const worst = applies.length ? Math.max(...applies.map((v) => v.worstOverBound)) : null;
  const count = (x) => views.filter((v) => v.vsModulo === x).length;
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

/** Per suite: ours (batched) next to ours with one file per invocation. */
function summaryTable(bySuite) {
  const lines = [
    '| suite | grid points | bound > 30 s | ours ≤ 1.1× bound there: batched / 1 file per inv. | worst ours / bound there: batched / 1 file per inv. | ours vs modulo, better / tie / worse: batched / 1 file per inv. | ours (batched) / floor: median, worst |',
    '|---|---:|---:|---|---|---|---|',
  ];
  for (const [suite, rows] of Object.entries(bySuite)) {
    const s = targetSummary(rows);
    const u = targetSummary(rows, 'unbatched');
    const worst = (x) => (x.worstOursOverBoundWhereApplies === null ? '–' : fmtX(x.worstOursOverBoundWhereApplies));
    lines.push(
      `| ${suite} | ${s.points} | ${s.boundAbove30} | **${s.boundTargetMet}** / ${u.boundTargetMet} | ${worst(s)} / ${worst(u)} | ` +
        `**${s.better} / ${s.tie} / ${s.worse}** vs ${u.better} / ${u.tie} / ${u.worse} | ${fmtX(s.medianOursOverFloor)}, ${fmtX(s.worstOursOverFloor)} |`,
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

/** Rows = variants, columns = suites; a cell is "met/applies (worst) · better/tie/worse" for
 * ours ('ours') or ours with one file per invocation ('unbatched'). */
function sensitivityTable(sensitivity, which = 'ours') {
  const suites = Object.keys(sensitivity[0].bySuite);
  const lines = [`| variant | ${suites.join(' | ')} |`, `|---|${suites.map(() => '---').join('|')}|`];
  for (const v of sensitivity) {
    const cells = suites.map((name) => {
      const t = which === 'unbatched' ? v.bySuite[name].unbatchedSummary : v.bySuite[name].summary;
      const worst = t.worstOursOverBoundWhereApplies === null ? '' : ` (≤ ${fmtX(t.worstOursOverBoundWhereApplies)})`;
      return `${t.boundTargetMet}/${t.boundAbove30}${worst} · ${t.better}/${t.tie}/${t.worse}`;
    });
    lines.push(`| ${v.label} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

function consoleTable(rows) {
  const header = ['N', 'C', 'ours s', '1/inv s', 'modulo s', 'static s', 'bound s', 'floor s', 'o/bound', 'o/floor', 'o/modulo', 'target', 'vs modulo'];
  const body = rows.map((r) => [
    r.files,
    r.concurrency,
    fmtS(r.oursS),
    fmtS(r.oursUnbatchedS),
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

module.exports = {
  view,
  fullTable,
  summaryTable,
  compactTable,
  suitesTable,
  paramsTable,
  consoleTable,
  sensitivityTable,
  targetSummary,
  fmtS,
  fmtX,
  coldStartMs,
  clientStartMs,
  TARGET_BOUND_ABOVE_MS,
  TARGET_RATIO,
};
