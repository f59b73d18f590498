// Resuming a cut download of a big file, against Apache (in its own process) behind a streaming proxy
// (test/support/rangeProxy.ts) that cuts an answer at half its bytes, counts what passes and can forge a
// 206's Content-Range: the next pin asks `Range: bytes=N-` with `If-Range` and transfers only the rest
// (≤ 55 % of the file), and the blob is the server's file byte for byte; a version changed on the server
// between the cut and the resume is downloaded whole (never a mix of two versions), also when the cache
// does not know of the change yet (the server's If-Range decides); a 206 for another range than asked is
// refused, its partial dropped, and the next download is whole and exact. The same cut resumes on
// lighttpd and nephele too.
import * as assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULTS, type Settings } from '../../src/core/settings';
import type { ShareLocation } from '../../src/core/shareLocation';
import { resumeValidator, downloadInto } from '../../src/cache/resumableDownload';
import { DiskShareStores } from '../../src/platform/diskShareStore';
import { WebdavRemote } from '../../src/remote/webdavRemote';
import { Share } from '../../src/share/share';
import { startApache } from '../support/apacheServer';
import { blobPath, MB, sha256File, writePatternFile } from '../support/bigFile';
import { diskCache } from '../support/cachedShare';
import type { RunningServer } from '../support/nepheleServer';
import { NODE_PLATFORM } from '../support/nodePlatform';
import { RangeProxy } from '../support/rangeProxy';
import { RecordingLogger } from '../support/recordingLogger';
import { assertServerInstalled, handToServer, SERVER_KINDS, tempFolder, USERS } from '../support/servers';

const SIZE = 32 * MB;
const auth = { stored: async () => ({ username: 'alice', password: USERS.alice }), ask: async () => undefined, save: async () => undefined };

