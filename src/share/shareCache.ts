// Opens the cache parts of one share over its store: index, caching remote, pinner, change poller.
import { CacheIndex } from '../cache/cacheIndex';
import { CachingRemote } from '../cache/cachingRemote';
import { ChangePoller } from '../cache/changePoller';
import { Pinner } from '../cache/pinner';
import type { ShareStore } from '../cache/shareStore';
import type { Logger } from '../core/log';
import type { Settings } from '../core/settings';
import type { RemoteFs } from '../remote/remoteFs';

export interface ShareCache {
  readonly settings: () => Settings;
  readonly remote: CachingRemote;
  readonly pinner: Pinner;
  readonly poller: ChangePoller;
  /** Deletes blobs nothing references; call once every holder (journal, conflicts, recovery) is registered. */
  collectGarbage(): Promise<void>;
  dispose(): Promise<void>;
}

export type OpenShareCache = (remote: RemoteFs) => Promise<ShareCache | undefined>;

export async function openShareCache(
  store: ShareStore,
  remote: RemoteFs,
  settings: () => Settings,
  log: Logger,
  now: () => number = Date.now,
): Promise<ShareCache> {
  const t0 = Date.now();
  const index = await CacheIndex.load(store, log);
  log.info(`[cache] index loaded: ${index.size} entries in ${Date.now() - t0} ms`);
  const caching = new CachingRemote(remote, index, settings, log, now);
  const pinner = new Pinner(caching, settings, log);
  const poller = new ChangePoller(caching, settings, log);
  return {
    settings,
    remote: caching,
    pinner,
    poller,
    async collectGarbage() {
      // blobs of a crash or of culled content nobody references any more
      await index.collectGarbage().then(
        n => n && log.info(`[cache] removed ${n} unreferenced blobs`),
        err => log.warn(`[cache] garbage collection failed (${(err as Error).message})`),
      );
    },
    async dispose() {
      poller.dispose();
      pinner.dispose();
      await caching.dispose();
      await store.close();
    },
  };
}
