// The cached tree of one share: its entries (the index, persisted), what was checked against the server
// and when (freshness, in memory), and the bookkeeping every part of the cache shares — recording what
// the server said (a stat, a listing), forgetting what is gone, keeping each folder's list of children
// in step — with the events the adapters follow. The read/write-through decorator (cachingRemote.ts), the
// offline mutations (localChanges.ts) and the space management (cacheSpace.ts) all work on it.
//
// Coherency rules kept here: what the server says replaces what is cached — except for items made or
// changed here and not uploaded yet (never dropped by what the server says: that is the replay's to
// decide); content whose validator no longer matches is dropped (never old bytes under a new etag); the
// same version (by etag) keeps the mtime first reported for it.
import { ShareError } from '../core/errors';
import { Emitter, type IDisposable } from '../core/events';
import type { Logger } from '../core/log';
import { basename, dirname, isEqualOrParent, joinPath } from '../core/remotePath';
import type { Settings } from '../core/settings';
import { weakEtagEquals } from '../remote/etag';
import type { RemoteEntry, RemoteListing } from '../remote/remoteFs';
import { sameVersion } from '../remote/version';
import { hasValidContent, isLocal, sameMetadata, toRemoteEntry, withoutContent, type CacheEntry } from './cacheEntry';
import type { CacheIndex } from './cacheIndex';

export type RemoteChangeType = 'created' | 'changed' | 'deleted';

export interface RemoteChange {
  readonly type: RemoteChangeType;
  readonly path: string;
}

export class CachedTree implements IDisposable {
  /** When each path was last validated against the server (live state, not persisted). */
  private readonly checked = new Map<string, number>();
  /** When each folder's listing was last taken from the server (a stat does not refresh a listing). */
  private readonly listed = new Map<string, number>();
  /** Changes made here, counted; by path, the count at the last one (a folder: something in it changed). */
  private changes = 0;
  private readonly changedHere = new Map<string, number>();

  /** Changes made on the server by others, found while validating (for watchers). */
  private readonly _onDidChangeRemote = new Emitter<RemoteChange[]>();
  readonly onDidChangeRemote = this._onDidChangeRemote.event;
  /** Paths whose cache state (content, pin, local changes) changed (for decorations). */
  private readonly _onDidChangeCacheState = new Emitter<string[]>();
  readonly onDidChangeCacheState = this._onDidChangeCacheState.event;
  /** Files below a pinned folder that need (new) content. */
  private readonly _onDidNeedPinnedContent = new Emitter<string[]>();
  readonly onDidNeedPinnedContent = this._onDidNeedPinnedContent.event;

  constructor(
    private readonly index: CacheIndex,
    readonly settings: () => Settings,
    readonly log: Logger,
    readonly now: () => number = Date.now,
  ) {}

  // --- queries

  get(path: string): CacheEntry | undefined {
    return this.index.get(path);
  }

  all(): IterableIterator<CacheEntry> {
    return this.index.all();
  }

  get size(): number {
    return this.index.size;
  }

  /** Entries at `path` and below it. */
  subtree(path: string): CacheEntry[] {
    return this.index.subtree(path);
  }

  /** Whether any entry lies strictly below `path`. */
  hasBelow(path: string): boolean {
    return this.index.hasBelow(path);
  }

  /** Pinned itself or below a pinned folder. */
  isPinned(path: string): boolean {
    for (let p = path; ; p = dirname(p)) {
      if (this.index.get(p)?.pinned) return true;
      if (p === '/') return false;
    }
  }

  /** Whether the valid content of `path` is cached. */
  hasContent(path: string): boolean {
    return hasValidContent(this.index.get(path));
  }

  /** Whether `path` was made or changed here and is not on the server yet (or is in conflict). */
  isProvisional(path: string): boolean {
    const e = this.index.get(path);
    return !!e && isLocal(e);
  }

  /** The folders whose listing is cached. */
  cachedFolders(): string[] {
    const out: string[] = [];
    for (const e of this.index.all()) if (e.type === 'directory' && e.children) out.push(e.path);
    return out.sort();
  }

  // --- freshness

  isFresh(path: string): boolean {
    return this.within(this.checked.get(path));
  }

  isListingFresh(path: string): boolean {
    return this.within(this.listed.get(path));
  }

  private within(t: number | undefined): boolean {
    return t !== undefined && this.now() - t < this.settings().freshnessMs;
  }

  /** `path` was just checked against the server. */
  markChecked(path: string, at = this.now()): void {
    this.checked.set(path, at);
  }

  /** Forgets that `path` was validated, so the next access asks the server. */
  invalidate(path: string): void {
    this.checked.delete(path);
    this.listed.delete(path);
    this.changedHere.set(path, ++this.changes);
  }

  /** Where the count of changes made here stands: a listing asked now is older than any change counted later. */
  changeCount(): number {
    return this.changes;
  }

  // --- changing entries (the cache's own parts only)

