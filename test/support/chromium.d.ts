/** Types of chromium.js (plain JavaScript so scripts can use it too). */
import type { Browser } from 'playwright-core';

export function launchChromium(): Promise<Browser>;
