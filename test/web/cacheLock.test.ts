// Issue 13 in VS Code's web-worker extension host (@vscode/test-web): the worker has Web Locks
// (navigator.locks), and the share of the workspace folder holds the lock of its IndexedDB cache, so
// another tab's window — here a second store opened in this worker — is told the cache is in use, and
// waits for it. (Two real tabs, one of them closed or crashed: twoTabs.test.ts.)
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { StoreBusyError } from '../../src/cache/shareStore';
import { shareId, type WebdavOfflineApi } from '../../src/extension';
import { IdbShareStores } from '../../src/platform/idbShareStore';

declare const __WEB_TEST_CONFIG__: { folderUri: string };

suite('web: the IndexedDB cache is one tab\'s at a time (Web Locks in the extension host worker)', function () {
  this.timeout(60_000);
  let api: WebdavOfflineApi;

  suiteSetup(async () => {
    api = await vscode.extensions.getExtension<WebdavOfflineApi>('webdav-offline.webdav-offline')!.activate();
  });

  test('the web-worker extension host has navigator.locks', () => {
    const locks = (globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks;
    assert.equal(typeof locks?.request, 'function', 'navigator.locks.request');
    assert.equal(typeof locks?.query, 'function', 'navigator.locks.query');
  });

  test("the workspace share's cache is open, and holds its lock; a second open is told it is in use and can wait", async () => {
    const root = vscode.Uri.parse(__WEB_TEST_CONFIG__.folderUri);
    const { share } = api.registry.resolve('dav', root.authority, root.path);
    assert.equal(await share.hasCache(), true);
    assert.deepEqual(share.cacheStatus, { kind: 'open' });
    const id = await shareId(share.location);
    const held = ((await navigator.locks.query()).held ?? []).map(l => l.name);
    assert.ok(held.includes(`webdav-offline-${id}`), `the lock of the share's cache is held: ${held.join(', ')}`);
    await assert.rejects(new IdbShareStores().open(id), (err: Error) => {
      assert.ok(err instanceof StoreBusyError, `${err.name}: ${err.message}`);
      assert.equal(err.holder, 'another tab or window of this browser');
      return true;
    });
    const stop = new AbortController();
    const waiting = new IdbShareStores().whenFree(id, stop.signal);
    stop.abort(new Error('gave up waiting'));
    await assert.rejects(waiting, /gave up waiting/);
  });
});
