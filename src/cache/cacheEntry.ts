// What the cache persists about one item: the share's ONE index is a set of these, keyed by path, and
// the rules that read an entry (is it local, is its content valid). Live state (freshness, downloads in
// flight) is kept apart, in memory (cache/cachedTree.ts).
import { weakEtagEquals } from '../remote/etag';
import type { EntryType, Permissions, RemoteEntry } from '../remote/remoteFs';

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
  /**
   * The listing was learnt by the background walk of the whole tree (treeLearner.ts) and the folder was
   * never opened here: it is kept fresh by the walk's slow rounds, not by the watcher's polls or the
   * reconnect's directory diff, which re-list the folders opened here.
   */
  readonly learned?: boolean;
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
  /** The server's stable id (oc:fileid, DAV:resource-id): a rename on the server keeps the cached content. */
  readonly fileId?: string;
  /** What the user may do, when the server says (Nextcloud's oc:permissions, RFC 3744). */
  readonly permissions?: Permissions;
  /** The storage quota the server gives for a folder, bytes. */
  readonly quota?: { readonly available?: number; readonly used?: number };
}

// --- the rules of an entry (one place each)

/** Made or changed here and not yet on the server (dirty or in conflict): never culled, never overwritten. */
export function isLocal(e: CacheEntry): boolean {
  return (e.state ?? 'clean') !== 'clean';
}

/** True when the cached bytes belong to the entry's current validator (or were made here). */
export function hasValidContent(e: CacheEntry | undefined): boolean {
  if (!e?.blob) return false;
  if (isLocal(e)) return true; // changed here: the local content is what counts
  if (e.etag && e.blobEtag) return weakEtagEquals(e.etag, e.blobEtag);
  return e.blobMtime === e.mtime && e.blobSize === e.size;
}

/** The fields that say which content is cached, cleared. */
export const withoutContentFields = { blob: undefined, blobEtag: undefined, blobMtime: undefined, blobSize: undefined } as const;

/** The entry without its content (the metadata stays). */
export function withoutContent(e: CacheEntry): CacheEntry {
  const { blob: _b, blobEtag: _e, blobMtime: _m, blobSize: _s, ...rest } = e;
  return rest;
}

export function toRemoteEntry(e: CacheEntry): RemoteEntry {
  return {
    path: e.path,
    type: e.type,
    size: e.size,
    mtime: e.mtime,
    ctime: e.ctime,
    etag: e.etag,
    ...(e.fileId ? { fileId: e.fileId } : {}),
    ...(e.permissions ? { permissions: e.permissions } : {}),
    ...(e.quota ? { quota: e.quota } : {}),
  };
}

/** Whether the user may do `what` with the item (true where the server does not say). */
export function allows(e: CacheEntry | RemoteEntry | undefined, what: keyof Permissions): boolean {
  return e?.permissions?.[what] ?? true;
}

/** Whether the server's metadata of `b` is what `a` records already (nothing to write). */
export function sameMetadata(a: CacheEntry, b: CacheEntry): boolean {
  return (
    a.size === b.size &&
    a.mtime === b.mtime &&
    a.ctime === b.ctime &&
    a.etag === b.etag &&
    a.type === b.type &&
    a.fileId === b.fileId &&
    JSON.stringify(a.permissions) === JSON.stringify(b.permissions) &&
    JSON.stringify(a.quota) === JSON.stringify(b.quota)
  );
}
