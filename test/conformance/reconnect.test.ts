// Reconnect against real servers: the journal replays with conditional requests; every conflict case
// is detected (never overwritten) on Apache and lighttpd (strict 412) and nephele, and through the
// fallback path (compare right before writing) on rclone, which ignores preconditions. Nothing is
// ever lost.
import * as assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULTS, type Settings } from '../../src/core/settings';
import type { ShareLocation } from '../../src/core/shareLocation';
import { WebdavRemote } from '../../src/remote/webdavRemote';
import { Share, type ReplayHooks, type ReplayReport } from '../../src/share/share';
import type { RunningServer } from '../support/nepheleServer';
import { startNephele } from '../support/nepheleServer';
import { startApache } from '../support/apacheServer';
import { startLighttpd } from '../support/lighttpdServer';
import { startRclone } from '../support/rcloneServer';
import { RecordingLogger } from '../support/recordingLogger';
import { assertServerInstalled, handToServer, printServerLogIfFailed, tempFolder, USERS } from '../support/servers';
import { diskCache } from '../support/cachedShare';

const GOOD = { username: 'alice', password: USERS.alice };
const auth = { stored: async () => GOOD, ask: async () => undefined, save: async () => undefined };
const text = (b: Uint8Array) => Buffer.from(b).toString();

const KINDS = [
  { name: 'apache', strict: true, start: startApache },
  { name: 'nephele', strict: true, start: startNephele },
  { name: 'lighttpd', strict: true, start: startLighttpd },
  { name: 'rclone', strict: false, start: startRclone },
];

