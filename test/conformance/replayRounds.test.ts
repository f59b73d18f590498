// The replay's rounds against real servers, counted by an HTTP proxy in front of them: independent offline
// changes go out in parallel (never more at once than the setting allows), a folder made offline and the
// files made in it go in one round, each change is sent once, and the proofs of a round cost one listing
// per touched folder — not a request per change. A change into a folder made in the same round that the
// server refuses (a file took the folder's name) is never lost: it waits for the next round and becomes a
// conflict there, the server's file untouched.
import * as assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULTS, type Settings } from '../../src/core/settings';
import type { ShareLocation } from '../../src/core/shareLocation';
import { opPaths } from '../../src/offline/journalOps';
import { WebdavRemote } from '../../src/remote/webdavRemote';
import { Share, type ReplayReport } from '../../src/share/share';
import { startApache } from '../support/apacheServer';
import { diskCache } from '../support/cachedShare';
import { WRITE_METHODS } from '../support/httpFaultProxy';
import { proxiedServer } from '../support/proxiedServer';
import { startLighttpd } from '../support/lighttpdServer';
import { startNephele } from '../support/nepheleServer';
import { RecordingLogger } from '../support/recordingLogger';
import { handToServer, tempFolder, USERS } from '../support/servers';

const GOOD = { username: 'alice', password: USERS.alice };
const auth = { stored: async () => GOOD, ask: async () => undefined, save: async () => undefined };
const FOLDERS = ['a', 'b', 'c'];
const FILES_PER_FOLDER = 12;
const PARALLEL = 4;

