// The whole-tree walk's own rules, fast: the walking pool (bounded, complete, stoppable), the grouping of
// a whole-tree answer, and the walker on an in-memory server — the limit is exact (a listing whole or not
// at all, no retry without room), a stop outlasts a reload, learnt folders are refreshed a slice per round
// and are not what the watcher's rounds and the reconnect re-list, Go to File's ranking. The real servers
// are in test/conformance/treeLearning.test.ts.
import * as assert from 'node:assert/strict';
import { findFiles } from '../../src/cache/cacheSearch';
import type { CacheEntry } from '../../src/cache/cacheEntry';
import { openCache, type OpenCache } from '../../src/cache/openCache';
import { groupTree } from '../../src/cache/treeListing';
import { walkPool } from '../../src/cache/walkPool';
import { DEFAULTS, type Settings } from '../../src/core/settings';
import { DiskShareStores } from '../../src/platform/diskShareStore';
import type { RemoteEntry } from '../../src/remote/remoteFs';
import { MemoryRemote } from '../fakes/memoryRemote';
import { RecordingLogger } from '../support/recordingLogger';
import { tempFolder } from '../support/servers';

const entry = (path: string, type: 'file' | 'directory' = 'file'): RemoteEntry => ({ path, type, size: type === 'file' ? 1 : 0, mtime: 1, ctime: 1 });

suite('whole-tree walk: the pool', () => {
  test('visits everything found, never more than `parallel` at once', async () => {
    let active = 0;
    let most = 0;
    const visited: string[] = [];
    await walkPool(['/'], 3, async item => {
      active++;
      most = Math.max(most, active);
      await new Promise(r => setTimeout(r, 2));
      active--;
      visited.push(item);
      return item.length < 4 ? ['a', 'b', 'c'].map(x => `${item}${x}`) : [];
    });
    assert.equal(visited.length, 1 + 3 + 9 + 27, 'a ternary tree of depth 3');
    assert.equal(most, 3);
  });

  test('stops starting visits once told; a failure rejects after the visits in flight ended', async () => {
    const visited: number[] = [];
    await walkPool([1, 2, 3, 4, 5, 6], 2, async n => (visited.push(n), []), () => visited.length >= 3);
    assert.ok(visited.length >= 3 && visited.length <= 4, `visited ${visited.length}`);
    let ended = 0;
    await assert.rejects(
      walkPool([1, 2, 3], 3, async n => {
        await new Promise(r => setTimeout(r, n * 5));
        ended++;
        if (n === 1) throw new Error('boom');
        return [];
      }),
      /boom/,
    );
    assert.equal(ended, 3, 'the visits in flight ended first');
  });
});

suite('whole-tree walk: grouping an answer', () => {
  test('parents first; outside, repeated and orphaned entries dropped', () => {
    const { listings, dropped } = groupTree('/a', [
      entry('/a/x/y/z.txt'),
      entry('/a/x/y', 'directory'),
      entry('/a', 'directory'),
      entry('/a/x', 'directory'),
      entry('/a/x'),
      entry('/b/elsewhere.txt'),
      entry('/a/file.txt'),
      entry('/a/file.txt/below.txt'),
      entry('/a/missing/orphan.txt'),
    ]);
    assert.deepEqual(
      listings.map(l => [l.self.path, l.children.map(c => c.path)]),
      [
        ['/a', ['/a/x', '/a/file.txt']],
        ['/a/x', ['/a/x/y']],
        ['/a/x/y', ['/a/x/y/z.txt']],
      ],
    );
    assert.equal(dropped, 4);
  });

  test('a folder the server spells in another Unicode normalization is taken under the name asked for', () => {
    const nfc = '/caf\u00e9';
    const nfd = '/cafe\u0301';
    const { listings } = groupTree(nfc, [entry(nfd, 'directory'), entry(`${nfd}/menu.txt`)]);
    assert.deepEqual(listings.map(l => [l.self.path, l.children.map(c => c.path)]), [[nfc, [`${nfc}/menu.txt`]]]);
    assert.throws(() => groupTree('/a', [entry('/a/x.txt')]), /does not describe the folder itself/);
    assert.throws(() => groupTree('/a', [entry('/a')]), /does not describe the folder itself/, 'a file is not the folder');
  });
});

