// Knowing the whole share offline (issue 13): the background walk that learns every name of a share,
// against real servers — nephele and rclone (they answer Depth: infinity: the root, then one request per
// folder below it), Apache and lighttpd (they refuse it: folder by folder). Each test's share is its own
// folder on the server (a 3-level tree), with a fresh disk cache:
//   - the probe finds out which servers answer Depth: infinity;
//   - the walk learns every folder and file (names, sizes) with the requests the server allows, then
//     offline every folder lists exactly what the server's disk has, and a never-downloaded file fails
//     with "not available offline";
//   - a walk killed (SIGKILL, a child process) in the middle goes on after a restart where the
//     committed index stands: no folder listed before the kill is asked for again, and the tree ends whole;
//   - the limit: the walk stops at maxTreeEntries, a folder beyond it says so offline, usage says so;
//   - a delete, a folder renamed and a file added on the server are seen by the next polling round,
//     and the walk learns the renamed folder's contents right after it.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OpenCache } from '../../src/cache/openCache';
import type { RemoteChange } from '../../src/cache/cachedTree';
import { ShareError } from '../../src/core/errors';
import { DEFAULTS, type Settings } from '../../src/core/settings';
import type { ShareLocation } from '../../src/core/shareLocation';
import type { RemoteFs } from '../../src/remote/remoteFs';
import { WebdavRemote } from '../../src/remote/webdavRemote';
import { Share } from '../../src/share/share';
import { bundleChild } from '../support/bundleChild';
import { diskCache } from '../support/cachedShare';
import type { RunningServer } from '../support/nepheleServer';
import { RecordingLogger } from '../support/recordingLogger';
import { assertServerInstalled, handToServer, printServerLogIfFailed, SERVER_KINDS, tempFolder, USERS } from '../support/servers';
import type { TreeWalkChildArgs } from '../support/treeWalkChild';

/** What each server does with PROPFIND Depth: infinity (Apache: 403 propfind-finite-depth; lighttpd: refused unless enabled). */
const DEPTH_INFINITY: Record<string, boolean> = { nephele: true, rclone: true, apache: false, lighttpd: false };

const GOOD = { username: 'alice', password: USERS.alice };
const auth = { stored: async () => GOOD, ask: async () => undefined, save: async () => undefined };

/** The 3-level tree each test starts from: files with their content, folders ending with `/`. */
const TREE: Record<string, string> = {
  'top.md': 'top\n',
  'a/a1.txt': 'a one\n',
  'a/aa/deep1.txt': 'deep one\n',
  'a/aa/deep2.txt': 'deep two, longer\n',
  'a/ab/': '',
  'b/b1.md': 'b1\n',
  'b/ba/bb/deepest.txt': 'the deepest file\n',
  'c/': '',
};

/** Every item below `dir` on disk: share path → type and size. */
function onDisk(dir: string, at = '/'): Map<string, { type: 'file' | 'directory'; size: number }> {
  const out = new Map<string, { type: 'file' | 'directory'; size: number }>();
  for (const name of readdirSync(join(dir, at))) {
    const path = at === '/' ? `/${name}` : `${at}/${name}`;
    const st = statSync(join(dir, path));
    out.set(path, { type: st.isDirectory() ? 'directory' : 'file', size: st.isDirectory() ? 0 : st.size });
    if (st.isDirectory()) for (const [p, v] of onDisk(dir, path)) out.set(p, v);
  }
  return out;
}

