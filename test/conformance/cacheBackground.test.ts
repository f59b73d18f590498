// Revalidation in the background (`revalidation: background`, the default) against real servers: after the
// freshness window a cached file or folder is served at once — before the server could answer — and checked
// behind it; what changed on the server is told as a remote change (VS Code reloads) and read next time with
// its new etag; a deletion is told too; an unchanged item costs one 304 and is fresh again. A save of the
// version the editor was given, when the check found a newer one, is refused by the server (If-Match) and
// never overwrites it. `beforeRead` keeps every read waiting for the server (test/conformance/cache.test.ts).
import * as assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RemoteChange } from '../../src/cache/cachedTree';
import type { OpenCache } from '../../src/cache/openCache';
import { DEFAULTS, type Settings } from '../../src/core/settings';
import type { ShareLocation } from '../../src/core/shareLocation';
import type { RemoteFs } from '../../src/remote/remoteFs';
import { WebdavRemote } from '../../src/remote/webdavRemote';
import { Share } from '../../src/share/share';
import { diskCache } from '../support/cachedShare';
import type { RunningServer } from '../support/nepheleServer';
import { RecordingLogger } from '../support/recordingLogger';
import { assertServerInstalled, handToServer, printServerLogIfFailed, SERVER_KINDS, tempFolder, USERS } from '../support/servers';

const GOOD = { username: 'alice', password: USERS.alice };
const auth = { stored: async () => GOOD, ask: async () => undefined, save: async () => undefined };
const text = (b: Uint8Array) => Buffer.from(b).toString();
/** Every request to the server takes this long more (a slow link): a read that waits for one shows it. */
const LAG_MS = 400;

