// The pin's adaptive parallelism (cache/adaptiveLimit.ts) against real servers, through an HTTP proxy that
// adds a round trip to each request, counts what is in flight and plays a busy server: on a clean server
// the requests in flight grow above the start of 8 and never pass the ceiling (the setting), every file
// is fetched once with every byte right; a 503 or a 429 with `Retry-After: 1` stops new requests for
// about a second, the in-flight number drops (the limit halves), the refused download is sent again
// and the pin completes — nothing failed, the share stays online. The share sends through the product's
// Node transport, whose connection pool is sized to the ceiling.
import * as assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULTS, type Settings } from '../../src/core/settings';
import type { ShareLocation } from '../../src/core/shareLocation';
import { WebdavRemote } from '../../src/remote/webdavRemote';
import { Share } from '../../src/share/share';
import { startApache } from '../support/apacheServer';
import { diskCache } from '../support/cachedShare';
import type { Arrival } from '../support/httpFaultProxy';
import { proxiedServer } from '../support/proxiedServer';
import { startNephele } from '../support/nepheleServer';
import { NODE_PLATFORM } from '../support/nodePlatform';
import { RecordingLogger } from '../support/recordingLogger';
import { handToServer, tempFolder, USERS } from '../support/servers';

const GOOD = { username: 'alice', password: USERS.alice };
const auth = { stored: async () => GOOD, ask: async () => undefined, save: async () => undefined };
const FOLDERS = 4;
const FILES_PER_FOLDER = 60;
const CEILING = 16;
/** Added to each forwarded request: a round trip, so that more requests in flight fetch more. */
const DELAY_MS = 30;

