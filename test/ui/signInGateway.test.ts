// UI, "sign-in needed": real VS Code (code-server) in Chromium on a dav: folder reached through a sign-in
// gateway (test/support/signInGateway.ts). A first save goes through; then the gateway answers changes
// with its sign-in page: Ctrl+S still leaves a clean tab (the change is kept), the status bar says
// "Sign-in needed" with the change pending, one notice offers Sign In / Open in Browser / Retry Now, and
// the server's disk is untouched. Once the gateway lets changes through, "Retry Now" uploads it and the
// status bar is plain "WebDAV" again. Screenshots: artifacts/ui-signin-*.png
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertEventually, openAndCompare, openWorkbench, statusItem, typeAtTopAndSave, waitForNotification, waitForStatus, type Workbench } from './workbench';

const SIGN_IN_NOTICE = /asks for a sign-in/;

suite('ui: sign-in needed (a gateway in front of the share)', function () {
  this.timeout(5 * 60_000);
  let wb: Workbench | undefined;

  suiteSetup(async function () {
    this.timeout(30 * 60_000); // a first run installs the runtime
    wb = await openWorkbench('ui-signin', undefined, { gateway: true });
  });

  suiteTeardown(async () => {
    await wb?.close();
  });

  teardown(async function () {
    if (this.currentTest?.state === 'failed' && wb) await wb.shot('FAILED').catch(() => undefined);
  });

  test('a save answered with a sign-in page: "Sign-in needed" in the status bar, one notice with Sign In / Open in Browser / Retry Now; "Retry Now" uploads it once the gateway opens', async () => {
    const { page, share, shot } = wb!;
    const gateway = wb!.gateway!;
    const notes = join(share.root, 'notes.md');
    await openAndCompare(page, 'notes.md', notes);

    // a save while the gateway lets changes through (the share also learns what the server honours)
    await typeAtTopAndSave(page, 'notes.md', 'Saved before the session expired');
    await assertEventually(() => assert.match(readFileSync(notes, 'utf8'), /^Saved before the session expired\n/, 'the first save reached the server'));
    const before = readFileSync(notes, 'utf8');

    // the gateway's session is gone: changes get its sign-in page
    gateway.mode = 'writes';
    await typeAtTopAndSave(page, 'notes.md', 'Saved while the gateway wants a sign-in'); // a clean tab: the save is kept
    const status = await waitForStatus(page, /Sign-in needed/, 30_000);
    assert.match(status, /WebDAV: Sign-in needed · 1 pending/, `the status bar item: ${status}`);
    const notice = await waitForNotification(page, SIGN_IN_NOTICE, 30_000);
    for (const action of ['Sign In', 'Open in Browser', 'Retry Now']) assert.ok(notice.includes(action), `the notice offers "${action}": ${notice}`);
    await shot('1-sign-in-needed');
    assert.equal(readFileSync(notes, 'utf8'), before, "the server's disk is unchanged");
    assert.ok((gateway.status().signInPages.PUT ?? 0) >= 1, `the gateway answered the save with its sign-in page: ${JSON.stringify(gateway.status())}`);
    const notices = await page.locator('.notification-list-item').filter({ hasText: SIGN_IN_NOTICE }).count();
    assert.equal(notices, 1, 'one sign-in notice, though the share retries by itself');

    // the user signed in (the gateway lets changes through): Retry Now
    gateway.mode = 'pass';
    await page.locator('.notification-list-item').filter({ hasText: SIGN_IN_NOTICE }).locator('.monaco-button').filter({ hasText: 'Retry Now' }).first().click();
    await waitForStatus(page, /^(?!.*Sign-in)(?!.*pending).*WebDAV/, 30_000);
    await assertEventually(() => assert.equal(readFileSync(notes, 'utf8'), `Saved while the gateway wants a sign-in\n${before}`, 'the kept change reached the server'));
    await shot('2-back-online');
    assert.doesNotMatch(await statusItem(page).innerText(), /Offline|Sign-in/);
  });
});
