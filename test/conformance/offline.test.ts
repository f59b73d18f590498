// Disconnected operation against real servers (nephele, Apache), through a loopback fault proxy: going
// offline by hand and by itself, reads from the cache, changes recorded in the journal, the state
// surviving a restart, a save whose connection drops mid-upload, discarding a change.
import * as assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ShareError } from '../../src/core/errors';
import { DEFAULTS, type Settings } from '../../src/core/settings';
import type { ShareLocation } from '../../src/core/shareLocation';
import { WebdavRemote } from '../../src/remote/webdavRemote';
import { Share } from '../../src/share/share';
import { FaultProxy } from '../support/faultProxy';
import type { RunningServer } from '../support/nepheleServer';
import { RecordingLogger } from '../support/recordingLogger';
import { assertServerInstalled, handToServer, printServerLogIfFailed, SERVER_KINDS, tempFolder, USERS } from '../support/servers';
import { diskCache } from '../support/cachedShare';

const GOOD = { username: 'alice', password: USERS.alice };
const auth = { stored: async () => GOOD, ask: async () => undefined, save: async () => undefined };
const text = (b: Uint8Array) => Buffer.from(b).toString();
const isCode = (code: string) => (err: unknown) => err instanceof ShareError && err.code === code;

for (const kind of SERVER_KINDS) {
  suite(`conformance: offline on ${kind.name}`, function () {
    this.timeout(30_000);
    let disk: ReturnType<typeof tempFolder>;
    let cacheDir: ReturnType<typeof tempFolder>;
    let server: RunningServer;
    let proxy: FaultProxy;
    let location: ShareLocation;
    let n = 0;
    let dir: string;
    let settings: Settings;
    let log: RecordingLogger;
    const opened: Share[] = [];
    const onDisk = (p: string) => join(disk.path, dir, p);
    const p = (rel: string) => `/${dir}/${rel}`;

    async function open() {
      const remote = new WebdavRemote(location, () => settings, log);
      const share = new Share(location, remote, auth, log, diskCache(cacheDir.path, () => settings, log));
      await share.hasCache();
      opened.push(share);
      return { share, remote, requests: () => [...remote.requestCounts.values()].reduce((a, b) => a + b, 0) };
    }

    async function restart() {
      for (const s of opened.splice(0)) await s.dispose();
      return open();
    }

    suiteSetup(async () => {
      assertServerInstalled(kind.name);
      disk = tempFolder(`wdo-offline-${kind.name}-`);
      server = await kind.start({ root: disk.path, mount: '/share', users: USERS });
      proxy = await new FaultProxy(server.port).start();
      location = { scheme: 'dav', authority: `127.0.0.1:${proxy.port}`, basePath: '/share' };
    });
    suiteTeardown(async function () {
      printServerLogIfFailed(this, server);
      await proxy?.stop();
      await server?.close();
      disk?.remove();
    });
    setup(() => {
      log = new RecordingLogger();
      settings = { ...DEFAULTS, pollIntervalMs: 0 };
      proxy.mode = { kind: 'pass' };
      cacheDir = tempFolder('wdo-offline-cache-');
      dir = `o${++n}`;
      mkdirSync(join(disk.path, dir, 'docs'), { recursive: true });
      writeFileSync(onDisk('a.txt'), 'alpha');
      writeFileSync(onDisk('never-read.txt'), 'not cached');
      writeFileSync(onDisk('docs/one.md'), 'one');
      handToServer(kind.name, disk.path);
    });
    teardown(async () => {
      for (const s of opened.splice(0)) await s.dispose();
      cacheDir.remove();
    });

    async function warm(share: Share) {
      await share.readDirectory('/');
      await share.readDirectory(`/${dir}`);
      await share.readFile(p('a.txt'));
      await share.readDirectory(p('docs'));
      await share.readFile(p('docs/one.md'));
    }

    test('offline by hand: no request reaches the server; cached items read; an uncached file says so', async () => {
      const { share, requests } = await open();
      await warm(share);
      await share.goOffline();
      assert.deepEqual(share.connectionState, { kind: 'offline', manual: true });
      const before = requests();
      assert.equal(text(await share.readFile(p('a.txt'))), 'alpha');
      assert.deepEqual((await share.readDirectory(p('docs'))).map(([x]) => x), ['one.md']);
      await assert.rejects(share.readFile(p('never-read.txt')), (err: unknown) => {
        assert.ok(err instanceof ShareError && err.code === 'Unavailable');
        assert.match(err.message, /not available offline.*Go online.*Keep Available Offline/s);
        return true;
      });
      await assert.rejects(share.stat(p('does-not-exist.txt')), isCode('NotFound'));
      assert.equal(requests(), before, 'no request while offline');
    });

    test('offline changes apply to the cached tree, are journaled and collapse; the server is untouched', async () => {
      const { share } = await open();
      await warm(share);
      await share.goOffline();
      await share.writeFile(p('a.txt'), Buffer.from('alpha, edited offline'), { create: false, overwrite: true });
      await share.writeFile(p('a.txt'), Buffer.from('alpha, edited twice'), { create: false, overwrite: true });
      await share.writeFile(p('docs/new.md'), Buffer.from('new'), { create: true, overwrite: false });
      await share.createDirectory(p('folder'));
      await share.delete(p('docs/one.md'), { recursive: false });
      await share.rename(p('docs/new.md'), p('docs/renamed.md'), { overwrite: false });
      assert.equal(text(await share.readFile(p('a.txt'))), 'alpha, edited twice');
      assert.equal(text(await share.readFile(p('docs/renamed.md'))), 'new');
      assert.deepEqual((await share.readDirectory(p('docs'))).map(([x]) => x), ['renamed.md']);
      assert.equal((await share.stat(p('folder'))).type, 'directory');
      assert.ok(share.isProvisional(p('a.txt')) && share.isProvisional(p('folder')) && share.isProvisional(p('docs/renamed.md')));
      const pending = (await share.pendingChanges()).map(i => i.op);
      assert.deepEqual(
        pending.map(o => `${o.kind} ${'path' in o ? o.path : `${o.from}→${o.to}`}`),
        [`write ${p('a.txt')}`, `mkdir ${p('folder')}`, `delete ${p('docs/one.md')}`, `write ${p('docs/renamed.md')}`],
        'two saves collapsed; create + rename became one create',
      );
      const write = pending[0] as Extract<typeof pending[number], { kind: 'write' }>;
      assert.ok(write.base?.etag, 'the base version of the edit is kept');
      assert.equal(readFileSync(onDisk('a.txt'), 'utf8'), 'alpha');
      assert.ok(existsSync(onDisk('docs/one.md')));
      assert.equal(existsSync(onDisk('folder')), false);
    });

    test('offline checks: existing targets, missing parents, uncached folders', async () => {
      const { share } = await open();
      await warm(share);
      await share.goOffline();
      await assert.rejects(share.writeFile(p('a.txt'), Buffer.from('x'), { create: true, overwrite: false }), isCode('Exists'));
      await assert.rejects(share.writeFile(p('nodir/x.txt'), Buffer.from('x'), { create: true, overwrite: true }), isCode('NotFound'));
      await assert.rejects(share.createDirectory(p('docs')), isCode('Exists'));
      await assert.rejects(share.rename(p('a.txt'), p('docs/one.md'), { overwrite: false }), isCode('Exists'));
      await assert.rejects(share.rename(p('missing'), p('x'), { overwrite: false }), isCode('NotFound'));
      assert.equal((await share.pendingChanges()).length, 0, 'nothing was recorded');
    });

    test('a restart keeps the pending changes, their content and the offline state', async () => {
      const first = await open();
      await warm(first.share);
      await first.share.goOffline();
      await first.share.writeFile(p('a.txt'), Buffer.from('kept across restarts'), { create: false, overwrite: true });
      await first.share.createDirectory(p('made-offline'));
      const { share } = await restart();
      assert.deepEqual(share.connectionState, { kind: 'offline', manual: true });
      assert.equal(text(await share.readFile(p('a.txt'))), 'kept across restarts');
      assert.equal((await share.stat(p('made-offline'))).type, 'directory');
      assert.equal((await share.pendingChanges()).length, 2);
    });

    test('the server going away switches offline by itself; cached reads go on, changes are journaled', async () => {
      const { share } = await open();
      await warm(share);
      const states: string[] = [];
      share.onDidChangeConnection(c => states.push(c.current.kind));
      proxy.mode = { kind: 'refuse' };
      proxy.dropAll();
      settings = { ...settings, freshnessMs: 0 }; // force revalidation
      assert.equal(text(await share.readFile(p('a.txt'))), 'alpha', 'served from the cache, not failed');
      await share.backgroundChecks(); // the check behind the read finds the server gone
      assert.equal(share.connectionState?.kind, 'offline');
      assert.equal((share.connectionState as { manual: boolean }).manual, false);
      await share.writeFile(p('a.txt'), Buffer.from('written while unreachable'), { create: false, overwrite: true });
      assert.equal((await share.pendingChanges()).length, 1);
      assert.equal(readFileSync(onDisk('a.txt'), 'utf8'), 'alpha');
      proxy.mode = { kind: 'pass' };
      assert.equal(await share.goOnline(), true);
      assert.ok(states.includes('offline') && states.at(-1) === 'online', states.join(' → '));
    });

    test('a save whose connection drops mid-upload is acknowledged, journaled, and the share goes offline', async () => {
      const { share } = await open();
      await warm(share);
      const big = Buffer.alloc(256 * 1024, 'x');
      proxy.mode = { kind: 'dropRequest', method: 'PUT', afterBytes: 64 * 1024 };
      proxy.dropAll();
      await share.writeFile(p('a.txt'), big, { create: false, overwrite: true });
      assert.equal(share.connectionState?.kind, 'offline');
      const pending = await share.pendingChanges();
      assert.equal(pending.length, 1);
      assert.equal(pending[0].op.kind, 'write');
      assert.deepEqual(Buffer.from(await share.readFile(p('a.txt'))), big, 'the saved bytes are kept');
      const { share: again } = await restart();
      assert.deepEqual(Buffer.from(await again.readFile(p('a.txt'))), big, 'and survive a restart');
    });

    test('changes left pending by an earlier session are replayed when the share opens online', async () => {
      const first = await open();
      await warm(first.share);
      proxy.mode = { kind: 'refuse' };
      proxy.dropAll();
      settings = { ...settings, freshnessMs: 0 };
      await first.share.readFile(p('a.txt')); // the server is gone: offline by itself, not by hand
      await first.share.backgroundChecks();
      assert.deepEqual(first.share.connectionState?.kind, 'offline');
      await first.share.writeFile(p('a.txt'), Buffer.from('left pending at exit'), { create: false, overwrite: true });
      // the next session starts with the server back
      proxy.mode = { kind: 'pass' };
      const { share } = await restart();
      // the journal empties before the reconnect ends: wait for both
      for (let i = 0; i < 50 && ((await share.pendingChanges()).length || share.connectionState?.kind !== 'online'); i++) await new Promise(r => setTimeout(r, 100));
      assert.equal((await share.pendingChanges()).length, 0, 'replayed at start');
      assert.equal(readFileSync(onDisk('a.txt'), 'utf8'), 'left pending at exit');
      assert.equal(share.connectionState?.kind, 'online');
    });

    test('discarding a change restores the server version; the local version goes to the recovery area', async () => {
      const { share } = await open();
      await warm(share);
      await share.goOffline();
      await share.writeFile(p('a.txt'), Buffer.from('to be discarded'), { create: false, overwrite: true });
      const [item] = await share.pendingChanges();
      await share.discardChange(item.id);
      assert.equal((await share.pendingChanges()).length, 0);
      assert.equal(text(await share.readFile(p('a.txt'))), 'alpha');
      const [kept] = await share.recoveredFiles();
      assert.equal(kept.path, p('a.txt'));
      assert.equal(text((await share.blob(kept.blob))!), 'to be discarded');
      const { share: again } = await restart();
      assert.equal((await again.recoveredFiles()).length, 1, 'recovered files survive a restart');
    });
  });
}
