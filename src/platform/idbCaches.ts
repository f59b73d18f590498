// The caches in IndexedDB as a list (platform side of cache/storedCaches.ts), for the browser: each
// share has two databases (see idbShareStore.ts), found with indexedDB.databases(). IndexedDB tells no
// sizes or dates, so they are read from the index: the size of each cached content once, and the
// latest access of any entry. Deleting deletes both databases; while another tab or window has them
// open the browser holds the deletion back until it closes them, and that is said (EBUSY).
import type { CacheEntry } from '../cache/cacheEntry';
import { CacheStoreError } from '../cache/shareStore';
import type { StoredCache, StoredCaches } from '../cache/storedCaches';
import { ENTRY_KEYS, idbDatabaseNames } from './idbShareStore';

export class IdbCaches implements StoredCaches {
  constructor(private readonly options: { readonly prefix?: string } = {}) {}

  async list(): Promise<StoredCache[]> {
    // the names around the id, from the one place that makes them
    const { index } = idbDatabaseNames(this.options.prefix, '\u0000');
    const [head, tail] = index.split('\u0000');
    const names = (await indexedDB.databases()).map(d => d.name ?? '');
    const ids = names.filter(n => n.startsWith(head) && n.endsWith(tail) && n.length > head.length + tail.length).map(n => n.slice(head.length, n.length - tail.length));
    const out: StoredCache[] = [];
    for (const id of ids) out.push({ id, ...(await summary(idbDatabaseNames(this.options.prefix, id).index)) });
    return out;
  }

  async remove(id: string): Promise<void> {
    if (!id) throw new Error('cache store: empty share id');
    const names = idbDatabaseNames(this.options.prefix, id);
    const blocked = (await Promise.all([deleteDatabase(names.index), deleteDatabase(names.blobs)])).some(b => b);
    if (blocked) {
      throw new CacheStoreError('cache store: the cache is open in another window or tab; the browser deletes it once that window closes it', 'EBUSY');
    }
  }
}

/** Size of the cached contents and the latest access, read from the index database. */
async function summary(name: string): Promise<{ bytes: number; lastUsed?: number }> {
  const db = await request(indexedDB.open(name));
  try {
    if (!db.objectStoreNames.contains('entries')) return { bytes: 0 };
    const entries = await request(db.transaction('entries', 'readonly').objectStore('entries').getAll(ENTRY_KEYS()) as IDBRequest<CacheEntry[]>);
    const blobs = new Map<string, number>();
    let lastUsed = 0;
    for (const e of entries) {
      if (e.blob) blobs.set(e.blob, e.blobSize ?? e.size);
      lastUsed = Math.max(lastUsed, e.lastAccess ?? 0);
    }
    return { bytes: [...blobs.values()].reduce((a, b) => a + b, 0), lastUsed: lastUsed || undefined };
  } finally {
    db.close();
  }
}

/** Resolves whether the deletion was blocked (it then completes later, when the other connections close). */
function deleteDatabase(name: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const r = indexedDB.deleteDatabase(name);
    r.onsuccess = () => resolve(false);
    r.onerror = () => reject(new CacheStoreError(`cache store: deleting ${name}: ${r.error?.message ?? 'failed'}`, 'EIO', r.error));
    r.onblocked = () => resolve(true);
  });
}

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error ?? new Error('IndexedDB request failed'));
  });
}