suite('conformance: resuming big downloads (Apache behind a cutting proxy)', function () {
  this.timeout(60_000);
  let disk: ReturnType<typeof tempFolder>;
  let cacheDir: ReturnType<typeof tempFolder>;
  let server: RunningServer;
  let proxy: RangeProxy;
  let location: ShareLocation;
  let shareNo = 0;
  const settings: Settings = { ...DEFAULTS, pollIntervalMs: 0, maxCacheBytes: 1024 * MB };

  suiteSetup(async () => {
    assertServerInstalled('apache');
    disk = tempFolder('wdo-resume-');
    cacheDir = tempFolder('wdo-resume-cache-');
    for (const folder of ['cut', 'changed', 'unknown', 'hostile']) {
      mkdirSync(join(disk.path, folder));
      writePatternFile(join(disk.path, folder, 'file.bin'), SIZE, 1);
      // written a while ago, as files are: Apache calls an ETag or date of the current second weak, and If-Range
      // needs a strong one (a file changed within the second is downloaded whole, never resumed)
      const past = new Date(Date.now() - 60_000);
      utimesSync(join(disk.path, folder, 'file.bin'), past, past);
    }
    handToServer('apache', disk.path);
    server = await startApache({ root: disk.path, mount: '/share', users: USERS });
    proxy = await new RangeProxy(server.port).start();
    location = { scheme: 'dav', authority: `127.0.0.1:${proxy.port}`, basePath: '/share' };
  });
  suiteTeardown(async () => {
    await proxy?.stop();
    await server?.close();
    disk?.remove();
    cacheDir?.remove();
  });

  /** A share on its own cache, through the proxy. */
  function openShare(): { share: Share; id: string } {
    const log = new RecordingLogger();
    const id = `share${++shareNo}`;
    const share = new Share(location, new WebdavRemote(location, () => settings, log, NODE_PLATFORM), auth, log, diskCache(cacheDir.path, () => settings, log, undefined, id));
    return { share, id };
  }

  /** Pins `folder` with its answer cut at half the file: the pin fails, the share goes offline, then online again. */
  async function cutPin(share: Share, folder: string): Promise<void> {
    await share.readDirectory(folder);
    proxy.reset();
    proxy.cutAfter = SIZE / 2;
    const cut = await share.pin(folder).catch((err: Error) => ({ failed: [{ path: folder, error: err.message }] }));
    assert.equal(cut.failed.length, 1, 'the cut download failed');
    assert.equal(proxy.gets.length, 1);
    assert.ok(await share.goOnline(), 'the share is online again');
  }

  test('a download cut at half resumes with Range + If-Range: the rest only (≤ 55 %), the blob exact', async () => {
    const { share, id } = openShare();
    try {
      await cutPin(share, '/cut');
      proxy.reset();
      const t0 = Date.now();
      const result = await share.pin('/cut');
      assert.deepEqual(result.failed, []);
      const [get] = proxy.gets;
      console.log(`      [figures] resumed ${get.range} (${get.ifRange}): ${(get.bytes / MB).toFixed(1)} of ${SIZE / MB} MB again, ${Date.now() - t0} ms`);
      assert.equal(proxy.gets.length, 1);
      assert.match(get.range ?? '', /^bytes=\d+-$/);
      const from = Number(/\d+/.exec(get.range!)![0]);
      assert.ok(from >= SIZE * 0.45 && from <= SIZE / 2, `resumed from ${from}, about half of ${SIZE}`);
      assert.ok(get.ifRange, 'If-Range names the version');
      assert.equal(get.status, 206);
      assert.equal(get.bytes, SIZE - from);
      assert.ok(get.bytes <= SIZE * 0.55, `${get.bytes} bytes transferred again`);
      const hash = await sha256File(join(disk.path, 'cut', 'file.bin'));
      assert.equal(await sha256File(blobPath(cacheDir.path, id, hash)), hash, 'the blob is the server file, byte for byte');
      assert.equal(share.cacheState('/cut/file.bin')?.cached, true);
      assert.deepEqual(readdirSync(join(cacheDir.path, id, 'partials')), [], 'the partial is gone once the blob is stored');
    } finally {
      await share.dispose();
    }
  });

  test('the file changed on the server between the cut and the resume: the new version, whole, never a mix', async () => {
    const { share, id } = openShare();
    try {
      await cutPin(share, '/changed');
      writePatternFile(join(disk.path, 'changed', 'file.bin'), SIZE + 4 * MB, 2);
      proxy.reset();
      const result = await share.pin('/changed');
      assert.deepEqual(result.failed, []);
      const get = proxy.gets.at(-1)!;
      assert.equal(get.status, 200, 'the whole file');
      assert.equal(get.bytes, SIZE + 4 * MB);
      const hash = await sha256File(join(disk.path, 'changed', 'file.bin'));
      assert.equal(await sha256File(blobPath(cacheDir.path, id, hash)), hash, 'the new version, byte for byte');
      assert.equal(share.cacheState('/changed/file.bin')?.cached, true);
    } finally {
      await share.dispose();
    }
  });

  test('a change the cache does not know of yet: If-Range makes the server send the new version whole', async () => {
    // the store and the remote alone: nothing lists the folder between the cut and the resume
    const log = new RecordingLogger();
    const remote = new WebdavRemote(location, () => settings, log, NODE_PLATFORM);
    remote.setCredentials({ username: 'alice', password: USERS.alice });
    const store = await new DiskShareStores(cacheDir.path).open(`share${++shareNo}`);
    const file = join(disk.path, 'unknown', 'file.bin');
    try {
      proxy.reset();
      proxy.cutAfter = SIZE / 2;
      await assert.rejects(downloadInto(remote, store, '/unknown/file.bin', undefined, () => undefined), { code: 'Unavailable' });
      writePatternFile(file, SIZE, 3); // the same size, other bytes: only the validator tells
      proxy.reset();
      const { stream, blob } = await downloadInto(remote, store, '/unknown/file.bin', undefined, () => undefined);
      const [get] = proxy.gets;
      assert.match(get.range ?? '', /^bytes=\d+-$/, 'the kept bytes were offered');
      assert.equal(get.status, 200, 'the server sent the new version whole');
      assert.equal(stream.range, undefined);
      assert.ok(resumeValidator(stream));
      assert.equal(blob.hash, await sha256File(file), 'the new version, never a mix');
      assert.equal(blob.size, SIZE);
    } finally {
      await store.close();
      remote.dispose();
    }
  });

  test('a 206 for another range than asked is refused, its partial dropped; the next download is whole and exact', async () => {
    const { share, id } = openShare();
    try {
      await cutPin(share, '/hostile');
      proxy.reset();
      proxy.tamperRange = range => range.replace(/bytes (\d+)-/, (_, first: string) => `bytes ${Number(first) - 4096}-`);
      const refused = await share.pin('/hostile');
      assert.equal(refused.failed.length, 1);
      assert.match(refused.failed[0].error, /resumed download.*not trusted/);
      assert.equal(share.cacheState('/hostile/file.bin')?.cached, false, 'nothing of it cached');
      const partials = join(cacheDir.path, id, 'partials');
      assert.ok(!existsSync(partials) || readdirSync(partials).length === 0, 'the partial is dropped');
      proxy.reset();
      const result = await share.pin('/hostile');
      assert.deepEqual(result.failed, []);
      const [get] = proxy.gets;
      assert.equal(get.range, undefined, 'no range asked: the download starts over');
      assert.equal(get.status, 200);
      const hash = await sha256File(join(disk.path, 'hostile', 'file.bin'));
      assert.equal(await sha256File(blobPath(cacheDir.path, id, hash)), hash);
    } finally {
      await share.dispose();
    }
  });
});

