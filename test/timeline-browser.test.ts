/**
 * The timeline's HTML picture opened in a real headless browser (Chromium from Debian's packages,
 * driven by playwright-core, which never downloads a browser of its own): the lanes and the labels
 * of the longest files are rendered text with a box on the page, and a screenshot is kept in
 * test/output/timeline-browser/ for a person to look at.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { launchChromium } from './support/chromium';
import { REPO, runJest } from './support/run-jest';
import { writeApp } from './support/temp-app';
import { readTimeline } from './support/timeline-check';

const OUTPUT = path.join(REPO, 'test', 'output', 'timeline-browser');

let dir: string;
let browser: Browser;
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jrl-timeline-browser-'));
  const files: Record<string, string> = { 'test/fails.test.js': "test('fails', () => expect(1).toBe(2));\n" };
  for (let i = 1; i <= 6; i++) files[`test/slow-${i}.test.js`] = `test('waits ${i}', () => new Promise((r) => setTimeout(r, ${i * 200})));\n`;
  for (let i = 1; i <= 4; i++) files[`test/quick-${i}.test.js`] = `test('quick ${i}', () => expect(${i}).toBe(${i}));\n`;
  writeApp(dir, { name: 'timeline-browser-app', files });
  browser = await launchChromium();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('Chromium renders the picture of a real run: every lane named, the longest files labelled on their bars, the totals', async () => {
  const file = path.join(dir, 'out', 'timeline.json');
  const run = runJest(dir, { runner: 'remote-lambda', args: ['-w', '2'], env: { JEST_REMOTE_LAMBDA_TIMELINE: 'out/timeline.json' } });
  expect(run.json.numTotalTestSuites).toBe(11);
  const { files, laneNames } = readTimeline(file, run.json);

  const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
  // Self-contained: any request the page makes beyond its own file is a defect.
  const requests: string[] = [];
  page.on('request', (r) => void (r.url().startsWith('file:') || requests.push(r.url())));
  await page.goto(`file://${file.replace(/\.json$/, '.html')}`);
  fs.mkdirSync(OUTPUT, { recursive: true });
  await page.screenshot({ path: path.join(OUTPUT, 'timeline.png'), fullPage: true });
  expect(requests).toEqual([]);

  const visible = async (selector: string) =>
    page.$$eval(selector, (nodes) =>
      nodes.map((n) => {
        const box = n.getBoundingClientRect();
        return { text: n.textContent ?? '', width: box.width, height: box.height, x: box.x, y: box.y };
      }),
    );
  const svg = (await page.locator('svg').boundingBox())!;
  const inside = (b: { width: number; height: number; x: number; y: number }) =>
    b.width > 0 && b.height > 0 && b.x >= svg.x && b.x + b.width <= svg.x + svg.width + 1 && b.y >= svg.y && b.y + b.height <= svg.y + svg.height + 1;

  // every lane of the trace has its name drawn at the left, with a box inside the picture
  const lanes = await visible('svg text.lane');
  for (const name of laneNames.values()) {
    const drawn = lanes.find((l) => name.startsWith(l.text.replace(/…$/, '')));
    expect({ name, drawn: Boolean(drawn && inside(drawn)) }).toEqual({ name, drawn: true });
  }
  // the three longest files are labelled, on the lane their event is on
  const labels = await visible('svg text.file');
  const laneY = new Map(lanes.map((l) => [l.text, l.y]));
  for (const f of [...files].sort((a, b) => b.dur! - a.dur!).slice(0, 3)) {
    const label = labels.find((l) => path.basename(f.name).startsWith(l.text.replace(/…$/, '')) && l.text.length >= 6);
    expect({ file: f.name, labelled: Boolean(label && inside(label)) }).toEqual({ file: f.name, labelled: true });
    const lane = [...laneY].find(([text]) => laneNames.get(f.tid)!.startsWith(text.replace(/…$/, '')))!;
    expect(Math.abs(label!.y - lane[1])).toBeLessThan(4);
  }
  // and nothing is drawn over a label (an element later in the SVG whose box meets the label's)
  const covered = await page.$$eval('svg text.file', (texts) =>
    texts.flatMap((t) => {
      const a = t.getBoundingClientRect();
      const FOLLOWING = 4; // Node.DOCUMENT_POSITION_FOLLOWING
      return [...t.ownerDocument.querySelectorAll('svg rect[fill]')]
        .filter((r) => t.compareDocumentPosition(r) & FOLLOWING)
        .filter((r) => {
          const b = r.getBoundingClientRect();
          return b.left < a.right && a.left < b.right && b.top < a.bottom && a.top < b.bottom;
        })
        .map(() => t.textContent);
    }),
  );
  expect(covered).toEqual([]);
  // bars: one per file at least, each with a width
  const bars = await visible('svg rect[fill]');
  expect(bars.filter((b) => b.width > 0 && b.height > 0).length).toBeGreaterThanOrEqual(files.length);
  // the totals table
  const body = await page.locator('body').innerText();
  expect(body).toMatch(/Wall time\s+\d+\.\d s/);
  expect(body).toMatch(/Files\s+11 \(1 failed or could not run/);
  await page.close();
});
