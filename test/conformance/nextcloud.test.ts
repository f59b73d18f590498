// Nextcloud and ownCloud, against a Nextcloud-shaped server (test/support/nextcloudFront.ts: a front over
// a real nephele that answers as Nextcloud does): the files folder found from the web address a person
// knows, read-only files refused at save time (online and offline), a rename made on the server keeping
// the cached copy (oc:fileid), the etag sent with a PUT sparing the re-stat, the quota shown and warned
// about, folder etags that follow changes below (a quiet tree polled with one request).
import * as assert from 'node:assert/strict';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ShareError } from '../../src/core/errors';
import { DEFAULTS, type Settings } from '../../src/core/settings';
import type { ShareLocation } from '../../src/core/shareLocation';
import { cloudFilesPath, detectCloudServer } from '../../src/remote/discovery';
import { WebdavRemote } from '../../src/remote/webdavRemote';
import { Share, type ReplayHooks } from '../../src/share/share';
import { diskCache } from '../support/cachedShare';
import { startNephele } from '../support/nepheleServer';
import { startNextcloudFront, type NextcloudFront } from '../support/nextcloudFront';
import { RecordingLogger } from '../support/recordingLogger';
import { tempFolder } from '../support/servers';

const APP_PASSWORD = 'app-pass-12345';
const GOOD = { username: 'alice', password: APP_PASSWORD };
const auth = { stored: async () => GOOD, ask: async () => undefined, save: async () => undefined };
const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => Buffer.from(b).toString();

