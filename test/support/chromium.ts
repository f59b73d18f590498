// Headless Debian Chromium through playwright-core (playwright cannot download browsers here).
import type { Browser } from 'playwright-core';
import { CHROMIUM_ARGS, chromiumPath } from '../../scripts/lib/runtimePaths';

export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: chromiumPath(), headless: true, args: CHROMIUM_ARGS, timeout: 60_000 });
}
