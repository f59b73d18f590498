// UI, issue "a home for shares": real VS Code (code-server) in Chromium, starting from an EMPTY window,
// against nephele. Asserted on the server's disk, the user's settings.json and the cache folder:
//  1 no dav folder: the Explorer's welcome offers "Open WebDAV Folder…"; the palette offers Open Folder…
//    and hides what needs an open share (Go Offline, Keep Available Offline, Show Conflicts, …)
//  2 "WebDAV: Open Folder…" connects and opens the folder in this window; "Save Share" (one click) puts
//    it into settings.json and the WebDAV view; now the palette shows the share commands
//  3 from the view: Go Offline / Go Online (status bar and the row follow)
//  4 a folder kept available offline is listed under the share, and unpinned from there
//  5 the share's own .vscode/settings.json (read: its files.exclude applies) sets the mass-delete guard
//    to 0, which is ignored: the user's guard of 1 lets one offline delete through without asking, and
//    asks before two
//  6 close the folder, reload: the view lists the saved share (closed, with its cache) and opens it
//  7 closed again: "Remove…" with "Remove and Delete Cache" deletes the cache folder and the entry
// Screenshots: artifacts/ui-home-*.png (ui-home-4-view.png is the README's picture of the view).
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { repoRoot } from '../../scripts/lib/repoRoot';
import { ensureRuntime, startCodeServer, workbenchUrl, type CodeServer } from '../../scripts/lib/runtime';
import { startShare, type ShareFixture } from '../support/shareFixture';
import {
  artifacts,
  assertEventually,
  closeAllEditors,
  dismissDialog,
  expandFolder,
  explorerContextMenu,
  explorerRow,
  hideNotifications,
  openBrowserOn,
  openFromExplorer,
  paletteLabels,
  runCommand,
  showExplorer,
  showWebdavView,
  UI_SETTINGS,
  waitForNotification,
  waitForStatus,
  webdavViewAction,
  webdavViewRow,
  webdavViewRows,
} from './workbench';

const PREFIX = 'ui-home';
/** Commands that need an open share: hidden from the palette without one. */
const NEED_A_SHARE = ['WebDAV: Go Offline', 'WebDAV: Keep Available Offline', 'WebDAV: Show Conflicts', 'WebDAV: Free Up Space', 'WebDAV: Sign In', 'WebDAV: Show Cache Usage', 'WebDAV: Preview Reconnect (dry run)'];

