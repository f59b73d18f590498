// Helpers for the UI tests: real VS Code (code-server) in headless Chromium on a nephele share whose
// server can be stopped and started again (same port, same folder), opened directly or through a sign-in
// gateway (test/support/signInGateway.ts) whose mode the test switches. Screenshots go to artifacts/.
import * as assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { repoRoot } from '../../scripts/lib/repoRoot';
import { ensureRuntime, startCodeServer, type CodeServer } from '../../scripts/lib/runtime';
import { launchChromium } from '../support/chromium';
import { eventually } from '../support/eventually';
import { startShare, type ShareFixture } from '../support/shareFixture';
import { startNextcloudFront, type NextcloudFront } from '../support/nextcloudFront';
import { startSignInGateway, type SignInGateway } from '../support/signInGateway';

export const artifacts = join(repoRoot(), 'artifacts');

export interface Workbench {
  share: ShareFixture;
  /** The sign-in gateway the folder is opened through (with `{ gateway: true }`). */
  gateway?: SignInGateway;
  cs: CodeServer;
  browser: Browser;
  page: Page;
  /** artifacts/<prefix>-<name>.png */
  shot(name: string): Promise<void>;
  close(): Promise<void>;
}

/** Settings that keep the workbench predictable for a test: no auto save, no preview tabs, no git. */
export const UI_SETTINGS = {
  'files.autoSave': 'off',
  'workbench.startupEditor': 'none',
  'chat.disableAIFeatures': true,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'workbench.editor.enablePreview': false,
  'explorer.confirmDelete': false,
  'explorer.confirmDragAndDrop': false,
  'git.enabled': false,
  'workbench.tips.enabled': false,
  'editor.minimap.enabled': false,
  'window.dialogStyle': 'custom',
  'editor.acceptSuggestionOnEnter': 'off',
  'editor.quickSuggestions': { other: false, comments: false, strings: false },
  'editor.wordBasedSuggestions': 'off',
};

/**
 * Starts a share (with `prepare` run on its disk folder first), code-server with this repository as the
 * extension under development, Chromium, and opens the dav: folder — through a sign-in gateway in front
 * of the share with `{ gateway: true }` (in mode `pass` at first).
 */
export async function openWorkbench(
  prefix: string,
  prepare?: (diskRoot: string) => void,
  o: { gateway?: boolean; nextcloud?: (front: NextcloudFront) => void; settings?: Record<string, unknown> } = {},
): Promise<Workbench> {
  mkdirSync(artifacts, { recursive: true });
  for (const f of readdirSync(artifacts)) if (f.startsWith(`${prefix}-`)) rmSync(join(artifacts, f));
  await ensureRuntime();
  const share = await startShare();
  let gateway: SignInGateway | undefined;
  let front: NextcloudFront | undefined;
  let cs: CodeServer | undefined;
  let browser: Browser | undefined;
  try {
    prepare?.(share.root);
    gateway = o.gateway ? await startSignInGateway({ target: `http://127.0.0.1:${share.port}` }) : undefined;
    // a Nextcloud-shaped server over the same folder (its files folder opened, no sign-in)
    front = o.nextcloud ? await startNextcloudFront({ root: share.root, password: 'unused', signIn: false }) : undefined;
    if (front) o.nextcloud!(front);
    const folderUri = gateway ? `dav://127.0.0.1:${gateway.port}/share/` : front ? `dav://127.0.0.1:${front.port}${front.filesPath}/` : share.folderUri;
    cs = await startCodeServer({ extensionDevelopmentPath: repoRoot(), folderUri, settings: { ...UI_SETTINGS, ...o.settings } });
    browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(cs.url, { timeout: 60_000 });
    await waitForWorkbench(page);
    const b = browser;
    const c = cs;
    const g = gateway;
    const f = front;
    return {
      share,
      gateway,
      cs,
      browser,
      page,
      shot: name => page.screenshot({ path: join(artifacts, `${prefix}-${name}.png`) }).then(() => undefined),
      async close() {
        await b.close().catch(() => undefined);
        await c.stop();
        await g?.close();
        await f?.close();
        await share.close();
      },
    };
  } catch (err) {
    await browser?.close().catch(() => undefined);
    await cs?.stop();
    await gateway?.close();
    await front?.close();
    await share.close();
    throw err;
  }
}

