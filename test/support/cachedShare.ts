// Opening a share's cache on a disk store in a test folder, as the extension does under its storage: a
// store another share (window) has open is waited for (openStoreWhenFree), its lock looked at every 50 ms.
import type { Logger } from '../../src/core/log';
import type { Settings } from '../../src/core/settings';
import { DiskShareStores } from '../../src/platform/diskShareStore';
import { openCache, openStoreWhenFree, type OpenShareCache } from '../../src/cache/openCache';

export function diskCache(folder: string, settings: () => Settings, log: Logger, now?: () => number, shareId = 'share'): OpenShareCache {
  const stores = new DiskShareStores(folder, { lockPollMs: 50 });
  return async (remote, wait) => openCache(await openStoreWhenFree(stores, shareId, wait), remote, settings, log, now);
}
