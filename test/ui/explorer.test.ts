// UI: real VS Code (code-server) in headless Chromium, the dav: share open in the Explorer. Click
// notes.md, type, Ctrl+S, and the server's disk gets the new bytes. Screenshots: artifacts/ui-explorer-*.png
import * as assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { repoRoot } from '../../scripts/lib/repoRoot';
import { ensureRuntime, startCodeServer, type CodeServer } from '../../scripts/lib/runtime';
import { launchChromium } from '../support/chromium';
import { startShare, type ShareFixture } from '../support/shareFixture';

const root = repoRoot();
const artifacts = join(root, 'artifacts');
const shot = (page: Page, name: string) => page.screenshot({ path: join(artifacts, `ui-explorer-${name}.png`) });

suite('ui: Explorer on a dav: folder', function () {
  this.timeout(5 * 60_000);
  let share: ShareFixture | undefined;
  let cs: CodeServer | undefined;
  let browser: Browser | undefined;
  let page: Page;

  suiteSetup(async function () {
    this.timeout(30 * 60_000); // a first run installs the runtime
    mkdirSync(artifacts, { recursive: true });
    for (const f of readdirSync(artifacts)) if (f.startsWith('ui-explorer-')) rmSync(join(artifacts, f));
    await ensureRuntime();
    share = await startShare();
    cs = await startCodeServer({
      extensionDevelopmentPath: root,
      folderUri: share.folderUri,
      // the test saves with Ctrl+S itself: no auto save; no welcome page or chat over the editor
      settings: {
        'files.autoSave': 'off', 'workbench.startupEditor': 'none', 'chat.disableAIFeatures': true,
        'workbench.secondarySideBar.defaultVisibility': 'hidden',
      },
    });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(cs.url, { timeout: 60_000 });
    await page.locator('.monaco-workbench').waitFor({ timeout: 90_000 });
  });

  suiteTeardown(async () => {
    await browser?.close().catch(() => undefined);
    await cs?.stop();
    await share?.close();
  });

  teardown(async function () {
    if (this.currentTest?.state === 'failed' && page) await shot(page, 'FAILED').catch(() => undefined);
  });

  test('open notes.md from the Explorer, type, Ctrl+S: the server has the new bytes', async () => {
    const disk = join(share!.root, 'notes.md');
    const original = readFileSync(disk, 'utf8');
    const rows = page.locator('.explorer-folders-view .monaco-list-row');
    await rows.filter({ hasText: /^notes\.md$/ }).first().waitFor({ timeout: 90_000 });
    await rows.filter({ hasText: /^docs$/ }).first().waitFor({ timeout: 10_000 });
    await rows.filter({ hasText: /^src$/ }).first().waitFor({ timeout: 10_000 });
    await page.waitForTimeout(1000); // let the tree settle for the screenshot
    await shot(page, '1-explorer');

    await rows.filter({ hasText: /^notes\.md$/ }).first().click();
    await page.locator('.tabs-container .tab', { hasText: 'notes.md' }).first().waitFor({ timeout: 30_000 });
    const editor = page.locator('.editor-instance .monaco-editor').first();
    await editor.locator('.view-lines', { hasText: '# Notes' }).waitFor({ timeout: 30_000 });
    await shot(page, '2-opened');

    // Type at the very top of the document (Ctrl+Home), then save with Ctrl+S.
    const stamp = `Typed by the UI test ${Date.now()}`;
    await editor.locator('.view-lines').click();
    await page.keyboard.press('Control+Home');
    await page.keyboard.type(stamp);
    await page.keyboard.press('Enter');
    await page.locator('.tabs-container .tab.dirty', { hasText: 'notes.md' }).first().waitFor({ timeout: 10_000 });
    await shot(page, '3-typed');
    await page.keyboard.press('Control+s');

    const expected = `${stamp}\n${original}`;
    const deadline = Date.now() + 30_000;
    let onDisk = readFileSync(disk, 'utf8');
    while (onDisk !== expected && Date.now() < deadline) {
      await new Promise(r => setTimeout(r, 200));
      onDisk = readFileSync(disk, 'utf8');
    }
    await page.locator('.tabs-container .tab:not(.dirty)', { hasText: 'notes.md' }).first().waitFor({ timeout: 10_000 });
    await shot(page, '4-saved');
    assert.equal(onDisk, expected, "notes.md on the server's disk does not have the typed text");
  });
});
