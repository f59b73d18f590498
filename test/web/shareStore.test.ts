// The share store conformance suite (test/unit/shareStore.suite.ts) against IdbShareStores on the
// browser's REAL IndexedDB, inside VS Code's web-worker extension host (Node runs it on fake-indexeddb).
import { createStore, set } from 'idb-keyval';
import { IdbShareStores } from '../../src/platform/idbShareStore';
import { runShareStoreSuite, type StorageFixture } from '../unit/shareStore.suite';

let fixtures = 0;
const run = `webtest-${Date.now().toString(36)}`;

async function idbFixture(): Promise<StorageFixture> {
  const prefix = `${run}-${++fixtures}`;
  return {
    storage: new IdbShareStores({ prefix }),
    reopen: async () => new IdbShareStores({ prefix }),
    damageBlob: (shareId, hash) => set(hash, new TextEncoder().encode('other bytes'), createStore(`${prefix}-${shareId}-blobs`, 'blobs')),
    // the browser keeps databases: delete this fixture's own
    dispose: async () => {
      const dbs = await indexedDB.databases();
      await Promise.all(
        dbs
          .filter(d => d.name?.startsWith(`${prefix}-`))
          .map(d => new Promise<void>(resolve => {
            const r = indexedDB.deleteDatabase(d.name!);
            r.onsuccess = r.onerror = r.onblocked = () => resolve();
          })),
      );
    },
  };
}

runShareStoreSuite('IndexedDB in the browser', idbFixture);