/** The folder's listings and file requests a remote is asked for. */
function counted(remote: RemoteFs): { remote: RemoteFs; lists: string[]; trees: string[]; gets: string[] } {
  const lists: string[] = [];
  const trees: string[] = [];
  const gets: string[] = [];
  const proxy = new Proxy(remote, {
    get(target, key, receiver) {
      if (key === 'list') return (p: string) => (lists.push(p), target.list(p));
      if (key === 'listTree' && target.listTree) return (p: string, max: number) => (trees.push(p), target.listTree!(p, max));
      if (key === 'get') return (p: string, o?: { ifNoneMatch?: string }) => (gets.push(p), target.get(p, o));
      const value = Reflect.get(target, key, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { remote: proxy, lists, trees, gets };
}

for (const kind of SERVER_KINDS) {
  suite(`conformance: whole-tree metadata on ${kind.name}`, function () {
    this.timeout(60_000);
    let disk: ReturnType<typeof tempFolder>;
    let server: RunningServer | undefined;
    let cacheDir: ReturnType<typeof tempFolder>;
    let settings: Settings;
    let log: RecordingLogger;
    let n = 0;
    let dir: string;
    let location: ShareLocation;
    const opened: Share[] = [];
    const root = () => join(disk.path, dir);
    const chown = () => handToServer(kind.name, disk.path);

    function writeTree(base: string, tree: Record<string, string>) {
      for (const [rel, content] of Object.entries(tree)) {
        if (rel.endsWith('/')) mkdirSync(join(base, rel), { recursive: true });
        else {
          mkdirSync(join(base, rel, '..'), { recursive: true });
          writeFileSync(join(base, rel), content);
        }
      }
      chown();
    }

    async function open() {
      const c = counted(new WebdavRemote(location, () => settings, log));
      let parts!: OpenCache;
      const cached = diskCache(cacheDir.path, () => settings, log);
      const share = new Share(location, c.remote, auth, log, async r => (parts = (await cached(r))!));
      await share.hasCache();
      opened.push(share);
      await share.capabilities(); // probed first: what follows counts the walk's own requests
      c.lists.length = 0;
      c.trees.length = 0;
      return { share, parts, ...c };
    }

    /** Offline by hand, every folder of the disk lists exactly its names, every file stats with its size. */
    async function assertKnownOffline(share: Share) {
      await share.goOffline();
      const want = onDisk(root());
      for (const [path, item] of [['/', { type: 'directory', size: 0 }] as const, ...want]) {
        const st = await share.stat(path);
        assert.equal(st.type, item.type, `${path}: type`);
        if (item.type === 'file') assert.equal(st.size, item.size, `${path}: size`);
        else {
          const names = (await share.readDirectory(path)).map(([name]) => name).sort();
          const expected = readdirSync(join(root(), path)).sort();
          assert.deepEqual(names, expected, `${path}: the names offline are the server's`);
        }
      }
    }

    suiteSetup(async () => {
      assertServerInstalled(kind.name);
      disk = tempFolder(`wdo-tree-${kind.name}-`);
      server = await kind.start({ root: disk.path, mount: '/share', users: USERS });
    });
    suiteTeardown(async function () {
      printServerLogIfFailed(this, server);
      await server?.close();
      disk?.remove();
    });
    setup(() => {
      log = new RecordingLogger();
      settings = { ...DEFAULTS, pollIntervalMs: 0 };
      cacheDir = tempFolder('wdo-treecache-');
      dir = `t${++n}`;
      mkdirSync(root());
      writeTree(root(), TREE);
      location = { scheme: 'dav', authority: `127.0.0.1:${server!.port}`, basePath: `/share/${dir}` };
    });
    teardown(async function () {
      if (this.currentTest?.state === 'failed') console.log(log.lines.filter(l => /\[tree\]|\[capabilities\]|warn|error/.test(l)).slice(-30).join('\n'));
      for (const s of opened.splice(0)) await s.dispose();
      cacheDir.remove();
    });

    test(`the probe finds Depth: infinity ${DEPTH_INFINITY[kind.name] ? 'answered' : 'refused'}`, async () => {
      const { share } = await open();
      const caps = await share.capabilities();
      assert.equal(caps.depthProbed, true);
      assert.equal(caps.depthInfinity, DEPTH_INFINITY[kind.name]);
    });

    test('the walk learns every name: offline every folder lists the server\'s names; a never-downloaded file says so', async () => {
      const { share, lists, trees, gets } = await open();
      const progress = await share.learnTree();
      const want = onDisk(root());
      const folders = [...want].filter(([, v]) => v.type === 'directory').map(([p]) => p);
      assert.equal(progress?.state, 'complete', JSON.stringify(progress));
      assert.equal(progress?.known, want.size + 1, 'every item and the root');
      if (DEPTH_INFINITY[kind.name]) {
        // the root folder by folder, then each folder below it in one request
        assert.deepEqual(lists, ['/'], 'one Depth-1 listing: the root');
        assert.deepEqual([...trees].sort(), ['/a', '/b', '/c'], 'one whole-tree listing per top-level folder');
      } else {
        assert.deepEqual(trees, [], 'no whole-tree listing');
        assert.deepEqual([...lists].sort(), ['/', ...folders].sort(), 'each folder listed exactly once');
      }
      assert.deepEqual(gets, [], 'no content downloaded');
      for (const path of folders) assert.deepEqual(share.cacheState(path), { pinned: false, cached: false, type: 'directory', listed: true }, path);
      assert.deepEqual(share.cacheState('/a/aa/deep1.txt'), { pinned: false, cached: false, type: 'file', listed: false });

      await assertKnownOffline(share);
      await assert.rejects(share.readFile('/b/ba/bb/deepest.txt'), (err: unknown) => {
        assert.ok(err instanceof ShareError && err.code === 'Unavailable' && err.reason === 'offline', String(err));
        assert.match(err.message, /deepest\.txt is not available offline.*Keep Available Offline/s);
        return true;
      });
      assert.equal((await share.findFiles('deepest')).length, 1, 'Go to File finds a file of a never-opened folder');
      const found = await share.findInFiles('deep');
      assert.equal(found.hits.length, 0);
      assert.equal(found.notDownloaded, [...want.values()].filter(v => v.type === 'file').length, 'Find says how many files it could not search');
    });

    test('a walk killed in the middle goes on after a restart: nothing listed before the kill is asked for again', async function () {
      // a wider tree, and answers paced one per 100 ms: the walk takes a few seconds
      const wide: Record<string, string> = {};
      for (let t = 0; t < 6; t++) for (let s = 0; s < 5; s++) for (let d = 0; d < 2; d++) wide[`w${t}/s${s}/d${d}/f.txt`] = `${t}.${s}.${d}\n`;
      writeTree(root(), wide);
      const child = await bundleChild('treeWalkChild');
      try {
        const args: TreeWalkChildArgs = { authority: location.authority, basePath: location.basePath, user: 'alice', password: USERS.alice, cacheDir: cacheDir.path, paceMs: 100 };
        const proc = spawn(process.execPath, [child.js, JSON.stringify(args)], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        proc.stderr.on('data', d => (err += d));
        const exited = new Promise<void>(r => proc.once('exit', () => r()));
        // killed once a few listings were answered after the walk began (and committed: 50 ms batches)
        const enough = DEPTH_INFINITY[kind.name] ? 3 : 12;
        await new Promise<void>((resolve, reject) => {
          proc.stdout.on('data', d => {
            out += d;
            const walked = out.slice(out.indexOf('ready\n') + 1).split('\n').filter(l => l.startsWith('answered')).length;
            if (out.includes('ready\n') && walked >= enough) resolve();
          });
          void exited.then(() => reject(new Error(`the child ended before the kill: ${out}\n${err}`)));
        });
        await new Promise(r => setTimeout(r, 250));
        proc.kill('SIGKILL');
        await exited;
        assert.ok(!out.includes('done'), 'killed before the walk ended');

        const { share, parts, lists, trees } = await open();
        const want = onDisk(root());
        const folders = ['/', ...[...want].filter(([, v]) => v.type === 'directory').map(([p]) => p)];
        const listedBefore = folders.filter(p => parts.tree.get(p)?.children);
        assert.ok(listedBefore.length > 1 && listedBefore.length < folders.length, `mid-walk: ${listedBefore.length} of ${folders.length} folders were listed before the kill`);
        const progress = await share.learnTree();
        assert.equal(progress?.state, 'complete', JSON.stringify(progress));
        const asked = [...lists, ...trees];
        assert.deepEqual(asked.filter(p => listedBefore.includes(p)), [], 'no folder listed before the kill is listed again');
        if (!DEPTH_INFINITY[kind.name]) assert.equal(lists.length, folders.length - listedBefore.length, 'each folder not listed before is listed once');
        console.log(`      [figures] ${kind.name}: ${listedBefore.length} of ${folders.length} folders listed before the kill; the resumed walk asked for ${lists.length} listings and ${trees.length} whole trees`);
        await assertKnownOffline(share);
      } finally {
        child.dispose();
      }
    });

    test('the limit: the walk stops at maxTreeEntries; a folder beyond it says so offline; usage says the limit is reached', async () => {
      settings = { ...settings, maxTreeEntries: 6 };
      const { share, parts } = await open();
      const progress = await share.learnTree();
      assert.equal(progress?.state, 'capped', JSON.stringify(progress));
      assert.ok(parts.tree.size <= 6, `${parts.tree.size} entries known, the limit is 6`);
      assert.ok(progress.foldersToGo > 0);
      const usage = await share.usage();
      assert.equal(usage?.tree?.state, 'capped');
      assert.equal(usage?.tree?.cap, 6);
      // walking again finds no more room
      const again = await share.learnTree();
      assert.equal(again?.state, 'capped');
      assert.equal(parts.tree.size, progress.known);
      await share.goOffline();
      const unknown = ['/a/aa', '/a/ab', '/b/ba', '/b/ba/bb', '/c', '/a', '/b'].find(p => parts.tree.get(p)?.type === 'directory' && !parts.tree.get(p)?.children);
      assert.ok(unknown, 'a folder beyond the limit');
      await assert.rejects(share.readDirectory(unknown), (err: unknown) => {
        assert.ok(err instanceof ShareError && err.code === 'Unavailable' && err.reason === 'offline', String(err));
        assert.match(err.message, /not known offline.*maxTreeEntries.*Go online/s);
        return true;
      });
    });

    test('a delete, a folder renamed and a file added on the server are seen by the next poll; the walk learns the renamed folder', async () => {
      const { share, parts } = await open();
      await share.learnTree();
      const changes: RemoteChange[] = [];
      share.onDidChangeRemote(c => changes.push(...c));
      rmSync(join(root(), 'a', 'a1.txt'));
      renameSync(join(root(), 'b', 'ba'), join(root(), 'b', 'bz'));
      writeFileSync(join(root(), 'c', 'new.txt'), 'new\n');
      chown();
      share.learnTreeInBackground(); // the walk goes on by itself after each polling round
      await parts.poller.poll();
      await parts.learner.idle();
      assert.deepEqual(
        changes.map(c => `${c.type} ${c.path}`).sort(),
        ['created /b/bz', 'created /c/new.txt', 'deleted /a/a1.txt', 'deleted /b/ba'],
      );
      assert.equal(parts.tree.get('/b/bz/bb/deepest.txt')?.size, 'the deepest file\n'.length, 'the renamed folder is learnt down to its deepest file');
      await assertKnownOffline(share);
    });
  });
}
