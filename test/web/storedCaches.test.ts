// The caches of shares that are not open (the WebDAV view's "Caches"), listed and deleted in the
// browser's REAL IndexedDB, inside VS Code's web-worker extension host: the same cases as on disk.
import { IdbCaches } from '../../src/platform/idbCaches';
import { IdbShareStores } from '../../src/platform/idbShareStore';
import { runStoredCachesSuite } from '../unit/storedCaches.suite';

let fixtures = 0;
const run = `webcaches-${Date.now().toString(36)}`;

runStoredCachesSuite('IndexedDB in the browser', async () => {
  const prefix = `${run}-${++fixtures}`;
  const caches = new IdbCaches({ prefix });
  return {
    stores: new IdbShareStores({ prefix }),
    caches,
    dispose: async () => {
      for (const c of await caches.list()) await caches.remove(c.id).catch(() => undefined);
    },
  };
});
