// The cases every StoredCaches backend must pass (disk and IndexedDB; the web suite runs them on the
// browser's own IndexedDB): listed with size and last use, refused while open, deleted with everything.
import * as assert from 'node:assert/strict';
import type { ShareStores } from '../../src/cache/shareStore';
import type { StoredCaches } from '../../src/cache/storedCaches';
import { fileEntry } from './shareStore.suite';

export interface CachesFixture {
  readonly stores: ShareStores;
  readonly caches: StoredCaches;
  dispose(): Promise<void>;
}

export function runStoredCachesSuite(name: string, make: () => Promise<CachesFixture>): void {
  suite(`StoredCaches: ${name}`, function () {
    this.timeout(30_000);
    let f: CachesFixture;
    setup(async () => {
      f = await make();
    });
    teardown(() => f.dispose());

    test('each cache is listed with the size of its contents and when it was last used', async () => {
      const store = await f.stores.open('share-a');
      const content = new Uint8Array(5000).fill(7);
      const hash = await store.putBlob(content);
      await store.commit({ put: [fileEntry('/a.bin', 1, { blob: hash, blobSize: 5000, size: 5000, lastAccess: Date.now() - 60_000 })], delete: [] });
      await store.close();
      await (await f.stores.open('share-b')).close();
      const list = await f.caches.list();
      assert.deepEqual(list.map(c => c.id).sort(), ['share-a', 'share-b']);
      const a = list.find(c => c.id === 'share-a')!;
      assert.ok(a.bytes >= 5000, `share-a takes its content at least: ${a.bytes}`);
      assert.ok(a.bytes > list.find(c => c.id === 'share-b')!.bytes, 'the one with content is the larger');
      assert.ok(a.lastUsed !== undefined && Math.abs(a.lastUsed - Date.now()) < 10 * 60_000, `last used recently: ${a.lastUsed}`);
    });

    test('a cache open here is refused (EBUSY) and keeps its content; closed, it is deleted with everything', async () => {
      const store = await f.stores.open('busy');
      const hash = await store.putBlob(new TextEncoder().encode('pending work'));
      await store.commit({ put: [fileEntry('/w.txt', 1, { blob: hash })], delete: [], tables: { journal: { put: [{ id: 1 }] } } });
      await assert.rejects(f.caches.remove('busy'), (err: { code?: string }) => err.code === 'EBUSY');
      assert.equal(new TextDecoder().decode(await store.getBlob(hash)), 'pending work', 'the open store still has its content');
      await store.close();
      await f.caches.remove('busy');
      assert.deepEqual((await f.caches.list()).map(c => c.id), [], 'gone from the list');
      const reopened = await f.stores.open('busy');
      assert.deepEqual(await reopened.loadIndex(), [], 'opened again, it is empty');
      assert.deepEqual(await reopened.loadTable('journal'), []);
      assert.equal(await reopened.getBlob(hash), undefined);
      await reopened.close();
    });
  });
}
