// The extension's manifest (package.json) checked against itself and the code: every setting has a
// scope, and the security-relevant ones cannot be set by a workspace (a share can carry its own
// .vscode/settings.json); what an untrusted workspace may not set is named; every command a menu, the
// welcome or the walkthrough names exists; every context key a `when` clause reads is one the
// extension sets (ui/contextKeys.ts); the files the manifest points to are there; it runs where the
// cache belongs (extensionKind) and says where it comes from (repository, bugs, homepage).
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const nls = JSON.parse(readFileSync(join(ROOT, 'package.nls.json'), 'utf8')) as Record<string, string>;
/** A text of the manifest, its %key% resolved with the English bundle. */
const text = (value: string) => (/^%.+%$/.test(value) ? nls[value.slice(1, -1)] : value);
const contributes = pkg.contributes;
const settings: Record<string, { scope?: string }> = contributes.configuration.properties;
const commands: { command: string; title: string; category?: string; icon?: string }[] = contributes.commands;
const commandIds = new Set(commands.map(c => c.command));

/** Settings a share's own workspace settings must never change. */
const SECURITY_RELEVANT = [
  'webdavOffline.sync.massDeleteThreshold',
  'webdavOffline.cache.liveShares',
  'webdavOffline.cache.enabled',
  'webdavOffline.requestTimeout',
  'webdavOffline.transferTimeout',
  'webdavOffline.shares',
  'webdavOffline.limits.maxListingSize',
  'webdavOffline.limits.maxListingEntries',
  'webdavOffline.limits.maxFileSize',
];

/** Every `when` clause of the manifest. */
function whenClauses(): string[] {
  const out: string[] = [];
  for (const items of Object.values<{ when?: string }[]>(contributes.menus)) for (const i of items) if (i.when) out.push(i.when);
  for (const w of contributes.viewsWelcome) if (w.when) out.push(w.when);
  return out;
}