/** Chromium on the workbench at `url`, once its Activity Bar is there (an empty window has no Explorer rows). */
export async function openBrowserOn(url: string): Promise<{ browser: Browser; page: Page }> {
  const browser = await launchChromium();
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.goto(url, { timeout: 60_000 });
  await page.locator('.monaco-workbench .activitybar .action-item').first().waitFor({ timeout: 90_000 });
  return { browser, page };
}

/** The labels the Command Palette lists for the filter `text` (a translated title comes with the English one). */
export async function paletteLabels(page: Page, text: string): Promise<string[]> {
  await page.keyboard.press('Escape');
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await input.waitFor({ timeout: 10_000 });
  await input.fill(`>${text}`);
  await page.waitForTimeout(400);
  const labels = await page.locator('.quick-input-widget .quick-input-list .monaco-list-row .label-name').allInnerTexts();
  await page.keyboard.press('Escape');
  return labels.map(l => l.replace(/\s+/g, ' ').trim());
}

export async function waitForWorkbench(page: Page): Promise<void> {
  await page.locator('.monaco-workbench .activitybar .action-item').first().waitFor({ timeout: 90_000 });
  await showExplorer(page); // a reload restores the view that was shown last
  await explorerRow(page, 'notes.md').waitFor({ timeout: 90_000 });
}

const exact = (name: string) => new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);

/** The Explorer row of `name` (as shown: the last segment). */
export function explorerRow(page: Page, name: string): Locator {
  return page.locator('.explorer-folders-view .monaco-list-row').filter({ hasText: exact(name) }).first();
}

/** Expands a folder row in the Explorer (if collapsed). */
export async function expandFolder(page: Page, name: string): Promise<void> {
  const row = explorerRow(page, name);
  await row.waitFor({ timeout: 30_000 });
  if ((await row.getAttribute('aria-expanded')) !== 'true') await row.click();
  await assertEventually(async () => assert.equal(await row.getAttribute('aria-expanded'), 'true', `${name} expanded`), 15_000);
}

/** Right-click on an Explorer row, then the context-menu item `label`. */
export async function explorerContextMenu(page: Page, name: string, label: string | RegExp): Promise<void> {
  await explorerRow(page, name).click({ button: 'right' });
  const item = page.locator('.context-view .monaco-menu .action-item:not(.disabled) .action-label').filter({ hasText: label }).first();
  await item.waitFor({ timeout: 10_000 });
  // a menu ignores a click that comes right after it opened (the right-click's own mouse-up): click
  // again until the menu closes
  await page.waitForTimeout(300);
  for (let attempt = 0; ; attempt++) {
    await item.click();
    const closed = await item.waitFor({ state: 'hidden', timeout: 1500 }).then(() => true, () => false);
    if (closed) return;
    if (attempt >= 3) throw new Error(`the context-menu item ${label} did not run (the menu stayed open)`);
  }
}

/** F1, the command's label, Enter. */
export async function runCommand(page: Page, label: string): Promise<void> {
  await page.keyboard.press('Escape');
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await input.waitFor({ timeout: 10_000 });
  await input.fill(`>${label}`);
  const row = page
    .locator('.quick-input-widget .quick-input-list .monaco-list-row')
    .filter({ has: page.locator('.label-name').filter({ hasText: exact(label) }) })
    .first();
  await row.waitFor({ timeout: 10_000 });
  await row.click();
}

/** "Developer: Reload Window", then waits for the workbench and the Explorer again. */
export async function reloadWindow(page: Page): Promise<void> {
  const navigated = page.waitForEvent('framenavigated', { timeout: 60_000 });
  await runCommand(page, 'Developer: Reload Window');
  await navigated;
  await page.waitForLoadState('domcontentloaded');
  await waitForWorkbench(page);
}

/** The WebDAV connection item in the status bar. */
export function statusItem(page: Page): Locator {
  return page.locator('.statusbar-item').filter({ hasText: /WebDAV/ }).first();
}

