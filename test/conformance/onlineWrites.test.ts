// Online changes against real servers, as two people on one share: a save names the version the editor
// was given (If-Match), so a colleague's newer version is never overwritten — not within the cache's
// freshness window, not after the cache learnt the newer version (Apache, lighttpd, nephele), not on a server that ignores
// preconditions (rclone: versions compared right before writing). The user's bytes are kept and the
// conflict is listed; new files use If-None-Match: *; deletes of a changed file conflict. Every change
// counts only once the server shows it.
import * as assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ShareError } from '../../src/core/errors';
import { DEFAULTS, type Settings } from '../../src/core/settings';
import type { ShareLocation } from '../../src/core/shareLocation';
import { WebdavRemote } from '../../src/remote/webdavRemote';
import { Share, type ReplayReport } from '../../src/share/share';
import { startApache } from '../support/apacheServer';
import { diskCache } from '../support/cachedShare';
import type { RunningServer } from '../support/nepheleServer';
import { startNephele } from '../support/nepheleServer';
import { rcloneAvailable, startRclone } from '../support/rcloneServer';
import { RecordingLogger } from '../support/recordingLogger';
import { assertServerInstalled, handToServer, tempFolder, USERS } from '../support/servers';
import { startLighttpd } from '../support/lighttpdServer';

const GOOD = { username: 'alice', password: USERS.alice };
const auth = { stored: async () => GOOD, ask: async () => undefined, save: async () => undefined };
const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => Buffer.from(b).toString();

const KINDS = [
  { name: 'apache', start: startApache },
  { name: 'lighttpd', start: startLighttpd },
  { name: 'nephele', start: startNephele },
  { name: 'rclone', start: startRclone },
];

