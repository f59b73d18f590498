// UI, connecting to Nextcloud the way a person does, in real VS Code (code-server): *WebDAV: Open
// Folder…* given the web address of a Nextcloud-shaped server (test/support/nextcloudFront.ts, signing in
// required), the prompt says it is Nextcloud and points to app passwords, and the user's files folder
// (`…/remote.php/dav/files/<id>/` — the id is not the login name) opens in the window, its files readable.
// Screenshots: artifacts/ui-nextcloud-*.png
import * as assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNextcloudFront, type NextcloudFront } from '../support/nextcloudFront';
import { assertEventually, explorerRow, openAndCompare, openWorkbench, runCommand, showExplorer, signIn, type Workbench } from './workbench';

const APP_PASSWORD = 'app-password-for-vscode';

suite('ui: opening Nextcloud from its web address', function () {
  this.timeout(5 * 60_000);
  let wb: Workbench | undefined;
  let front: NextcloudFront | undefined;
  let root: string;

  suiteSetup(async function () {
    this.timeout(30 * 60_000); // a first run installs the runtime
    root = mkdtempSync(join(tmpdir(), 'wdo-ui-nextcloud-'));
    mkdirSync(join(root, 'Documents'));
    writeFileSync(join(root, 'Documents', 'minutes.md'), '# Minutes\n\nkept on Nextcloud\n');
    writeFileSync(join(root, 'Readme.md'), '# Welcome to Nextcloud\n');
    front = await startNextcloudFront({ root, password: APP_PASSWORD });
    wb = await openWorkbench('ui-nextcloud');
  });

  suiteTeardown(async () => {
    await wb?.close();
    await front?.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  teardown(async function () {
    if (this.currentTest?.state === 'failed' && wb) await wb.shot('FAILED').catch(() => undefined);
  });

  test('Open Folder… with the web address: signs in (app password hint), finds the files folder and opens it', async () => {
    const { page, shot } = wb!;
    await runCommand(page, 'WebDAV: Open Folder…');
    const box = page.locator('.quick-input-widget');
    const input = box.locator('.quick-input-box input');
    await input.waitFor({ timeout: 10_000 });
    await input.fill(front!.webAddress);
    await input.press('Enter');

    await assertEventually(async () => assert.match(await box.innerText(), /Nextcloud: with two-factor sign-in, use an app password/), 60_000);
    await shot('1-sign-in-prompt');
    await signIn(page, 'alice', APP_PASSWORD, /Sign in to/);

    // a folder is open already: where to open this one
    const here = box.locator('.quick-input-list .monaco-list-row').filter({ hasText: 'Open in This Window' }).first();
    await here.waitFor({ timeout: 60_000 });
    const navigated = page.waitForEvent('framenavigated', { timeout: 60_000 });
    await here.click();
    await navigated;
    await page.waitForLoadState('domcontentloaded');

    await showExplorer(page);
    await explorerRow(page, 'Documents').waitFor({ timeout: 60_000 });
    await openAndCompare(page, 'Readme.md', join(root, 'Readme.md'));
    const folder = new URL(page.url()).searchParams.get('folder') ?? '';
    assert.match(folder, new RegExp(`^dav://127\\.0\\.0\\.1:${front!.port}${front!.filesPath}/?$`), `the files folder is open: ${folder}`);
    assert.ok(front!.log.some(l => l.startsWith('GET') && l.includes('/status.php')), 'the address was recognised by status.php');
    assert.ok(front!.log.some(l => l.startsWith('PROPFIND') && l.includes('/remote.php/dav/files/alice-id')), 'the files folder was found from the principal');
    await shot('2-files-folder-open');
  });
});