export async function waitForStatus(page: Page, re: RegExp, ms = 60_000): Promise<string> {
  let text = '';
  await assertEventually(async () => {
    text = (await statusItem(page).innerText().catch(() => '')).replace(/\s+/g, ' ').trim();
    assert.match(text, re, `status bar item "${text}"`);
  }, ms);
  return text;
}

/**
 * Waits for a notification whose text matches `re` (a toast or, since code-server headless may show
 * none, the notification center, opened when nothing shows up). Resolves with its text.
 */
export async function waitForNotification(page: Page, re: RegExp, ms = 60_000): Promise<string> {
  const deadline = Date.now() + ms;
  let openedCenter = 0;
  for (;;) {
    const items = page.locator('.notification-list-item').filter({ hasText: re });
    if (await items.count()) return (await items.first().innerText()).replace(/\s+/g, ' ').trim();
    if (Date.now() > deadline) throw new Error(`no notification matching ${re} within ${ms} ms`);
    if (Date.now() - openedCenter > 5_000) {
      const centerOpen = await page.locator('.notifications-center.visible').count();
      if (!centerOpen) {
        await runCommand(page, 'Notifications: Show Notifications').catch(() => undefined);
      }
      openedCenter = Date.now();
    }
    await page.waitForTimeout(300);
  }
}

export async function hideNotifications(page: Page): Promise<void> {
  if (await page.locator('.notifications-center.visible').count()) await runCommand(page, 'Notifications: Hide Notifications').catch(() => undefined);
  await page.keyboard.press('Escape');
}

/** Clears the notification center (so a later wait only sees new ones). */
export async function clearNotifications(page: Page): Promise<void> {
  await runCommand(page, 'Notifications: Clear All Notifications').catch(() => undefined);
  await page.keyboard.press('Escape');
}

/** The text of the active editor (lines in order, as Monaco renders them). */
export async function activeEditorText(page: Page): Promise<string> {
  const lines = await page
    .locator('.editor-group-container.active .editor-instance .monaco-editor .view-lines')
    .first()
    .evaluate(el =>
      Array.from(el.querySelectorAll<HTMLElement>('.view-line'))
        .map(l => ({ top: parseFloat(l.style.top || '0'), text: (l.textContent ?? '').replace(/\u00a0/g, ' ') }))
        .sort((a, b) => a.top - b.top)
        .map(l => l.text),
    );
  return lines.join('\n');
}

/** Opens a file from the Explorer (its folder must be expanded) and waits for its tab. */
export async function openFromExplorer(page: Page, name: string): Promise<void> {
  await explorerRow(page, name).click();
  await page.locator('.tabs-container .tab.active').filter({ hasText: name }).first().waitFor({ timeout: 30_000 });
}

/** Opens a file and asserts the editor shows exactly the bytes of `diskFile`. */
export async function openAndCompare(page: Page, name: string, diskFile: string): Promise<void> {
  await openFromExplorer(page, name);
  const want = readFileSync(diskFile, 'utf8'); // a final newline shows as an empty last line
  await assertEventually(async () => assert.equal(await activeEditorText(page), want, `editor of ${name} shows the bytes of ${diskFile}`), 20_000);
}

/** Types at the top of the active editor and saves with Ctrl+S; waits until the tab is clean. */
export async function typeAtTopAndSave(page: Page, name: string, line: string): Promise<void> {
  await page.locator('.editor-group-container.active .editor-instance .monaco-editor .view-lines').first().click();
  await page.keyboard.press('Control+Home');
  await page.keyboard.type(line);
  await page.keyboard.press('Enter');
  await page.locator('.tabs-container .tab.dirty').filter({ hasText: name }).first().waitFor({ timeout: 10_000 });
  await page.keyboard.press('Control+s');
  await page.locator('.tabs-container .tab:not(.dirty)').filter({ hasText: name }).first().waitFor({ timeout: 30_000 });
}

/** Closes every editor. */
export async function closeAllEditors(page: Page): Promise<void> {
  await runCommand(page, 'View: Close All Editors');
  await page.waitForTimeout(300);
}