for (const kind of SERVER_KINDS.filter(k => k.name === 'lighttpd' || k.name === 'nephele')) {
  suite(`conformance: a cut big download on ${kind.name}`, function () {
    this.timeout(60_000);
    let disk: ReturnType<typeof tempFolder>;
    let cacheDir: ReturnType<typeof tempFolder>;
    let server: RunningServer;
    let proxy: RangeProxy;
    const settings: Settings = { ...DEFAULTS, pollIntervalMs: 0, maxCacheBytes: 1024 * MB };

    suiteSetup(async () => {
      assertServerInstalled(kind.name);
      disk = tempFolder(`wdo-resume-${kind.name}-`);
      cacheDir = tempFolder('wdo-resume-cache-');
      mkdirSync(join(disk.path, 'cut'));
      writePatternFile(join(disk.path, 'cut', 'file.bin'), SIZE, 4);
      handToServer(kind.name, disk.path);
      server = await kind.start({ root: disk.path, mount: '/share', users: USERS });
      proxy = await new RangeProxy(server.port).start();
    });
    suiteTeardown(async () => {
      await proxy?.stop();
      await server?.close();
      disk?.remove();
      cacheDir?.remove();
    });

    test('resumed with Range + If-Range: the rest only, the blob exact', async () => {
      const location: ShareLocation = { scheme: 'dav', authority: `127.0.0.1:${proxy.port}`, basePath: '/share' };
      const log = new RecordingLogger();
      const share = new Share(location, new WebdavRemote(location, () => settings, log, NODE_PLATFORM), auth, log, diskCache(cacheDir.path, () => settings, log));
      try {
        await share.readDirectory('/cut');
        proxy.cutAfter = SIZE / 2;
        const cut = await share.pin('/cut').catch((err: Error) => ({ failed: [{ path: '/cut', error: err.message }] }));
        assert.equal(cut.failed.length, 1, 'the cut download failed');
        assert.ok(await share.goOnline());
        proxy.reset();
        assert.deepEqual((await share.pin('/cut')).failed, []);
        const get = proxy.gets.at(-1)!;
        assert.match(get.range ?? '', /^bytes=\d+-$/, 'the kept bytes were offered');
        assert.ok(get.ifRange, 'If-Range names the version');
        assert.equal(get.status, 206);
        assert.ok(get.bytes <= SIZE * 0.55, `${get.bytes} bytes transferred again`);
        const hash = await sha256File(join(disk.path, 'cut', 'file.bin'));
        assert.equal(await sha256File(blobPath(cacheDir.path, 'share', hash)), hash, 'the blob is the server file, byte for byte');
      } finally {
        await share.dispose();
      }
    });
  });
}
