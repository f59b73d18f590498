// The share store in IndexedDB, for the browser's web-worker extension host. Two databases per share,
// each with one object store (idb-keyval's createStore makes exactly one):
//   webdav-offline-<shareId>-index / entries   CacheEntry values keyed by path (a string),
//                                              table records keyed by ['t', table, id] (arrays sort after
//                                              every string, and by id as a number within a table),
//                                              meta values keyed by ['m', key]
//   webdav-offline-<shareId>-blobs / blobs     Uint8Array values keyed by their SHA-256 (hex)
// A batch, entries, records and meta together, is ONE readwrite transaction on the one object store, so
// IndexedDB makes it all-or-nothing. Records and meta values are stored as JSON copies (as on disk).
// A write waits for its transaction's `complete` event; an abort (an exhausted quota, the browser giving
// up) rejects with a CacheStoreError, code ENOSPC as on a full disk, and nothing of the transaction is
// stored. The connection is opened again when the browser closed it, so the store goes on working.
// One tab at a time: a store is open while its tab holds the Web Lock `webdav-offline-<shareId>`
// (navigator.locks, scoped like IndexedDB to the site; the browser releases it when the tab or worker
// ends, crashed or not). Another tab's open() fails with StoreBusyError, and its whenFree() is a queued
// request for the same lock, granted the moment the holder lets go. Without Web Locks (a page that is not
// a secure context) the store does not open: two tabs would write the same journal.
import { createStore, promisifyRequest, type UseStore } from 'idb-keyval';
import type { CacheEntry } from '../cache/cacheEntry';
import { isSha256Hex, sha256Hex } from '../cache/contentHash';
import { CacheStoreError, StoreBusyError, type ShareStores, type IndexBatch, type ShareStore, type StoredRecord } from '../cache/shareStore';
import { nullLogger, type Logger } from '../core/log';
import { checkTableName, normalizeExtras, type NormalizedExtras } from './storeBatch';

const TABLE_KEY = 't';
const META_KEY = 'm';
/** Every string key (the entries) and nothing else: arrays sort after all strings. */
export const ENTRY_KEYS = () => IDBKeyRange.upperBound([], true);
const tableKeys = (table: string) => IDBKeyRange.bound([TABLE_KEY, table], [TABLE_KEY, table, []]);
const META_KEYS = () => IDBKeyRange.bound([META_KEY], [META_KEY, []]);

/** The part of the browser's LockManager (navigator.locks) the store uses. */
export type Locks = Pick<LockManager, 'request'>;

export interface IdbStoreOptions {
  readonly logger?: Logger;
  /** Database names start with this (tests use their own). */
  readonly prefix?: string;
  /** The lock manager (default: navigator.locks). */
  readonly locks?: Locks;
}

/** The names of a share's two databases. */
export function idbDatabaseNames(prefix: string | undefined, shareId: string): { index: string; blobs: string } {
  const base = `${prefix ?? 'webdav-offline'}-${shareId}`;
  return { index: `${base}-index`, blobs: `${base}-blobs` };
}

export class IdbShareStores implements ShareStores {
  constructor(private readonly options: IdbStoreOptions = {}) {}

  private base(shareId: string): string {
    if (!shareId) throw new Error('cache store: empty share id');
    return `${this.options.prefix ?? 'webdav-offline'}-${shareId}`;
  }

  private locks(): Locks {
    const locks = this.options.locks ?? (globalThis as { navigator?: { locks?: Locks } }).navigator?.locks;
    if (!locks) {
      throw new CacheStoreError(
        'cache store: this page has no Web Locks (navigator.locks, only given to secure pages: https or localhost), so two tabs could not be kept from writing the same cache; it stays off. Open VS Code over https.',
        'ENOTSUP',
      );
    }
    return locks;
  }

  async open(shareId: string): Promise<ShareStore> {
    const base = this.base(shareId);
    if (typeof indexedDB === 'undefined') throw new Error('cache store: IndexedDB is not available here');
    const release = await holdLock(this.locks(), base);
    if (!release) throw new StoreBusyError(`cache store: ${base} is in use by another tab or window of this browser`, 'another tab or window of this browser');
    const names = idbDatabaseNames(this.options.prefix, shareId);
    const store = new IdbShareStore(createStore(names.index, 'entries'), createStore(names.blobs, 'blobs'), this.options.logger ?? nullLogger, release);
    try {
      await store.ready();
    } catch (err) {
      release();
      throw err;
    }
    return store;
  }

