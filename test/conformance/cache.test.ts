// The persistent cache against real servers (nephele, Apache), with the real disk store: coherency
// invariants, persistence across a restart with the server stopped, pinning, culling and polling.
import * as assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RemoteChange } from '../../src/cache/cachedTree';
import { ShareError } from '../../src/core/errors';
import { DEFAULTS, type Settings } from '../../src/core/settings';
import type { ShareLocation } from '../../src/core/shareLocation';
import type { RemoteEntry, RemoteFs, RemoteListing } from '../../src/remote/remoteFs';
import { WebdavRemote } from '../../src/remote/webdavRemote';
import { Share } from '../../src/share/share';
import type { OpenCache } from '../../src/cache/openCache';
import type { RunningServer } from '../support/nepheleServer';
import { RecordingLogger } from '../support/recordingLogger';
import { diskCache } from '../support/cachedShare';
import { assertServerInstalled, handToServer, printServerLogIfFailed, SERVER_KINDS, tempFolder, USERS } from '../support/servers';

const GOOD = { username: 'alice', password: USERS.alice };
const auth = { stored: async () => GOOD, ask: async () => undefined, save: async () => undefined };

/** A RemoteFs that hides every etag, as nginx does in its listings. */
class NoEtagRemote implements RemoteFs {
  constructor(private readonly inner: RemoteFs) {}
  setCredentials(c: Parameters<RemoteFs['setCredentials']>[0]) { this.inner.setCredentials(c); }
  private strip = (e: RemoteEntry): RemoteEntry => ({ ...e, etag: undefined });
  async stat(p: string) { return this.strip(await this.inner.stat(p)); }
  async list(p: string): Promise<RemoteListing> {
    const l = await this.inner.list(p);
    return { self: this.strip(l.self), children: l.children.map(this.strip) };
  }
  async get(p: string, o?: { ifNoneMatch?: string }) {
    const r = await this.inner.get(p, o);
    return r === 'not-modified' ? r : { ...r, etag: undefined };
  }
  put(p: string, d: Uint8Array) { return this.inner.put(p, d).then(() => ({})); }
  mkcol(p: string) { return this.inner.mkcol(p); }
  delete(p: string) { return this.inner.delete(p); }
  move(a: string, b: string, o: { overwrite: boolean }) { return this.inner.move(a, b, o); }
  copy(a: string, b: string, o: { overwrite: boolean }) { return this.inner.copy(a, b, o); }
  lock(p: string) { return this.inner.lock(p); }
  unlock(p: string, t: string) { return this.inner.unlock(p, t); }
}

function total(counts: Map<string, number>): number {
  let n = 0;
  for (const v of counts.values()) n += v;
  return n;
}

