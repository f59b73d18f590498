// Issue 13, one cache for every window, in one process against nephele: two Shares on one disk cache
// stand for two windows (a store is open in one place at a time, in a process as across processes). The
// second waits for the cache, says so, works without it meanwhile (live, conditional saves), switches to it
// once the first closes, and its saves then name the version its editor was given without the cache; a
// cache freed within the first moments is got without ever running live; a cache that cannot be opened is
// said, and its store let go. (Processes killed at random: twoWindows.test.ts.)
import * as assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ShareError } from '../../src/core/errors';
import { DEFAULTS, type Settings } from '../../src/core/settings';
import type { ShareLocation } from '../../src/core/shareLocation';
import { WebdavRemote } from '../../src/remote/webdavRemote';
import { SILENT_HOOKS, Share, type CacheStatus } from '../../src/share/share';
import { diskCache } from '../support/cachedShare';
import { eventually } from '../support/eventually';
import { startNephele, type RunningServer } from '../support/nepheleServer';
import { RecordingLogger } from '../support/recordingLogger';
import { tempFolder, USERS } from '../support/servers';

const GOOD = { username: 'alice', password: USERS.alice };
const auth = { stored: async () => GOOD, ask: async () => undefined, save: async () => undefined };
const text = (b: Uint8Array) => Buffer.from(b).toString();
const bytes = (s: string) => Buffer.from(s);