suite('whole-tree walk: the walker', () => {
  let dir: ReturnType<typeof tempFolder>;
  let server: MemoryRemote;
  let settings: Settings;
  const opened: OpenCache[] = [];

  async function open(): Promise<OpenCache> {
    const cache = await openCache(await new DiskShareStores(dir.path).open('s'), server, () => settings, new RecordingLogger());
    opened.push(cache);
    return cache;
  }
  async function close(cache: OpenCache) {
    opened.splice(opened.indexOf(cache), 1);
    await cache.dispose();
  }
  const listings = () => server.requests.filter(r => r.startsWith('PROPFIND')).length;

  setup(() => {
    dir = tempFolder('wdo-treeunit-');
    server = new MemoryRemote();
    for (let f = 0; f < 10; f++) for (let s = 0; s < 10; s++) server.write(`/f${f}/s${s}/file.txt`, `${f}.${s}`);
    settings = { ...DEFAULTS, pollIntervalMs: 0 };
  });
  teardown(async () => {
    for (const c of opened.splice(0)) await c.dispose();
    dir.remove();
  });

  test('learns the whole tree, one listing per folder', async () => {
    const cache = await open();
    const p = await cache.learner.run();
    assert.deepEqual({ state: p.state, known: p.known, listed: p.foldersListed }, { state: 'complete', known: 1 + 10 + 100 + 100, listed: 111 });
    assert.equal(listings(), 111);
  });

  test('the limit is exact: a listing is recorded whole or not at all, and no request is sent again without room', async () => {
    settings = { ...settings, maxTreeEntries: 50 };
    const cache = await open();
    const p = await cache.learner.run();
    assert.equal(p.state, 'capped');
    assert.ok(cache.tree.size <= 50, `${cache.tree.size} entries`);
    for (const e of cache.tree.all()) {
      if (e.type !== 'directory' || !e.children) continue;
      for (const name of e.children) assert.ok(cache.tree.get(`${e.path === '/' ? '' : e.path}/${name}`), `${e.path}: ${name} is recorded with its listing`);
    }
    const before = listings();
    cache.learner.enable();
    cache.learner.kick();
    await cache.learner.idle();
    assert.equal(listings(), before, 'a kick with no room made sends nothing');
  });

  test('a stop outlasts a reload; starting again goes on where it stood', async () => {
    settings = { ...settings, maxTreeEntries: 40 };
    let cache = await open();
    await cache.learner.run();
    cache.learner.stop();
    await close(cache);
    settings = { ...settings, maxTreeEntries: DEFAULTS.maxTreeEntries };
    cache = await open();
    assert.equal(cache.learner.progress().state, 'stopped');
    const before = listings();
    cache.learner.enable();
    cache.learner.kick();
    await cache.learner.idle();
    assert.equal(listings(), before, 'stopped: nothing is listed by itself');
    const known = cache.tree.size;
    const listedBefore = [...cache.tree.all()].filter(e => e.type === 'directory' && e.children).length;
    const p = await cache.learner.run();
    assert.equal(p.state, 'complete');
    assert.ok(known > 1 && cache.tree.size === 211, `${known} entries before, ${cache.tree.size} after`);
    assert.equal(listings() - before, 111 - listedBefore, 'only the folders not listed before');
  });

  test('learnt folders: a slice per polling round, oldest first; not re-listed by watcher rounds or the reconnect; opened when listed for the user', async () => {
    const cache = await open();
    await cache.learner.run();
    const learned = () => [...cache.tree.all()].filter((e: CacheEntry) => e.type === 'directory' && e.learned).map(e => e.path);
    assert.equal(learned().length, 111, 'every folder, the root too, was listed by the walk');
    assert.deepEqual(cache.tree.cachedFolders(), [], 'the reconnect re-lists only the folders opened here: none yet');
    const watch = cache.poller.watch('/', true);
    const seen = new Set<string>();
    for (let round = 0; round < 7; round++) {
      const before = server.requests.length;
      await cache.poller.poll();
      const asked = server.requests.slice(before).map(r => r.replace(/^PROPFIND /, ''));
      assert.equal(asked.filter(p => learned().includes(p)).length, 16, `round ${round}: a slice of 16`);
      asked.forEach(p => seen.add(p));
    }
    assert.ok(learned().every(p => seen.has(p)), 'every learnt folder listed again within 7 rounds');
    watch.dispose();
    await cache.remote.list('/f3'); // the user opens a folder (its listing is fresh: served from the cache)
    assert.ok(!cache.tree.get('/f3')?.learned, 'opened');
    assert.ok(cache.tree.cachedFolders().includes('/f3'));
  });
});

suite('whole-tree walk: Go to File ranking', () => {
  const files = ['/docs/hello.md', '/src/hello.js', '/src/say-hello.ts', '/hello/readme.txt', '/lib/h-e-l-l-o.c', '/other.txt'];
  const cache = { all: () => files.map((path): CacheEntry => ({ path, type: 'file', size: 1, mtime: 1, ctime: 1, lastAccess: 1 })) };

  test('name starts with it, name contains it, path contains it, then its letters in order in the name', () => {
    assert.deepEqual(
      findFiles(cache, 'hello').map(f => f.path),
      ['/docs/hello.md', '/src/hello.js', '/src/say-hello.ts', '/hello/readme.txt', '/lib/h-e-l-l-o.c'],
    );
    assert.deepEqual(findFiles(cache, 'src hello').map(f => f.path), ['/src/hello.js', '/src/say-hello.ts'], 'every word in the path');
    assert.equal(findFiles(cache, '').length, files.length, 'nothing typed: every file');
    assert.deepEqual(findFiles(cache, 'hello', 2).map(f => f.path), ['/docs/hello.md', '/src/hello.js'], 'the best first, up to the limit');
  });
});
