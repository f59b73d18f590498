// UI, issue 13 ("one cache for every window", "manual offline across restarts"): real VS Code
// (code-server) in Chromium on a dav: folder.
//   1. "Go Offline" by hand holds across a reload (the server is up all along: the status bar says
//      Offline, by hand — not unreachable) until "Go Online".
//   2. A second window on the same share: its status bar says it waits for / runs without the cache that
//      the first window has open, while the first window's says nothing of the kind; the first window is
//      closed, and the second switches to the cache by itself — and it is the first window's cache: with
//      the server stopped, a file only the first window read opens in the second.
// Screenshots: artifacts/ui-windows-*.png
import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { artifacts, openAndCompare, openWorkbench, reloadWindow, runCommand, showExplorer, statusItem, waitForStatus, waitForWorkbench, closeAllEditors, type Workbench } from './workbench';

suite('ui: one cache for every window; offline by hand across a reload', function () {
  this.timeout(10 * 60_000);
  let wb: Workbench | undefined;
  let second: Page | undefined;

  suiteSetup(async function () {
    this.timeout(30 * 60_000); // a first run installs the runtime
    wb = await openWorkbench('ui-windows');
  });

  suiteTeardown(async () => {
    await second?.close().catch(() => undefined);
    await wb?.close();
  });

  teardown(async function () {
    if (this.currentTest?.state === 'failed' && wb) {
      await wb.shot('FAILED').catch(() => undefined);
      await second?.screenshot({ path: join(artifacts, 'ui-windows-FAILED-second.png') }).catch(() => undefined);
    }
  });

  test('"Go Offline" by hand holds across a reload, with the server up, until "Go Online"', async () => {
    const { page, shot } = wb!;
    await waitForStatus(page, /WebDAV/);
    await runCommand(page, 'WebDAV: Go Offline');
    assert.equal(await waitForStatus(page, /Offline/), 'WebDAV: Offline', 'offline by hand');
    await shot('1-offline-by-hand');
    await reloadWindow(page);
    // (the old window's extension host may hold the cache a moment longer: the new one waits for it)
    assert.equal(await waitForStatus(page, /^WebDAV: Offline$/, 90_000), 'WebDAV: Offline', 'still offline by hand after the reload — not "unreachable": the server is up');
    assert.match((await statusItem(page).getAttribute('aria-label')) ?? '', /offline \(by hand\)/);
    await shot('2-still-offline-after-reload');
    await runCommand(page, 'WebDAV: Go Online');
    assert.equal(await waitForStatus(page, /^WebDAV$/), 'WebDAV', 'online again');
  });

  test('a second window waits for the cache the first has open, says so, and switches to it when the first is closed', async () => {
    const { page, share, shot, browser, cs } = wb!;
    const disk = (...p: string[]) => join(share.root, ...p);
    await showExplorer(page);
    await openAndCompare(page, 'notes.md', disk('notes.md')); // cached by the first window
    await closeAllEditors(page);

    second = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await second.goto(cs.url, { timeout: 60_000 });
    await waitForWorkbench(second);
    const waiting = await waitForStatus(second, /Without cache|Waiting for the cache/);
    assert.match(waiting, /WebDAV: (Without cache \(open in another window\)|Waiting for the cache)/);
    await waitForStatus(second, /Without cache \(open in another window\)/);
    const tooltip = (await statusItem(second).getAttribute('aria-label')) ?? '';
    assert.match(tooltip, /running without the cache, which another window \(process \d+\) has open/);
    assert.match(tooltip, /switches to the cache by itself as soon as that window is closed/);
    await second.screenshot({ path: join(artifacts, 'ui-windows-3-second-window-without-cache.png') });
    assert.equal(await waitForStatus(page, /WebDAV/), 'WebDAV', 'the first window has the cache and says nothing of the kind');
    await shot('4-first-window-has-the-cache');

    // the first window is closed: its extension host ends (code-server gives a closed tab 10 s to come back)
    await page.close();
    assert.equal(await waitForStatus(second, /^WebDAV$/, 120_000), 'WebDAV', 'the second window uses the cache now');
    await second.screenshot({ path: join(artifacts, 'ui-windows-5-second-window-switched.png') });

    // …the first window's cache: with the server gone, what the first window read opens here
    await share.stopServer();
    await openAndCompare(second, 'notes.md', disk('notes.md'));
    await waitForStatus(second, /Offline \(unreachable\)/);
    await second.screenshot({ path: join(artifacts, 'ui-windows-6-second-window-reads-the-cache-offline.png') });
    await share.startServer();
  });
});
