// The caches of shares that are not open, as the WebDAV view lists and deletes them: on disk (folders,
// sizes from the files, the lock taken before deleting) and in IndexedDB (fake-indexeddb here; the web
// suite runs the same cases on the browser's own). A cache in use — by this process or by another live
// process — is refused, and nothing of it is deleted.
import 'fake-indexeddb/auto';
import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import { tmpdir, uptime } from 'node:os';
import { join } from 'node:path';
import type { ShareStores } from '../../src/cache/shareStore';
import { DiskCaches } from '../../src/platform/diskCaches';
import { DiskShareStores } from '../../src/platform/diskShareStore';
import { IdbCaches } from '../../src/platform/idbCaches';
import { IdbShareStores } from '../../src/platform/idbShareStore';
import { nodeLocks as locks } from '../support/memoryLocks';
import { runStoredCachesSuite } from './storedCaches.suite';

let idbRuns = 0;
runStoredCachesSuite('IndexedDB (fake-indexeddb)', async () => {
  const prefix = `caches${++idbRuns}`;
  return { stores: new IdbShareStores({ prefix, locks }), caches: new IdbCaches({ prefix }), dispose: async () => undefined };
});

runStoredCachesSuite('disk', async () => {
  const root = await fs.mkdtemp(join(tmpdir(), 'wdo-caches-'));
  return { stores: new DiskShareStores(root), caches: new DiskCaches(root), dispose: () => fs.rm(root, { recursive: true, force: true }) };
});

suite('DiskCaches: what only the disk has', function () {
  this.timeout(30_000);
  let root: string;
  let child: ChildProcess | undefined;
  setup(async () => {
    root = await fs.mkdtemp(join(tmpdir(), 'wdo-caches-'));
  });
  teardown(async () => {
    child?.kill('SIGKILL');
    child = undefined;
    await fs.rm(root, { recursive: true, force: true });
  });

  test('a cache locked by another live process (another window) is refused and kept; one whose process is gone is deleted', async () => {
    const stores: ShareStores = new DiskShareStores(root);
    const store = await stores.open('other');
    await store.putBlob(new TextEncoder().encode('kept'));
    await store.close();
    child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    const boot = Date.now() - uptime() * 1000;
    writeFileSync(join(root, 'other', 'lock'), JSON.stringify({ pid: child.pid, boot }));
    const caches = new DiskCaches(root);
    await assert.rejects(caches.remove('other'), (err: NodeJS.ErrnoException) => err.code === 'EBUSY' && /another window/.test(err.message));
    assert.ok(existsSync(join(root, 'other', 'blobs')), 'nothing was deleted');
    child.kill('SIGKILL');
    await new Promise(resolve => child!.once('exit', resolve));
    await caches.remove('other');
    assert.equal(existsSync(join(root, 'other')), false, 'deleted once its process is gone');
  });

  test('the size is every file of the folder; files that are no cache are not listed', async () => {
    const store = await new DiskShareStores(root).open('a');
    await store.putBlob(new Uint8Array(10_000));
    await store.close();
    writeFileSync(join(root, 'stray.txt'), 'not a cache');
    const [only, ...rest] = await new DiskCaches(root).list();
    assert.equal(rest.length, 0);
    assert.equal(only.id, 'a');
    assert.ok(only.bytes >= 10_000 && only.bytes < 12_000, `${only.bytes} bytes`);
    await assert.rejects(new DiskCaches(root).remove('../x'), /invalid share id/);
  });

  test('no cache folder yet: an empty list, and deleting an unknown cache does nothing', async () => {
    const caches = new DiskCaches(join(root, 'missing'));
    assert.deepEqual(await caches.list(), []);
    await caches.remove('nothing');
  });
});
