// UI, "a NAS with a self-signed certificate, behind a proxy": real VS Code (code-server) in Chromium
// opens a davs: folder on Apache mod_ssl with a self-signed certificate the suite made, with VS Code's
// `http.proxy` set to a real proxy that asks for credentials (tinyproxy). The trust prompt shows the
// certificate's SHA-256 fingerprint, subject and validity; "Trust this certificate for this share", then
// the sign-in, and the Explorer lists the folder and a file opens with the bytes on the server's disk.
// The proxy carried the connection (a CONNECT tunnel). After a reload the trusted certificate is kept:
// no prompt. Screenshots: artifacts/ui-tls-*.png
import * as assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { repoRoot } from '../../scripts/lib/repoRoot';
import { ensureRuntime, startCodeServer, type CodeServer } from '../../scripts/lib/runtime';
import { startApacheTls, type ApacheTls } from '../support/apacheTls';
import { launchChromium } from '../support/chromium';
import { handToServer, USERS } from '../support/servers';
import { startTinyproxy, type TinyProxy } from '../support/tinyproxy';
import { artifacts, explorerRow, openAndCompare, reloadWindow, showExplorer, signIn, UI_SETTINGS } from './workbench';

const PROXY_USER = { user: 'proxyuser', password: 'pr0xy-s3cret' };
const PREFIX = 'ui-tls';

suite('ui: a self-signed certificate, through a proxy (trust prompt)', function () {
  this.timeout(5 * 60_000);
  let root: string;
  let apache: ApacheTls | undefined;
  let proxy: TinyProxy | undefined;
  let cs: CodeServer | undefined;
  let browser: Browser | undefined;
  let page: Page;
  const shot = (name: string) => page.screenshot({ path: join(artifacts, `${PREFIX}-${name}.png`) });

  suiteSetup(async function () {
    this.timeout(30 * 60_000); // a first run installs the runtime
    mkdirSync(artifacts, { recursive: true });
    for (const f of readdirSync(artifacts)) if (f.startsWith(`${PREFIX}-`)) rmSync(join(artifacts, f));
    await ensureRuntime();
    root = mkdtempSync(join(tmpdir(), 'webdav-share-tls-'));
    cpSync(join(repoRoot(), 'sample-share'), root, { recursive: true });
    handToServer('apache', root);
    apache = await startApacheTls({ root, users: USERS });
    proxy = await startTinyproxy({ credentials: PROXY_USER });
    cs = await startCodeServer({
      extensionDevelopmentPath: repoRoot(),
      folderUri: `davs://${apache.authority('selfSigned')}/share/`,
      settings: { ...UI_SETTINGS, 'http.proxy': proxy.urlWithCredentials },
    });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(cs.url, { timeout: 60_000 });
    await page.locator('.monaco-workbench .activitybar .action-item').first().waitFor({ timeout: 90_000 });
  });

  suiteTeardown(async () => {
    await browser?.close().catch(() => undefined);
    await cs?.stop();
    await proxy?.close();
    await apache?.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  teardown(async function () {
    if (this.currentTest?.state === 'failed' && page) await shot('FAILED').catch(() => undefined);
  });

  test('the trust prompt shows the fingerprint, subject and validity; trusted (then signed in), the folder opens through the proxy, and a reload does not ask again', async () => {
    const fingerprint = apache!.certs.fingerprint('self.crt');
    const dialog = page.locator('.monaco-dialog-box').filter({ hasText: /is not trusted/ }).first();
    await dialog.waitFor({ timeout: 90_000 });
    const text = (await dialog.innerText()).replace(/\s+/g, ' ');
    assert.match(text, /The certificate of davs:\/\/127\.0\.0\.2:\d+\/share\/ is not trusted: it is self-signed/);
    assert.ok(text.includes(`SHA-256 fingerprint: ${fingerprint}`), `the dialog shows the fingerprint ${fingerprint}: ${text}`);
    assert.match(text, /Subject: CN=nas\.example, O=Test NAS/);
    assert.match(text, /Issuer: CN=nas\.example, O=Test NAS \(self-signed\)/);
    assert.match(text, /Valid: \d{4}-\d\d-\d\d to \d{4}-\d\d-\d\d/);
    await shot('1-trust-prompt');
    await dialog.locator('.monaco-button').filter({ hasText: 'Trust this certificate for this share' }).first().click();

    // the server asks for a user name and password
    await signIn(page, 'alice', USERS.alice, /Sign in to davs:/);
    await showExplorer(page);
    await explorerRow(page, 'notes.md').waitFor({ timeout: 60_000 });
    await openAndCompare(page, 'notes.md', join(root, 'notes.md'));
    await shot('2-trusted-and-open');
    const tunnels = proxy!.requests().filter(r => r === `CONNECT ${apache!.authority('selfSigned')}`);
    assert.ok(tunnels.length >= 1, `the proxy carried the connection: ${proxy!.requests().join(', ')}`);
    assert.equal(await page.locator('.monaco-dialog-box').count(), 0, 'one prompt only');

    // the trusted certificate (and the password) are kept: a reload asks nothing
    await reloadWindow(page);
    await openAndCompare(page, 'notes.md', join(root, 'notes.md'));
    assert.equal(await page.locator('.monaco-dialog-box').filter({ hasText: /not trusted/ }).count(), 0, 'no trust prompt after the reload');
    await shot('3-after-reload');
  });
});
