// Big files against a real server (Apache, in its own process, so the memory measured is ours): keeping
// a 256 MB file available offline streams it into the blob store, hashing on the way — the extension's
// memory does not grow with the file — and the blob on disk is exactly the server's bytes.
import * as assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULTS, type Settings } from '../../src/core/settings';
import type { ShareLocation } from '../../src/core/shareLocation';
import { WebdavRemote } from '../../src/remote/webdavRemote';
import { Share } from '../../src/share/share';
import { startApache } from '../support/apacheServer';
import { blobPath, MB, sha256File, writePatternFile } from '../support/bigFile';
import { diskCache } from '../support/cachedShare';
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
});
