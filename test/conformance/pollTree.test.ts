// A polling round against real servers: where the server answers PROPFIND `Depth: infinity` (nephele,
// rclone), a tree watched recursively is re-listed in one request; where it refuses (Apache, lighttpd),
// folder by folder. Either way a file made, changed or deleted three levels down is told, once.
import * as assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RemoteChange } from '../../src/cache/cachedTree';
import type { OpenCache } from '../../src/cache/openCache';
import { DEFAULTS, type Settings } from '../../src/core/settings';
import type { ShareLocation } from '../../src/core/shareLocation';
import { WebdavRemote } from '../../src/remote/webdavRemote';
import { Share } from '../../src/share/share';
import { diskCache } from '../support/cachedShare';
import type { RunningServer } from '../support/nepheleServer';
import { RecordingLogger } from '../support/recordingLogger';
import { assertServerInstalled, handToServer, printServerLogIfFailed, SERVER_KINDS, tempFolder, USERS } from '../support/servers';

const GOOD = { username: 'alice', password: USERS.alice };
const auth = { stored: async () => GOOD, ask: async () => undefined, save: async () => undefined };

for (const kind of SERVER_KINDS) {
  suite(`conformance: polling a watched tree on ${kind.name}`, function () {
    this.timeout(30_000);
    let disk: ReturnType<typeof tempFolder>;
    let server: RunningServer;
    let cacheDir: ReturnType<typeof tempFolder>;
    let share: Share | undefined;

    suiteSetup(async () => {
      assertServerInstalled(kind.name);
      disk = tempFolder(`wdo-poll-${kind.name}-`);
      server = await kind.start({ root: disk.path, mount: '/share', users: USERS });
    });
    suiteTeardown(async function () {
      printServerLogIfFailed(this, server);
      await server?.close();
      disk?.remove();
    });
    teardown(async () => {
      await share?.dispose();
      cacheDir?.remove();
    });

    test('one round tells what others made, changed and deleted three levels down; one request where Depth: infinity is answered', async () => {
      const on = (rel: string) => join(disk.path, 'tree', rel);
      for (const d of ['a/x', 'a/y', 'b/z']) mkdirSync(on(d), { recursive: true });
      for (const f of ['a/x/1.txt', 'a/y/2.txt', 'b/z/3.txt']) writeFileSync(on(f), `${f}\n`);
      handToServer(kind.name, disk.path);
      const location: ShareLocation = { scheme: 'dav', authority: `127.0.0.1:${server.port}`, basePath: '/share' };
      const settings: Settings = { ...DEFAULTS, pollIntervalMs: 0 };
      const log = new RecordingLogger();
      cacheDir = tempFolder('wdo-poll-cache-');
      const open = diskCache(cacheDir.path, () => settings, log);
      let cache!: OpenCache;
      share = new Share(location, new WebdavRemote(location, () => settings, log), auth, log, async r => (cache = (await open(r))!));
      const caps = await share.capabilities();
      // the user opened every folder (they are watched, and polled)
      for (const d of ['/tree', '/tree/a', '/tree/a/x', '/tree/a/y', '/tree/b', '/tree/b/z']) await share.readDirectory(d);
      const watch = share.watch('/tree', true);
      const told: RemoteChange[] = [];
      share.onDidChangeRemote(c => told.push(...c));
      writeFileSync(on('a/x/new.txt'), 'made by a colleague\n');
      writeFileSync(on('a/y/2.txt'), 'changed by a colleague, longer\n');
      rmSync(on('b/z/3.txt'));
      handToServer(kind.name, disk.path);
      const requests = await cache.poller.poll();
      watch.dispose();
      console.log(`      [figures] ${kind.name}: depthInfinity=${caps.depthInfinity}, one round: ${requests} requests`);
      const seen = told.map(c => `${c.type} ${c.path}`).sort();
      assert.deepEqual(seen, ['changed /tree/a/y/2.txt', 'created /tree/a/x/new.txt', 'deleted /tree/b/z/3.txt']);
      assert.equal(requests, caps.depthInfinity ? 1 : 6, 'one whole-tree listing, else one listing per opened folder');
      assert.deepEqual((await share.readDirectory('/tree/a/x')).map(([n]) => n).sort(), ['1.txt', 'new.txt']);
    });
  });
}