/** Opens the Source Control view; resolves with its rows' text. */
export async function scmRows(page: Page): Promise<string[]> {
  const rows = page.locator('.scm-view .monaco-list-row');
  return (await rows.allInnerTexts()).map(t => t.replace(/\s+/g, ' ').trim());
}

/** Shows a view container by its activity-bar icon (a click on the icon of a shown one would hide it). */
async function showViewlet(page: Page, iconLabel: RegExp, view: string): Promise<void> {
  await page.keyboard.press('Escape');
  if (!(await page.locator(view).first().isVisible().catch(() => false))) {
    const icons = page.locator('.activitybar .action-item .action-label');
    const n = await icons.count();
    for (let i = 0; i < n; i++) {
      const label = (await icons.nth(i).getAttribute('aria-label')) ?? '';
      if (iconLabel.test(label)) {
        await icons.nth(i).locator('xpath=..').click(); // the item: its badge covers the label's centre
        break;
      }
    }
  }
  await page.locator(view).first().waitFor({ timeout: 15_000 });
}

export const showScm = (page: Page) => showViewlet(page, /^Source Control/, '.scm-view');
/** The WebDAV view (its own Activity Bar container). */
export const showWebdavView = (page: Page) => showViewlet(page, /^WebDAV/, WEBDAV_VIEW);
const WEBDAV_VIEW = '[id="workbench.view.extension.webdavOffline"]';

/** The row of the WebDAV view whose label is `label` (exactly). */
export function webdavViewRow(page: Page, label: string | RegExp): Locator {
  const name = typeof label === 'string' ? exact(label) : label;
  return page.locator(`${WEBDAV_VIEW} .monaco-list-row`).filter({ has: page.locator('.label-name').filter({ hasText: name }) }).first();
}

/** The text of the rows of the WebDAV view (label and description), in order. */
export async function webdavViewRows(page: Page): Promise<string[]> {
  return (await page.locator(`${WEBDAV_VIEW} .monaco-list-row`).allInnerTexts()).map(t => t.replace(/\s+/g, ' ').trim());
}

/** Clicks the inline action `label` (its hover text) of a row of the WebDAV view (shown on hover). */
export async function webdavViewAction(page: Page, row: Locator, label: string): Promise<void> {
  const action = row.locator(`.actions .action-label[aria-label^="${label}"]`).first();
  // the view refreshes when a share changes (a background check, a count): a refreshed row is no longer
  // hovered and hides its actions again, so hover and click once more until the click lands
  const deadline = Date.now() + 20_000;
  for (;;) {
    await row.hover();
    try {
      await action.click({ timeout: 2000 });
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
  }
}
export const showExplorer = (page: Page) => showViewlet(page, /^Explorer/, '.explorer-folders-view');

/** Dismisses a dialog (e.g. VS Code's "Unable to open …") with its button `label`. */
export async function dismissDialog(page: Page, label: RegExp = /^(OK|Cancel)$/): Promise<void> {
  const button = page.locator('.monaco-dialog-box .monaco-button').filter({ hasText: label }).first();
  if (await button.isVisible().catch(() => false)) await button.click();
}

export function assertEventually(check: () => Promise<void> | void, ms = 15_000): Promise<void> {
  return eventually(check, ms, 250);
}

/** Answers the sign-in input boxes (user name, then password) once a box whose text matches `title` shows. */
export async function signIn(page: Page, username: string, password: string, title: RegExp): Promise<void> {
  const box = page.locator('.quick-input-widget');
  const input = box.locator('.quick-input-box input');
  await assertEventually(async () => assert.match(await box.innerText(), title), 60_000);
  // an Enter pressed while the box is still being laid out can go nowhere (CI saw the user name box stay
  // 15 s): type the name and press Enter again while the password box has not come
  const passwordBox = new RegExp(`Password( or app password)? for ${username}`);
  for (let attempt = 1; ; attempt++) {
    await input.fill(username);
    await input.press('Enter');
    try {
      await assertEventually(async () => assert.match(await box.innerText(), passwordBox), attempt < 3 ? 5000 : 15_000);
      break;
    } catch (err) {
      if (attempt >= 3 || !title.test(await box.innerText())) throw err;
    }
  }
  await input.fill(password);
  await input.press('Enter');
}