/** A RemoteFs whose reads each take LAG_MS more, as over a slow link. */
function slow(inner: RemoteFs): RemoteFs {
  const lag = () => new Promise(r => setTimeout(r, LAG_MS));
  return new Proxy(inner, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      if (prop === 'stat' || prop === 'list' || prop === 'get') {
        return async (...args: unknown[]) => {
          await lag();
          return (v as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      return (v as (...a: unknown[]) => unknown).bind(target);
    },
  });
}

for (const kind of SERVER_KINDS) {
  suite(`conformance: revalidation in the background on ${kind.name}`, function () {
    this.timeout(30_000);
    let disk: ReturnType<typeof tempFolder>;
    let server: RunningServer;
    let location: ShareLocation;
    let cacheDir: ReturnType<typeof tempFolder>;
    let n = 0;
    let dir: string;
    let clock: number;
    let settings: Settings;
    const opened: Share[] = [];
    const onDisk = (rel: string) => join(disk.path, dir, rel);
    const p = (rel: string) => `/${dir}/${rel}`;
    const changeOnServer = (rel: string, content: string) => {
      writeFileSync(onDisk(rel), content);
      handToServer(kind.name, disk.path);
    };

    async function open(): Promise<{ share: Share; cache: OpenCache; changes: RemoteChange[] }> {
      const log = new RecordingLogger();
      const remote = slow(new WebdavRemote(location, () => settings, log));
      const openCache = diskCache(cacheDir.path, () => settings, log, () => clock);
      let cache!: OpenCache;
      const share = new Share(location, remote, auth, log, async r => (cache = (await openCache(r))!));
      await share.hasCache();
      opened.push(share);
      const changes: RemoteChange[] = [];
      share.onDidChangeRemote(c => changes.push(...c));
      return { share, cache, changes };
    }

    /** Reads `path` and says how long the answer took. */
    async function timed<T>(read: () => Promise<T>): Promise<{ value: T; ms: number }> {
      const t0 = performance.now();
      const value = await read();
      return { value, ms: performance.now() - t0 };
    }

    suiteSetup(async () => {
      assertServerInstalled(kind.name);
      disk = tempFolder(`wdo-swr-${kind.name}-`);
      server = await kind.start({ root: disk.path, mount: '/share', users: USERS });
      location = { scheme: 'dav', authority: `127.0.0.1:${server.port}`, basePath: '/share' };
    });
    suiteTeardown(async function () {
      printServerLogIfFailed(this, server);
      await server?.close();
      disk?.remove();
    });
    setup(() => {
      clock = 1_000_000;
      settings = { ...DEFAULTS, freshnessMs: 5_000, pollIntervalMs: 0 };
      assert.equal(settings.revalidation, 'background', 'the default');
      cacheDir = tempFolder('wdo-swr-cache-');
      dir = `s${++n}`;
      mkdirSync(onDisk('docs'), { recursive: true });
      writeFileSync(onDisk('a.txt'), 'alpha\n');
      writeFileSync(onDisk('docs/one.md'), 'one\n');
      handToServer(kind.name, disk.path);
    });
    teardown(async () => {
      for (const s of opened.splice(0)) await s.dispose();
      cacheDir.remove();
    });

    test('after the window a cached file opens at once; a change found behind it is told, and read next with its new etag', async () => {
      const { share, cache, changes } = await open();
      assert.equal(text(await share.readFile(p('a.txt'))), 'alpha\n');
      const before = cache.tree.get(p('a.txt'))!;
      changeOnServer('a.txt', 'ALPHA, changed by a colleague\n');
      clock += 6_000;
      const stat = await timed(() => share.stat(p('a.txt')));
      const read = await timed(() => share.readFile(p('a.txt')));
      assert.equal(text(read.value), 'alpha\n', 'the cached version, served at once');
      assert.ok(stat.ms < LAG_MS && read.ms < LAG_MS, `no wait for the server: stat ${stat.ms.toFixed(0)} ms, read ${read.ms.toFixed(0)} ms (a request takes ${LAG_MS} ms more)`);
      await cache.remote.background.settled();
      assert.deepEqual(changes, [{ type: 'changed', path: p('a.txt') }], 'the change is told (VS Code reloads the file)');
      const after = cache.tree.get(p('a.txt'))!;
      assert.notEqual(after.etag, before.etag);
      assert.equal(after.blobEtag, after.etag, 'content and validator stored together');
      const again = await timed(() => share.readFile(p('a.txt')));
      assert.equal(text(again.value), 'ALPHA, changed by a colleague\n');
      assert.ok(again.ms < LAG_MS, 'fresh again: read from the cache');
    });

    test('unchanged: one check behind the read, nothing told, fresh again for the window', async () => {
      const { share, cache, changes } = await open();
      await share.readFile(p('a.txt'));
      clock += 6_000;
      const requestsBefore = cache.tree.get(p('a.txt'))!.etag;
      assert.equal(text(await share.readFile(p('a.txt'))), 'alpha\n');
      await share.readFile(p('a.txt')); // while the check runs: no second check
      await cache.remote.background.settled();
      assert.deepEqual(changes, []);
      assert.equal(cache.tree.get(p('a.txt'))!.etag, requestsBefore);
      assert.equal(cache.tree.isFresh(p('a.txt')), true, 'the 304 made it fresh again');
    });

    test('deleted on the server: told as deleted; the next read says not found', async () => {
      const { share, cache, changes } = await open();
      await share.readFile(p('docs/one.md'));
      rmSync(onDisk('docs/one.md'));
      clock += 6_000;
      assert.equal(text(await share.readFile(p('docs/one.md'))), 'one\n', 'served at once');
      await cache.remote.background.settled();
      assert.deepEqual(changes, [{ type: 'deleted', path: p('docs/one.md') }]);
      await assert.rejects(share.readFile(p('docs/one.md')), (e: Error & { code?: string }) => e.code === 'NotFound' || /not found/i.test(e.message));
    });

    test('a folder after the window lists at once; a file a colleague made shows in an event and in the next listing', async () => {
      const { share, cache, changes } = await open();
      assert.deepEqual((await share.readDirectory(p('docs'))).map(([name]) => name), ['one.md']);
      changeOnServer('docs/two.md', 'two\n');
      clock += 6_000;
      const listed = await timed(() => share.readDirectory(p('docs')));
      assert.deepEqual(listed.value.map(([name]) => name), ['one.md'], 'the cached listing, at once');
      assert.ok(listed.ms < LAG_MS, `no wait: ${listed.ms.toFixed(0)} ms`);
      await cache.remote.background.settled();
      assert.ok(changes.some(c => c.type === 'created' && c.path === p('docs/two.md')), JSON.stringify(changes));
      assert.deepEqual((await share.readDirectory(p('docs'))).map(([name]) => name).sort(), ['one.md', 'two.md']);
    });

    test("a save of the old version the editor was shown never overwrites the colleague's newer one", async () => {
      const { share, cache } = await open();
      await share.readFile(p('a.txt'));
      changeOnServer('a.txt', 'alpha\ncolleague line\n');
      clock += 6_000;
      assert.equal(text(await share.readFile(p('a.txt'))), 'alpha\n', 'the editor is shown the cached version');
      // the user saves their edit of that version before the background check has told the editor
      await share.writeFile(p('a.txt'), Buffer.from('alpha, edited here\n'), { create: false, overwrite: true }).catch(() => undefined);
      await cache.remote.background.settled();
      const onServer = readFileSync(onDisk('a.txt'), 'utf8');
      assert.ok(onServer.includes('colleague line'), `the colleague's version is not overwritten: ${JSON.stringify(onServer)}`);
      const kept = (await share.conflicts()).map(c => c.path);
      const pending = (await share.pendingChanges()).length;
      assert.ok(kept.includes(p('a.txt')) || onServer.includes('edited here'), `the edit is a conflict or merged (conflicts ${JSON.stringify(kept)}, pending ${pending})`);
    });

    test('beforeRead: a read after the window waits for the server and has the new version', async () => {
      settings = { ...settings, revalidation: 'beforeRead' };
      const { share, changes } = await open();
      await share.readFile(p('a.txt'));
      changeOnServer('a.txt', 'ALPHA\n');
      clock += 6_000;
      const read = await timed(() => share.readFile(p('a.txt')));
      assert.equal(text(read.value), 'ALPHA\n');
      assert.ok(read.ms >= LAG_MS, `waited for the server (${read.ms.toFixed(0)} ms)`);
      assert.deepEqual(changes, []);
    });
  });
}