suite('ui: the WebDAV view and saved shares (from an empty window)', function () {
  this.timeout(10 * 60_000);
  let share: ShareFixture;
  let userDataDir: string;
  let cs: CodeServer | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let key: string;
  /** The share's label in the view: its address without the scheme. */
  let label: string;
  const shot = (name: string) => page.screenshot({ path: join(artifacts, `${PREFIX}-${name}.png`) });
  const settingsFile = () => join(userDataDir, 'User', 'settings.json');
  const userSettings = () => JSON.parse(readFileSync(settingsFile(), 'utf8')) as Record<string, unknown>;
  const cacheDir = () => join(userDataDir, 'User', 'globalStorage', 'webdav-offline.webdav-offline', 'cache', createHash('sha256').update(key).digest('hex').slice(0, 32));

  suiteSetup(async function () {
    this.timeout(30 * 60_000);
    mkdirSync(artifacts, { recursive: true });
    for (const f of readdirSync(artifacts)) if (f.startsWith(`${PREFIX}-`)) rmSync(join(artifacts, f));
    await ensureRuntime();
    share = await startShare();
    key = `dav://127.0.0.1:${share.port}/share/`;
    label = `127.0.0.1:${share.port}/share`;
    // the share's own workspace settings: a guard of 0 (must be ignored) and an exclude (must apply)
    mkdirSync(join(share.root, '.vscode'));
    writeFileSync(join(share.root, '.vscode', 'settings.json'), JSON.stringify({ 'webdavOffline.sync.massDeleteThreshold': 0, 'files.exclude': { '**/hidden-by-workspace.txt': true } }));
    writeFileSync(join(share.root, 'hidden-by-workspace.txt'), 'the workspace settings hide this file\n');
    for (const [folder, files] of [['guard1', ['one.txt']], ['guard2', ['two.txt', 'three.txt']]] as const) {
      mkdirSync(join(share.root, folder));
      for (const [i, f] of files.entries()) writeFileSync(join(share.root, folder, f), `${f}\n`.repeat(i + 1));
    }
    userDataDir = mkdtempSync(join(tmpdir(), 'webdav-ui-home-'));
    // the user's own mass-delete guard: 1 (the share's workspace settings say 0, which must not count)
    cs = await startCodeServer({ extensionDevelopmentPath: repoRoot(), userDataDir, settings: { ...UI_SETTINGS, 'webdavOffline.sync.massDeleteThreshold': 1 } });
    ({ browser, page } = await openBrowserOn(cs.url));
  });

  suiteTeardown(async () => {
    await browser?.close().catch(() => undefined);
    await cs?.stop();
    await share?.close();
    if (userDataDir && !process.env.WEBDAV_KEEP_UI_DATA) rmSync(userDataDir, { recursive: true, force: true });
  });

  teardown(async function () {
    if (this.currentTest?.state === 'failed' && page) await shot(`FAILED-${this.currentTest.title.split(' ')[0]}`).catch(() => undefined);
  });

  /** Whether the palette lists the command `label` (exactly). */
  const inPalette = async (label: string) => (await paletteLabels(page, label)).includes(label);

  test('1 without a dav folder: the welcome offers Open WebDAV Folder…, the palette hides what needs a share', async () => {
    await showExplorer(page).catch(() => undefined);
    const welcome = page.locator('.welcome-view-content').filter({ hasText: 'Open WebDAV Folder…' }).first();
    await welcome.waitFor({ timeout: 30_000 });
    assert.match(await welcome.innerText(), /Connect to Nextcloud…/);
    await shot('1-welcome');
    // the view activates the extension: its context keys are set (false), not merely unset
    await openWebdav(page);
    await page.locator('.welcome-view-content').filter({ hasText: 'No WebDAV shares yet' }).first().waitFor({ timeout: 30_000 });
    assert.equal(await inPalette('WebDAV: Open Folder…'), true, 'Open Folder… is offered');
    assert.equal(await inPalette('WebDAV: Connect to Nextcloud…'), true, 'Connect to Nextcloud… is offered');
    for (const label of NEED_A_SHARE) assert.equal(await inPalette(label), false, `${label} is hidden without a share`);
  });

  test('2 Open Folder… connects and opens the folder; Save Share puts it into settings.json and the view', async () => {
    await runCommand(page, 'WebDAV: Open Folder…');
    const input = page.locator('.quick-input-widget .quick-input-box input');
    await assertEventually(async () => assert.match(await page.locator('.quick-input-widget').innerText(), /Open WebDAV Folder/), 15_000);
    await input.fill(share.httpUrl);
    const navigated = page.waitForEvent('framenavigated', { timeout: 60_000 });
    await input.press('Enter');
    await navigated;
    await page.waitForLoadState('domcontentloaded');
    await page.locator('.monaco-workbench .activitybar .action-item').first().waitFor({ timeout: 90_000 });
    await showExplorer(page);
    await explorerRow(page, 'notes.md').waitFor({ timeout: 90_000 });
    const offer = await waitForNotification(page, /Save it, to open it again with one click/);
    assert.ok(offer.includes(key), `the offer names the share: ${offer}`);
    await shot('2-save-offer');
    await page.locator('.notification-list-item').filter({ hasText: /Save it, to open/ }).locator('.monaco-button').filter({ hasText: 'Save Share' }).first().click();
    await assertEventually(() => {
      const shares = userSettings()['webdavOffline.shares'] as { address: string }[] | undefined;
      assert.deepEqual(shares, [{ address: share.httpUrl }], 'saved in the user settings, with no secret');
    }, 15_000);
    await openWebdav(page);
    await widenSideBar(page);
    const row = webdavViewRow(page, label);
    await row.waitFor({ timeout: 15_000 });
    assert.match((await row.innerText()).replace(/\s+/g, ' '), /online/);
    // with a share open, the palette offers what needs one
    for (const label of ['WebDAV: Go Offline', 'WebDAV: Keep Available Offline', 'WebDAV: Show Cache Usage']) assert.equal(await inPalette(label), true, `${label} is offered now`);
    assert.equal(await inPalette('WebDAV: Go Online'), false, 'Go Online is not offered while online');
  });

  test('3 Go Offline and Go Online from the view', async () => {
    await openWebdav(page);
    const row = webdavViewRow(page, label);
    await webdavViewAction(page, row, 'Go Offline');
    await waitForStatus(page, /WebDAV: Offline/);
    await assertEventually(async () => assert.match((await row.innerText()).replace(/\s+/g, ' '), /offline \(by hand\)/), 15_000);
    await shot('3-offline');
    assert.equal(await inPalette('WebDAV: Go Online'), true, 'Go Online is offered while offline');
    await webdavViewAction(page, row, 'Go Online');
    await waitForStatus(page, /^\S* ?WebDAV$/);
    await assertEventually(async () => assert.match((await row.innerText()).replace(/\s+/g, ' '), /· online|online ·|^\S+ online/), 15_000);
  });

  test('4 a pinned folder is listed under the share and unpinned from there', async () => {
    await showExplorer(page);
    await explorerContextMenu(page, 'docs', 'Keep Available Offline');
    await waitForNotification(page, /docs is available offline/);
    await hideNotifications(page);
    await openWebdav(page);
    const pin = webdavViewRow(page, 'docs');
    await pin.waitFor({ timeout: 15_000 });
    const shareRow = webdavViewRow(page, label);
    assert.match((await shareRow.innerText()).replace(/\s+/g, ' '), /5 kept offline/, 'the share counts the files kept offline');
    await shot('4-view');
    // a click on a row the view re-renders at that moment (a background check, a count) reaches no command:
    // click Unpin again while docs is still listed (unpinning is idempotent), at most three times
    const unpinned = async () => {
      const rows = await webdavViewRows(page);
      assert.ok(!rows.some(r => /^docs\b/.test(r)), `docs is no longer listed: ${rows.join(' | ')}`);
      assert.ok(rows.some(r => /Nothing is kept available offline/.test(r)), rows.join(' | '));
    };
    for (let attempt = 1; ; attempt++) {
      await webdavViewAction(page, pin, 'Unpin');
      try {
        await assertEventually(unpinned, attempt < 3 ? 5000 : 15_000);
        break;
      } catch (err) {
        if (attempt >= 3 || (await pin.count()) === 0) throw err;
        console.log(`    [ui] Unpin clicked again (attempt ${attempt + 1}): ${(err as Error).message.split('\n')[0]}`);
      }
    }
  });

  test("5 the share's .vscode/settings.json cannot lower the mass-delete guard; the user's settings can", async () => {
    const disk = (...p: string[]) => join(share.root, ...p);
    await showExplorer(page);
    assert.equal(await explorerRow(page, 'hidden-by-workspace.txt').count(), 0, "the share's workspace settings are read (files.exclude applies)");
    // each delete in a folder of its own, every file read before (so offline deletes know its version)
    const deleteOffline = async (folder: string, names: string[]) => {
      await showExplorer(page);
      await explorerContextMenu(page, folder, 'Keep Available Offline');
      await waitForNotification(page, new RegExp(`${folder} is available offline`));
      await hideNotifications(page);
      await openWebdav(page);
      await webdavViewAction(page, webdavViewRow(page, label), 'Go Offline');
      await waitForStatus(page, /WebDAV: Offline/);
      await showExplorer(page);
      await expandFolder(page, folder);
      for (const [i, name] of names.entries()) {
        await explorerContextMenu(page, name, /^Delete( Permanently)?$/);
        await dismissDialog(page, /^(Delete|Delete Permanently)$/);
        // recorded in the journal (the Explorer's own list may lag behind: the status bar counts what is pending)
        await waitForStatus(page, new RegExp(`WebDAV: Offline · ${i + 1} pending`), 15_000);
        assert.ok(existsSync(disk(folder, name)), `${name} is still on the server while offline`);
      }
      await runCommand(page, 'WebDAV: Go Online');
    };
    const guard = () => page.locator('.monaco-dialog-box').filter({ hasText: /Reconnecting would delete/ });

    // the user's guard is 1, the share's own 0: one delete goes through without a question
    await deleteOffline('guard1', ['one.txt']);
    await assertEventually(() => assert.equal(existsSync(disk('guard1', 'one.txt')), false, 'replayed without asking: deleted on the server'), 30_000);
    assert.equal(await guard().count(), 0, 'no mass-delete question for 1 file');
    await waitForStatus(page, /^\S* ?WebDAV$/);

    // two deletes are more than the user's guard of 1: asked first
    await deleteOffline('guard2', ['two.txt', 'three.txt']);
    await guard().first().waitFor({ timeout: 30_000 });
    assert.match(await guard().first().innerText(), /Reconnecting would delete 2 files on the server/);
    await shot('5-guard-asks');
    assert.ok(existsSync(disk('guard2', 'two.txt')) && existsSync(disk('guard2', 'three.txt')), 'nothing deleted before the answer');
    await guard().locator('.monaco-button').filter({ hasText: 'Delete Them' }).first().click();
    await assertEventually(() => assert.equal(existsSync(disk('guard2', 'two.txt')) || existsSync(disk('guard2', 'three.txt')), false, 'deleted on the server after the answer'), 30_000);
    await waitForStatus(page, /^\S* ?WebDAV$/);
  });

  /**
   * Leaves the folder for an empty window with the extension under development (what "Close Folder"
   * does for an installed extension: VS Code drops the development payload for empty windows), and
   * waits until the closed window's extension host let go of the share's cache (it lingers for the
   * reconnection grace time).
   */
  async function closeFolder(): Promise<void> {
    await closeAllEditors(page);
    await page.goto(workbenchUrl(cs!.origin, { extensionDevelopmentPath: repoRoot() }), { timeout: 60_000 });
    await page.locator('.monaco-workbench .activitybar .action-item').first().waitFor({ timeout: 90_000 });
    await assertEventually(() => assert.equal(existsSync(join(cacheDir(), 'lock')), false, 'the closed window released the cache'), 60_000);
  }

  test('6 closed and reloaded, the view lists the saved share with its cache, and opens it', async () => {
    await closeFolder();
    await reloadEmpty(page);
    await openWebdav(page);
    const row = webdavViewRow(page, label);
    await row.waitFor({ timeout: 30_000 });
    await assertEventually(async () => assert.match((await row.innerText()).replace(/\s+/g, ' '), /saved · cache \d/), 15_000);
    await shot('6-closed');
    const opened = page.waitForEvent('framenavigated', { timeout: 60_000 });
    await webdavViewAction(page, row, 'Open');
    await opened;
    await page.locator('.monaco-workbench .activitybar .action-item').first().waitFor({ timeout: 90_000 });
    // the reloaded window restores the WebDAV view a moment later: let it, then switch to the Explorer
    await openWebdav(page);
    await assertEventually(async () => {
      await showExplorer(page);
      await explorerRow(page, 'notes.md').waitFor({ timeout: 5000 });
    }, 60_000);
    await openFromExplorer(page, 'notes.md');
  });

  test("7 a closed share's cache is deleted with it (Remove… → Remove and Delete Cache)", async () => {
    assert.ok(existsSync(cacheDir()), `the share has a cache folder: ${cacheDir()}`);
    await closeFolder();
    await openWebdav(page);
    const row = webdavViewRow(page, label);
    await row.waitFor({ timeout: 30_000 });
    await row.click({ button: 'right' });
    const item = page.locator('.context-view .monaco-menu .action-item:not(.disabled) .action-label').filter({ hasText: /^Remove…$/ }).first();
    await item.waitFor({ timeout: 10_000 });
    await page.waitForTimeout(300);
    await item.click();
    const dialog = page.locator('.monaco-dialog-box').filter({ hasText: /Remove .* from the WebDAV view\?/ }).first();
    await dialog.waitFor({ timeout: 15_000 });
    assert.match(await dialog.innerText(), /Its cache on this computer takes/);
    await shot('7-remove');
    await dialog.locator('.monaco-button').filter({ hasText: 'Remove and Delete Cache' }).first().click();
    await assertEventually(() => assert.equal(existsSync(cacheDir()), false, 'the cache folder is gone'), 15_000);
    await assertEventually(() => assert.equal(userSettings()['webdavOffline.shares'], undefined, 'no longer saved'), 15_000);
    await page.locator('.welcome-view-content').filter({ hasText: 'No WebDAV shares yet' }).first().waitFor({ timeout: 15_000 });
  });
});