for (const kind of KINDS) {
  suite(`conformance: reconnect on ${kind.name}`, function () {
    this.timeout(60_000);
    let disk: ReturnType<typeof tempFolder>;
    let cacheDir: ReturnType<typeof tempFolder>;
    let server: RunningServer;
    let location: ShareLocation;
    let n = 0;
    let dir: string;
    let settings: Settings;
    let log: RecordingLogger;
    let hookCalls: string[];
    let confirmDeletes: boolean;
    const opened: Share[] = [];
    const onDisk = (p: string) => join(disk.path, dir, p);
    const p = (rel: string) => `/${dir}/${rel}`;
    const chown = () => handToServer(kind.name, disk.path);
    /** Someone else changes the server. */
    const serverWrite = (rel: string, content: string) => {
      writeFileSync(onDisk(rel), content);
      chown();
    };

    async function open() {
      const hooks: ReplayHooks = {
        confirmMassDelete: async (count, _examples, direction) => {
          hookCalls.push(`confirm ${count} ${direction}`);
          return confirmDeletes;
        },
        warnNoPreconditions: () => hookCalls.push('no-preconditions'),
        progress: () => undefined,
      };
      const remote = new WebdavRemote(location, () => settings, log);
      const share = new Share(
        location,
        remote,
        auth,
        log,
        diskCache(cacheDir.path, () => settings, log),
        hooks,
      );
      await share.hasCache();
      opened.push(share);
      return share;
    }

    /** Opens, reads everything (so it is cached), goes offline. */
    async function offlineShare(): Promise<Share> {
      const share = await open();
      await share.readDirectory('/');
      await share.readDirectory(`/${dir}`);
      for (const [name, type] of await share.readDirectory(p('docs'))) if (type === 'file') await share.readFile(p(`docs/${name}`));
      await share.readFile(p('a.md'));
      await share.goOffline();
      return share;
    }

    async function reconnect(share: Share): Promise<ReplayReport> {
      const reports: ReplayReport[] = [];
      const sub = share.onDidReplay(r => reports.push(r));
      const online = await share.goOnline();
      sub.dispose();
      assert.equal(online, true, `back online (${share.connectionState?.kind})`);
      assert.equal(reports.length, 1);
      return reports[0];
    }

    suiteSetup(async function () {
      assertServerInstalled(kind.name);
      disk = tempFolder(`wdo-reconnect-${kind.name}-`);
      server = await kind.start({ root: disk.path, mount: '/share', users: USERS });
      location = { scheme: 'dav', authority: `127.0.0.1:${server.port}`, basePath: '/share' };
    });
    suiteTeardown(async function () {
      printServerLogIfFailed(this, server);
      await server?.close();
      disk?.remove();
    });
    setup(() => {
      log = new RecordingLogger();
      hookCalls = [];
      confirmDeletes = true;
      settings = { ...DEFAULTS, pollIntervalMs: 0 };
      cacheDir = tempFolder('wdo-reconnect-cache-');
      dir = `r${++n}`;
      mkdirSync(join(disk.path, dir, 'docs'), { recursive: true });
      writeFileSync(onDisk('a.md'), 'line 1\nline 2\nline 3\nline 4\nline 5\n');
      writeFileSync(onDisk('docs/b.md'), 'bee\n');
      writeFileSync(onDisk('docs/c.md'), 'sea\n');
      writeFileSync(onDisk('docs/old.md'), 'old\n');
      chown();
    });
    teardown(async () => {
      for (const s of opened.splice(0)) await s.dispose();
      cacheDir.remove();
    });

    test('the capability probe says what the server honours', async () => {
      const share = await open();
      const caps = (await share.capabilities());
      console.log(`      [capabilities] ${kind.name}: ${JSON.stringify({ ...caps, probedAt: undefined })}`);
      assert.equal(caps.ifMatch, kind.strict);
      assert.equal(caps.ifNoneMatch, kind.strict);
      assert.equal(caps.etagPropagation, false, 'no server here changes a folder etag for a change two levels down');
      assert.equal(caps.etagInListing, true);
      assert.deepEqual(readdirSync(disk.path).filter(x => x.startsWith('.webdav-offline-probe')), [], 'the scratch folder is removed');
    });

    test('replay applies every kind of change, in order, and the cache is clean afterwards', async () => {
      const share = await offlineShare();
      await share.writeFile(p('a.md'), Buffer.from('edited offline\n'), { create: false, overwrite: true });
      await share.writeFile(p('docs/new.md'), Buffer.from('new\n'), { create: true, overwrite: false });
      await share.delete(p('docs/old.md'), { recursive: false });
      await share.rename(p('docs/b.md'), p('docs/b2.md'), { overwrite: false });
      await share.createDirectory(p('made'));
      await share.writeFile(p('made/inside.txt'), Buffer.from('inside\n'), { create: true, overwrite: false });
      await share.copy(p('docs/c.md'), p('made/c-copy.md'), { overwrite: false });
      assert.equal(readFileSync(onDisk('a.md'), 'utf8').startsWith('line 1'), true, 'nothing sent while offline');
      const report = await reconnect(share);
      assert.equal(report.conflicts.length, 0, JSON.stringify(report.conflicts));
      assert.equal(readFileSync(onDisk('a.md'), 'utf8'), 'edited offline\n');
      assert.equal(readFileSync(onDisk('docs/new.md'), 'utf8'), 'new\n');
      assert.equal(existsSync(onDisk('docs/old.md')), false);
      assert.equal(readFileSync(onDisk('docs/b2.md'), 'utf8'), 'bee\n');
      assert.equal(existsSync(onDisk('docs/b.md')), false);
      assert.equal(readFileSync(onDisk('made/inside.txt'), 'utf8'), 'inside\n');
      assert.equal(readFileSync(onDisk('made/c-copy.md'), 'utf8'), 'sea\n');
      assert.equal((await share.pendingChanges()).length, 0);
      for (const path of ['a.md', 'docs/new.md', 'docs/b2.md', 'made', 'made/inside.txt']) assert.equal(share.isProvisional(p(path)), false, path);
      if (!kind.strict) assert.ok(hookCalls.includes('no-preconditions'), 'the user is told this server cannot guarantee conflict detection');
    });

    test('changes to files that exist only through earlier offline changes replay without false conflicts', async () => {
      const share = await offlineShare();
      await share.rename(p('docs/b.md'), p('docs/b2.md'), { overwrite: false });
      await share.writeFile(p('docs/b2.md'), Buffer.from('b2 edited\n'), { create: false, overwrite: true });
      await share.rename(p('docs/b2.md'), p('docs/b3.md'), { overwrite: false });
      await share.writeFile(p('docs/b3.md'), Buffer.from('b3 edited\n'), { create: false, overwrite: true });
      await share.copy(p('docs/c.md'), p('docs/c2.md'), { overwrite: false });
      await share.writeFile(p('docs/c2.md'), Buffer.from('c2 edited\n'), { create: false, overwrite: true });
      await share.rename(p('docs/old.md'), p('docs/old2.md'), { overwrite: false });
      await share.writeFile(p('docs/old2.md'), Buffer.from('old2 edited\n'), { create: false, overwrite: true });
      await share.delete(p('docs/old2.md'), { recursive: false });
      const report = await reconnect(share);
      assert.deepEqual(report.conflicts.map(c => `${c.kind} ${c.path}`), []);
      assert.deepEqual(readdirSync(onDisk('docs')).sort(), ['b3.md', 'c.md', 'c2.md']);
      assert.equal(readFileSync(onDisk('docs/b3.md'), 'utf8'), 'b3 edited\n');
      assert.equal(readFileSync(onDisk('docs/c2.md'), 'utf8'), 'c2 edited\n');
      assert.equal(readFileSync(onDisk('docs/c.md'), 'utf8'), 'sea\n');
      assert.equal((await share.pendingChanges()).length, 0);
    });

    test('a change made from a version the server had just written (Apache\'s weak etag) goes out once, with no If-Match refused', async () => {
      serverWrite('a.md', 'written on the server a moment ago\n'); // Apache: a weak etag for about a second
      const share = await offlineShare();
      await share.writeFile(p('a.md'), Buffer.from('edited offline\n'), { create: false, overwrite: true });
      const report = await reconnect(share);
      assert.deepEqual(report.conflicts, []);
      assert.equal(readFileSync(onDisk('a.md'), 'utf8'), 'edited offline\n');
      const refused = log.lines.filter(l => / PUT .*a\.md: .*412/.test(l));
      assert.deepEqual(refused, [], 'no PUT was sent only to be refused (the body went out once)');
    });

    test('folders copied or moved offline, then deleted (collapsed, or after other changes): no false conflict; a colleague\'s new file stays', async () => {
      const share = await offlineShare();
      await share.copy(p('docs'), p('docs-copy'), { overwrite: false });
      await share.delete(p('docs-copy'), { recursive: true });
      await share.rename(p('docs'), p('moved'), { overwrite: false });
      await share.delete(p('moved'), { recursive: true });
      let report = await reconnect(share);
      assert.deepEqual(report.conflicts.map(c => `${c.kind} ${c.path}`), []);
      for (const gone of ['docs', 'docs-copy', 'moved']) assert.equal(existsSync(onDisk(gone)), false, `${gone} is not on the server`);
      assert.equal((await share.pendingChanges()).length, 0);
      // moved, something made at the old name, the moved folder deleted: the move goes first, then the delete of
      // the files it moved, in the versions the move knew (every server here keeps a file's etag when it moves)
      mkdirSync(onDisk('docs'));
      serverWrite('docs/b.md', 'bee\n');
      await share.goOnline();
      await share.readDirectory(p('docs'));
      await share.readFile(p('docs/b.md'));
      await share.goOffline();
      await share.rename(p('docs'), p('moved'), { overwrite: false });
      await share.createDirectory(p('docs'));
      await share.writeFile(p('docs/new.md'), Buffer.from('new\n'), { create: true, overwrite: false });
      await share.delete(p('moved'), { recursive: true });
      report = await reconnect(share);
      assert.equal(readFileSync(onDisk('docs/new.md'), 'utf8'), 'new\n');
      assert.deepEqual(report.conflicts.map(c => `${c.kind} ${c.path}`), []);
      assert.equal(existsSync(onDisk('moved')), false);
      // copied, a file copied out of the copy, the copy deleted: the copies go first, then the delete of what
      // the folder's copy brought (the replay lists it once it landed, as a delete of it is to come)
      await share.goOffline();
      await share.copy(p('docs'), p('docs-copy'), { overwrite: false });
      await share.copy(p('docs-copy/new.md'), p('kept.md'), { overwrite: false });
      await share.delete(p('docs-copy'), { recursive: true });
      report = await reconnect(share);
      assert.deepEqual(report.conflicts.map(c => `${c.kind} ${c.path}`), []);
      assert.equal(existsSync(onDisk('docs-copy')), false);
      assert.equal(readFileSync(onDisk('kept.md'), 'utf8'), 'new\n');
      // the same with a file a colleague added meanwhile: the folder is not deleted, the file stays
      mkdirSync(onDisk('team'));
      serverWrite('team/one.md', 'one\n');
      await share.goOnline();
      await share.readDirectory(p('team'));
      await share.readFile(p('team/one.md'));
      await share.goOffline();
      await share.rename(p('team'), p('team-old'), { overwrite: false });
      await share.delete(p('team-old'), { recursive: true });
      serverWrite('team/added-meanwhile.md', 'do not lose me\n');
      report = await reconnect(share);
      assert.deepEqual(report.conflicts.map(c => `${c.kind} ${c.path}`), [`deleted-changed ${p('team')}`]);
      assert.equal(readFileSync(onDisk('team/added-meanwhile.md'), 'utf8'), 'do not lose me\n');
    });

    test('changed on both sides, different lines: merged automatically with the cached base', async () => {
      const share = await offlineShare();
      await share.writeFile(p('a.md'), Buffer.from('line 1\nline 2\nline 3\nline 4\nline 5 (local)\n'), { create: false, overwrite: true });
      serverWrite('a.md', 'line 1 (server)\nline 2\nline 3\nline 4\nline 5\n');
      const report = await reconnect(share);
      assert.deepEqual(report.merged, [p('a.md')]);
      assert.equal(readFileSync(onDisk('a.md'), 'utf8'), 'line 1 (server)\nline 2\nline 3\nline 4\nline 5 (local)\n');
      assert.equal(text(await share.readFile(p('a.md'))), 'line 1 (server)\nline 2\nline 3\nline 4\nline 5 (local)\n');
    });

    test('changed on both sides identically: resolved silently', async () => {
      const share = await offlineShare();
      await share.writeFile(p('docs/c.md'), Buffer.from('same change\n'), { create: false, overwrite: true });
      serverWrite('docs/c.md', 'same change\n');
      const report = await reconnect(share);
      assert.deepEqual(report.identical, [p('docs/c.md')]);
      assert.equal(report.conflicts.length, 0);
      assert.equal(share.isProvisional(p('docs/c.md')), false);
    });

    test('changed on both sides, same lines: a conflict; the server is not overwritten; Keep Both keeps both', async () => {
      const share = await offlineShare();
      await share.writeFile(p('a.md'), Buffer.from('LOCAL first line\nline 2\nline 3\nline 4\nline 5\n'), { create: false, overwrite: true });
      serverWrite('a.md', 'SERVER first line\nline 2\nline 3\nline 4\nline 5\n');
      const report = await reconnect(share);
      assert.equal(report.conflicts.length, 1);
      const [c] = await share.conflicts();
      assert.equal(c.kind, 'both-changed');
      assert.ok(c.server?.blob && c.local?.blob && c.base?.blob, 'server, local and base versions are kept');
      assert.equal(readFileSync(onDisk('a.md'), 'utf8').startsWith('SERVER'), true, 'never overwritten');
      assert.equal(text(await share.readFile(p('a.md'))).startsWith('LOCAL'), true, 'the local version stays visible');
      assert.ok(share.isConflicted(p('a.md')));
      const copy = await share.resolveConflict(c.id, 'keepBoth');
      assert.ok(copy && /a \(conflicted copy .+\)\.md$/.test(copy), copy);
      assert.equal(readFileSync(onDisk('a.md'), 'utf8').startsWith('SERVER'), true);
      const copyName = readdirSync(join(disk.path, dir)).find(x => x.includes('conflicted copy'))!;
      assert.equal(readFileSync(onDisk(copyName), 'utf8').startsWith('LOCAL'), true);
      assert.equal((await share.conflicts()).length, 0);
      assert.equal((await share.pendingChanges()).length, 0);
      assert.equal(text(await share.readFile(p('a.md'))).startsWith('SERVER'), true);
    });

    test('Keep Local uploads the local version; the server version is kept in the recovery area', async () => {
      const share = await offlineShare();
      await share.writeFile(p('docs/b.md'), Buffer.from('LOCAL bee\n'), { create: false, overwrite: true });
      serverWrite('docs/b.md', 'SERVER bee\n');
      await reconnect(share);
      const [c] = await share.conflicts();
      await share.resolveConflict(c.id, 'keepLocal');
      assert.equal(readFileSync(onDisk('docs/b.md'), 'utf8'), 'LOCAL bee\n');
      const kept = await share.recoveredFiles();
      assert.ok(kept.some(f => f.path === p('docs/b.md')), 'the replaced server version is recoverable');
      assert.equal(text((await share.blob(kept.find(f => f.path === p('docs/b.md'))!.blob))!), 'SERVER bee\n');
    });

    test('Keep Server brings the server version back; the local version is kept in the recovery area', async () => {
      const share = await offlineShare();
      await share.writeFile(p('docs/b.md'), Buffer.from('LOCAL bee\n'), { create: false, overwrite: true });
      serverWrite('docs/b.md', 'SERVER bee\n');
      await reconnect(share);
      const [c] = await share.conflicts();
      await share.resolveConflict(c.id, 'keepServer');
      assert.equal(readFileSync(onDisk('docs/b.md'), 'utf8'), 'SERVER bee\n');
      assert.equal(text(await share.readFile(p('docs/b.md'))), 'SERVER bee\n');
      const kept = (await share.recoveredFiles()).find(f => f.path === p('docs/b.md'))!;
      assert.equal(text((await share.blob(kept.blob))!), 'LOCAL bee\n');
    });

    test('Mark Resolved uploads the file as edited after the conflict', async () => {
      const share = await offlineShare();
      await share.writeFile(p('docs/b.md'), Buffer.from('LOCAL bee\n'), { create: false, overwrite: true });
      serverWrite('docs/b.md', 'SERVER bee\n');
      await reconnect(share);
      await share.writeFile(p('docs/b.md'), Buffer.from('merged by hand\n'), { create: false, overwrite: true });
      assert.equal(readFileSync(onDisk('docs/b.md'), 'utf8'), 'SERVER bee\n', 'an edit of a conflicted file stays local');
      const [c] = await share.conflicts();
      await share.resolveConflict(c.id, 'markResolved');
      assert.equal(readFileSync(onDisk('docs/b.md'), 'utf8'), 'merged by hand\n');
      assert.equal((await share.conflicts()).length, 0);
    });

    test('changed here, deleted on the server: a conflict; Keep Local puts it back', async () => {
      const share = await offlineShare();
      await share.writeFile(p('docs/c.md'), Buffer.from('still needed\n'), { create: false, overwrite: true });
      rmSync(onDisk('docs/c.md'));
      await reconnect(share);
      const [c] = await share.conflicts();
      assert.equal(c.kind, 'changed-deleted');
      assert.equal(text(await share.readFile(p('docs/c.md'))), 'still needed\n', 'the local version is still there');
      await share.resolveConflict(c.id, 'keepLocal');
      assert.equal(readFileSync(onDisk('docs/c.md'), 'utf8'), 'still needed\n');
    });

    test('deleted here, changed on the server: a conflict; the server file is not deleted', async () => {
      const share = await offlineShare();
      await share.delete(p('docs/c.md'), { recursive: false });
      serverWrite('docs/c.md', 'changed by someone else\n');
      await reconnect(share);
      const [c] = await share.conflicts();
      assert.equal(c.kind, 'deleted-changed');
      assert.equal(readFileSync(onDisk('docs/c.md'), 'utf8'), 'changed by someone else\n');
      await share.resolveConflict(c.id, 'keepServer');
      assert.equal(text(await share.readFile(p('docs/c.md'))), 'changed by someone else\n');
    });

    test('created on both sides with different content: a conflict; Keep Both', async () => {
      const share = await offlineShare();
      await share.writeFile(p('docs/twin.md'), Buffer.from('mine\n'), { create: true, overwrite: false });
      serverWrite('docs/twin.md', 'theirs\n');
      await reconnect(share);
      const [c] = await share.conflicts();
      assert.equal(c.kind, 'both-created');
      assert.equal(readFileSync(onDisk('docs/twin.md'), 'utf8'), 'theirs\n');
      await share.resolveConflict(c.id, 'keepBoth');
      const copy = readdirSync(onDisk('docs')).find(x => x.startsWith('twin (conflicted copy'))!;
      assert.equal(readFileSync(onDisk(`docs/${copy}`), 'utf8'), 'mine\n');
    });

    test('folder deleted on the server with changes made here inside: a conflict, nothing lost', async () => {
      const share = await offlineShare();
      await share.writeFile(p('docs/b.md'), Buffer.from('edited in a folder that goes away\n'), { create: false, overwrite: true });
      rmSync(onDisk('docs'), { recursive: true });
      await reconnect(share);
      const conflicts = await share.conflicts();
      assert.equal(conflicts.length, 1);
      assert.ok(['folder-deleted', 'changed-deleted'].includes(conflicts[0].kind), conflicts[0].kind);
      assert.equal(text(await share.readFile(p('docs/b.md'))), 'edited in a folder that goes away\n');
      await share.resolveConflict(conflicts[0].id, 'keepLocal');
      assert.equal(readFileSync(onDisk('docs/b.md'), 'utf8'), 'edited in a folder that goes away\n', 'the folder is made again');
    });

    test('a folder deleted here whose server copy has new files is not deleted', async () => {
      const share = await offlineShare();
      await share.delete(p('docs'), { recursive: true });
      serverWrite('docs/added-meanwhile.md', 'do not lose me\n');
      await reconnect(share);
      const [c] = await share.conflicts();
      assert.equal(c.kind, 'deleted-changed');
      assert.equal(readFileSync(onDisk('docs/added-meanwhile.md'), 'utf8'), 'do not lose me\n');
    });

    test('clean cached items follow the server: remote changes and deletions are found', async () => {
      const share = await offlineShare();
      serverWrite('docs/b.md', 'changed remotely\n');
      rmSync(onDisk('docs/old.md'));
      await reconnect(share);
      assert.equal(text(await share.readFile(p('docs/b.md'))), 'changed remotely\n');
      assert.deepEqual((await share.readDirectory(p('docs'))).map(([x]) => x).sort(), ['b.md', 'c.md']);
    });

    test('a dry run lists what a reconnect would upload, delete and where it would conflict, and writes nothing', async () => {
      const share = await offlineShare();
      await share.writeFile(p('a.md'), Buffer.from('local\n'), { create: false, overwrite: true });
      await share.writeFile(p('docs/b.md'), Buffer.from('local bee\n'), { create: false, overwrite: true });
      await share.delete(p('docs/old.md'), { recursive: false });
      await share.createDirectory(p('made'));
      serverWrite('docs/b.md', 'server bee\n');
      const preview = await share.previewReconnect();
      assert.deepEqual(
        preview.map(i => `${i.action} ${'path' in i.op ? i.op.path : i.op.to}`),
        [`upload ${p('a.md')}`, `conflict ${p('docs/b.md')}`, `delete ${p('docs/old.md')}`, `create ${p('made')}`],
      );
      assert.equal(readFileSync(onDisk('a.md'), 'utf8').startsWith('line 1'), true);
      assert.ok(existsSync(onDisk('docs/old.md')));
      assert.equal(existsSync(onDisk('made')), false);
      assert.equal((await share.pendingChanges()).length, 4);
    });

    test('the mass-delete guard asks before many cached files disappear; no keeps them', async () => {
      settings = { ...settings, massDeleteThreshold: 2 };
      const share = await offlineShare();
      for (const f of ['b.md', 'c.md', 'old.md']) rmSync(onDisk(`docs/${f}`));
      confirmDeletes = false;
      assert.equal(await share.goOnline(), false, 'the reconnect is paused');
      assert.deepEqual(hookCalls.filter(h => h.startsWith('confirm')), ['confirm 3 local']);
      await share.goOffline();
      assert.equal(text(await share.readFile(p('docs/b.md'))), 'bee\n', 'kept');
      confirmDeletes = true;
      await reconnect(share);
      await assert.rejects(share.readFile(p('docs/b.md')));
    });
  });
}
