#!/usr/bin/env node
/**
 * A PNG of a timeline's HTML picture, as headless Chromium (Debian's /usr/bin/chromium, through
 * playwright-core: no browser download) renders it: for the README's docs/timeline.png.
 *
 *   node scripts/timeline-screenshot.js <timeline.html> <out.png>
 */
const path = require('node:path');
const { launchChromium } = require('../test/support/chromium');

async function main() {
  const [html, png] = process.argv.slice(2);
  if (!html || !png) throw new Error('usage: node scripts/timeline-screenshot.js <timeline.html> <out.png>');
  const browser = await launchChromium();

  try {
    const page = await browser.newPage({ viewport: { width: 1140, height: 400 }, deviceScaleFactor: 1 });
    await page.goto(`file://${path.resolve(html)}`);
    await page.screenshot({ path: png, fullPage: true });
  } finally {
    await browser.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
