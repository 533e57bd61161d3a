/**
 * Debian's headless Chromium through playwright-core (which never downloads a browser here), with
 * the flags a machine without network needs (no background connections, no updates, no sync).
 */
const fs = require('node:fs');
const { chromium } = require('playwright-core');

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The browser; fails with the fix when Chromium is not installed. */
async function launchChromium() {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`No Chromium at ${CHROMIUM}: apt-get install -y chromium (.ci/run does), or set CHROMIUM_PATH.`);
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
}

module.exports = { launchChromium };
