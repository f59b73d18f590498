// Store faults for the write-fault trials: a ShareStore wrapper around the real DiskShareStore that fails
// the n-th `commit` or `putBlob` after arming with the error the disk store gives for a full disk (ENOSPC)
// or a read-only file system (EROFS) — the same DiskStoreError, code and message (diskError) the product
// meets when the disk really fills up. The failing call writes nothing (the disk refused before the first
// byte); `sticky` keeps failing every later call of that kind until disarm() (a disk that stays full).
// Opened like test/support/cachedShare.ts's diskCache, with the wrapper handed to the test.
import type { CacheEntry } from '../../src/cache/cacheEntry';
import type { IndexBatch, ShareStore, StoredRecord } from '../../src/cache/shareStore';
import type { Logger } from '../../src/core/log';
import type { Settings } from '../../src/core/settings';
import { DiskShareStores, diskError } from '../../src/platform/diskShareStore';
import { openCache, type OpenShareCache } from '../../src/cache/openCache';

export type StoreFaultOp = 'commit' | 'putBlob';
export type StoreFaultCode = 'ENOSPC' | 'EROFS';

export interface StoreFault {
  readonly op: StoreFaultOp;
  /** The n-th call of `op` after arming fails (1-based). */
  readonly nth: number;
  readonly code: StoreFaultCode;
  /** Every later call of `op` fails too, until disarm(). */
  readonly sticky?: boolean;
}

const SYSTEM_MESSAGES: Record<StoreFaultCode, string> = {
  ENOSPC: 'ENOSPC: no space left on device, write',
  EROFS: 'EROFS: read-only file system, open',
};

export class FaultyStore implements ShareStore {
  private fault?: StoreFault;
  private seen = 0;
  /** What failed since the last arm(), in words. */
  readonly events: string[] = [];
  /** Calls since the store opened, by kind. */
  readonly calls = { commit: 0, putBlob: 0 };

  constructor(private readonly inner: ShareStore) {}

  arm(fault: StoreFault): void {
    this.fault = fault;
    this.seen = 0;
    this.events.length = 0;
  }

  disarm(): void {
    this.fault = undefined;
  }

  /** Whether the armed fault has hit a call. */
  get fired(): boolean {
    return this.events.length > 0;
  }

  /** Whether this call of `op` fails; counts it. */
  private fails(op: StoreFaultOp): boolean {
    const f = this.fault;
    if (!f || f.op !== op) return false;
    this.seen++;
    return this.seen === f.nth || (!!f.sticky && this.seen > f.nth);
  }

  private failure(op: StoreFaultOp, what: string) {
    const code = this.fault!.code;
    this.events.push(`${op} #${this.seen} (${what}) failed with ${code}`);
    const sys = Object.assign(new Error(SYSTEM_MESSAGES[code]), { code, errno: code === 'ENOSPC' ? -28 : -30, syscall: 'write' });
    return diskError(sys, op === 'commit' ? 'appending to the index log' : 'writing a blob');
  }

  commit(batch: IndexBatch): Promise<void> {
    this.calls.commit++;
    if (this.fails('commit')) return Promise.reject(this.failure('commit', describeBatch(batch)));
    return this.inner.commit(batch);
  }

  putBlob(data: Uint8Array): Promise<string> {
    this.calls.putBlob++;
    if (this.fails('putBlob')) return Promise.reject(this.failure('putBlob', `${data.byteLength} bytes`));
    return this.inner.putBlob(data);
  }

  putBlobStream(chunks: AsyncIterable<Uint8Array>): Promise<{ hash: string; size: number }> {
    this.calls.putBlob++;
    if (this.fails('putBlob')) return Promise.reject(this.failure('putBlob', 'a download'));
    return this.inner.putBlobStream(chunks);
  }

  loadIndex(): Promise<CacheEntry[]> {
    return this.inner.loadIndex();
  }
  loadTable(table: string): Promise<StoredRecord[]> {
    return this.inner.loadTable(table);
  }
  loadMeta(): Promise<Record<string, unknown>> {
    return this.inner.loadMeta();
  }
  getBlob(hash: string): Promise<Uint8Array | undefined> {
    return this.inner.getBlob(hash);
  }
  deleteBlobs(hashes: readonly string[]): Promise<void> {
    return this.inner.deleteBlobs(hashes);
  }
  listBlobs(): Promise<string[]> {
    return this.inner.listBlobs();
  }
  clear(): Promise<void> {
    return this.inner.clear();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/** What a batch holds, briefly: entries put and deleted, journal records. */
export function describeBatch(batch: IndexBatch): string {
  const parts = [`${batch.put.length} put`, `${batch.delete.length} deleted`];
  for (const [table, change] of Object.entries(batch.tables ?? {})) {
    const states = (change.put ?? []).map(r => (r as { state?: string }).state ?? 'record');
    parts.push(`${table}: ${states.length ? states.join('+') : ''}${change.delete?.length ? ` −${change.delete.length}` : ''}`.trim());
  }
  if (batch.meta) parts.push(`meta ${Object.keys(batch.meta).join(',')}`);
  return parts.join(', ');
}

/** diskCache (cachedShare.ts) over a FaultyStore; `opened` receives the wrapper once the store is open. */
export function faultyDiskCache(folder: string, settings: () => Settings, log: Logger, opened: (store: FaultyStore) => void, shareId = 'share'): OpenShareCache {
  return async remote => {
    const store = new FaultyStore(await new DiskShareStores(folder).open(shareId));
    opened(store);
    return openCache(store, remote, settings, log);
  };
}