suite('conformance: one cache for every window (two shares on one disk cache)', function () {
  this.timeout(30_000);
  let disk: ReturnType<typeof tempFolder>;
  let cacheDir: ReturnType<typeof tempFolder>;
  let server: RunningServer;
  let location: ShareLocation;
  let log: RecordingLogger;
  const settings: Settings = { ...DEFAULTS, pollIntervalMs: 0 };
  const opened: Share[] = [];

  /** A window's share; `statuses` collects its cache status as it changes. */
  function open(cacheWaitMs = 150): { share: Share; statuses: CacheStatus[]; remote: WebdavRemote } {
    const remote = new WebdavRemote(location, () => settings, log);
    const share = new Share(location, remote, auth, log, diskCache(cacheDir.path, () => settings, log), SILENT_HOOKS, { cacheWaitMs });
    const statuses: CacheStatus[] = [share.cacheStatus];
    share.onDidChangeCacheStatus(s => statuses.push(s));
    opened.push(share);
    return { share, statuses, remote };
  }

  async function close(share: Share): Promise<void> {
    opened.splice(opened.indexOf(share), 1);
    await share.dispose();
  }

  suiteSetup(async () => {
    disk = tempFolder('wdo-windows-');
    server = await startNephele({ root: disk.path, mount: '/share', users: USERS });
    location = { scheme: 'dav', authority: `127.0.0.1:${server.port}`, basePath: '/share' };
  });
  suiteTeardown(async () => {
    await server?.close();
    disk?.remove();
  });
  setup(() => {
    log = new RecordingLogger();
    cacheDir = tempFolder('wdo-windows-cache-');
    mkdirSync(join(disk.path, 'docs'), { recursive: true });
    writeFileSync(join(disk.path, 'a.txt'), 'alpha v1\n');
    writeFileSync(join(disk.path, 'docs', 'one.md'), 'one\n');
  });
  teardown(async () => {
    for (const s of opened.splice(0)) await s.dispose();
    cacheDir.remove();
  });

  test('the second window waits, says so, works live; once the first closes it uses the cache the first filled', async () => {
    const first = open();
    assert.equal(await first.share.hasCache(), true);
    assert.equal(text(await first.share.readFile('/a.txt')), 'alpha v1\n');
    assert.deepEqual(first.share.cacheStatus, { kind: 'open' });

    const second = open();
    assert.equal(await second.share.hasCache(), false, 'after its first moments, the second works without the cache');
    assert.deepEqual(second.statuses.slice(0, 3), [
      { kind: 'opening' },
      { kind: 'waiting', holder: 'this window', live: false },
      { kind: 'waiting', holder: 'this window', live: true },
    ]);
    // live: reads and conditional saves go to the server; what needs the cache says why it cannot
    assert.deepEqual((await second.share.readDirectory('/')).map(([n]) => n).sort(), ['a.txt', 'docs']);
    await second.share.writeFile('/live.txt', bytes('written without the cache\n'), { create: true, overwrite: false });
    assert.equal(readFileSync(join(disk.path, 'live.txt'), 'utf8'), 'written without the cache\n');
    await assert.rejects(second.share.goOffline(), (err: ShareError) => {
      assert.match(err.message, /working offline needs the cache, which another window has open \(this window\); this window switches to it as soon as that window is closed/);
      return true;
    });
    assert.deepEqual(first.share.cacheStatus, { kind: 'open' }, 'the first is not disturbed');

    await close(first.share);
    await eventually(() => assert.deepEqual(second.share.cacheStatus, { kind: 'open' }), 5_000, 20);
    assert.equal(await second.share.hasCache(), true);
    assert.match(log.lines.join('\n'), /the other window let go of the cache; this window uses it now/);
    // the cache is the first window's: what it read is there offline
    await second.share.goOffline();
    assert.equal(text(await second.share.readFile('/a.txt')), 'alpha v1\n');
    await assert.rejects(second.share.readFile('/docs/one.md'), /not available offline/);
  });

  test('a save after the switch names the version this window was given without the cache: no false conflict, no overwrite', async () => {
    const first = open();
    await first.share.readFile('/a.txt'); // cached (and seen) as v1 by the first window
    const second = open();
    assert.equal(await second.share.hasCache(), false);
    await second.share.readFile('/docs/one.md'); // its editor holds one.md as the server has it
    writeFileSync(join(disk.path, 'a.txt'), 'alpha v2 (by someone else)\n');
    assert.equal(text(await second.share.readFile('/a.txt')), 'alpha v2 (by someone else)\n', "the second window's editor holds v2");
    writeFileSync(join(disk.path, 'docs', 'one.md'), 'one, changed by someone else\n'); // after the second read it
    await close(first.share);
    await eventually(() => assert.deepEqual(second.share.cacheStatus, { kind: 'open' }), 5_000, 20);

    // a.txt: the editor holds the server's version: the save lands (the cache had v1 as the version seen)
    await second.share.writeFile('/a.txt', bytes('alpha v3 (saved in the second window)\n'), { create: false, overwrite: true });
    assert.equal(readFileSync(join(disk.path, 'a.txt'), 'utf8'), 'alpha v3 (saved in the second window)\n');
    // one.md: the editor holds an older version than the server's: kept and listed, never written over it
    await second.share.writeFile('/docs/one.md', bytes('one, edited in the second window\n'), { create: false, overwrite: true });
    assert.equal(readFileSync(join(disk.path, 'docs', 'one.md'), 'utf8'), 'one, changed by someone else\n', 'the newer version on the server is not overwritten');
    const conflicts = await second.share.conflicts();
    assert.deepEqual(conflicts.map(c => c.path), ['/docs/one.md']);
  });

  test('a cache freed within the first moments is got without running live (a window reopened while the old one closes)', async () => {
    const first = open();
    assert.equal(await first.share.hasCache(), true);
    const second = open(5_000);
    setTimeout(() => void close(first.share), 200);
    const t0 = Date.now();
    assert.equal(await second.share.hasCache(), true, 'its first operation waited for the cache');
    assert.ok(Date.now() - t0 < 4_000, `got it ${Date.now() - t0} ms after asking`);
    assert.ok(!second.statuses.some(s => s.kind === 'waiting' && s.live), `never live: ${JSON.stringify(second.statuses)}`);
    assert.equal(second.statuses.at(-1)!.kind, 'open');
  });

  test('offline by hand is the share\'s state: the window that gets the cache follows it', async () => {
    const first = open();
    await first.share.readFile('/a.txt');
    await first.share.goOffline();
    await first.share.writeFile('/a.txt', bytes('changed offline in the first window\n'), { create: false, overwrite: true });
    const second = open();
    assert.equal(await second.share.hasCache(), false);
    await close(first.share);
    await eventually(() => assert.deepEqual(second.share.cacheStatus, { kind: 'open' }), 5_000, 20);
    assert.deepEqual(second.share.connectionState, { kind: 'offline', manual: true });
    assert.equal(text(await second.share.readFile('/a.txt')), 'changed offline in the first window\n');
    assert.equal((await second.share.pendingChanges()).length, 1, "the first window's change is pending here");
    assert.equal(readFileSync(join(disk.path, 'a.txt'), 'utf8'), 'alpha v1\n', 'and not uploaded until the user goes online');
    assert.equal(await second.share.goOnline(), true);
    assert.equal(readFileSync(join(disk.path, 'a.txt'), 'utf8'), 'changed offline in the first window\n');
  });

  test('a window that is closed while it waits stops waiting; the first goes on', async () => {
    const first = open();
    assert.equal(await first.share.hasCache(), true);
    const second = open();
    assert.equal(await second.share.hasCache(), false);
    const t0 = Date.now();
    await close(second.share);
    assert.ok(Date.now() - t0 < 1_000, `closed in ${Date.now() - t0} ms`);
    await first.share.writeFile('/a.txt', bytes('still working\n'), { create: false, overwrite: true });
    assert.equal(readFileSync(join(disk.path, 'a.txt'), 'utf8'), 'still working\n');
    assert.deepEqual(first.share.cacheStatus, { kind: 'open' });
  });

  test('a cache that cannot be opened is said (status failed), and its store is let go', async () => {
    mkdirSync(join(cacheDir.path, 'share'), { recursive: true });
    writeFileSync(join(cacheDir.path, 'share', 'index.snapshot'), '{"format":"webdav-offline-index","vers');
    const { share, statuses } = open();
    assert.equal(await share.hasCache(), false);
    const last = statuses.at(-1)!;
    assert.equal(last.kind, 'failed');
    assert.match(last.kind === 'failed' ? last.reason : '', /index.snapshot is damaged/);
    assert.equal(existsSync(join(cacheDir.path, 'share', 'lock')), false, 'the store was closed again: another window may try');
    assert.equal(text(await share.readFile('/a.txt')), 'alpha v1\n', 'it works live');
    await assert.rejects(share.pin('/docs'), /keeping files available offline needs the cache, which could not be opened \(cache store: .*damaged/);
  });
});
