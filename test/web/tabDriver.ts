// A browser tab's VS Code window on a share, for test/web/twoTabs.test.ts: runs in a dedicated worker of
// a page (as the web-worker extension host does) and opens a Share exactly as extension.web.ts does — the
// cache in IndexedDB (IdbShareStores), opened through openStoreWhenFree, so that a tab whose cache another
// tab has open waits for it (a Web Lock) — against a nephele share on 127.0.0.1 (CORS). Bundled for the
// browser by the test. Commands come as messages {id, cmd, args}; answers go back as {id, result | error};
// events as {event}: `status <cache status json>`, `begin <n>`, `ack <n>`.
import { openCache, openStoreWhenFree } from '../../src/cache/openCache';
import type { Logger } from '../../src/core/log';
import { DEFAULTS, type Settings } from '../../src/core/settings';
import type { ShareLocation } from '../../src/core/shareLocation';
import { IdbShareStores } from '../../src/platform/idbShareStore';
import { WebdavRemote } from '../../src/remote/webdavRemote';
import { Share } from '../../src/share/share';
import { changeOf } from './tabChanges';

declare function postMessage(message: unknown): void;

const settings: Settings = { ...DEFAULTS, pollIntervalMs: 0 };
const say = (event: string) => postMessage({ event });
const logger: Logger = {
  trace() {},
  debug() {},
  info() {},
  warn: m => console.warn(m),
  error: m => console.error(m),
};
const noAuth = { stored: async () => undefined, ask: async () => undefined, save: async () => undefined };
let share: Share | undefined;
let stop = false;

const open = (): Share => {
  if (!share) throw new Error('not opened');
  return share;
};

const commands: Record<string, (...args: any[]) => unknown> = {
  open(port: number, prefix: string) {
    const location: ShareLocation = { scheme: 'dav', authority: `127.0.0.1:${port}`, basePath: '/share' };
    const stores = new IdbShareStores({ prefix, logger });
    share = new Share(
      location,
      new WebdavRemote(location, () => settings, logger),
      noAuth,
      logger,
      async (remote, wait) => openCache(await openStoreWhenFree(stores, 'share', wait), remote, () => settings, logger),
      undefined,
      { cacheWaitMs: 200 },
    );
    say(`status ${JSON.stringify(share.cacheStatus)}`);
    share.onDidChangeCacheStatus(s => say(`status ${JSON.stringify(s)}`));
  },
  state() {
    return { cache: open().cacheStatus, connection: open().connectionState };
  },
  async hasCache() {
    return open().hasCache();
  },
  async list(path: string) {
    return (await open().readDirectory(path)).map(([name]) => name).sort();
  },
  /** Every file of the share's root folder (the changes go there): name → content. */
  async files() {
    const out: Record<string, string> = {};
    for (const [name, type] of await open().readDirectory('/')) {
      if (type === 'file') out[name] = new TextDecoder().decode(await open().readFile(`/${name}`));
    }
    return out;
  },
  async goOffline() {
    await open().goOffline();
  },
  async goOnline() {
    const s = open();
    const ok = await s.goOnline();
    return { ok, pending: (await s.pendingChanges()).length, conflicts: (await s.conflicts()).map(c => `${c.kind} ${c.path}`) };
  },
  /** Changes first, first + 1, … one after another, until `count` are done or the tab ends. */
  async change(tab: string, first: number, count: number) {
    stop = false;
    for (let n = first; n < first + count && !stop; n++) {
      const c = changeOf(tab, n);
      say(`begin ${n}`);
      await open().writeFile(c.path, new TextEncoder().encode(c.content), { create: c.create, overwrite: !c.create });
      say(`ack ${n}`);
      await new Promise(r => setTimeout(r, 20));
    }
  },
  stop() {
    stop = true;
  },
  async close() {
    await open().dispose();
    share = undefined;
  },
};

addEventListener('message', (e: Event) => {
  const { id, cmd, args } = (e as MessageEvent<{ id: number; cmd: string; args: unknown[] }>).data;
  Promise.resolve()
    .then(() => commands[cmd](...args))
    .then(
      result => postMessage({ id, result }),
      (err: unknown) => postMessage({ id, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
    );
});