for (const kind of [
  { name: 'apache', start: startApache },
  { name: 'nephele', start: startNephele },
  { name: 'lighttpd', start: startLighttpd },
]) {
  suite(`conformance: replay rounds on ${kind.name}`, function () {
    this.timeout(120_000);
    const env = proxiedServer(kind, 'rounds');
    let n = 0;
    const opened: { share: Share; cache: ReturnType<typeof tempFolder> }[] = [];

    teardown(async () => {
      for (const o of opened.splice(0)) {
        await o.share.dispose();
        o.cache.remove();
      }
    });

    /** A share of a fresh folder with FOLDERS × FILES_PER_FOLDER files, all read (cached), then offline. */
    async function offlineShare(): Promise<{ share: Share; dir: string; onDisk: (rel: string) => string; p: (rel: string) => string }> {
      const dir = `w${++n}`;
      const onDisk = (rel: string) => join(env.disk.path, dir, rel);
      const p = (rel: string) => `/${dir}/${rel}`;
      for (const f of FOLDERS) {
        mkdirSync(onDisk(f), { recursive: true });
        for (let i = 0; i < FILES_PER_FOLDER; i++) {
          writeFileSync(onDisk(`${f}/f${i}.txt`), `${f}${i} as on the server\n`);
          // written a while ago, as files are: Apache's ETag is weak within the second a file changed
          utimesSync(onDisk(`${f}/f${i}.txt`), new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
        }
      }
      handToServer(kind.name, join(env.disk.path, dir));
      const location: ShareLocation = { scheme: 'dav', authority: `127.0.0.1:${env.proxy.port}`, basePath: '/share' };
      const settings: Settings = { ...DEFAULTS, pollIntervalMs: 0, parallelDownloads: PARALLEL };
      const log = new RecordingLogger();
      const cache = tempFolder('wdo-rounds-cache-');
      const share = new Share(location, new WebdavRemote(location, () => settings, log), auth, log, diskCache(cache.path, () => settings, log));
      opened.push({ share, cache });
      await share.capabilities(); // probed before the count, as a share long open has done
      await share.readDirectory(`/${dir}`);
      for (const f of FOLDERS) for (const [name] of await share.readDirectory(p(f))) await share.readFile(p(`${f}/${name}`));
      await share.goOffline();
      return { share, dir, onDisk, p };
    }

    async function reconnect(share: Share): Promise<ReplayReport> {
      const reports: ReplayReport[] = [];
      const sub = share.onDidReplay(r => reports.push(r));
      assert.equal(await share.goOnline(), true, `back online (${share.connectionState?.kind})`);
      sub.dispose();
      assert.equal(reports.length, 1);
      return reports[0];
    }

    const writes = () => WRITE_METHODS.reduce((sum, m) => sum + (env.proxy.byMethod[m] ?? 0), 0);

    test('independent changes go out in parallel, bounded by the setting; each is sent once; proofs are one listing per touched folder', async () => {
      const { share, onDisk, p } = await offlineShare();
      let changes = 0;
      for (const f of FOLDERS) {
        for (let i = 0; i < 8; i++, changes++) await share.writeFile(p(`${f}/f${i}.txt`), Buffer.from(`${f}${i} edited offline\n`), { create: false, overwrite: true });
        await share.delete(p(`${f}/f8.txt`), { recursive: false });
        await share.rename(p(`${f}/f9.txt`), p(`${f}/moved9.txt`), { overwrite: false });
        changes += 2;
      }
      await share.createDirectory(p('made'));
      changes++;
      for (let i = 0; i < 6; i++, changes++) await share.writeFile(p(`made/new${i}.txt`), Buffer.from(`new ${i}\n`), { create: true, overwrite: false });
      assert.equal((await share.pendingChanges()).length, changes, 'nothing collapsed: every change is its own');
      env.proxy.resetCounts();
      const report = await reconnect(share);
      const counted = { ...env.proxy.byMethod, maxInFlight: env.proxy.maxInFlight };
      console.log(`      [figures] ${kind.name}: ${changes} changes, ${env.proxy.requests} requests ${JSON.stringify(counted)}`);
      assert.deepEqual(report.conflicts, []);
      assert.equal(report.applied, changes);
      assert.equal((await share.pendingChanges()).length, 0);
      // what the server has
      for (const f of FOLDERS) {
        for (let i = 0; i < 8; i++) assert.equal(readFileSync(onDisk(`${f}/f${i}.txt`), 'utf8'), `${f}${i} edited offline\n`);
        assert.deepEqual(readdirSync(onDisk(f)).filter(x => !x.startsWith('f')), ['moved9.txt']);
        assert.equal(readdirSync(onDisk(f)).includes('f8.txt'), false);
      }
      assert.equal(statSync(onDisk('made')).isDirectory(), true);
      for (let i = 0; i < 6; i++) assert.equal(readFileSync(onDisk(`made/new${i}.txt`), 'utf8'), `new ${i}\n`);
      // how it went
      assert.equal(writes(), changes, 'each change sent once, none twice (no folder made twice, no retry)');
      assert.ok(env.proxy.maxInFlight > 1, `changes went out in parallel (at most ${env.proxy.maxInFlight} at once)`);
      assert.ok(env.proxy.maxInFlight <= PARALLEL, `never more than ${PARALLEL} requests at once (saw ${env.proxy.maxInFlight})`);
      // the directory diff lists the 5 cached folders (the share's root, the test folder and its 3 folders); the
      // proofs: one listing of each folder with changes (a, b, c, made) and one stat of `made` in the test folder
      // — one round, as the files made in `made` went with it; one request more for the way back online
      // — or, where the server answers Depth: infinity (nephele), one listing of the test folder's tree for them all
      const propfinds = env.proxy.byMethod.PROPFIND ?? 0;
      const proofs = kind.name === 'nephele' ? 1 : 5;
      assert.ok(propfinds <= 5 + proofs + 1, `PROPFIND ${propfinds}: the diff and ${proofs === 1 ? 'one whole-tree proof' : 'one proof request per touched folder'}`);
      assert.ok(env.proxy.requests <= changes + 6 + proofs, `${env.proxy.requests} requests for ${changes} changes`);
    });

    test('files made in a folder made offline, whose name a file took on the server meanwhile: conflicts next round, nothing lost', async () => {
      const { share, onDisk, p } = await offlineShare();
      await share.createDirectory(p('made'));
      await share.writeFile(p('made/one.txt'), Buffer.from('one\n'), { create: true, overwrite: false });
      await share.writeFile(p('made/two.txt'), Buffer.from('two\n'), { create: true, overwrite: false });
      await share.writeFile(p('a/f0.txt'), Buffer.from('a0 edited offline\n'), { create: false, overwrite: true });
      writeFileSync(onDisk('made'), 'a colleague made a file of that name\n');
      handToServer(kind.name, onDisk('made'));
      const report = await reconnect(share).catch(() => undefined);
      // the independent change landed; the folder and its files are conflicts (or still pending), never lost
      assert.equal(readFileSync(onDisk('a/f0.txt'), 'utf8'), 'a0 edited offline\n');
      assert.equal(readFileSync(onDisk('made'), 'utf8'), 'a colleague made a file of that name\n', "the colleague's file is untouched");
      const pending = await share.pendingChanges();
      const kept = pending.map(c => opPaths(c.op)[0]).sort();
      assert.deepEqual(kept, [p('made'), p('made/one.txt'), p('made/two.txt')].sort(), `kept: ${JSON.stringify(kept)} (report ${JSON.stringify(report?.conflicts.map(c => `${c.kind} ${c.path}`))})`);
      assert.equal(Buffer.from(await share.readFile(p('made/one.txt'))).toString(), 'one\n', 'the local file still reads');
    });
  });
}