suite('conformance: Nextcloud-shaped server', function () {
  this.timeout(30_000);
  let disk: ReturnType<typeof tempFolder>;
  let cacheDir: ReturnType<typeof tempFolder>;
  let front: NextcloudFront;
  let settings: Settings;
  let log: RecordingLogger;
  let quotaWarnings: [number, number][];
  const opened: Share[] = [];
  const onDisk = (rel: string) => join(disk.path, rel);
  const origin = () => front.origin.replace('http://', '');
  const files = (): ShareLocation => ({ scheme: 'dav', authority: origin(), basePath: front.filesPath });

  async function open(): Promise<Share> {
    const hooks: ReplayHooks = { confirmMassDelete: async () => true, warnNoPreconditions: () => undefined, progress: () => undefined, warnQuota: (n, a) => quotaWarnings.push([n, a]) };
    const share = new Share(files(), new WebdavRemote(files(), () => settings, log), auth, log, diskCache(cacheDir.path, () => settings, log), hooks);
    await share.hasCache();
    opened.push(share);
    return share;
  }

  setup(async () => {
    disk = tempFolder('wdo-nextcloud-');
    cacheDir = tempFolder('wdo-nextcloud-cache-');
    mkdirSync(onDisk('docs'));
    mkdirSync(onDisk('locked'));
    writeFileSync(onDisk('notes.md'), 'notes\n');
    writeFileSync(onDisk('docs/a.md'), 'alpha\n');
    writeFileSync(onDisk('docs/readonly.md'), 'shared with you read-only\n');
    writeFileSync(onDisk('locked/inside.md'), 'in a read-only folder\n');
    front = await startNextcloudFront({ root: disk.path, password: APP_PASSWORD });
    front.setPermissions('/docs/readonly.md', 'RGDNV'); // no W
    front.setPermissions('/locked', 'RGDNV'); // no C, no K
    log = new RecordingLogger();
    settings = { ...DEFAULTS, pollIntervalMs: 0 };
    quotaWarnings = [];
  });
  teardown(async () => {
    for (const s of opened.splice(0)) await s.dispose();
    await front.close();
    disk.remove();
    cacheDir.remove();
  });

  test('the web address a person knows leads to the files folder: status.php, then the principal (the user id is not the login name)', async () => {
    const base: ShareLocation = { scheme: 'dav', authority: origin(), basePath: '/nextcloud' };
    const remote = new WebdavRemote(base, () => settings, log);
    assert.deepEqual(await detectCloudServer(remote), { product: 'Nextcloud', version: '29.0.4' });
    remote.setCredentials({ username: 'alice', password: 'wrong' });
    await assert.rejects(cloudFilesPath(remote), (e: unknown) => e instanceof ShareError && e.code === 'Unauthorized');
    remote.setCredentials(GOOD);
    assert.equal(await cloudFilesPath(remote), '/remote.php/dav/files/alice-id');
    // a plain WebDAV server is not taken for one
    const plainDisk = tempFolder('wdo-plain-');
    const plain = await startNephele({ root: plainDisk.path, mount: '/' });
    try {
      assert.equal(await detectCloudServer(new WebdavRemote({ scheme: 'dav', authority: `127.0.0.1:${plain.port}`, basePath: '/' }, () => settings, log)), undefined);
    } finally {
      await plain.close();
      plainDisk.remove();
    }
  });

  test('a file shared read-only is read-only in VS Code and refused at save time, online and offline; nothing pending, the server unchanged', async () => {
    const share = await open();
    assert.equal((await share.stat('/docs/readonly.md')).permissions?.write, false);
    assert.equal((await share.stat('/docs/a.md')).permissions?.write, true);
    const refused = (e: unknown) => e instanceof ShareError && e.code === 'NoPermissions' && /read-only/.test(e.message);
    await assert.rejects(share.writeFile('/docs/readonly.md', bytes('mine\n'), { create: true, overwrite: true }), refused);
    await share.readDirectory('/locked');
    await assert.rejects(share.writeFile('/locked/new.md', bytes('x'), { create: true, overwrite: false }), refused);
    await assert.rejects(share.createDirectory('/locked/sub'), refused);
    await share.goOffline();
    await assert.rejects(share.writeFile('/docs/readonly.md', bytes('mine, offline\n'), { create: true, overwrite: true }), refused, 'refused when saved, not found out at reconnect');
    assert.deepEqual(await share.pendingChanges(), []);
    await share.writeFile('/docs/a.md', bytes('a writable file is saved offline\n'), { create: true, overwrite: true });
    assert.equal((await share.pendingChanges()).length, 1);
    assert.equal(await share.goOnline(), true);
    assert.equal(readFileSync(onDisk('docs/readonly.md'), 'utf8'), 'shared with you read-only\n');
    assert.equal(readFileSync(onDisk('docs/a.md'), 'utf8'), 'a writable file is saved offline\n');
  });

  test('the etag Nextcloud sends with a PUT spares the re-stat', async () => {
    const share = await open();
    await share.readFile('/notes.md');
    await share.capabilities();
    const mark = front.log.length;
    await share.writeFile('/notes.md', bytes('saved once\n'), { create: true, overwrite: true });
    const sent = front.log.slice(mark);
    assert.deepEqual(sent.filter(r => !r.startsWith('PROPFIND') || r.endsWith('/notes.md')), [`PUT ${front.filesPath}/notes.md`], `no re-stat of notes.md: ${sent.join(', ')}`);
    assert.equal(readFileSync(onDisk('notes.md'), 'utf8'), 'saved once\n');
  });

  test('a rename made on the server keeps the cached copy (oc:fileid): no download again', async () => {
    const share = await open();
    await share.readDirectory('/docs');
    assert.equal(text(await share.readFile('/docs/a.md')), 'alpha\n');
    renameSync(onDisk('docs/a.md'), onDisk('docs/renamed.md')); // the same file (inode, Nextcloud's file id)
    settings = { ...settings, freshnessMs: 0 };
    await share.readDirectory('/docs'); // the cached listing at once, checked behind it
    await share.backgroundChecks();
    assert.deepEqual((await share.readDirectory('/docs')).map(([n]) => n).sort(), ['readonly.md', 'renamed.md']);
    settings = { ...settings, freshnessMs: 60_000 };
    const mark = front.log.length;
    assert.equal(text(await share.readFile('/docs/renamed.md')), 'alpha\n');
    assert.deepEqual(front.log.slice(mark).filter(r => r.startsWith('GET')), [], 'served from the cache');
    assert.equal(share.cacheState('/docs/renamed.md')?.cached, true);
  });

  test('the quota is shown, and a reconnect that needs more than is free warns first', async () => {
    front.setQuota(1000);
    const share = await open();
    await share.readDirectory('/');
    await share.readFile('/notes.md');
    assert.equal((await share.usage())?.quota?.available, 1000);
    await share.goOffline();
    await share.writeFile('/big.bin', new Uint8Array(5000), { create: true, overwrite: false });
    await share.goOnline();
    assert.equal(quotaWarnings.length, 1);
    assert.ok(quotaWarnings[0][0] >= 5000 && quotaWarnings[0][1] === 1000, JSON.stringify(quotaWarnings));
  });

  test('the probe sees Nextcloud: preconditions honoured, folder etags that follow changes below (a quiet tree: one request per poll)', async () => {
    const share = await open();
    const caps = await share.capabilities();
    assert.equal(caps.ifMatch, true);
    assert.equal(caps.etagPropagation, true);
    assert.deepEqual(front.log.filter(r => r.includes('webdav-offline-probe') && !r.startsWith('PUT')), [], 'the probe wrote nothing (its PUT was refused with 412)');
  });
});
