// UI, issue "a home for shares" (localization): real VS Code (code-server started with --locale de) in
// Chromium. code-server shows a language only when a language pack for it is installed (without one,
// --locale de is plain English, extension bundles included); no pack can be downloaded here, so the user
// data folder gets what installing one leaves behind — languagepacks.json naming a German pack — with an
// empty translation of VS Code itself (its own menus stay English). What this proves is the extension's
// own plumbing in both halves, as a German user with the language pack sees it:
//  - contributions from package.nls.de.json: the palette's command titles, the view's welcome text;
//  - runtime strings from l10n/bundle.l10n.de.json (vscode.l10n.t in the extension host): the state of a
//    saved share in the WebDAV view ("gespeichert" for "saved").
// The view's English state is asserted absent, so a fallback to English fails the test.
// Screenshot: artifacts/ui-german-1-view.png.
import * as assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { repoRoot } from '../../scripts/lib/repoRoot';
import { ensureRuntime, startCodeServer, type CodeServer } from '../../scripts/lib/runtime';
import { artifacts, assertEventually, openBrowserOn, paletteLabels, showWebdavView, UI_SETTINGS, webdavViewRow } from './workbench';

const PREFIX = 'ui-german';
/** A saved share nobody serves: the view lists it from the settings alone, without connecting. */
const SAVED = { address: 'https://nas.example.invalid/dav/team/', name: 'Team' };

suite('ui: the extension in German (code-server --locale de)', function () {
  this.timeout(5 * 60_000);
  let userDataDir: string;
  let cs: CodeServer | undefined;
  let browser: Browser | undefined;
  let page: Page;

  suiteSetup(async function () {
    this.timeout(30 * 60_000);
    mkdirSync(artifacts, { recursive: true });
    for (const f of readdirSync(artifacts)) if (f.startsWith(`${PREFIX}-`)) rmSync(join(artifacts, f));
    await ensureRuntime();
    userDataDir = mkdtempSync(join(tmpdir(), 'webdav-ui-german-'));
    fakeGermanLanguagePack(userDataDir);
    cs = await startCodeServer({ extensionDevelopmentPath: repoRoot(), userDataDir, locale: 'de', settings: { ...UI_SETTINGS, 'webdavOffline.shares': [SAVED] } });
    ({ browser, page } = await openBrowserOn(cs.url));
  });

  suiteTeardown(async () => {
    await browser?.close().catch(() => undefined);
    await cs?.stop();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  });

  teardown(async function () {
    if (this.currentTest?.state === 'failed' && page) await page.screenshot({ path: join(artifacts, `${PREFIX}-FAILED.png`) }).catch(() => undefined);
  });

  test('command titles, the view and a share state are German', async () => {
    // runtime bundle: the saved share's row says "gespeichert" (vscode.l10n.t('saved'))
    await showWebdavView(page).catch(() => showWebdavView(page));
    const row = webdavViewRow(page, SAVED.name);
    await row.waitFor({ timeout: 30_000 });
    await assertEventually(async () => {
      const text = (await row.innerText()).replace(/\s+/g, ' ');
      assert.match(text, /gespeichert/, `the row's state in German: ${text}`);
      assert.doesNotMatch(text, /\bsaved\b/, text);
    }, 15_000);
    await page.screenshot({ path: join(artifacts, `${PREFIX}-1-view.png`) });

    // contributions: command titles from package.nls.de.json
    const labels = await paletteLabels(page, 'WebDAV:');
    for (const title of ['WebDAV: Ordner öffnen…', 'WebDAV: Mit Nextcloud verbinden…']) assert.ok(labels.includes(title), `${title} in ${labels.join(' | ')}`);
    // (VS Code shows the English title beside a translated one, for searching: both are listed here)
  });
});

/**
 * What an installed German language pack leaves in the user data folder, as VS Code's language pack
 * service writes it: languagepacks.json naming the pack and its translation of VS Code (empty here).
 */
function fakeGermanLanguagePack(userDataDir: string): void {
  const pack = join(userDataDir, 'test-language-pack-de');
  mkdirSync(pack, { recursive: true });
  const main = join(pack, 'main.i18n.json');
  writeFileSync(main, JSON.stringify({ version: '1.0.0', contents: {} }));
  const packs = {
    de: {
      hash: 'webdavofflinetestpackde',
      extensions: [{ extensionIdentifier: { id: 'webdav-offline.test-language-pack-de' }, version: '1.0.0' }],
      translations: { vscode: main },
      label: 'Deutsch',
    },
  };
  writeFileSync(join(userDataDir, 'languagepacks.json'), JSON.stringify(packs));
}