  async whenFree(shareId: string, signal: AbortSignal): Promise<void> {
    // queued behind the holder; granted (and let go at once) when it releases the lock or its tab ends
    await this.locks().request(this.base(shareId), { signal }, () => undefined);
  }
}

/** Takes the lock `name` if nobody holds it: resolves with its release, or undefined when it is held. */
function holdLock(locks: Locks, name: string): Promise<(() => void) | undefined> {
  return new Promise((resolve, reject) => {
    locks
      .request(name, { ifAvailable: true }, lock => {
        if (!lock) return resolve(undefined);
        return new Promise<void>(release => resolve(release)); // held until release() is called
      })
      .catch(reject);
  });
}

/** A private copy when `data` is a view into a larger buffer: structured cloning copies the WHOLE buffer. */
function standalone(data: Uint8Array): Uint8Array {
  return data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer ? data : data.slice();
}

/** A write transaction that aborted; `reason` is its error (null when it was aborted without one). */
class TransactionAborted extends Error {
  constructor(readonly reason: DOMException | null) {
    super(reason ? `${reason.name}: ${reason.message}` : 'the transaction was aborted');
  }
}

function idbError(err: unknown, what: string): Error {
  if (err instanceof CacheStoreError) return err;
  const reason = err instanceof TransactionAborted ? err.reason : err;
  const name = (reason as DOMException | null | undefined)?.name;
  if (name === 'QuotaExceededError') {
    return new CacheStoreError(`cache store: ${what}: the browser's storage quota for this site is exhausted; nothing of it was stored (QuotaExceededError)`, 'ENOSPC', reason);
  }
  if (err instanceof TransactionAborted && (!name || name === 'AbortError')) {
    // Browsers report a full disk or quota pressure this way too (a request failed, the transaction rolled back).
    return new CacheStoreError(`cache store: ${what}: the browser aborted the write (its storage is full or being cleared); nothing of it was stored`, 'ENOSPC', reason ?? err);
  }
  const message = reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason);
  return new CacheStoreError(`cache store: ${what}: ${message}`, name === 'DataCloneError' || name === 'DataError' ? 'EINVAL' : 'EIO', reason);
}

/**
 * Resolves when the transaction commits, rejects when it aborts. Unlike idb-keyval's promisifyRequest it
 * waits for the `abort` event, whose transaction error names the reason (a failed request's `error` event
 * reaches the transaction first, before that error is set).
 */
function committed(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.addEventListener('complete', () => resolve());
    tx.addEventListener('abort', () => reject(new TransactionAborted(tx.error)));
  });
}

class IdbShareStore implements ShareStore {
  private closed = false;

  constructor(
    private readonly index: UseStore,
    private readonly blobs: UseStore,
    private readonly logger: Logger,
    /** Lets go of the tab's lock on this share. */
    private readonly release: () => void,
  ) {}

