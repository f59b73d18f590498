// Opens the cache of one share over its store: the index, the cached tree, the read/write-through
// decorator, the local changes, the space management, the pinner and the change poller. What the rest of
// the extension gets is OpenCache: named parts and operations, never the index itself. A store is open in
// one window at a time; openStoreWhenFree() waits for it while another window has it.
import type { Logger } from '../core/log';
import type { Settings } from '../core/settings';
import type { RemoteFs } from '../remote/remoteFs';
import { CachedTree } from './cachedTree';
import { CacheIndex } from './cacheIndex';
import { CacheSpace } from './cacheSpace';
import { CachingRemote } from './cachingRemote';
import { ChangePoller } from './changePoller';
import { LocalChanges } from './localChanges';
import { Pinner } from './pinner';
import { StoreBusyError, type ShareStore, type ShareStores } from './shareStore';

/** Per-share values (offline by hand, the server's capabilities), committed with the index. */
export type ShareValues = Pick<CacheIndex, 'getMeta' | 'setMeta'>;

/** Named tables of records (the journal, the conflicts, the recovered files), committed with the index. */
export type ShareRecords = Pick<CacheIndex, 'loadTable' | 'putRecord' | 'deleteRecord' | 'flush'>;

export interface OpenCache {
  readonly settings: () => Settings;
  /** What is cached and what changed here (queries, events). */
  readonly tree: CachedTree;
  /** Reads and writes through the cache. */
  readonly remote: CachingRemote;
  /** Changes made here, applied to the tree; content and blobs. */
  readonly local: LocalChanges;
  /** Pins, usage, culling, "cache full". */
  readonly space: CacheSpace;
  readonly pinner: Pinner;
  readonly poller: ChangePoller;
  readonly values: ShareValues;
  readonly records: ShareRecords;
  /** Registers another holder of blobs (the journal, the conflicts, the recovery area) for garbage collection. */
  addBlobHolder(holder: () => Iterable<string>): void;
  /** Deletes blobs nothing references; call once every holder is registered. */
  collectGarbage(): Promise<void>;
  dispose(): Promise<void>;
}

/** How an opener waits while another window has the share's store open. */
export interface CacheWait {
  /** Aborts the wait (the share is closed). */
  readonly signal: AbortSignal;
  /** The store is open in another window (`holder`, for people): the opener waits for it now. */
  busy(holder: string): void;
}

/**
 * Opens a share's cache over `remote`. With `wait`, an opener whose store is open in another window
 * waits for it (telling `wait.busy`) and resolves once it got it; without, it rejects (StoreBusyError).
 */
export type OpenShareCache = (remote: RemoteFs, wait?: CacheWait) => Promise<OpenCache | undefined>;

/** Opens the store of `shareId`; while another window has it open, says so and waits for it (with `wait`). */
export async function openStoreWhenFree(stores: ShareStores, shareId: string, wait?: CacheWait): Promise<ShareStore> {
  for (;;) {
    try {
      return await stores.open(shareId);
    } catch (err) {
      if (!wait || !(err instanceof StoreBusyError)) throw err;
      wait.busy(err.holder);
      await stores.whenFree(shareId, wait.signal);
    }
  }
}

export async function openCache(
  store: ShareStore,
  remote: RemoteFs,
  settings: () => Settings,
  log: Logger,
  now: () => number = Date.now,
): Promise<OpenCache> {
  const t0 = Date.now();
  const index = await CacheIndex.load(store, log).catch(async (err: unknown) => {
    await store.close().catch(() => undefined); // not kept locked: another window may do better
    throw err;
  });
  log.info(`[cache] index loaded: ${index.size} entries in ${Date.now() - t0} ms`);
  const tree = new CachedTree(index, settings, log, now);
  const space = new CacheSpace(tree, index);
  const caching = new CachingRemote(remote, tree, space, index);
  const local = new LocalChanges(tree, index);
  const pinner = new Pinner(caching, tree, space, () => index.flush(), settings, log);
  const poller = new ChangePoller(caching, tree, settings, log);
  return {
    settings,
    tree,
    remote: caching,
    local,
    space,
    pinner,
    poller,
    values: index,
    records: index,
    addBlobHolder: holder => index.addBlobHolder(holder),
    async collectGarbage() {
      // blobs of a crash or of culled content nobody references any more
      await index.collectGarbage().then(
        n => n && log.info(`[cache] removed ${n} unreferenced blobs`),
        err => log.warn(`[cache] garbage collection failed (${(err as Error).message})`),
      );
    },
    async dispose() {
      caching.background.close();
      poller.dispose();
      pinner.dispose();
      space.dispose();
      tree.dispose();
      await index.dispose();
      await store.close();
    },
  };
}
