// Opening a share's cache on a disk store in a test folder, as the extension does under its storage.
import type { Logger } from '../../src/core/log';
import type { Settings } from '../../src/core/settings';
import { DiskShareStores } from '../../src/platform/diskShareStore';
import { openCache, type OpenShareCache } from '../../src/cache/openCache';

export function diskCache(folder: string, settings: () => Settings, log: Logger, now?: () => number, shareId = 'share'): OpenShareCache {
  return async remote => openCache(await new DiskShareStores(folder).open(shareId), remote, settings, log, now);
}
