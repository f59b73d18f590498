// UI, a file shared read-only (Nextcloud's oc:permissions without W), in real VS Code (code-server) on a
// Nextcloud-shaped server (test/support/nextcloudFront.ts): the editor opens it read-only — typing changes
// nothing and VS Code says it cannot be edited — while a writable file next to it saves to the server.
// Screenshot: artifacts/ui-readonly-*.png
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { activeEditorText, assertEventually, expandFolder, openAndCompare, openWorkbench, typeAtTopAndSave, type Workbench } from './workbench';

suite('ui: a file shared read-only (Nextcloud permissions)', function () {
  this.timeout(5 * 60_000);
  let wb: Workbench | undefined;

  suiteSetup(async function () {
    this.timeout(30 * 60_000); // a first run installs the runtime
    wb = await openWorkbench('ui-readonly', undefined, { nextcloud: front => front.setPermissions('/docs/a.md', 'RGDNV') });
  });

  suiteTeardown(async () => {
    await wb?.close();
  });

  teardown(async function () {
    if (this.currentTest?.state === 'failed' && wb) await wb.shot('FAILED').catch(() => undefined);
  });

  test('the read-only file cannot be edited (VS Code says so); a writable one saves', async () => {
    const { page, share, shot } = wb!;
    await expandFolder(page, 'docs');
    const guide = join(share.root, 'docs', 'a.md');
    await openAndCompare(page, 'a.md', guide);
    const before = await activeEditorText(page);
    await page.locator('.editor-group-container.active .editor-instance .monaco-editor .view-lines').first().click();
    await page.keyboard.press('Control+Home');
    await page.keyboard.type('this must not go in');
    const hint = page.locator('.monaco-editor-overlaymessage').filter({ hasText: /read-only|cannot edit/i });
    await hint.first().waitFor({ timeout: 10_000 });
    await shot('1-read-only-editor');
    assert.equal(await activeEditorText(page), before, 'typing changed nothing');
    assert.equal(await page.locator('.tabs-container .tab.dirty').count(), 0, 'no unsaved changes');
    assert.equal(readFileSync(guide, 'utf8').includes('this must not go in'), false);

    const notes = join(share.root, 'notes.md');
    await openAndCompare(page, 'notes.md', notes);
    await typeAtTopAndSave(page, 'notes.md', 'A writable file next to it saves');
    await assertEventually(() => assert.match(readFileSync(notes, 'utf8'), /^A writable file next to it saves\n/));
  });
});
