// Durable storage of one share's cache: the index and the content blobs. Two backends implement it:
// on disk in the Node extension host (platform/diskShareStore.ts) and in IndexedDB in the browser
// (platform/idbShareStore.ts); the same test suite runs against both.
import type { CacheEntry } from './cacheEntry';

/** A record of a named table (the offline journal, the recovery area): opaque JSON with a numeric id. */
export interface StoredRecord {
  readonly id: number;
}

export interface TableChange {
  /** Records added or replaced (by id). */
  readonly put?: readonly StoredRecord[];
  /** Ids of records removed. */
  readonly delete?: readonly number[];
}

/** One atomic commit. Within a batch, deletes apply before puts. */
export interface IndexBatch {
  readonly put: readonly CacheEntry[];
  /** Paths whose entries are removed. */
  readonly delete: readonly string[];
  /** Changes to named tables (e.g. `journal`, `recovery`), in the same atomic commit. */
  readonly tables?: Readonly<Record<string, TableChange>>;
  /** Per-share values set in the same commit (JSON); a value of `null` removes the key. */
  readonly meta?: Readonly<Record<string, unknown>>;
}

export interface ShareStore {
  /** Every entry as last committed. Reads no blob. */
  loadIndex(): Promise<CacheEntry[]>;
  /** The records of a named table as last committed, in ascending id order. */
  loadTable(table: string): Promise<StoredRecord[]>;
  /** The per-share values as last committed. */
  loadMeta(): Promise<Record<string, unknown>>;
  /** Applies the batch atomically and durably: after a crash, all of it or none of it is there. */
  commit(batch: IndexBatch): Promise<void>;
  /** Stores content and resolves with its SHA-256 (hex) once it is durable. Storing the same bytes twice is a no-op. */
  putBlob(data: Uint8Array): Promise<string>;
  /**
   * Stores content as it arrives (a download), hashing on the way; resolves with its hash and size once
   * durable. Nothing is left under any name when the chunks fail (the error is rethrown).
   */
  putBlobStream(chunks: AsyncIterable<Uint8Array>): Promise<{ readonly hash: string; readonly size: number }>;
  /** The content with this hash, verified against the hash; undefined when missing or damaged. */
  getBlob(hash: string): Promise<Uint8Array | undefined>;
  /**
   * The content with this hash as it is read (an upload of a big file), its last chunk held back until
   * the whole was verified against the hash (a damaged blob fails the read, so a body sent from it
   * never completes); undefined when missing. Optional: the disk store has it.
   */
  openBlob?(hash: string): Promise<BlobReader | undefined>;
  /** Downloads that were cut, kept to resume (optional: the disk store keeps them; IndexedDB does not). */
  readonly partials?: PartialDownloads;
  deleteBlobs(hashes: readonly string[]): Promise<void>;
  /** Hashes of every stored blob (to collect the ones no entry references). */
  listBlobs(): Promise<string[]>;
  /** Removes everything this store holds. */
  clear(): Promise<void>;
  close(): Promise<void>;
}

/** A blob read as a stream: its size, and a fresh read of its bytes each time `chunks()` is called. */
export interface BlobReader {
  readonly size: number;
  chunks(): AsyncIterable<Uint8Array>;
}

/**
 * What arrived of downloads that were cut, one per server path, tied to the version it is of (its
 * validator: a strong etag, or the Last-Modified date) and bounded in number and bytes. A download of
 * the same version resumes after those bytes; another version drops them.
 */
export interface PartialDownloads {
  /**
   * Takes the partial of `path` for one download (undefined while another download of it holds it):
   * the bytes kept and their validator, after dropping a partial `current` says is of another version.
   */
  take(path: string, current: (validator: string) => boolean): Promise<PartialDownload | undefined>;
  /** Drops the partials of paths `keep` refuses (garbage collection: gone from the cache). */
  retain(keep: (path: string) => boolean): Promise<void>;
}

export interface PartialDownload {
  /** Bytes kept (0: none). */
  readonly size: number;
  /** The version they are of (empty when none are kept). */
  readonly validator: string;
  /**
   * Stores the blob: the first `from` bytes kept (0: start over; they are read again to seed the hash)
   * then `chunks`; resolves as putBlobStream, the partial gone. When the chunks fail with an error
   * `keep` accepts (a cut connection, not a refused answer), what arrived is kept under `validator`
   * (when given) for the next download; the error is rethrown. Releases the hold.
   */
  put(
    from: number,
    validator: string | undefined,
    chunks: AsyncIterable<Uint8Array>,
    keep: (err: unknown) => boolean,
  ): Promise<{ readonly hash: string; readonly size: number }>;
  /** Releases the hold without storing (the request failed before any byte); `drop`: forget the bytes kept. */
  release(drop?: boolean): Promise<void>;
}

/**
 * A failure of a store, with a code to act on. Both backends use the same codes:
 *   ENOSPC        no room: a full disk (ENOSPC), an exhausted disk quota (EDQUOT), the browser's storage
 *                 quota (QuotaExceededError), or a write transaction the browser aborted
 *   EROFS, EACCES, EPERM   the cache folder cannot be written (read-only file system, permissions)
 *   EINVAL        the batch itself cannot be stored (nothing of it is applied)
 *   others        the system's code (EIO, …)
 * Nothing of a failed commit is applied, and the store goes on working once the cause is gone.
 */
export class CacheStoreError extends Error {
  readonly code: string;
  constructor(message: string, code: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'CacheStoreError';
    this.code = code;
  }
}

/**
 * open() of a store another window (or browser tab) has open: code EBUSY. A store is open in one window at
 * a time; `holder` says which, for people ("another window (process 1234)").
 */
export class StoreBusyError extends CacheStoreError {
  constructor(
    message: string,
    readonly holder: string,
  ) {
    super(message, 'EBUSY');
    this.name = 'StoreBusyError';
  }
}

/** Where the stores of every share live (a folder on disk, IndexedDB): opens one by its share's id. */
export interface ShareStores {
  /**
   * Opens (creating if needed) the store of the share with this id (a hash of its address). Rejects with
   * a StoreBusyError when another window has it open.
   */
  open(shareId: string): Promise<ShareStore>;
  /**
   * Resolves once the store of this share, open in another window, may be opened here: that window closed
   * it or ended (then open() again — a third window may have been faster). Rejects with the signal's
   * reason when `signal` aborts.
   */
  whenFree(shareId: string, signal: AbortSignal): Promise<void>;
}