  /** Opens both databases now, so that a failure shows at open(). */
  async ready(): Promise<void> {
    try {
      await this.index('readonly', () => undefined);
      await this.blobs('readonly', () => undefined);
    } catch (err) {
      throw idbError(err, 'opening IndexedDB');
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new CacheStoreError('cache store: closed', 'ECLOSED');
  }

  private async run<T>(what: string, op: () => Promise<T>): Promise<T> {
    this.assertOpen();
    try {
      return await op();
    } catch (err) {
      throw idbError(err, what);
    }
  }

  loadIndex(): Promise<CacheEntry[]> {
    return this.run('reading the index', () => this.index('readonly', s => promisifyRequest(s.getAll(ENTRY_KEYS()) as IDBRequest<CacheEntry[]>)));
  }

  async loadTable(table: string): Promise<StoredRecord[]> {
    this.assertOpen();
    checkTableName(table);
    return this.run(`reading table ${table}`, () => this.index('readonly', s => promisifyRequest(s.getAll(tableKeys(table)) as IDBRequest<StoredRecord[]>)));
  }

  loadMeta(): Promise<Record<string, unknown>> {
    return this.run('reading the meta values', () =>
      this.index('readonly', async s => {
        const [keys, values] = await Promise.all([promisifyRequest(s.getAllKeys(META_KEYS())), promisifyRequest(s.getAll(META_KEYS()))]);
        return Object.fromEntries(keys.map((key, i) => [(key as [string, string])[1], values[i] as unknown]));
      }),
    );
  }

  async commit(batch: IndexBatch): Promise<void> {
    this.assertOpen();
    let extras: NormalizedExtras;
    try {
      extras = normalizeExtras(batch); // throws before the transaction: nothing applied
    } catch (err) {
      throw new CacheStoreError(`cache store: the batch cannot be stored (${(err as Error).message})`, 'EINVAL', err);
    }
    const changes = batch.put.length + batch.delete.length + extras.changes;
    if (changes === 0) return;
    return this.run(`committing ${changes} index changes`, () =>
      this.index('readwrite', s => {
        try {
          // Same order as the disk log: deletions first, then puts.
          for (const path of batch.delete) s.delete(path);
          for (const entry of batch.put) s.put(entry, entry.path);
          for (const [table, change] of Object.entries(extras.tables)) {
            for (const id of change.delete) s.delete([TABLE_KEY, table, id]);
            for (const record of change.put) s.put(record, [TABLE_KEY, table, record.id]);
          }
          for (const [key, value] of Object.entries(extras.meta)) {
            if (value === null) s.delete([META_KEY, key]);
            else s.put(value, [META_KEY, key]);
          }
        } catch (err) {
          // e.g. DataCloneError: without the abort, the requests already made would still commit.
          try {
            s.transaction.abort();
          } catch {
            // aborted already
          }
          throw err;
        }
        return committed(s.transaction);
      }),
    );
  }

  async putBlob(data: Uint8Array): Promise<string> {
    this.assertOpen();
    const hash = await sha256Hex(data);
    const value = standalone(data);
    await this.run(`writing blob ${hash} (${data.byteLength} bytes)`, () =>
      this.blobs('readwrite', s => {
        const existing = s.get(hash);
        existing.onsuccess = () => {
          const old = existing.result as unknown;
          if (!(old instanceof Uint8Array && old.byteLength === value.byteLength)) s.put(value, hash);
        };
        return committed(s.transaction);
      }),
    );
    return hash;
  }

  /** IndexedDB keeps a value whole: the chunks are gathered (the download's size limit bounds them), then stored. */
  async putBlobStream(chunks: AsyncIterable<Uint8Array>): Promise<{ hash: string; size: number }> {
    this.assertOpen();
    const parts: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of chunks) {
      parts.push(chunk.slice());
      size += chunk.byteLength;
    }
    const data = new Uint8Array(size);
    let at = 0;
    for (const part of parts) {
      data.set(part, at);
      at += part.byteLength;
    }
    return { hash: await this.putBlob(data), size };
  }

  async getBlob(hash: string): Promise<Uint8Array | undefined> {
    if (!isSha256Hex(hash)) return undefined;
    const value = await this.run(`reading blob ${hash}`, () => this.blobs('readonly', s => promisifyRequest(s.get(hash) as IDBRequest<unknown>)));
    if (value === undefined) return undefined;
    if (value instanceof Uint8Array && (await sha256Hex(value)) === hash) return value;
    this.logger.warn(`[cache] blob ${hash}: removed (content does not match its hash)`);
    await this.deleteBlobs([hash]);
    return undefined;
  }

  deleteBlobs(hashes: readonly string[]): Promise<void> {
    return this.run(`deleting ${hashes.length} blobs`, () =>
      this.blobs('readwrite', s => {
        for (const hash of hashes) s.delete(hash);
        return committed(s.transaction);
      }),
    );
  }

  listBlobs(): Promise<string[]> {
    return this.run('listing blobs', () => this.blobs('readonly', s => promisifyRequest(s.getAllKeys() as IDBRequest<string[]>)));
  }

  clear(): Promise<void> {
    return this.run('clearing', async () => {
      await this.index('readwrite', s => {
        s.clear();
        return committed(s.transaction);
      });
      await this.blobs('readwrite', s => {
        s.clear();
        return committed(s.transaction);
      });
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    try {
      // idb-keyval keeps the connection to itself; a transaction leads back to it.
      const dbs = await Promise.all([this.index('readonly', s => s.transaction.db), this.blobs('readonly', s => s.transaction.db)]);
      for (const db of dbs) db.close();
    } finally {
      this.closed = true;
      this.release(); // only now may another tab open it
    }
  }
}
