/**
 * The timeline as a page a person opens and reads (no network, no script, no build step): one row
 * per lane, each file a bar coloured by its result, the environment's setup (fetch, materialize)
 * and faults in their own colours, the longest files labelled, the lane that ended the run
 * outlined (the critical path: the run waited for it last), and the totals.
 */
import path from 'node:path';
import type { FileSpan, Lane, TimelineTotals, TraceEvent } from './timeline';

const WIDTH = 1100;
const ROW = 18;
const LABEL = 260;
const COLOURS: Record<string, string> = {
  passed: '#4caf50',
  failed: '#e53935',
  error: '#8e24aa',
  skipped: '#bdbdbd',
  setup: '#ffb74d',
  fault: '#b71c1c',
  prepare: '#64b5f6',
  mapping: '#546e7a',
};

export function timelineHtml(built: { events: TraceEvent[]; lanes: Lane[]; files: FileSpan[]; totals: TimelineTotals }): string {
  const { events, lanes, files, totals } = built;
  const endUs = Math.max(1, totals.wallMs * 1000, ...events.map((e) => e.ts + (e.dur ?? 0)));
  const x = (us: number) => LABEL + (us / endUs) * (WIDTH - LABEL - 10);
  const row = new Map(lanes.map((l, i) => [l.tid, i]));
  const y = (tid: number) => 30 + (row.get(tid) ?? 0) * ROW;
  const height = 30 + lanes.length * ROW + 30;
  // the lane whose last event ends last: the run waited for it
  const lastEnd = new Map<number, number>();
  for (const e of events) if (e.ph === 'X') lastEnd.set(e.tid, Math.max(lastEnd.get(e.tid) ?? 0, e.ts + (e.dur ?? 0)));
  const critical = [...lastEnd].filter(([tid]) => tid !== lanes.find((l) => l.kind === 'runner')?.tid).sort((a, b) => b[1] - a[1])[0]?.[0];
  const longest = new Set(
    [...files]
      .sort((a, b) => b.endMs - b.startMs - (a.endMs - a.startMs))
      .slice(0, 10)
      .map((f) => f.testPath),
  );

  const flaky = events.filter((e) => e.cat === 'file' && e.args?.flaky).map((e) => e.name);
  const parts: string[] = [];
  for (const lane of lanes) {
    const yy = y(lane.tid);
    parts.push(`<text x="4" y="${yy + 13}" class="lane">${esc(clip(lane.name, 40))}</text>`);
    if (lane.tid === critical) parts.push(`<rect x="${LABEL - 2}" y="${yy - 1}" width="${WIDTH - LABEL - 6}" height="${ROW}" class="critical"/>`);
  }
  // Labels go on top of every bar (drawn last), with a white outline, so they read on any colour.
  const labels: string[] = [];
  const setupEnd = new Map<number, Array<[number, number]>>();
  for (const e of events) {
    if (e.ph === 'X' && e.cat === 'setup-phase') setupEnd.set(e.tid, [...(setupEnd.get(e.tid) ?? []), [e.ts, e.ts + (e.dur ?? 0)]]);
  }
  for (const e of events) {
    if (e.ph !== 'X') continue;
    const colour =
      e.cat === 'file' || e.cat === 'attempt'
        ? COLOURS[String(e.args?.status)]
        : e.cat === 'setup-phase'
          ? COLOURS.setup
          : e.cat === 'setup' || e.cat === 'fault' || e.cat === 'prepare' || e.cat === 'mapping'
            ? COLOURS[e.cat]
            : undefined;
    if (!colour) continue;
    const w = Math.max(1, x(e.ts + (e.dur ?? 0)) - x(e.ts));
    const inset = e.cat === 'file' || e.cat === 'attempt' || e.cat === 'prepare' ? 2 : 6;
    const title = `${e.name} — ${((e.dur ?? 0) / 1000).toFixed(0)} ms${e.args?.status ? ` (${String(e.args.status)})` : ''}${e.args?.cold ? ', cold' : ''}${e.args?.flaky ? ', flaky' : ''}`;
    parts.push(
      `<rect x="${x(e.ts).toFixed(1)}" y="${y(e.tid) + inset}" width="${w.toFixed(1)}" height="${ROW - 2 * inset}" fill="${colour}"${e.cat === 'file' || e.cat === 'attempt' ? ` class="${e.cat}${e.args?.flaky ? ' flaky' : ''}"` : ''}><title>${esc(title)}</title></rect>`,
    );
    if (e.cat === 'file' && longest.has(String(e.args?.testPath))) {
      const end = e.ts + (e.dur ?? 0);
      const afterSetup = Math.max(e.ts, ...(setupEnd.get(e.tid) ?? []).filter(([s, t]) => s >= e.ts && t <= end).map(([, t]) => t));
      const name = path.basename(e.name);
      // (after the file's setup if the name fits there, else from the file's start, over its setup)
      const from = x(end) - x(afterSetup) >= name.length * 6 + 6 ? afterSetup : e.ts;
      const room = x(end) - x(from);
      if (room > 30)
        labels.push(`<text x="${(x(from) + 3).toFixed(1)}" y="${y(e.tid) + 13}" class="file">${esc(clip(name, Math.floor((room - 6) / 6)))}</text>`);
    }
  }
  parts.push(...labels);
  const ticks: string[] = [];
  const step = niceStep(endUs / 1000 / 8);
  for (let ms = 0; ms * 1000 <= endUs; ms += step) {
    ticks.push(
      `<line x1="${x(ms * 1000)}" y1="24" x2="${x(ms * 1000)}" y2="${height - 24}" class="tick"/><text x="${x(ms * 1000) + 2}" y="20" class="tick">${(ms / 1000).toFixed(step < 1000 ? 1 : 0)} s</text>`,
    );
  }
  const legend = Object.entries({
    passed: 'file passed',
    failed: 'file failed',
    error: 'file could not run',
    setup: 'environment setup / blobs',
    fault: 'fault (no answer)',
    prepare: 'hashing and shipping',
    mapping: 'result mapping',
  })
    .map(([k, label]) => `<span><i style="background:${COLOURS[k]}"></i>${label}</span>`)
    .join('');
  const rows: Array<[string, string]> = [
    ['Wall time', `${(totals.wallMs / 1000).toFixed(1)} s`],
    ['Hashing and shipping', `${(totals.prepareMs / 1000).toFixed(1)} s`],
    ['Files', `${totals.files} (${totals.failedFiles} failed or could not run, ${totals.localFiles} on this machine)`],
    ['Environments', `${totals.environments} (${totals.coldEnvironments} cold)`],
    ['Requests', `${totals.requests} (${totals.faults} faults, ${totals.retriedFiles} files sent more than once)`],
    ...(flaky.length > 0
      ? ([['Flaky files', flaky.map((f) => `${esc(f)} (failed, ran again, passed; outlined in orange)`).join('<br>')]] as Array<[string, string]>)
      : []),
    ['Longest files', totals.longest.map((f) => `${esc(f.testPath)} ${(f.ms / 1000).toFixed(1)} s`).join('<br>')],
    ['Critical path', critical !== undefined ? `${esc(lanes.find((l) => l.tid === critical)!.name)} ended last (outlined)` : ''],
  ];
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>jest-runner-remote-lambda timeline</title>
<style>
body{font:13px system-ui,sans-serif;margin:16px;color:#222}
table{border-collapse:collapse;margin:8px 0}td{padding:2px 10px 2px 0;vertical-align:top}
.legend span{margin-right:14px;white-space:nowrap}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px}
svg text.lane{font-size:11px;fill:#333}svg text.file{font-size:11px;fill:#111;stroke:#fff;stroke-width:3px;stroke-linejoin:round;paint-order:stroke;pointer-events:none}
svg text.tick{font-size:10px;fill:#777}svg line.tick{stroke:#eee}
svg rect.file,svg rect.attempt{stroke:#fff;stroke-width:1}svg rect.flaky{stroke:#ff6f00;stroke-width:2}svg rect.critical{fill:none;stroke:#000;stroke-width:1.5;stroke-dasharray:4 2}
</style></head><body>
<h1>Test run timeline</h1>
<table>${rows.map(([k, v]) => `<tr><td><b>${k}</b></td><td>${v}</td></tr>`).join('')}</table>
<div class="legend">${legend}</div>
<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}">${ticks.join('')}${parts.join('')}</svg>
<p>The same run as a trace: open the .json beside this page in https://ui.perfetto.dev or chrome://tracing.</p>
</body></html>
`;
}

function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

function clip(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, Math.max(1, n - 1))}…`;
}

function niceStep(ms: number): number {
  for (const step of [100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 30_000, 60_000, 120_000, 300_000, 600_000]) if (step >= ms) return step;
  return 1_200_000;
}