  set(entry: CacheEntry): void {
    const prev = this.index.get(entry.path);
    if (this.byFileId && prev?.fileId && prev.fileId !== entry.fileId && this.byFileId.get(prev.fileId) === entry.path) this.byFileId.delete(prev.fileId);
    this.index.set(entry);
    if (this.byFileId && entry.fileId) this.byFileId.set(entry.fileId, entry.path);
  }

  update(path: string, change: Partial<Omit<CacheEntry, 'path'>>): CacheEntry | undefined {
    return this.index.update(path, change);
  }

  delete(path: string): void {
    this.changedHere.delete(path);
    const prev = this.index.get(path);
    if (prev?.fileId && prev.type === 'file' && prev.blob) {
      // kept a while: the same item may show up under another name in the next listing
      this.forgottenContent.delete(prev.fileId);
      this.forgottenContent.set(prev.fileId, prev);
      if (this.forgottenContent.size > 10_000) this.forgottenContent.delete(this.forgottenContent.keys().next().value!);
    }
    if (this.byFileId && prev?.fileId && this.byFileId.get(prev.fileId) === path) this.byFileId.delete(prev.fileId);
    this.index.delete(path);
  }

  // --- events

  changed(paths: string[]): void {
    if (paths.length) this._onDidChangeCacheState.fire(paths);
  }

  remoteChanged(changes: RemoteChange[]): void {
    if (changes.length) this._onDidChangeRemote.fire(changes);
  }

  // --- recording what the server said

  /** Merges fresh metadata into the index; returns whether a known item changed. */
  record(r: RemoteEntry): boolean {
    const prev = this.index.get(r.path);
    if (prev && isLocal(prev)) {
      // changed here and not yet uploaded: the local view stands; what the server has is the replay's concern
      return false;
    }
    if (prev && prev.type !== r.type) {
      this.forget(r.path, `became a ${r.type} on the server`);
      return this.record(r) || true;
    }
    // The same version (by etag) keeps the mtime first reported for it: VS Code takes a newer mtime for a
    // change on disk ("the content of the file is newer"), and a save's own mtime is only ours until the
    // server's listing says it to the second.
    const sameEtag = !!prev?.etag && !!r.etag && prev.type === r.type && weakEtagEquals(prev.etag, r.etag);
    const next: CacheEntry = {
      ...prev,
      path: r.path,
      type: r.type,
      size: r.size,
      mtime: sameEtag ? prev.mtime : r.mtime,
      ctime: sameEtag ? prev.ctime : r.ctime,
      etag: r.etag,
      lastAccess: prev?.lastAccess ?? this.now(),
      fileId: r.fileId,
      permissions: r.permissions,
      quota: r.quota,
    };
    if (!prev && r.type === 'file' && r.fileId) {
      // renamed or moved on the server: the same item (same id, same version) keeps its cached content
      const carried = this.contentOfSameItem(r);
      if (carried) {
        this.set({ ...next, ...carried });
        return false;
      }
    }
    const changed = !!prev && (r.type === 'file' ? !sameVersion(prev, r) : false);
    if (prev?.blob && !hasValidContent(next)) {
      this.set(withoutContent(next));
      this._onDidChangeCacheState.fire([r.path]);
      if (this.isPinned(r.path)) this._onDidNeedPinnedContent.fire([r.path]);
    } else if (!prev || !sameMetadata(prev, next)) this.set(next);
    return changed;
  }

  // --- items known by their server id (oc:fileid, DAV:resource-id)

  /** Entries by server id, built on first use and kept in step by set() and delete(). */
  private byFileId?: Map<string, string>;
  /** Content of items forgotten lately (deleted here, or gone from a listing), by server id: a rename seen as delete + create. */
  private readonly forgottenContent = new Map<string, Pick<CacheEntry, 'etag' | 'mtime' | 'size' | 'blob' | 'blobEtag' | 'blobMtime' | 'blobSize' | 'path'>>();

  private fileIds(): Map<string, string> {
    if (!this.byFileId) {
      this.byFileId = new Map();
      for (const e of this.index.all()) if (e.fileId) this.byFileId.set(e.fileId, e.path);
    }
    return this.byFileId;
  }

  /** The cached content of the item with `r`'s server id, at another path, when it is `r`'s version. */
  private contentOfSameItem(r: RemoteEntry): Partial<CacheEntry> | undefined {
    const other = this.fileIds().get(r.fileId!);
    const known = (other && other !== r.path ? this.index.get(other) : undefined) ?? this.forgottenContent.get(r.fileId!);
    if (!known?.blob || known.path === r.path) return undefined;
    const same = known.etag && r.etag ? weakEtagEquals(known.etag, r.etag) : known.mtime === r.mtime && known.size === r.size;
    const valid = known.blobEtag && known.etag ? weakEtagEquals(known.blobEtag, known.etag) : known.blobSize === known.size;
    if (!same || !valid) return undefined;
    this.log.debug(`[cache] ${r.path}: renamed on the server from ${known.path}; its cached content is kept`);
    return { blob: known.blob, blobEtag: r.etag, blobMtime: known.blobMtime, blobSize: known.blobSize };
  }

