// Big files against a real server (Apache, in its own process, so the memory measured is ours): keeping
// a 256 MB file available offline streams it into the blob store, hashing on the way — the extension's
// memory does not grow with the file — and the blob on disk is exactly the server's bytes; an offline
// change of it replays as a stream from the blob store through the Node transport (never loaded whole),
// and the server then has exactly the bytes written. (Resuming cut downloads: bigFilesResume.test.ts.)
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULTS, type Settings } from '../../src/core/settings';
import type { ShareLocation } from '../../src/core/shareLocation';
import { WebdavRemote } from '../../src/remote/webdavRemote';
import { Share } from '../../src/share/share';
import { startApache } from '../support/apacheServer';
import { blobPath, MB, sha256File, writePatternFile } from '../support/bigFile';
import { diskCache } from '../support/cachedShare';
import { NODE_PLATFORM } from '../support/nodePlatform';
import type { RunningServer } from '../support/nepheleServer';
import { RecordingLogger } from '../support/recordingLogger';
import { assertServerInstalled, handToServer, tempFolder, USERS } from '../support/servers';

const SIZE = 256 * MB;
const auth = { stored: async () => ({ username: 'alice', password: USERS.alice }), ask: async () => undefined, save: async () => undefined };

suite('conformance: big files (Apache)', function () {
  this.timeout(120_000);
  let disk: ReturnType<typeof tempFolder>;
  let cacheDir: ReturnType<typeof tempFolder>;
  let server: RunningServer;
  let location: ShareLocation;
  let expectedHash: string;

  suiteSetup(async () => {
    assertServerInstalled('apache');
    disk = tempFolder('wdo-big-');
    cacheDir = tempFolder('wdo-big-cache-');
    mkdirSync(join(disk.path, 'big'));
    // 256 MB of varied bytes, written in slices (never held whole)
    const file = join(disk.path, 'big', 'disk.img');
    writePatternFile(file, SIZE);
    expectedHash = await sha256File(file);
    handToServer('apache', disk.path);
    server = await startApache({ root: disk.path, mount: '/share', users: USERS });
    location = { scheme: 'dav', authority: `127.0.0.1:${server.port}`, basePath: '/share' };
  });
  suiteTeardown(async () => {
    await server?.close();
    disk?.remove();
    cacheDir?.remove();
  });

  test('keeping a 256 MB file available offline streams it into the store: memory stays flat, the blob is exact', async () => {
    const settings: Settings = { ...DEFAULTS, pollIntervalMs: 0, maxCacheBytes: 1024 * MB };
    const log = new RecordingLogger();
    const share = new Share(location, new WebdavRemote(location, () => settings, log), auth, log, diskCache(cacheDir.path, () => settings, log));
    try {
      await share.readDirectory('/big');
      global.gc?.();
      const base = process.memoryUsage().rss;
      let peak = base;
      const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
      const t0 = Date.now();
      const result = await share.pin('/big');
      clearInterval(sampler);
      peak = Math.max(peak, process.memoryUsage().rss);
      const seconds = (Date.now() - t0) / 1000;
      const grewMb = (peak - base) / MB;
      console.log(`      [figures] pin of 256 MB from Apache: ${seconds.toFixed(1)} s, peak RSS +${grewMb.toFixed(0)} MB`);
      assert.deepEqual(result.failed, []);
      assert.equal(result.bytesDone, SIZE);
      assert.ok(grewMb < 120, `memory grew by ${grewMb.toFixed(0)} MB for a 256 MB file: it was held whole`);
      const blob = blobPath(cacheDir.path, 'share', expectedHash);
      assert.equal(await sha256File(blob), expectedHash, 'the blob on disk is the server file, byte for byte');
      assert.equal(share.cacheState('/big/disk.img')?.cached, true);
    } finally {
      await share.dispose();
    }
  });

  test('an offline change of the 256 MB file replays streamed from the store: memory stays flat, the server has the bytes', async () => {
    const settings: Settings = { ...DEFAULTS, pollIntervalMs: 0, maxCacheBytes: 2048 * MB };
    const log = new RecordingLogger();
    const share = new Share(location, new WebdavRemote(location, () => settings, log, NODE_PLATFORM), auth, log, diskCache(cacheDir.path, () => settings, log));
    const file = join(disk.path, 'big', 'disk.img');
    try {
      await share.readDirectory('/big');
      await share.goOffline();
      // VS Code hands a save's bytes whole; what is measured is the replay alone
      let data: Uint8Array | undefined = new Uint8Array(SIZE);
      for (let i = 0; i < SIZE; i += 4096) data[i] = (i / 4096) & 0xff;
      const writtenHash = createHash('sha256').update(data).digest('hex');
      await share.writeFile('/big/disk.img', data, { create: false, overwrite: true });
      data = undefined;
      assert.equal((await share.pendingChanges()).length, 1);
      global.gc?.();
      await new Promise(r => setTimeout(r, 50));
      global.gc?.();
      const base = process.memoryUsage().rss;
      let peak = base;
      const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
      const t0 = Date.now();
      let online: boolean;
      try {
        online = await share.goOnline();
      } finally {
        clearInterval(sampler);
      }
      peak = Math.max(peak, process.memoryUsage().rss);
      const grewMb = (peak - base) / MB;
      console.log(`      [figures] replay of a 256 MB offline change to Apache: ${((Date.now() - t0) / 1000).toFixed(1)} s, peak RSS +${grewMb.toFixed(0)} MB`);
      assert.ok(online, 'online after the replay');
      assert.deepEqual(await share.pendingChanges(), [], 'the change landed and left the journal');
      assert.ok(grewMb < 96, `memory grew by ${grewMb.toFixed(0)} MB replaying a 256 MB file: it was held whole`);
      assert.equal(await sha256File(file), writtenHash, 'the server has exactly the bytes written offline');
    } finally {
      await share.dispose();
    }
  });
});
