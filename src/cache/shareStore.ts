// Durable storage of one share's cache: the index and the content blobs. Two backends implement it:
// on disk in the Node extension host (platform/diskShareStore.ts) and in IndexedDB in the browser
// (platform/idbShareStore.ts); the same test suite runs against both.
import type { CacheEntry } from './cacheEntry';

export interface IndexBatch {
  readonly put: readonly CacheEntry[];
  /** Paths whose entries are removed. */
  readonly delete: readonly string[];
}

export interface ShareStore {
  /** Every entry as last committed. Reads no blob. */
  loadIndex(): Promise<CacheEntry[]>;
  /** Applies the batch atomically and durably: after a crash, all of it or none of it is there. */
  commit(batch: IndexBatch): Promise<void>;
  /** Stores content and resolves with its SHA-256 (hex) once it is durable. Storing the same bytes twice is a no-op. */
  putBlob(data: Uint8Array): Promise<string>;
  /** The content with this hash, verified against the hash; undefined when missing or damaged. */
  getBlob(hash: string): Promise<Uint8Array | undefined>;
  deleteBlobs(hashes: readonly string[]): Promise<void>;
  /** Hashes of every stored blob (to collect the ones no entry references). */
  listBlobs(): Promise<string[]>;
  /** Removes everything this store holds. */
  clear(): Promise<void>;
  close(): Promise<void>;
}

export interface CacheStorage {
  /** Opens (creating if needed) the store of the share with this id (a hash of its address). */
  open(shareId: string): Promise<ShareStore>;
}
