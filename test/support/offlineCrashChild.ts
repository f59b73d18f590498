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
import { DiskShareStores } from '../../src/platform/diskShareStore';
import { WebdavRemote } from '../../src/remote/webdavRemote';
import { Share } from '../../src/share/share';
import { openCache } from '../../src/cache/openCache';
import { seededRandom } from '../unit/shareStore.suite';
import { SHARE_ID } from './offlineCrashModel';
import { change, childShare, fail, logger, offlineTree, say, TracingStore, type ChildConfig } from './crashChild';

export type { ChildConfig } from './crashChild';

async function main(config: ChildConfig): Promise<void> {
  const random = seededRandom(config.seed);
  const { settings, location, auth } = childShare(config);
  let store: TracingStore | undefined;
  say('opening');
  const share = new Share(location, new WebdavRemote(location, () => settings, logger), auth, logger, async remote => {
    store = new TracingStore(await new DiskShareStores(config.cacheRoot).open(SHARE_ID));
    return openCache(store, remote, () => settings, logger);
  });
  if (!(await share.hasCache()) || !store) fail('the share opened without its cache');
  say(`opened ${JSON.stringify(share.connectionState)}`);
  const chooser = await offlineTree(share, store, config, random);
  say('changing');
  for (let c = config.counter; ; c++) await change(share, chooser, c);
}

if (require.main === module) {
  main(JSON.parse(process.argv[2]) as ChildConfig).catch(err => fail(err instanceof Error ? (err.stack ?? err.message) : String(err)));
}
