// Fault trials of the reconnect replay: a loopback proxy resets the connection at a random request of
// the replay, either before the request lands or after it landed (the answer is lost). The replay then
// resumes, and the server must hold every change exactly once, with no conflict and nothing pending.
import * as assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULTS, type Settings } from '../../src/core/settings';
import type { ShareLocation } from '../../src/core/shareLocation';
import { WebdavRemote } from '../../src/remote/webdavRemote';
import { Share } from '../../src/share/share';
import { startApache } from '../support/apacheServer';
import { startLighttpd } from '../support/lighttpdServer';
import { FaultProxy } from '../support/faultProxy';
import { startNephele, type RunningServer } from '../support/nepheleServer';
import { RecordingLogger } from '../support/recordingLogger';
import { assertServerInstalled, handToServer, printServerLogIfFailed, tempFolder, USERS } from '../support/servers';
import { diskCache } from '../support/cachedShare';
import { seededRandom } from '../unit/shareStore.suite';

const TRIALS_PER_SERVER = Number(process.env.REPLAY_FAULT_TRIALS ?? 60);
const GOOD = { username: 'alice', password: USERS.alice };
/** One seed per server: a failing trial can be replayed. */
const SEEDS: Record<string, number> = { nephele: 2424, apache: 4242, lighttpd: 4343 };
const auth = { stored: async () => GOOD, ask: async () => undefined, save: async () => undefined };

for (const kind of [
  { name: 'nephele', start: startNephele },
  { name: 'apache', start: startApache },
  { name: 'lighttpd', start: startLighttpd },
]) {
  suite(`conformance: replay faults on ${kind.name}`, function () {
    this.timeout(600_000);
    let disk: ReturnType<typeof tempFolder>;
    let server: RunningServer;
    let proxy: FaultProxy;
    const stats = { trials: 0, droppedBeforeLanding: 0, droppedAfterLanding: 0, notReached: 0, resumes: 0 };

    suiteSetup(async () => {
      assertServerInstalled(kind.name);
      disk = tempFolder(`wdo-faults-${kind.name}-`);
      server = await kind.start({ root: disk.path, mount: '/share', users: USERS });
      proxy = await new FaultProxy(server.port).start();
    });
    suiteTeardown(async function () {
      printServerLogIfFailed(this, server);
      console.log(`      [figures] ${kind.name}: ${JSON.stringify(stats)}`);
      await proxy?.stop();
      await server?.close();
      disk?.remove();
    });

    test(`${TRIALS_PER_SERVER} trials: a connection reset at a random point of the replay loses nothing and doubles nothing`, async () => {
      const random = seededRandom(SEEDS[kind.name]); // seeded, so a failing trial can be replayed
      const location: ShareLocation = { scheme: 'dav', authority: `127.0.0.1:${proxy.port}`, basePath: '/share' };
      for (let trial = 1; trial <= TRIALS_PER_SERVER; trial++) {
        const dir = `f${trial}`;
        const root = join(disk.path, dir);
        mkdirSync(join(root, 'docs'), { recursive: true });
        for (const f of ['one', 'two', 'three', 'four', 'five']) writeFileSync(join(root, 'docs', `${f}.md`), `${f}\n`);
        handToServer(kind.name, root);
        // Apache's etag is weak for a second after a file changes; trials do not wait for that
        const cache = tempFolder('wdo-faults-cache-');
        const log = new RecordingLogger();
        const settings: Settings = { ...DEFAULTS, pollIntervalMs: 0, requestTimeoutMs: 5000 };
        proxy.mode = { kind: 'pass' };
        const share = new Share(location, new WebdavRemote(location, () => settings, log), auth, log, diskCache(cache.path, () => settings, log));
        const p = (rel: string) => `/${dir}/${rel}`;
        try {
          await share.capabilities(); // probed once before the faults, as a real share has long done
          await share.readDirectory(`/${dir}`);
          for (const [name] of await share.readDirectory(p('docs'))) await share.readFile(p(`docs/${name}`));
          await share.goOffline();
          // the changes: every kind of operation
          await share.writeFile(p('docs/one.md'), Buffer.from(`one, edited in trial ${trial}\n`), { create: false, overwrite: true });
          await share.writeFile(p('docs/new.md'), Buffer.from(`new in trial ${trial}\n`), { create: true, overwrite: false });
          await share.delete(p('docs/two.md'), { recursive: false });
          await share.rename(p('docs/three.md'), p('docs/three-renamed.md'), { overwrite: false });
          await share.createDirectory(p('made'));
          await share.writeFile(p('made/inside.md'), Buffer.from(`inside ${trial}\n`), { create: true, overwrite: false });
          await share.copy(p('docs/four.md'), p('made/four-copy.md'), { overwrite: false });
          // the fault: the n-th request of the replay is cut before or after it landed
          const n = 1 + Math.floor(random() * 22);
          const phase = random() < 0.5 ? 'request' : 'answer';
          proxy.fired = false;
          proxy.mode = { kind: 'dropNth', n, phase };
          proxy.dropAll(); // no kept-alive connection slips past the count
          const first = await share.goOnline();
          if (proxy.fired) stats[phase === 'request' ? 'droppedBeforeLanding' : 'droppedAfterLanding']++;
          else stats.notReached++;
          proxy.mode = { kind: 'pass' };
          let online = first;
          for (let attempt = 0; !online && attempt < 3; attempt++) {
            stats.resumes++;
            online = await share.goOnline();
          }
          assert.equal(online, true, `trial ${trial}: back online after the fault (n=${n}, ${phase})\n${log.lines.slice(-15).join('\n')}`);
          // exactly once, nothing lost, nothing in conflict, nothing pending
          const conflicts = await share.conflicts();
          assert.deepEqual(conflicts.map(c => `${c.kind} ${c.path}`), [], `trial ${trial} (n=${n}, ${phase}): no conflict`);
          assert.equal((await share.pendingChanges()).length, 0, `trial ${trial}: nothing pending`);
          const expect = (rel: string, content: string) => assert.equal(readFileSync(join(root, rel), 'utf8'), content, `trial ${trial} (n=${n}, ${phase}): ${rel}`);
          expect('docs/one.md', `one, edited in trial ${trial}\n`);
          expect('docs/new.md', `new in trial ${trial}\n`);
          expect('docs/three-renamed.md', 'three\n');
          expect('made/inside.md', `inside ${trial}\n`);
          expect('made/four-copy.md', 'four\n');
          expect('docs/four.md', 'four\n');
          expect('docs/five.md', 'five\n');
          assert.equal(existsSync(join(root, 'docs/two.md')), false, `trial ${trial}: deleted`);
          assert.equal(existsSync(join(root, 'docs/three.md')), false, `trial ${trial}: moved away`);
          assert.deepEqual(readdirSync(join(root, 'docs')).sort(), ['five.md', 'four.md', 'new.md', 'one.md', 'three-renamed.md'], `trial ${trial}: no extra file (no conflict copy, no double)`);
          assert.deepEqual(readdirSync(join(root, 'made')).sort(), ['four-copy.md', 'inside.md'], `trial ${trial}: no extra file in made/`);
          stats.trials++;
        } finally {
          proxy.mode = { kind: 'pass' };
          await share.dispose();
          cache.remove();
        }
      }
    });
  });
}
