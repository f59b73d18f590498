// UI: MISSION.md's acceptance story end to end in real VS Code (code-server + Chromium) against nephele,
// asserting on the server's disk at each step:
//  1 edit + save notes.md online → on the server
//  2 keep docs/ available offline (Explorer context menu) → progress, then "available offline"
//  3 server off + reload → offline by itself; docs/ files open; a never-read file: "not available offline"
//  4 offline: edit docs/a.md, create docs/new.md, delete docs/old.md, rename docs/b.md → nothing on the server
//  5 meanwhile on the server's disk: docs/a.md's first line replaced, docs/c.md deleted
//  6 server back + "WebDAV: Go Online" → new.md, the delete and the rename applied; a.md a conflict
//    ("Resolution required", Conflicts group); its diff shows server ↔ local; Keep Both → a.md with the
//    server's content and "a (conflicted copy …).md" with the local one. Nothing lost.
// Screenshots: artifacts/ui-acceptance-*.png (the conflict list and the diff view among them).
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
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

const LOCAL_FIRST_LINE = '# A, as edited offline here';
const SERVER_FIRST_LINE = '# A, as changed on the server by someone else';

suite('ui: acceptance story (MISSION.md)', function () {
  this.timeout(12 * 60_000);
  let wb: Workbench | undefined;

  suiteSetup(async function () {
    this.timeout(30 * 60_000);
    wb = await openWorkbench('ui-acceptance', root => writeFileSync(join(root, 'never-read.md'), '# Never read\n'));
  });

  suiteTeardown(async () => {
    await wb?.close();
  });

  teardown(async function () {
    if (this.currentTest?.state === 'failed' && wb) await wb.shot('FAILED').catch(() => undefined);
  });

  test('steps 1-6: edit online, pin, offline reload, offline changes, server changes, reconnect, conflict, Keep Both', async () => {
    const { page, share, shot } = wb!;
    const disk = (...p: string[]) => join(share.root, ...p);
    const read = (...p: string[]) => readFileSync(disk(...p), 'utf8');
    const original = {
      notes: read('notes.md'),
      a: read('docs', 'a.md'),
      b: read('docs', 'b.md'),
    };

    // 1. open, edit and save notes.md: the server has it
    await openAndCompare(page, 'notes.md', disk('notes.md'));
    await typeAtTopAndSave(page, 'notes.md', 'Step 1: edited online');
    await assertEventually(() => assert.equal(read('notes.md'), `Step 1: edited online\n${original.notes}`, 'step 1: notes.md on the server'), 30_000);
    await shot('1-notes-saved-online');

    // 2. pin docs/: progress, then every file cached
    await explorerContextMenu(page, 'docs', 'Keep Available Offline');
    await page.waitForTimeout(150);
    await shot('2a-pinning');
    const done = await waitForNotification(page, /docs is available offline/);
    assert.match(done, /5 files/, `step 2: ${done}`);
    await shot('2b-pinned');
    await hideNotifications(page);
    await closeAllEditors(page);

    // 3. server off, reload: offline by itself; docs/ files open; a never-read file fails
    await share.stopServer();
    await reloadWindow(page);
    assert.match(await waitForStatus(page, /Offline/), /Offline \(unreachable\)/, 'step 3: offline by itself');
    await showExplorer(page);
    await closeAllEditors(page);
    await expandFolder(page, 'docs');
    for (const f of ['a.md', 'b.md', 'c.md', 'old.md', 'space & ümlaut #1.txt']) await openAndCompare(page, f, disk('docs', f));
    await shot('3a-offline-docs-open');
    await explorerRow(page, 'never-read.md').click();
    const error = page.getByText(/never-read\.md is not available offline/).first();
    await error.waitFor({ timeout: 30_000 });
    await shot('3b-never-read-not-available');
    await dismissDialog(page);
    await closeAllEditors(page);

    // 4. offline: edit docs/a.md (its first line), create docs/new.md, delete docs/old.md, rename docs/b.md
    await openFromExplorer(page, 'a.md');
    await page.locator('.editor-group-container.active .editor-instance .monaco-editor .view-lines').first().click();
    await page.keyboard.press('Control+Home');
    await page.keyboard.press('Shift+End');
    await page.keyboard.type(LOCAL_FIRST_LINE);
    await page.keyboard.press('Control+s');
    await page.locator('.tabs-container .tab:not(.dirty)').filter({ hasText: 'a.md' }).first().waitFor({ timeout: 30_000 });
    const localA = original.a.replace(/^.*\n/, `${LOCAL_FIRST_LINE}\n`);

    await explorerContextMenu(page, 'docs', /^New File/);
    const nameBox = page.locator('.explorer-folders-view .monaco-inputbox input').first();
    await nameBox.waitFor({ timeout: 10_000 });
    await nameBox.fill('new.md');
    await page.keyboard.press('Enter');
    await page.locator('.tabs-container .tab.active').filter({ hasText: 'new.md' }).first().waitFor({ timeout: 30_000 });
    await typeAtTopAndSave(page, 'new.md', 'Step 4: created offline');

    await explorerContextMenu(page, 'old.md', /^Delete/);
    const dialogDelete = page.locator('.monaco-dialog-box .monaco-button').filter({ hasText: /^Delete/ }).first();
    if (await dialogDelete.isVisible({ timeout: 2000 }).catch(() => false)) await dialogDelete.click();
    await explorerRow(page, 'old.md').waitFor({ state: 'detached', timeout: 15_000 });

    await explorerContextMenu(page, 'b.md', /^Rename/);
    const renameBox = page.locator('.explorer-folders-view .monaco-inputbox input').first();
    await renameBox.waitFor({ timeout: 10_000 });
    await renameBox.fill('b-renamed.md');
    await page.keyboard.press('Enter');
    await explorerRow(page, 'b-renamed.md').waitFor({ timeout: 15_000 });
    await shot('4a-offline-changes');

    assert.equal(read('docs', 'a.md'), original.a, 'step 4: a.md unchanged on the server');
    assert.ok(!existsSync(disk('docs', 'new.md')), 'step 4: new.md not on the server');
    assert.ok(existsSync(disk('docs', 'old.md')), 'step 4: old.md still on the server');
    assert.ok(existsSync(disk('docs', 'b.md')) && !existsSync(disk('docs', 'b-renamed.md')), 'step 4: b.md not renamed on the server');
    await showScm(page);
    await assertEventually(async () => {
      const rows = (await scmRows(page)).join(' | ');
      for (const n of ['a.md', 'new.md', 'old.md', 'b-renamed.md']) assert.ok(rows.includes(n), `step 4: ${n} pending in the SCM view: ${rows}`);
    }, 30_000);
    await shot('4b-offline-pending-scm');

    // 5. meanwhile on the server: a.md's first line changed by someone else, c.md deleted
    const serverA = original.a.replace(/^.*\n/, `${SERVER_FIRST_LINE}\n`);
    writeFileSync(disk('docs', 'a.md'), serverA);
    rmSync(disk('docs', 'c.md'));

    // 6. server back: reconnect
    await share.startServer();
    await closeAllEditors(page);
    await runCommand(page, 'WebDAV: Go Online');
    const resolution = await waitForNotification(page, /Resolution required/);
    assert.match(resolution, /1 conflict/, `step 6: ${resolution}`);
    await shot('6a-resolution-required');
    await hideNotifications(page);
    assert.match(await waitForStatus(page, /conflict/), /^(?!.*Offline).*1 conflict/, 'step 6: online, one conflict in the status bar');
    await assertEventually(() => {
      assert.equal(read('docs', 'new.md'), 'Step 4: created offline\n', 'step 6: new.md uploaded');
      assert.ok(!existsSync(disk('docs', 'old.md')), 'step 6: old.md deleted on the server');
      assert.ok(!existsSync(disk('docs', 'b.md')), 'step 6: b.md renamed away on the server');
      assert.equal(read('docs', 'b-renamed.md'), original.b, 'step 6: b-renamed.md has b.md\'s bytes');
    }, 30_000);
    assert.equal(read('docs', 'a.md'), serverA, 'step 6: the server\'s a.md was not overwritten');

    // the conflict list (Source Control, Conflicts group)
    await showScm(page);
    const conflictRow = page
      .locator('.scm-view .monaco-list-row')
      .filter({ has: page.locator('.label-name').filter({ hasText: /^a\.md$/ }) })
      .first();
    await assertEventually(async () => {
      const rows = (await scmRows(page)).join(' | ');
      assert.match(rows, /Conflicts/, `step 6: a Conflicts group: ${rows}`);
      assert.ok(await conflictRow.isVisible(), `step 6: a.md listed: ${rows}`);
    }, 30_000);
    await shot('6b-conflict-list');

    // the diff: server ↔ local
    await conflictRow.click();
    const diff = page.locator('.editor-group-container.active .monaco-diff-editor').first();
    await diff.waitFor({ timeout: 30_000 });
    await page.locator('.tabs-container .tab.active').filter({ hasText: 'a.md (server ↔ local)' }).first().waitFor({ timeout: 10_000 });
    await assertEventually(async () => {
      const side = async (which: string) => (await diff.locator(`.editor.${which} .view-lines`).first().innerText()).replace(/\u00a0/g, ' ');
      assert.ok((await side('original')).includes(SERVER_FIRST_LINE), `left: the server version: ${await side('original')}`);
      assert.ok((await side('modified')).includes(LOCAL_FIRST_LINE), `right: the local version: ${await side('modified')}`);
    }, 20_000);
    await page.waitForTimeout(500);
    await shot('6c-conflict-diff-server-vs-local');

    // Keep Both
    await diff.locator('.editor.modified .view-lines').first().click();
    await runCommand(page, 'WebDAV: Keep Both');
    const copyName = () => readdirSync(disk('docs')).find(n => /^a \(conflicted copy .+\)\.md$/.test(n));
    await assertEventually(() => assert.ok(copyName(), `step 6: a conflict copy of a.md on the server: ${readdirSync(disk('docs')).join(', ')}`), 30_000);
    assert.equal(read('docs', copyName()!), localA, 'step 6: the conflict copy has the local version');
    assert.equal(read('docs', 'a.md'), serverA, 'step 6: a.md has the server version');
    await waitForNotification(page, /your version was uploaded as/);
    await shot('6d-kept-both');
    await hideNotifications(page);

    // nothing lost: every version is on the server; nothing pending, no conflicts
    assert.equal(read('notes.md'), `Step 1: edited online\n${original.notes}`);
    assert.equal(read('docs', 'new.md'), 'Step 4: created offline\n');
    assert.equal(read('docs', 'b-renamed.md'), original.b);
    assert.deepEqual(
      readdirSync(disk('docs')).sort(),
      ['a.md', copyName()!, 'b-renamed.md', 'new.md', 'space & ümlaut #1.txt'].sort(),
      'step 6: the docs folder on the server',
    );
    await waitForStatus(page, /^(?!.*(Offline|conflict|pending)).*WebDAV/);
    await showScm(page);
    await assertEventually(async () => {
      const rows = (await scmRows(page)).join(' | ');
      assert.ok(!/Conflicts/.test(rows) && !/a\.md|new\.md|old\.md|b-renamed\.md/.test(rows), `step 6: nothing left in the SCM view: ${rows}`);
    }, 20_000);
    await shot('6e-all-resolved');
  });
});