  /**
   * Records a folder's listing taken from the server, and reports what others changed. A listing asked
   * (`askedAt`, a changeCount()) before a change made here in that folder is dropped: it would undo it.
   */
  recordListing(listing: RemoteListing, askedAt?: number): void {
    const dir = listing.self.path;
    if (askedAt !== undefined && (this.changedHere.get(dir) ?? 0) > askedAt) {
      this.log.debug(`[cache] ${dir}: a listing asked before a change made here is not recorded`);
      return;
    }
    const prev = this.index.get(dir);
    const hadListing = prev?.type === 'directory' && prev.children !== undefined;
    const changes: RemoteChange[] = [];
    this.record(listing.self);
    const now = this.now();
    const names: string[] = [];
    for (const child of listing.children) {
      names.push(basename(child.path));
      const known = this.index.get(child.path);
      if (this.record(child)) changes.push({ type: 'changed', path: child.path });
      else if (!known && hadListing) changes.push({ type: 'created', path: child.path });
      this.checked.set(child.path, now);
    }
    const current = new Set(names);
    for (const old of prev?.children ?? []) {
      if (!current.has(old)) {
        const path = joinPath(dir, old);
        if (this.index.subtree(path).some(isLocal)) {
          names.push(old); // made or changed here, not uploaded yet: keep it
          continue;
        }
        this.forget(path, 'deleted on the server');
        changes.push({ type: 'deleted', path });
      }
    }
    this.index.update(dir, { children: names });
    this.checked.set(dir, now);
    this.listed.set(dir, now);
    if (this.isPinned(dir)) {
      const need = listing.children.filter(c => c.type === 'file' && !hasValidContent(this.index.get(c.path))).map(c => c.path);
      if (need.length) this._onDidNeedPinnedContent.fire(need);
    }
    this.remoteChanged(changes);
  }

  /** The cached listing of a folder. */
  cachedListing(dir: CacheEntry): RemoteListing {
    const children: RemoteEntry[] = [];
    for (const name of dir.children ?? []) {
      const child = this.index.get(joinPath(dir.path, name));
      if (child) children.push(toRemoteEntry(child));
    }
    return { self: toRemoteEntry(dir), children };
  }

  /**
   * Whether a cached listing says `path` does not exist: its parent's, or (when the cache is all we
   * may ask, `freshOnly` false) any ancestor's that lacks the next step towards it.
   */
  listedAbsent(path: string, freshOnly: boolean): boolean {
    for (let child = path, dir = dirname(path); child !== '/'; child = dir, dir = dirname(dir)) {
      const listing = this.index.get(dir);
      if (listing?.children && (!freshOnly || this.isListingFresh(dir))) return !listing.children.includes(basename(child));
      if (freshOnly) return false; // only the parent's fresh listing is proof online
    }
    return false;
  }

  addToParent(path: string): void {
    if (path === '/') return;
    const parent = this.index.get(dirname(path));
    const name = basename(path);
    if (parent?.children && !parent.children.includes(name)) {
      this.index.update(parent.path, { children: [...parent.children, name] });
    }
  }

  removeFromParent(path: string): void {
    if (path === '/') return;
    const parent = this.index.get(dirname(path));
    const name = basename(path);
    if (parent?.children?.includes(name)) {
      this.index.update(parent.path, { children: parent.children.filter(n => n !== name) });
    }
  }

  /**
   * Removes `path` and everything below it from the cache, except what was made or changed here and
   * not uploaded yet (and the folders above it): that is the replay's to decide, never lost here.
   */
  forget(path: string, reason: string, keepLocal = true): void {
    const subtree = this.index.subtree(path);
    const local = keepLocal ? subtree.filter(isLocal) : [];
    const gone = subtree.filter(e => !local.some(l => isEqualOrParent(l.path, e.path)));
    for (const e of gone) {
      this.delete(e.path);
      this.invalidate(e.path);
    }
    if (local.length === 0) this.removeFromParent(path);
    if (gone.length) {
      this.log.debug(`[cache] ${path}: forgotten (${reason})${local.length ? `, keeping ${local.length} items changed here` : ''}`);
      this._onDidChangeCacheState.fire(gone.map(e => e.path));
    }
  }

  dispose(): void {
    this._onDidChangeRemote.dispose();
    this._onDidChangeCacheState.dispose();
    this._onDidNeedPinnedContent.dispose();
  }
}

export function notFound(path: string, why: string): ShareError {
  return new ShareError('NotFound', `${path}: not found (${why})`);
}

export function notAvailableOffline(path: string, cause?: ShareError): ShareError {
  // the server is there but will not be used as it is (a sign-in, an untrusted certificate): the user has
  // to act, not wait for the network — that error says what to do
  if (cause?.reason === 'signin' || cause?.reason === 'tls') return cause;
  return new ShareError(
    'Unavailable',
    `${path} is not available offline: it was never downloaded to this computer. ` +
      'Go online ("WebDAV: Go Online"), and next time keep its folder available offline ("WebDAV: Keep Available Offline").',
    { cause, reason: 'offline' },
  );
}
