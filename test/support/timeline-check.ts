/**
 * Reads a run's timeline (the `timeline` option's trace and its HTML picture) and checks what any
 * run's must hold against Jest's own --json of that run: one file event per test file, with its
 * path and result; lanes named; no two events of a lane overlapping; the picture beside it.
 */
import fs from 'node:fs';

export interface TraceEvent {
  name: string;
  cat: string;
  ph: string;
  ts: number;
  dur?: number;
  tid: number;
  args?: Record<string, unknown>;
}

export function readTimeline(file: string, json: { testResults: Array<{ name: string; status: string }> }) {
  const trace = JSON.parse(fs.readFileSync(file, 'utf8')) as { traceEvents: TraceEvent[]; otherData: { totals: Record<string, unknown> } };
  const events = trace.traceEvents;
  const files = events.filter((e) => e.ph === 'X' && e.cat === 'file');
  const laneNames = new Map(events.filter((e) => e.name === 'thread_name').map((e) => [e.tid, String(e.args!.name)]));
  // one file event per test file, with Jest's verdict
  expect(files.map((e) => e.args!.testPath).sort()).toEqual(json.testResults.map((r) => r.name).sort());
  for (const r of json.testResults) {
    const status = files.find((e) => e.args!.testPath === r.name)!.args!.status;
    expect({ file: r.name, status: status === 'error' ? 'failed' : status }).toEqual({ file: r.name, status: r.status });
  }
  // every lane named; on a lane, each file inside the request that carried it, and requests one after another
  for (const e of files) expect(laneNames.has(e.tid)).toBe(true);
  const byLane = new Map<number, TraceEvent[]>();
  for (const e of events.filter((x) => x.ph === 'X' && x.cat !== 'file' && x.tid !== 1 && ['request', 'setup', 'fault'].includes(x.cat))) {
    byLane.set(e.tid, [...(byLane.get(e.tid) ?? []), e]);
  }
  for (const lane of byLane.values()) {
    lane.sort((a, b) => a.ts - b.ts);
    for (let i = 1; i < lane.length; i++) expect(lane[i]!.ts).toBeGreaterThanOrEqual(lane[i - 1]!.ts + lane[i - 1]!.dur!);
  }
  for (const f of files) {
    const carrier = byLane.get(f.tid)?.find((r) => r.ts <= f.ts && f.ts + f.dur! <= r.ts + r.dur!);
    expect({ file: f.name, inRequest: Boolean(carrier) }).toEqual({ file: f.name, inRequest: true });
  }
  const html = fs.readFileSync(`${file.replace(/\.json$/, '')}.html`, 'utf8');
  expect(html).toContain('<svg');
  const longest = [...files].sort((a, b) => b.dur! - a.dur!)[0]!;
  expect(html).toContain(String(longest.name));
  return { events, files, laneNames, totals: trace.otherData.totals, html };
}
