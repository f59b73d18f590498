// UI, issue 13 (know the whole share offline): real VS Code (code-server) in Chromium on a dav: folder
// with a 3-level tree. Keep docs/ available offline; the names of the whole share are learnt in the
// background (Show Cache Usage says "every name known"); then the server is stopped and the window
// reloaded. Offline: WebDAV: Go to File finds a file in a folder that was never expanded; every folder of
// the tree expands and shows its names; a never-downloaded file carries the "not downloaded" badge and
// fails with the clear "not available offline" error; a pinned file opens. A folder that appeared later,
// while listing the whole share was stopped, is named but not listed: expanding it offline says so in a
// notice instead of showing an empty folder. Screenshots: artifacts/ui-tree-*.png
import * as assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import {
  activeEditorText,
  assertEventually,
  closeAllEditors,
  dismissDialog,
  expandFolder,
  explorerContextMenu,
  explorerRow,
  hideNotifications,
  openWorkbench,
  reloadWindow,
  runCommand,
  showExplorer,
  waitForNotification,
  waitForStatus,
  type Workbench,
} from './workbench';

/** The tree on the server (besides the sample share's notes.md, docs/ and src/). */
const TREE: Record<string, string> = {
  'projects/web/index.html': '<h1>web</h1>\n',
  'projects/web/css/site.css': 'body { margin: 0 }\n',
  'projects/api/server.js': 'console.log("api");\n',
  'projects/api/routes/users.js': 'module.exports = [];\n',
  'archive/2023/report.md': '# 2023\n',
  'archive/2023/q4/summary.md': '# Q4\n',
};

/** Each folder and the names it shows. */
const FOLDERS: [string, string[]][] = [
  ['projects', ['web', 'api']],
  ['web', ['css', 'index.html']],
  ['css', ['site.css']],
  ['api', ['routes', 'server.js']],
  ['routes', ['users.js']],
  ['archive', ['2023']],
  ['2023', ['q4', 'report.md']],
  ['q4', ['summary.md']],
  ['src', ['hello.js']],
  ['docs', ['a.md', 'b.md', 'c.md']],
];

/** The badge of an Explorer row (a decoration is drawn after its label) and its label for screen readers. */
async function decoration(page: Page, name: string): Promise<{ badge: string; label: string }> {
  return explorerRow(page, name)
    .locator('.monaco-icon-label')
    .first()
    .evaluate(el => ({ badge: getComputedStyle(el, '::after').content.replace(/^"|"$/g, ''), label: el.getAttribute('aria-label') ?? '' }));
}

/** The rows of the quick pick that is open. */
async function pickRows(page: Page): Promise<string[]> {
  return (await page.locator('.quick-input-widget .quick-input-list .monaco-list-row').allInnerTexts()).map(t => t.replace(/\s+/g, ' ').trim());
}