for (const kind of KINDS) {
  suite(`conformance: online writes on ${kind.name} (two people, one share)`, function () {
    this.timeout(60_000);
    let disk: ReturnType<typeof tempFolder>;
    let cacheDir: ReturnType<typeof tempFolder>;
    let server: RunningServer;
    let location: ShareLocation;
    let settings: Settings;
    let log: RecordingLogger;
    let n = 0;
    let dir: string;
    const opened: Share[] = [];
    const onDisk = (rel: string) => join(disk.path, dir, rel);
    const p = (rel: string) => `/${dir}/${rel}`;
    /** The colleague writes straight into the server's folder. */
    const colleague = (rel: string, content: string) => {
      writeFileSync(onDisk(rel), content);
      handToServer(kind.name, disk.path);
    };

    async function open(live = false): Promise<Share> {
      const remote = new WebdavRemote(location, () => settings, log);
      const share = new Share(location, remote, auth, log, live ? undefined : diskCache(cacheDir.path, () => settings, log));
      await share.hasCache();
      opened.push(share);
      return share;
    }

    /** What a reconnect or an online conflict reported. */
    function reports(share: Share): ReplayReport[] {
      const out: ReplayReport[] = [];
      share.onDidReplay(r => out.push(r));
      return out;
    }

    suiteSetup(async function () {
      if (kind.name === 'apache' || kind.name === 'lighttpd') assertServerInstalled(kind.name);
      if (kind.name === 'rclone' && !rcloneAvailable()) throw new Error('rclone is required: apt-get install rclone');
      disk = tempFolder(`wdo-online-${kind.name}-`);
      server = await kind.start({ root: disk.path, mount: '/share', users: USERS });
      location = { scheme: 'dav', authority: `127.0.0.1:${server.port}`, basePath: '/share' };
    });
    suiteTeardown(async () => {
      await server?.close();
      disk?.remove();
    });
    setup(() => {
      log = new RecordingLogger();
      settings = { ...DEFAULTS, pollIntervalMs: 0 };
      cacheDir = tempFolder('wdo-online-cache-');
      dir = `o${++n}`;
      mkdirSync(join(disk.path, dir), { recursive: true });
      writeFileSync(onDisk('notes.md'), 'first line\n');
      handToServer(kind.name, disk.path);
    });
    teardown(async () => {
      for (const s of opened.splice(0)) await s.dispose();
      cacheDir.remove();
    });

    test('save, a colleague saves, save again within the freshness window: the colleague keeps theirs, ours is a conflict', async () => {
      const share = await open();
      const replays = reports(share);
      assert.equal(text(await share.readFile(p('notes.md'))), 'first line\n');
      await share.writeFile(p('notes.md'), bytes('mine, first save\n'), { create: true, overwrite: true });
      assert.equal(readFileSync(onDisk('notes.md'), 'utf8'), 'mine, first save\n', 'the first save landed');
      colleague('notes.md', 'the colleague wrote this, and it is longer\n');
      const result = await share.writeFile(p('notes.md'), bytes('mine, second save\n'), { create: true, overwrite: true });
      assert.equal(result, 'changed');
      assert.equal(readFileSync(onDisk('notes.md'), 'utf8'), 'the colleague wrote this, and it is longer\n', "the colleague's version is not overwritten");
      const conflicts = await share.conflicts();
      assert.equal(conflicts.length, 1, 'a conflict is listed');
      assert.equal(conflicts[0].path, p('notes.md'));
      assert.equal(conflicts[0].kind, 'both-changed');
      assert.equal(text(await share.readFile(p('notes.md'))), 'mine, second save\n', 'our bytes are kept locally');
      assert.ok(share.isConflicted(p('notes.md')));
      assert.equal(replays.at(-1)?.conflicts.length, 1, 'the UI is told (resolution required)');
      assert.equal(share.connectionState?.kind, 'online', 'a conflict is not a failure of the connection');
      // Keep Both: both versions on the server, nothing lost
      const copy = await share.resolveConflict(conflicts[0].id, 'keepBoth');
      assert.ok(copy);
      assert.equal(readFileSync(onDisk('notes.md'), 'utf8'), 'the colleague wrote this, and it is longer\n');
      assert.equal(readFileSync(join(disk.path, copy.slice(1).replace(/^share\//, '')), 'utf8'), 'mine, second save\n');
    });

    test('the cache learnt the newer version (a listing) while the editor still holds the old one: a save conflicts', async () => {
      const share = await open();
      await share.readFile(p('notes.md'));
      colleague('notes.md', 'colleague, after our read\n');
      settings = { ...settings, freshnessMs: 0 };
      await share.readDirectory(`/${dir}`); // the listing records the colleague's version
      settings = { ...settings, freshnessMs: DEFAULTS.freshnessMs };
      await share.writeFile(p('notes.md'), bytes('edited from the old version\n'), { create: true, overwrite: true });
      assert.equal(readFileSync(onDisk('notes.md'), 'utf8'), 'colleague, after our read\n');
      assert.equal((await share.conflicts()).length, 1);
      assert.equal(text(await share.readFile(p('notes.md'))), 'edited from the old version\n');
    });

    test('a new file created by the colleague meanwhile: create without overwrite is "exists", with overwrite a conflict; theirs stays', async () => {
      const share = await open();
      await share.readDirectory(`/${dir}`);
      colleague('new.md', 'theirs\n');
      await assert.rejects(share.writeFile(p('new.md'), bytes('mine\n'), { create: true, overwrite: false }), (e: unknown) => e instanceof ShareError && e.code === 'Exists');
      await share.writeFile(p('new.md'), bytes('mine\n'), { create: true, overwrite: true });
      assert.equal(readFileSync(onDisk('new.md'), 'utf8'), 'theirs\n');
      const conflicts = await share.conflicts();
      assert.equal(conflicts.length, 1);
      assert.equal(conflicts[0].kind, 'both-created');
      assert.equal(text(await share.readFile(p('new.md'))), 'mine\n');
    });

    test('deleting a file the colleague changed meanwhile: a conflict, their file stays', async () => {
      const share = await open();
      await share.readFile(p('notes.md'));
      colleague('notes.md', 'changed by the colleague before our delete\n');
      await share.delete(p('notes.md'), { recursive: false });
      assert.equal(readFileSync(onDisk('notes.md'), 'utf8'), 'changed by the colleague before our delete\n');
      const conflicts = await share.conflicts();
      assert.equal(conflicts.length, 1);
      assert.equal(conflicts[0].kind, 'deleted-changed');
    });

    test('undisturbed saves land, each proven, and the cache serves them under their new version', async () => {
      const share = await open();
      await share.readFile(p('notes.md'));
      for (let i = 1; i <= 3; i++) {
        await share.writeFile(p('notes.md'), bytes(`save ${i}\n`), { create: true, overwrite: true });
        assert.equal(readFileSync(onDisk('notes.md'), 'utf8'), `save ${i}\n`);
      }
      await share.writeFile(p('fresh.md'), bytes('a new file\n'), { create: true, overwrite: false });
      assert.equal(readFileSync(onDisk('fresh.md'), 'utf8'), 'a new file\n');
      assert.deepEqual(await share.conflicts(), []);
      assert.deepEqual(await share.pendingChanges(), []);
      await share.createDirectory(p('sub'));
      await share.rename(p('fresh.md'), p('sub/moved.md'), { overwrite: false });
      assert.ok(existsSync(onDisk('sub/moved.md')) && !existsSync(onDisk('fresh.md')));
      await share.delete(p('sub'), { recursive: true });
      assert.ok(!existsSync(onDisk('sub')));
      assert.equal(text(await share.readFile(p('notes.md'))), 'save 3\n');
    });

    test('live mode (no cache): a save over a newer version fails with a clear message and overwrites nothing', async () => {
      const share = await open(true);
      await share.readFile(p('notes.md'));
      colleague('notes.md', 'colleague in live mode\n');
      await assert.rejects(share.writeFile(p('notes.md'), bytes('mine\n'), { create: true, overwrite: true }), (e: unknown) => {
        assert.ok(e instanceof ShareError);
        assert.equal(e.code, 'Conflict');
        assert.match(e.message, /changed on the server by someone else/);
        return true;
      });
      assert.equal(readFileSync(onDisk('notes.md'), 'utf8'), 'colleague in live mode\n');
      assert.deepEqual(readdirSync(join(disk.path, dir)).sort(), ['notes.md']);
    });
  });
}
