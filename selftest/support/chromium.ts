/**
 * Debian's headless Chromium through playwright-core, for the self-tests that look at a report as
 * a reader does. The flags keep it off the network: without the background-networking ones it
 * tries Google's hosts at every start, which this machine's closed network refuses.
 */
import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** A headless browser; a missing Chromium is an error that names the install script. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: bash scripts/install-system-deps.sh installs it`);
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