for (const kind of SERVER_KINDS) {
  suite(`conformance: cache on ${kind.name}`, function () {
    this.timeout(30_000);
    let disk: ReturnType<typeof tempFolder>;
    let cacheDir: ReturnType<typeof tempFolder>;
    let server: RunningServer | undefined;
    let location: ShareLocation;
    let n = 0;
    let dir: string;
    let clock: number;
    let settings: Settings;
    let log: RecordingLogger;
    const opened: { share: Share }[] = [];
    const onDisk = (p: string) => join(disk.path, dir, p);
    const p = (rel: string) => `/${dir}/${rel}`;
    const chown = () => handToServer(kind.name, disk.path);

    async function startServer() {
      server = await kind.start({ root: disk.path, mount: '/share', users: USERS });
      location = { scheme: 'dav', authority: `127.0.0.1:${server.port}`, basePath: '/share' };
    }

    /** Opens a share with a cache on `cacheDir` (a new process would do the same on restart). */
    async function open(wrap: (r: RemoteFs) => RemoteFs = r => r) {
      const remote = new WebdavRemote(location, () => settings, log);
      let parts!: OpenCache;
      const open = diskCache(cacheDir.path, () => settings, log, () => clock);
      const share = new Share(location, wrap(remote), auth, log, async r => (parts = (await open(r))!));
      await share.hasCache();
      opened.push({ share });
      return { share, remote, cache: parts, parts, requests: () => total(remote.requestCounts) };
    }

    suiteSetup(async () => {
      assertServerInstalled(kind.name);
      disk = tempFolder(`wdo-cache-${kind.name}-`);
      await startServer();
    });
    suiteTeardown(async function () {
      printServerLogIfFailed(this, server);
      await server?.close();
      disk?.remove();
    });
    setup(() => {
      log = new RecordingLogger();
      clock = 1_000_000;
      // these cases are of reads that wait for the server after the window (cacheBackground.test.ts: the default)
      settings = { ...DEFAULTS, freshnessMs: 5_000, pollIntervalMs: 0, revalidation: 'beforeRead' };
      cacheDir = tempFolder('wdo-cachedir-');
      dir = `c${++n}`;
      mkdirSync(join(disk.path, dir, 'docs'), { recursive: true });
      writeFileSync(onDisk('a.txt'), 'alpha');
      writeFileSync(onDisk('docs/one.md'), 'one');
      writeFileSync(onDisk('docs/two.md'), 'two');
      chown();
    });
    teardown(async () => {
      for (const o of opened.splice(0)) await o.share.dispose();
      cacheDir.remove();
      if (!server) await startServer();
    });

    /** Simulates someone else changing a file on the server. */
    function changeOnServer(rel: string, content: string) {
      writeFileSync(onDisk(rel), content);
      chown();
    }

    test('a warm re-open of a 200-file folder makes no request inside the window and one listing after it', async () => {
      mkdirSync(onDisk('many'));
      for (let i = 0; i < 200; i++) writeFileSync(onDisk(`many/f${i}.txt`), `file ${i}`);
      chown();
      const { share, requests } = await open();
      const openFolder = async () => {
        for (const [name] of await share.readDirectory(p('many'))) {
          await share.stat(p(`many/${name}`));
          await share.readFile(p(`many/${name}`));
        }
      };
      await openFolder();
      const cold = requests();
      await openFolder();
      const warmFresh = requests() - cold;
      clock += 6_000;
      await openFolder();
      const warmStale = requests() - cold - warmFresh;
      // the same re-open in live mode (no cache): what the share did before the cache existed
      const liveRemote = new WebdavRemote(location, () => settings, log);
      const live = new Share(location, liveRemote, auth, log);
      for (const [name] of await live.readDirectory(p('many'))) {
        await live.stat(p(`many/${name}`));
        await live.readFile(p(`many/${name}`));
      }
      const liveRequests = total(liveRemote.requestCounts);
      console.log(`      [figures] ${kind.name}: re-open of a 200-file folder, requests: live=${liveRequests} cold=${cold} warm(in window)=${warmFresh} warm(after window)=${warmStale}`);
      assert.equal(liveRequests, 401, 'live: a listing, then a PROPFIND and a GET per file');
      assert.ok(cold >= 201 && cold <= 202, `cold open: one listing + one GET per file (${cold})`);
      assert.equal(warmFresh, 0);
      assert.equal(warmStale, 1, 'one listing revalidates every file in it');
    });

    test('a server change is seen on the next read after the window, with its new etag', async () => {
      const { share, cache } = await open();
      assert.equal(Buffer.from(await share.readFile(p('a.txt'))).toString(), 'alpha');
      const before = cache.tree.get(p('a.txt'))!;
      changeOnServer('a.txt', 'ALPHA, changed by someone else');
      assert.equal(Buffer.from(await share.readFile(p('a.txt'))).toString(), 'alpha', 'inside the window the cache answers');
      clock += 6_000;
      assert.equal(Buffer.from(await share.readFile(p('a.txt'))).toString(), 'ALPHA, changed by someone else');
      const after = cache.tree.get(p('a.txt'))!;
      assert.notEqual(after.etag, before.etag);
      assert.notEqual(after.blob, before.blob);
      assert.equal(after.blobEtag, after.etag, 'content and validator were stored together');
    });

    test('same size, same second: the change is still seen (etags differ)', async () => {
      const { share } = await open();
      await share.readFile(p('a.txt'));
      const t = new Date();
      changeOnServer('a.txt', 'ALPHA');
      utimesSync(onDisk('a.txt'), t, t);
      changeOnServer('a.txt', 'omega');
      utimesSync(onDisk('a.txt'), t, t);
      clock += 6_000;
      assert.equal(Buffer.from(await share.readFile(p('a.txt'))).toString(), 'omega');
    });

    test('never old bytes under a new etag: a listing that shows a new etag drops the old content', async () => {
      const { share, cache } = await open();
      await share.readFile(p('docs/one.md'));
      changeOnServer('docs/one.md', 'one, version two');
      clock += 6_000;
      await share.readDirectory(p('docs')); // sees the new etag, not the new bytes
      const e = cache.tree.get(p('docs/one.md'))!;
      assert.equal(e.blob, undefined, 'the stale content is no longer served');
      await server!.close();
      server = undefined;
      await assert.rejects(share.readFile(p('docs/one.md')), (err: unknown) => err instanceof ShareError && err.code === 'Unavailable');
    });

    test('without etags (as nginx lists), mtime + size is the fingerprint', async () => {
      const { share, cache, requests } = await open(r => new NoEtagRemote(r));
      assert.equal(Buffer.from(await share.readFile(p('a.txt'))).toString(), 'alpha');
      assert.equal(cache.tree.get(p('a.txt'))!.etag, undefined);
      clock += 6_000;
      const r0 = requests();
      assert.equal(Buffer.from(await share.readFile(p('a.txt'))).toString(), 'alpha');
      assert.equal(requests() - r0, 1, 'revalidated by one PROPFIND, no download');
      changeOnServer('a.txt', 'a longer alpha');
      const later = new Date(Date.now() + 5000);
      utimesSync(onDisk('a.txt'), later, later);
      clock += 6_000;
      assert.equal(Buffer.from(await share.readFile(p('a.txt'))).toString(), 'a longer alpha');
    });

    test('our own write is cached with its new validator; reading it back downloads nothing', async () => {
      const { share, cache, remote } = await open();
      await share.writeFile(p('new.txt'), Buffer.from('written here'), { create: true, overwrite: false });
      const e = cache.tree.get(p('new.txt'))!;
      assert.ok(e.blob && e.etag, 'content and etag recorded');
      const gets = remote.requestCounts.get('GET') ?? 0;
      clock += 6_000; // Apache's etag is weak right after the write, then strong: both compare equal
      assert.equal(Buffer.from(await share.readFile(p('new.txt'))).toString(), 'written here');
      clock += 1_500_000;
      await new Promise(r => setTimeout(r, 1100)); // Apache: the strong etag of the same content
      assert.equal(Buffer.from(await share.readFile(p('new.txt'))).toString(), 'written here');
      const getsAfter = remote.requestCounts.get('GET') ?? 0;
      assert.ok(getsAfter - gets <= 2, 'only conditional GETs');
      assert.equal(readFileSync(onDisk('new.txt'), 'utf8'), 'written here');
    });

    test('restart with the server stopped: everything read before opens from the cache', async () => {
      const first = await open();
      await first.share.readFile(p('a.txt'));
      await first.share.readDirectory(p('docs'));
      await first.share.readFile(p('docs/one.md'));
      await first.share.dispose();
      opened.length = 0;
      await server!.close();
      server = undefined;
      const second = await open();
      const s = second.share;
      assert.equal((await s.stat('/')).type, 'directory');
      assert.equal(Buffer.from(await s.readFile(p('a.txt'))).toString(), 'alpha');
      assert.equal(Buffer.from(await s.readFile(p('docs/one.md'))).toString(), 'one');
      assert.deepEqual((await s.readDirectory(p('docs'))).map(([name]) => name).sort(), ['one.md', 'two.md']);
      await assert.rejects(s.readFile(p('docs/two.md')), (err: unknown) => err instanceof ShareError && err.code === 'Unavailable');
      await assert.rejects(s.stat(p('docs/none.md')), (err: unknown) => err instanceof ShareError && err.code === 'NotFound');
    });

    test('pinning downloads the tree with progress; pins survive a restart; new files are fetched too', async () => {
      mkdirSync(onDisk('docs/deep'));
      writeFileSync(onDisk('docs/deep/three.md'), 'three');
      chown();
      const first = await open();
      const seen: number[] = [];
      const result = await first.share.pin(p('docs'), pr => seen.push(pr.filesDone));
      assert.equal(result.filesTotal, 3);
      assert.equal(result.bytesTotal, 3 + 3 + 5);
      assert.equal(result.failed.length, 0);
      assert.ok(seen.includes(3));
      for (const f of ['docs/one.md', 'docs/two.md', 'docs/deep/three.md']) assert.ok(first.cache.tree.hasContent(p(f)), f);
      assert.equal(first.cache.tree.hasContent(p('a.txt')), false, 'outside the pin nothing was fetched');
      await first.share.dispose();
      opened.length = 0;
      const second = await open();
      assert.equal(second.cache.tree.isPinned(p('docs/deep/three.md')), true, 'the pin survived');
      writeFileSync(onDisk('docs/deep/later.md'), 'appeared later');
      chown();
      clock += 6_000;
      await second.share.readDirectory(p('docs/deep'));
      await second.parts.pinner.idle();
      assert.ok(second.cache.tree.hasContent(p('docs/deep/later.md')), 'a new file in a pinned folder is pinned and fetched');
    });

    test('cancelling a pin stops and undoes it', async () => {
      const { share, cache } = await open();
      const abort = new AbortController();
      abort.abort();
      const result = await share.pin(p('docs'), undefined, abort.signal);
      assert.equal(result.cancelled, true);
      assert.equal(cache.tree.isPinned(p('docs')), false);
    });

    test('culling drops least-recently-used clean content first, never pinned; a full cache is reported', async () => {
      for (let i = 0; i < 5; i++) writeFileSync(onDisk(`docs/big${i}.bin`), Buffer.alloc(1000, i));
      chown();
      settings = { ...settings, maxCacheBytes: 2500 };
      const { share, cache } = await open();
      await share.pin(p('docs/big0.bin'));
      for (let i = 1; i < 5; i++) {
        await share.readFile(p(`docs/big${i}.bin`));
        clock += 10;
      }
      await cache.space.cull();
      const cached = [0, 1, 2, 3, 4].filter(i => cache.tree.hasContent(p(`docs/big${i}.bin`)));
      assert.deepEqual(cached, [0, 4], 'the pinned file and the most recent one remain');
      const fulls: unknown[] = [];
      cache.space.onDidBecomeFull(f => fulls.push(f));
      settings = { ...settings, maxCacheBytes: 500 };
      await cache.space.cull();
      assert.equal(fulls.length, 1, 'pinned data alone exceed the limit');
      assert.ok(cache.tree.hasContent(p('docs/big0.bin')), 'pinned content is never culled');
      assert.equal(cache.tree.hasContent(p('docs/big4.bin')), false);
      assert.equal(Buffer.from(await share.readFile(p('docs/big4.bin')))[0], 4, 'culled content is fetched again');
    });

    test('free up space unpins and drops content, which is downloaded again on the next read', async () => {
      const { share, cache } = await open();
      await share.pin(p('docs'));
      const freed = await share.freeUpSpace(p('docs'));
      assert.equal(freed, 6);
      assert.equal(cache.tree.isPinned(p('docs/one.md')), false);
      assert.equal(cache.tree.hasContent(p('docs/one.md')), false);
      assert.equal(Buffer.from(await share.readFile(p('docs/one.md'))).toString(), 'one');
      const usage = (await share.usage())!;
      assert.equal(usage.files, 1);
      assert.equal(usage.pinnedFiles, 0);
    });

    test('Go to File and Find in Files answer from the index and cached contents, with the server stopped', async () => {
      const { share } = await open();
      await share.readDirectory(`/${dir}`);
      await share.readDirectory(p('docs'));
      await share.readFile(p('docs/one.md'));
      await server!.close();
      server = undefined;
      const files = await share.findFiles('two');
      assert.deepEqual(files.map(f => [f.path, f.cached]), [[p('docs/two.md'), false]], 'listed but never read');
      assert.deepEqual((await share.findFiles('one')).map(f => [f.path, f.cached]), [[p('docs/one.md'), true]]);
      const found = await share.findInFiles('ON');
      assert.deepEqual(found.hits.map(h => [h.path, h.line, h.column]), [[p('docs/one.md'), 0, 0]]);
      const known = await share.findFiles('');
      assert.ok(found.notDownloaded > 0, 'docs/two.md was listed, never read');
      assert.equal(found.notDownloaded, known.filter(f => !f.cached).length, 'every known file without content is counted as not searched');
    });

    test('polling a watched folder reports files created, changed and deleted by others', async () => {
      const { share, parts } = await open();
      const changes: RemoteChange[] = [];
      share.onDidChangeRemote(c => changes.push(...c));
      await share.readDirectory(`/${dir}`);
      await share.readDirectory(p('docs'));
      const watch = share.watch(`/${dir}`, true);
      await new Promise(r => setTimeout(r, 10));
      const { depthInfinity } = await share.capabilities();
      assert.equal(await parts.poller.poll(), depthInfinity ? 1 : 2, 'the watched tree in one Depth-infinity listing, else both cached folders');
      assert.equal(changes.length, 0, 'nothing changed yet');
      changeOnServer('docs/one.md', 'one changed');
      writeFileSync(onDisk('docs/new.md'), 'new');
      rmSync(onDisk('a.txt'));
      chown();
      await parts.poller.poll();
      assert.deepEqual(
        changes.map(c => `${c.type} ${c.path}`).sort(),
        [`changed ${p('docs/one.md')}`, `created ${p('docs/new.md')}`, `deleted ${p('a.txt')}`].sort(),
      );
      watch.dispose();
    });
  });
}
