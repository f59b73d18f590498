// The caches kept on this computer, also those of shares that are not open in this window: what the
// WebDAV view lists under "Caches" (size, last use) and what it deletes when a share is removed with
// its cache. Two backends, like the stores themselves: folders on disk (platform/diskCaches.ts) and
// IndexedDB databases in the browser (platform/idbCaches.ts). A cache is named by its share's id (a
// hash of the address), never by the address: which share an id belongs to is remembered by the UI.

/** One share's cache as it lies in storage. */
export interface StoredCache {
  /** The share's id (the folder or database name). */
  readonly id: string;
  /** Bytes it takes: every file on disk; in the browser, its cached contents (IndexedDB gives no sizes). */
  readonly bytes: number;
  /** When it was last used, ms since the epoch (undefined when storage does not tell). */
  readonly lastUsed?: number;
}

export interface StoredCaches {
  /** Every cache in storage, in no particular order. */
  list(): Promise<StoredCache[]>;
  /**
   * Deletes a cache with everything in it — also changes not uploaded yet. Refuses with a
   * CacheStoreError of code EBUSY while another window (or this process) has it open.
   */
  remove(id: string): Promise<void>;
}
