// What the cache persists about one item: the share's ONE index is a set of these, keyed by path.
// Live state (freshness, downloads in flight) is kept apart, in memory.
import type { EntryType } from '../remote/remoteFs';

export type EntryState = 'clean' | 'dirty' | 'conflict';

export interface CacheEntry {
  /** Share path (decoded, absolute). The key. */
  readonly path: string;
  readonly type: EntryType;
  readonly size: number;
  readonly mtime: number;
  readonly ctime: number;
  /** The server's validator; undefined when the server gives none (then mtime + size is the fingerprint). */
  readonly etag?: string;
  /** SHA-256 (hex) of the cached content. Files only. */
  readonly blob?: string;
  /**
   * The validator of the cached content, written together with `blob`: the etag the server sent with
   * these bytes, and their mtime and size. The content is current while it matches the entry's own
   * validator (etag, else mtime + size), so old bytes are never served under a newer etag.
   */
  readonly blobEtag?: string;
  readonly blobMtime?: number;
  readonly blobSize?: number;
  /** Names of the children when the folder's listing is cached (folders only). */
  readonly children?: readonly string[];
  /** Last read or write through the cache, ms since the epoch (LRU order). */
  readonly lastAccess: number;
  /** Pinned by the user ("Keep Available Offline"); what lies below inherits it. */
  readonly pinned?: boolean;
  /** clean unless changed offline (dirty) or in conflict; only clean items may be culled. */
  readonly state?: EntryState;
  /**
   * The server version the editor was last given (its content read, or its save landed): what a save
   * names in If-Match. Kept when the server's version moves on, so a save of an editor that still holds
   * the old content conflicts instead of overwriting the newer version.
   */
  readonly seen?: { readonly etag?: string; readonly mtime: number; readonly size: number };
}