for (const kind of [
  { name: 'nephele', start: startNephele },
  { name: 'apache', start: startApache },
]) {
  suite(`conformance: pin parallelism on ${kind.name}`, function () {
    this.timeout(60_000);
    const env = proxiedServer(kind, 'pinpar');
    let n = 0;
    const opened: { share: Share; cache: ReturnType<typeof tempFolder> }[] = [];

    teardown(async () => {
      env.proxy.disarm();
      env.proxy.delayMs = 0;
      for (const o of opened.splice(0)) {
        await o.share.dispose();
        o.cache.remove();
      }
    });

    /** A fresh folder of FOLDERS × FILES_PER_FOLDER files of 1–24 kB on the server, and a share with an empty cache. */
    async function freshShare(): Promise<{ share: Share; dir: string; files: string[]; onDisk: (rel: string) => string }> {
      const dir = `p${++n}`;
      const onDisk = (rel: string) => join(env.disk.path, dir, rel);
      const files: string[] = [];
      for (let f = 0; f < FOLDERS; f++) {
        mkdirSync(onDisk(`d${f}`), { recursive: true });
        for (let i = 0; i < FILES_PER_FOLDER; i++) {
          const rel = `d${f}/f${i}.bin`;
          const size = 1024 + ((f * 7919 + i * 104729) % (23 * 1024));
          writeFileSync(onDisk(rel), Buffer.alloc(size, `${rel} `));
          files.push(rel);
        }
      }
      handToServer(kind.name, join(env.disk.path, dir));
      const location: ShareLocation = { scheme: 'dav', authority: `127.0.0.1:${env.proxy.port}`, basePath: '/share' };
      const settings: Settings = { ...DEFAULTS, pollIntervalMs: 0, parallelDownloads: CEILING };
      const log = new RecordingLogger();
      const cache = tempFolder('wdo-pinpar-cache-');
      const share = new Share(location, new WebdavRemote(location, () => settings, log, NODE_PLATFORM), auth, log, diskCache(cache.path, () => settings, log));
      opened.push({ share, cache });
      await share.capabilities(); // probed before the count, as a share long open has done
      return { share, dir, files, onDisk };
    }

    /** The pin completed, nothing failed, and the cache holds every file as the server has it (read offline). */
    async function assertAllCached(share: Share, dir: string, files: string[], onDisk: (rel: string) => string): Promise<void> {
      await share.goOffline();
      for (const rel of files) assert.deepEqual(Buffer.from(await share.readFile(`/${dir}/${rel}`)), readFileSync(onDisk(rel)), rel);
    }

    const gets = (arrivals: readonly Arrival[]) => arrivals.filter(a => a.method === 'GET');

    test('a clean server: requests in flight grow above the start, never past the ceiling; each file once, every byte right', async () => {
      const { share, dir, files, onDisk } = await freshShare();
      env.proxy.delayMs = DELAY_MS;
      env.proxy.resetCounts();
      const started = performance.now();
      const result = await share.pin(`/${dir}`);
      const ms = performance.now() - started;
      console.log(`      [figures] ${kind.name}: ${files.length} files in ${Math.round(ms)} ms, ${env.proxy.requests} requests ${JSON.stringify({ ...env.proxy.byMethod, maxInFlight: env.proxy.maxInFlight })}`);
      assert.deepEqual(result.failed, []);
      assert.equal(result.cancelled, false);
      assert.equal(result.filesDone, files.length);
      assert.equal(env.proxy.byMethod.GET, files.length, 'each file fetched once');
      assert.ok(env.proxy.maxInFlight > 8, `the requests in flight grew above the start of 8 (at most ${env.proxy.maxInFlight})`);
      assert.ok(env.proxy.maxInFlight <= CEILING, `never more than the ceiling of ${CEILING} at once (saw ${env.proxy.maxInFlight})`);
      assert.equal(share.connectionState?.kind, 'online');
      await assertAllCached(share, dir, files, onDisk);
    });

    for (const status of [503, 429]) {
      test(`${status} with Retry-After: 1 — no request for about a second, fewer in flight after, the refused one sent again, the pin completes`, async () => {
        const { share, dir, files, onDisk } = await freshShare();
        env.proxy.delayMs = DELAY_MS;
        env.proxy.resetCounts();
        // a GET refused once the limit has grown: the 120th
        env.proxy.arm([{ kind: 'busy', methods: ['GET'], nth: 120, status, retryAfter: '1' }]);
        const result = await share.pin(`/${dir}`);
        assert.deepEqual(result.failed, [], 'a throttled download is sent again, not failed');
        assert.equal(result.filesDone, files.length);
        assert.equal(env.proxy.events.length, 1, `one refused: ${env.proxy.events.map(e => e.what).join('; ')}`);
        assert.equal(env.proxy.byMethod.GET, files.length + 1, 'each file once, the refused one once more');
        assert.equal(share.connectionState?.kind, 'online', 'a busy server is not an unreachable one');
        // the timeline: from the refusal, no GET went out for about a second (one sent just before it may
        // reach the proxy a moment after), and fewer were in flight after
        const refusedAt = env.proxy.events[0].at;
        const timeline = gets(env.proxy.arrivals).filter(a => !a.fault);
        const before = timeline.filter(a => a.at < refusedAt - DELAY_MS);
        const during = timeline.filter(a => a.at > refusedAt + 100 && a.at < refusedAt + 950);
        const after = timeline.filter(a => a.at >= refusedAt + 950);
        const mostBefore = Math.max(...before.map(a => a.inFlight));
        const mostJustAfter = Math.max(...after.filter(a => a.at < after[0].at + 150).map(a => a.inFlight));
        console.log(`      [figures] ${kind.name} ${status}: the next GET ${Math.round(after[0].at - refusedAt)} ms after the refusal; at most ${mostBefore} in flight before, ${mostJustAfter} just after`);
        assert.deepEqual(during.map(a => Math.round(a.at - refusedAt)), [], 'no GET went out while the server asked to wait');
        assert.ok(after[0].at - refusedAt < 2_500, `the downloads went on after the wait (${Math.round(after[0].at - refusedAt)} ms)`);
        assert.ok(mostJustAfter < mostBefore && mostJustAfter <= CEILING / 2, `fewer in flight after the wait (${mostJustAfter}) than before it (${mostBefore})`);
        await assertAllCached(share, dir, files, onDisk);
      });
    }
  });
}
