// The process that test/conformance/offlineCrash.test.ts kills (SIGKILL) at a random moment. It opens a
// Share with a disk cache against the parent's nephele server, exactly as the extension does (the same
// code as test/conformance/offline.test.ts), and:
//   - on a fresh cache (`warm`): reads every folder and file (so they are cached), goes offline by hand
//     and waits until that choice is committed;
//   - on a cache a killed child left: opening it runs the journal's crash recovery; the share must come
//     up offline by hand;
// then reads the whole tree from the cache, prints it, and makes offline changes in a loop until killed:
// saves (the same file again and again too, so they collapse), creates, new folders, deletes, renames
// and copies (overwriting some), with contents naming their path and a counter.
// The store is wrapped to say when content is stored and when batches are committed; the logger says
// when recovery applies or rolls back an intent. Every line is written synchronously, so a line out
// means the step before it is done (and a kill may land right after it):
//   opening | recovering <log line> | opened <connection state json> | offline | tree <json> | changing
//   begin <op json> | blob | blob-done | commit <intent|journal|other> | committed <…> | ack <op json>
//   gc <n> | gc-done
//   node offlineCrashChild.js '<config json>'
import { DEFAULTS, type Settings } from '../../src/core/settings';
import type { ShareLocation } from '../../src/core/shareLocation';
import { DiskShareStores } from '../../src/platform/diskShareStore';
import { WebdavRemote } from '../../src/remote/webdavRemote';
import { Share } from '../../src/share/share';
import { openCache } from '../../src/cache/openCache';
import { seededRandom } from '../unit/shareStore.suite';
import { Chooser, runOp, SHARE_ID, walk } from './offlineCrashModel';
import { logger, say, TracingStore } from './tracingStore';


export interface ChildConfig {
  /** Root of the cache storage (DiskShareStores). */
  readonly cacheRoot: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly seed: number;
  /** The counter of the first save (every session of a chain has its own range). */
  readonly counter: number;
  /** A fresh cache: read everything online first, then go offline by hand. */
  readonly warm: boolean;
}

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

async function main(config: ChildConfig): Promise<void> {
  const random = seededRandom(config.seed);
  const settings: Settings = { ...DEFAULTS, pollIntervalMs: 0 };
  const location: ShareLocation = { scheme: 'dav', authority: `127.0.0.1:${config.port}`, basePath: '/share' };
  const credentials = { username: config.user, password: config.password };
  const auth = { stored: async () => credentials, ask: async () => undefined, save: async () => undefined };
  let store: TracingStore | undefined;
  say('opening');
  const share = new Share(location, new WebdavRemote(location, () => settings, logger), auth, logger, async remote => {
    store = new TracingStore(await new DiskShareStores(config.cacheRoot).open(SHARE_ID));
    return openCache(store, remote, () => settings, logger);
  });
  if (!(await share.hasCache()) || !store) fail('the share opened without its cache');
  say(`opened ${JSON.stringify(share.connectionState)}`);
  if (config.warm) {
    await walk(share); // online: every folder listed, every file read, so all of it is cached
    const durable = store.committed(b => b.meta?.offlineByHand === true);
    await share.goOffline();
    await durable;
    say('offline');
  } else {
    const state = share.connectionState;
    if (state?.kind !== 'offline' || !state.manual) fail(`a cache left offline by hand opened ${JSON.stringify(state)}`);
  }
  const seen = await walk(share);
  say(`tree ${JSON.stringify(Object.fromEntries([...seen].map(([p, n]) => [p, n.sha1 ?? 'dir'])))}`);
  const chooser = new Chooser(new Map([...seen].map(([p, n]) => [p, n.type])), random);
  say('changing');
  for (let c = config.counter; ; c++) {
    const op = chooser.next(c);
    const line = JSON.stringify(op);
    say(`begin ${line}`);
    try {
      await runOp(share, op);
    } catch (err) {
      fail(`${line} failed: ${err instanceof Error ? err.stack : String(err)}`);
    }
    chooser.done(op);
    say(`ack ${line}`);
  }
}

if (require.main === module) {
  main(JSON.parse(process.argv[2]) as ChildConfig).catch(err => fail(err instanceof Error ? (err.stack ?? err.message) : String(err)));
}
