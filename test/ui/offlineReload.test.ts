// UI, issues "cache" and "offline": real VS Code (code-server) in Chromium on a dav: folder. Read two
// files, keep docs/ available offline from the Explorer's context menu, stop the server, reload the
// window: the status bar says Offline by itself, read and pinned files open with the right bytes, a
// never-read file fails with "not available offline"; an edit (Ctrl+S) and a new file (Explorer) are
// pending in the Source Control view, and still are, offline, after another reload. Then the server
// comes back and "Go Online" uploads them. Screenshots: artifacts/ui-offline-*.png
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  activeEditorText,
  assertEventually,
  closeAllEditors,
  dismissDialog,
  expandFolder,
  explorerContextMenu,
  explorerRow,
  hideNotifications,
  openAndCompare,
  openFromExplorer,
  openWorkbench,
  reloadWindow,
  runCommand,
  scmRows,
  showExplorer,
  showScm,
  typeAtTopAndSave,
  waitForNotification,
  waitForStatus,
  type Workbench,
} from './workbench';

suite('ui: offline after a reload (cache + offline)', function () {
  this.timeout(10 * 60_000);
  let wb: Workbench | undefined;

  suiteSetup(async function () {
    this.timeout(30 * 60_000); // a first run installs the runtime
    wb = await openWorkbench('ui-offline', root => writeFileSync(join(root, 'never-read.md'), '# Never read\n\nNot pinned, never opened.\n'));
  });

  suiteTeardown(async () => {
    await wb?.close();
  });

  teardown(async function () {
    if (this.currentTest?.state === 'failed' && wb) await wb.shot('FAILED').catch(() => undefined);
  });

  test('read + pinned files survive a reload with the server off; offline edits stay pending across reloads', async () => {
    const { page, share, shot } = wb!;
    const disk = (...p: string[]) => join(share.root, ...p);
    await page.waitForTimeout(1000);
    await shot('1-explorer');

    // --- online: read two files, pin docs/
    await openAndCompare(page, 'notes.md', disk('notes.md'));
    await expandFolder(page, 'src');
    await openAndCompare(page, 'hello.js', disk('src', 'hello.js'));
    await shot('2-two-files-read');
    await explorerContextMenu(page, 'docs', 'Keep Available Offline');
    const done = await waitForNotification(page, /docs is available offline/);
    assert.match(done, /5 files/, `completion notice: ${done}`);
    await shot('3-docs-pinned');
    await hideNotifications(page);
    await closeAllEditors(page);

    // --- server off, reload: offline by itself
    await share.stopServer();
    await reloadWindow(page);
    const status = await waitForStatus(page, /Offline/);
    await shot('4-reloaded-offline');
    assert.match(status, /WebDAV: Offline \(unreachable\)/, 'offline because the server is unreachable, not by hand');
    await showExplorer(page);
    await closeAllEditors(page);

    // --- read and pinned files open with the bytes on the server's disk; a never-read one does not
    await openAndCompare(page, 'notes.md', disk('notes.md'));
    await expandFolder(page, 'src');
    await openAndCompare(page, 'hello.js', disk('src', 'hello.js'));
    await expandFolder(page, 'docs');
    for (const f of ['a.md', 'b.md', 'c.md', 'old.md', 'space & ümlaut #1.txt']) await openAndCompare(page, f, disk('docs', f));
    await shot('5-cached-files-open-offline');
    await explorerRow(page, 'never-read.md').click();
    const error = page.getByText(/not available offline/).first();
    await error.waitFor({ timeout: 30_000 });
    await shot('6-never-read-not-available');
    const shown = (await error.innerText()).replace(/\s+/g, ' ');
    assert.match(shown, /never-read\.md is not available offline/, `error shown: ${shown}`);
    await dismissDialog(page);
    await closeAllEditors(page);

    // --- offline: edit + Ctrl+S, a new file from the Explorer
    const notesBefore = readFileSync(disk('notes.md'), 'utf8');
    await openFromExplorer(page, 'notes.md');
    await typeAtTopAndSave(page, 'notes.md', 'Edited offline in the UI');
    await shot('7-edited-offline');
    await explorerContextMenu(page, 'docs', /^New File/);
    const nameBox = page.locator('.explorer-folders-view .monaco-inputbox input').first();
    await nameBox.waitFor({ timeout: 10_000 });
    await nameBox.fill('offline-new.md');
    await page.keyboard.press('Enter');
    await page.locator('.tabs-container .tab.active').filter({ hasText: 'offline-new.md' }).first().waitFor({ timeout: 30_000 });
    await typeAtTopAndSave(page, 'offline-new.md', 'Created offline in the UI');
    await explorerRow(page, 'offline-new.md').waitFor({ timeout: 10_000 });
    await shot('8-created-offline');
    assert.equal(readFileSync(disk('notes.md'), 'utf8'), notesBefore, 'the server (stopped) has the old notes.md');
    assert.ok(!existsSync(disk('docs', 'offline-new.md')), 'the new file is not on the server');

    // --- the Source Control view lists both pending changes
    const pendingListed = async () => {
      await showScm(page);
      await assertEventually(async () => {
        const rows = (await scmRows(page)).join(' | ');
        assert.match(rows, /Pending Changes/, `SCM rows: ${rows}`);
        assert.match(rows, /notes\.md/, `SCM rows: ${rows}`);
        assert.match(rows, /offline-new\.md/, `SCM rows: ${rows}`);
      }, 30_000);
    };
    await pendingListed();
    await shot('9-scm-pending');

    // --- reload again: still offline, still pending
    await closeAllEditors(page);
    await reloadWindow(page);
    assert.match(await waitForStatus(page, /Offline/), /Offline.*2 pending/, 'the status bar counts the pending changes');
    await pendingListed();
    await shot('10-second-reload-still-pending');
    await showExplorer(page);
    await expandFolder(page, 'docs');
    await openFromExplorer(page, 'offline-new.md');
    assert.equal(await activeEditorText(page), 'Created offline in the UI\n', 'the new file reads back');

    // --- server back: "Go Online" uploads both
    await share.startServer();
    await runCommand(page, 'WebDAV: Go Online');
    await waitForStatus(page, /^(?!.*Offline)(?!.*pending).*WebDAV/);
    await assertEventually(() => {
      assert.equal(readFileSync(disk('notes.md'), 'utf8'), `Edited offline in the UI\n${notesBefore}`);
      assert.equal(readFileSync(disk('docs', 'offline-new.md'), 'utf8'), 'Created offline in the UI\n');
    }, 30_000);
    await shot('11-back-online-uploaded');
  });
});
