// The extension in VS Code's web-worker extension host: its browser bundle (dist/web/extension.js)
// activates, and the dav: workspace folder served by nephele on 127.0.0.1 is stat'ed, listed, read and
// written through vscode.workspace.fs with the browser's fetch (cross-origin: CORS), cached in IndexedDB;
// the WebDAV view lists the share with its IndexedDB cache.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { WebdavOfflineApi } from '../../src/extension';

/** Set by the runner at bundle time (esbuild define): the share and what its disk holds. */
declare const __WEB_TEST_CONFIG__: { folderUri: string; httpUrl: string; notesMd: string; rootNames: string[] };
const config = __WEB_TEST_CONFIG__;
const text = (b: Uint8Array) => new TextDecoder().decode(b);

suite('web: the extension in the web-worker extension host', function () {
  this.timeout(60_000);
  let api: WebdavOfflineApi;
  const root = () => vscode.Uri.parse(config.folderUri);

  suiteSetup(async () => {
    const ext = vscode.extensions.getExtension<WebdavOfflineApi>('webdav-offline.webdav-offline');
    assert.ok(ext, 'the extension under development is installed');
    api = await ext.activate();
  });

  test('this is a web worker with the browser\'s IndexedDB, not Node', () => {
    assert.equal(typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope, 'function', 'WorkerGlobalScope exists');
    assert.equal(typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node, 'undefined', 'no Node here');
    assert.equal(Object.prototype.toString.call(globalThis.indexedDB), '[object IDBFactory]');
    assert.equal(vscode.env.uiKind, vscode.UIKind.Web);
  });

  test('the browser bundle is what activated, and it returned its API', () => {
    const ext = vscode.extensions.getExtension('webdav-offline.webdav-offline')!;
    assert.ok(ext.isActive, 'active');
    assert.equal(ext.packageJSON.browser, './dist/web/extension.js');
    assert.equal(typeof api.registry.resolve, 'function', 'activate returned { registry, flush }');
  });

  test('the dav: workspace folder is stat\'ed and listed through vscode.workspace.fs', async () => {
    assert.equal(vscode.workspace.workspaceFolders?.[0]?.uri.toString(), root().toString(), 'the dav: folder is open');
    const st = await vscode.workspace.fs.stat(root());
    assert.equal(st.type, vscode.FileType.Directory);
    const names = (await vscode.workspace.fs.readDirectory(root())).map(([n]) => n).sort();
    assert.deepEqual(names, [...config.rootNames].sort(), 'the listing is what the server\'s disk holds');
    const notes = await vscode.workspace.fs.stat(vscode.Uri.joinPath(root(), 'notes.md'));
    assert.equal(notes.type, vscode.FileType.File);
    assert.equal(notes.size, new TextEncoder().encode(config.notesMd).length);
  });

  test('the WebDAV view lists the open share, online, with its IndexedDB cache and what it keeps offline', async () => {
    await vscode.workspace.fs.readFile(vscode.Uri.joinPath(root(), 'notes.md'));
    const view = api.sharesView;
    const shares = await view.getChildren();
    const items = await Promise.all(shares.map(n => view.getTreeItem(n)));
    const label = (i: vscode.TreeItem) => (typeof i.label === 'string' ? i.label : (i.label?.label ?? ''));
    const at = items.findIndex(i => i.id === `share:${root().toString().replace(/\/?$/, '/')}`);
    assert.ok(at >= 0, `the open share is listed: ${items.map(i => `${i.id ?? ''} ${String(i.description)}`).join(' | ')}`);
    assert.match(String(items[at].description), /^online · \d+(\.\d+)? (B|KB|MB)/, 'online, with the size of its cache');
    const below = await Promise.all((await view.getChildren(shares[at])).map(n => view.getTreeItem(n)));
    assert.deepEqual(below.map(label), ['Nothing is kept available offline, and there are no conflicts.']);
  });

  test('notes.md reads with the bytes on the server\'s disk and is then cached (IndexedDB)', async () => {
    const uri = vscode.Uri.joinPath(root(), 'notes.md');
    assert.equal(text(await vscode.workspace.fs.readFile(uri)), config.notesMd);
    const { share, path } = api.registry.resolve('dav', uri.authority, uri.path);
    assert.equal(await share.hasCache(), true, 'the share has a cache in the browser');
    assert.deepEqual(share.cacheState(path), { pinned: false, cached: true, type: 'file', listed: false });
  });

  test('a file written from the web worker is on the server (checked with a plain fetch), and deleted', async () => {
    const name = `web-smoke-${Math.random().toString(36).slice(2, 8)}.txt`;
    const uri = vscode.Uri.joinPath(root(), name);
    await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode('written by the web worker\n'));
    const r = await fetch(config.httpUrl + name, { cache: 'no-store' });
    assert.equal(r.status, 200, `GET ${name} on the server`);
    assert.equal(await r.text(), 'written by the web worker\n');
    await vscode.workspace.fs.delete(uri);
    assert.equal((await fetch(config.httpUrl + name, { cache: 'no-store' })).status, 404, 'deleted on the server');
  });
});