suite('manifest (package.json)', () => {
  test('every setting has a scope; the security-relevant ones only in user settings (application), never a workspace', () => {
    for (const [name, s] of Object.entries(settings)) assert.ok(s.scope, `${name} has a scope`);
    for (const name of SECURITY_RELEVANT) assert.equal(settings[name]?.scope, 'application', `${name}: application scope`);
  });

  test('an untrusted workspace cannot set the settings a workspace may otherwise set', () => {
    const untrusted = pkg.capabilities.untrustedWorkspaces;
    assert.equal(untrusted.supported, 'limited');
    const restricted: string[] = untrusted.restrictedConfigurations;
    const workspaceSettable = Object.entries(settings).filter(([, s]) => s.scope !== 'application' && s.scope !== 'machine').map(([n]) => n);
    assert.deepEqual([...restricted].sort(), workspaceSettable.sort(), 'exactly the settings a workspace could set are restricted');
    assert.ok(typeof untrusted.description === 'string' && untrusted.description.length > 20, 'and it says what is limited');
  });

  test('every command named by a menu, the welcome or the walkthrough exists, with a title and the WebDAV category', () => {
    for (const c of commands) {
      assert.ok(text(c.title), `${c.command} has a title`);
      assert.equal(c.category, 'WebDAV', `${c.command} is in the WebDAV category`);
    }
    for (const [menu, items] of Object.entries<{ command: string }[]>(contributes.menus)) {
      for (const i of items) assert.ok(commandIds.has(i.command), `${menu} names ${i.command}`);
    }
    const links = [
      ...contributes.viewsWelcome.map((w: { contents: string }) => text(w.contents)),
      ...contributes.walkthroughs.flatMap((w: { steps: { description: string }[] }) => w.steps.map(s => text(s.description))),
    ].join('\n');
    assert.match(links, /command:webdavOffline\.openFolder/, 'the links are read');
    for (const m of links.matchAll(/\(command:(webdavOffline\.[\w.]+)/g)) {
      assert.ok(commandIds.has(m[1]) || m[1] === 'webdavOffline.shares.focus', `a link runs ${m[1]}, which exists`);
    }
  });

  test('inline and title actions have icons', () => {
    const byId = new Map(commands.map(c => [c.command, c]));
    for (const [menu, items] of Object.entries<{ command: string; group?: string }[]>(contributes.menus)) {
      for (const i of items) {
        const shown = (menu === 'view/item/context' && i.group?.startsWith('inline')) || ((menu === 'view/title' || menu === 'scm/title' || menu === 'editor/title') && i.group?.startsWith('navigation'));
        if (shown) assert.ok(byId.get(i.command)?.icon, `${menu}: ${i.command} shows an icon`);
      }
    }
  });

  test('every context key of ours that a when clause reads is one the extension sets', () => {
    const source = readFileSync(join(ROOT, 'src', 'ui', 'contextKeys.ts'), 'utf8');
    const block = source.slice(source.indexOf('Object.entries({'), source.indexOf('}).map('));
    const set = new Set([...block.matchAll(/^\s+(\w+):/gm)].map(m => `webdavOffline.${m[1]}`));
    assert.ok(set.size >= 10, `found the keys: ${[...set].join(', ')}`);
    const read = new Set(whenClauses().flatMap(w => [...w.matchAll(/\bwebdavOffline\.\w+/g)].map(m => m[0])).filter(k => k !== 'webdavOffline.shares'));
    for (const key of read) assert.ok(set.has(key), `${key} is set by ui/contextKeys.ts`);
  });

  test('the palette shows nothing that needs an open share without one: each such command has a when clause', () => {
    const palette = new Map((contributes.menus.commandPalette as { command: string; when: string }[]).map(i => [i.command, i.when]));
    const always = ['webdavOffline.openFolder', 'webdavOffline.connectNextcloud', 'webdavOffline.showLog', 'webdavOffline.setAccessToken', 'webdavOffline.setSecretHeader', 'webdavOffline.setClientCertificatePassphrase', 'webdavOffline.reviewCertificate', 'webdavOffline.forgetTrustedCertificate'];
    for (const id of commandIds) {
      if (always.includes(id)) assert.equal(palette.has(id), false, `${id} is always offered`);
      else assert.ok(palette.get(id), `${id} has a when clause in the palette`);
    }
  });

  test('the view has its own container with an icon, a welcome, and a walkthrough of 4 steps whose images exist', () => {
    assert.equal(contributes.viewsContainers.activitybar[0].id, 'webdavOffline');
    assert.ok(existsSync(join(ROOT, contributes.viewsContainers.activitybar[0].icon)));
    assert.equal(contributes.views.webdavOffline[0].id, 'webdavOffline.shares');
    const welcome = contributes.viewsWelcome.map((w: { view: string }) => w.view);
    assert.ok(welcome.includes('explorer') && welcome.includes('webdavOffline.shares'));
    const steps = contributes.walkthroughs[0].steps as { id: string; media: { image: string } }[];
    assert.deepEqual(steps.map(s => s.id), ['connect', 'pin', 'offline', 'conflict']);
    for (const s of steps) assert.ok(existsSync(join(ROOT, s.media.image)), `${s.media.image} exists`);
  });

  test('it runs on the user\'s machine in remote windows (extensionKind ui, then workspace), and says where it comes from', () => {
    assert.deepEqual(pkg.extensionKind, ['ui', 'workspace']);
    assert.equal(pkg.repository.url, 'https://github.com/webdav-offline/webdav-offline');
    assert.match(pkg.bugs.url, /^https:\/\/github\.com\/webdav-offline\/webdav-offline\/issues$/);
    assert.match(pkg.homepage, /^https:\/\/github\.com\/webdav-offline\/webdav-offline/);
    assert.ok(pkg.keywords.length >= 5 && pkg.keywords.length <= 30);
    assert.ok(existsSync(join(ROOT, pkg.icon)));
  });

  test('the README links only to what exists: its images are packaged (media/), other files and its own headings', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const slugs = new Set([...readme.matchAll(/^#{1,6} (.+)$/gm)].map(m => m[1].toLowerCase().replace(/[^\p{L}\p{N} -]/gu, '').replace(/ /g, '-')));
    const links = [...readme.matchAll(/(!?)\[[^\]]*\]\(([^)\s]+)\)/g)].map(m => ({ image: m[1] === '!', target: m[2] }));
    assert.ok(links.filter(l => l.image).length >= 5, 'a screenshot per feature');
    for (const { image, target } of links) {
      if (/^https?:/.test(target)) continue;
      if (target.startsWith('#')) {
        assert.ok(slugs.has(target.slice(1)), `${target} is a heading of the README`);
        continue;
      }
      assert.ok(existsSync(join(ROOT, target)), `${target} exists`);
      if (image) assert.match(target, /^media\//, `${target} is packaged (.vscodeignore ships media/)`);
    }
    assert.match(readme, /npm start/, 'the README names npm start');
    assert.match(readme, /npm test/, 'the README names npm test (CI runs it)');
  });
});