/**
 * Shows the WebDAV view. A reloaded window restores the view it showed last a moment after it loads; a
 * click on the icon of the container being restored would hide the side bar again, so wait for that
 * first, and click again if a click hid it.
 */
async function openWebdav(page: Page): Promise<void> {
  const view = page.locator('[id="workbench.view.extension.webdavOffline"]').first();
  if (await view.waitFor({ timeout: 3000 }).then(() => true, () => false)) return;
  await showWebdavView(page).catch(() => showWebdavView(page));
}

/** A wider side bar, so that the WebDAV view's descriptions show in the screenshots (kept across reloads). */
async function widenSideBar(page: Page): Promise<void> {
  const bar = await page.locator('.part.sidebar').first().boundingBox();
  if (!bar) return;
  const y = bar.y + bar.height / 2;
  await page.mouse.move(bar.x + bar.width + 1, y);
  await page.mouse.down();
  await page.mouse.move(bar.x + bar.width + 240, y, { steps: 8 });
  await page.mouse.up();
}

/** "Developer: Reload Window" in an empty window (no Explorer rows to wait for). */
async function reloadEmpty(page: Page): Promise<void> {
  const navigated = page.waitForEvent('framenavigated', { timeout: 60_000 });
  await runCommand(page, 'Developer: Reload Window');
  await navigated;
  await page.waitForLoadState('domcontentloaded');
  await page.locator('.monaco-workbench .activitybar .action-item').first().waitFor({ timeout: 90_000 });
}