suite('ui: every name known offline (whole-tree metadata)', function () {
  this.timeout(10 * 60_000);
  let wb: Workbench | undefined;

  suiteSetup(async function () {
    this.timeout(30 * 60_000); // a first run installs the runtime
    wb = await openWorkbench(
      'ui-tree',
      root => {
        for (const [rel, content] of Object.entries(TREE)) {
          mkdirSync(join(root, rel, '..'), { recursive: true });
          writeFileSync(join(root, rel), content);
        }
      },
      // every folder on its own row; the open folders polled every 2 s
      { settings: { 'explorer.compactFolders': false, 'webdavOffline.watch.pollInterval': 2 } },
    );
  });

  suiteTeardown(async () => {
    await wb?.close();
  });

  teardown(async function () {
    if (this.currentTest?.state === 'failed' && wb) await wb.shot('FAILED').catch(() => undefined);
  });

  test('pin one folder, stop the server, reload: every folder expands with its names; badges, the clear error, Go to File', async () => {
    const { page, share, shot } = wb!;
    const disk = (...p: string[]) => join(share.root, ...p);

    // --- online: pin docs/; the whole share's names are learnt by themselves
    await explorerContextMenu(page, 'docs', 'Keep Available Offline');
    await waitForNotification(page, /docs is available offline/);
    await hideNotifications(page);
    let usage = '';
    await assertEventually(async () => {
      await runCommand(page, 'WebDAV: Show Cache Usage');
      await page.locator('.quick-input-widget .quick-input-list .monaco-list-row').first().waitFor({ timeout: 10_000 });
      usage = (await pickRows(page)).join(' | ');
      await page.keyboard.press('Escape');
      assert.match(usage, /every name known \(\d+ items\)/, `Show Cache Usage: ${usage}`);
    }, 60_000);
    await shot('1-every-name-known');

    // --- listing stopped; a folder appears on the server afterwards: its name is seen by the poll, its contents never listed
    await runCommand(page, 'WebDAV: Stop Listing the Whole Share');
    await waitForNotification(page, /Stopped listing/);
    await hideNotifications(page);
    await expandFolder(page, 'projects');
    mkdirSync(disk('projects', 'later'));
    writeFileSync(disk('projects', 'later', 'inside.md'), 'inside\n');
    await explorerRow(page, 'later').waitFor({ timeout: 60_000 });
    await shot('2-later-appeared');

    // --- server off, reload: offline by itself
    await share.stopServer();
    await reloadWindow(page);
    await waitForStatus(page, /Offline/);
    await showExplorer(page);
    await closeAllEditors(page);
    await shot('3-reloaded-offline');

    // --- Go to File finds a file in a folder that was never expanded (archive/2023/q4)
    await runCommand(page, 'WebDAV: Go to File… (every known name, works offline)');
    const input = page.locator('.quick-input-widget .quick-input-box input');
    await input.fill('summary');
    await assertEventually(async () => assert.match((await pickRows(page)).join(' | '), /summary\.md.*\/archive\/2023\/q4/), 15_000);
    await shot('4-go-to-file-never-expanded');
    await input.fill('c.md');
    await assertEventually(async () => assert.match((await pickRows(page))[0] ?? '', /^c\.md ?\/docs$/), 15_000);
    await page.keyboard.press('Enter');
    await page.locator('.tabs-container .tab.active').filter({ hasText: 'c.md' }).first().waitFor({ timeout: 30_000 });
    await assertEventually(async () => assert.equal(await activeEditorText(page), readFileSync(disk('docs', 'c.md'), 'utf8')), 20_000);
    await closeAllEditors(page);

    // --- every folder of the tree expands and shows its names
    for (const [folder, names] of FOLDERS) {
      await expandFolder(page, folder);
      for (const name of names) await explorerRow(page, name).waitFor({ timeout: 15_000 });
    }
    await shot('5-every-folder-offline');

    // --- badges: what is only online, and what is kept offline
    const online = await decoration(page, 'server.js');
    assert.equal(online.badge, '☁', `server.js badge: ${JSON.stringify(online)}`);
    assert.match(online.label, /Not downloaded — available online/);
    const pinned = await decoration(page, 'c.md');
    assert.equal(pinned.badge, '●', `c.md badge: ${JSON.stringify(pinned)}`);
    const folder = await decoration(page, 'later');
    assert.match(folder.label, /Not listed on this computer/);

    // --- a never-downloaded file: the clear error
    await explorerRow(page, 'server.js').click();
    const error = page.getByText(/not available offline/).first();
    await error.waitFor({ timeout: 30_000 });
    await shot('6-not-downloaded-error');
    const shown = (await error.innerText()).replace(/\s+/g, ' ');
    assert.match(shown, /server\.js is not available offline/, `error shown: ${shown}`);
    await dismissDialog(page);
    await closeAllEditors(page);

    // --- a folder whose names were never listed: a notice, not a silent empty folder
    await expandFolder(page, 'later');
    const notice = await waitForNotification(page, /not known offline/);
    assert.match(notice, /The folder \/projects\/later is not known offline.*Go Online/, `notice: ${notice}`);
    await shot('7-folder-not-known-notice');
  });
});
