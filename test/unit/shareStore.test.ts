// The share store's two backends: the conformance suite on each, then what only the disk backend has
// (its log, compaction, temp files, lock, error messages) and its figures for 100,000 entries.
import 'fake-indexeddb/auto'; // a real IndexedDB implementation for idb-keyval in Node
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import { tmpdir, uptime } from 'node:os';
import { join } from 'node:path';
import { createStore, set } from 'idb-keyval';
import type { CacheEntry } from '../../src/cache/cacheEntry';
import { StoreBusyError, type ShareStore } from '../../src/cache/shareStore';
import { crc32, DiskShareStores, diskError, type DiskStoreOptions } from '../../src/platform/diskShareStore';
import { IdbShareStores } from '../../src/platform/idbShareStore';
import { nodeLocks as locks } from '../support/memoryLocks';
import { fileEntry, runShareStoreSuite, seededRandom, sorted, tbl, type StorageFixture } from './shareStore.suite';

async function tempRoot(): Promise<string> {
  return fs.mkdtemp(join(tmpdir(), 'wdo-store-'));
}

async function diskFixture(options: DiskStoreOptions = {}): Promise<StorageFixture & { root: string }> {
  const root = await tempRoot();
  return {
    root,
    storage: new DiskShareStores(root, options),
    reopen: async () => new DiskShareStores(root, options),
    damageBlob: async (shareId, hash) => {
      const file = join(root, shareId, 'blobs', hash.slice(0, 2), hash);
      const bytes = readFileSync(file);
      bytes[bytes.length >> 1] ^= 0x20;
      writeFileSync(file, bytes);
    },
    dispose: () => fs.rm(root, { recursive: true, force: true }),
  };
}

let idbFixtures = 0;
async function idbFixture(): Promise<StorageFixture> {
  const prefix = `test${++idbFixtures}`;
  return {
    storage: new IdbShareStores({ prefix, locks }),
    reopen: async () => new IdbShareStores({ prefix, locks }),
    damageBlob: (shareId, hash) => set(hash, new TextEncoder().encode('other bytes'), createStore(`${prefix}-${shareId}-blobs`, 'blobs')),
    // fake-indexeddb lives in this process's memory and goes with it.
    dispose: async () => undefined,
  };
}

// A low threshold, so that the randomized model test runs through several compactions.
runShareStoreSuite('disk', () => diskFixture({ compactAfterBatches: 50, lockPollMs: 20 }));
runShareStoreSuite('IndexedDB', idbFixture);

suite('DiskShareStores', function () {
  this.timeout(60_000);
  let root: string;
  const stores: ShareStore[] = [];
  setup(async () => {
    root = await tempRoot();
  });
  teardown(async () => {
    for (const s of stores.splice(0)) await s.close();
    await fs.rm(root, { recursive: true, force: true });
  });
  async function open(options: DiskStoreOptions = {}, shareId = 's'): Promise<ShareStore> {
    const store = await new DiskShareStores(root, options).open(shareId);
    stores.push(store);
    return store;
  }
  const logFile = () => join(root, 's', 'index.log');
  const logLines = () => readFileSync(logFile(), 'utf8').split('\n').filter(Boolean);

  test('each commit is one checksummed line of the log', async () => {
    const store = await open();
    await store.commit({ put: [fileEntry('/a', 1)], delete: [] });
    await store.commit({ put: [], delete: ['/a'] });
    const lines = logLines();
    assert.equal(lines.length, 2);
    const [json, sum] = lines[0].split('\t');
    assert.deepEqual(JSON.parse(json), { d: [], p: [fileEntry('/a', 1)] });
    assert.equal(sum, crc32(Buffer.from(json)).toString(16).padStart(8, '0'));
    assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926, 'the standard CRC-32 check value');
  });

  test('a batch\'s table changes and meta values are in the same log line as its entries', async () => {
    const store = await open();
    await store.commit({ put: [fileEntry('/a', 1)], delete: ['/b'], tables: tbl({ journal: { delete: [7], put: [{ id: 8, path: '/a' }] }, recovery: {} }), meta: { seq: 3, gone: null } });
    const lines = logLines();
    assert.equal(lines.length, 1);
    const [json, sum] = lines[0].split('\t');
    assert.deepEqual(JSON.parse(json), { d: ['/b'], p: [fileEntry('/a', 1)], t: { journal: { d: [7], p: [{ id: 8, path: '/a' }] } }, m: { seq: 3, gone: null } });
    assert.equal(sum, crc32(Buffer.from(json)).toString(16).padStart(8, '0'));
  });

  test('compaction writes the tables and meta into a version 2 snapshot, and they reload from it alone', async () => {
    let compactions = 0;
    const options: DiskStoreOptions = { compactAfterBatches: 4, onCompaction: phase => phase === 'end' && compactions++ };
    let store = await open(options);
    for (let i = 1; i <= 5; i++) {
      await store.commit({ put: [fileEntry(`/f${i}`, i)], delete: [], tables: tbl({ journal: { put: [{ id: 10 - i, path: `/f${i}` }], delete: i === 5 ? [9] : [] }, recovery: { put: i === 2 ? [{ id: 1, r: true }] : [] } }), meta: { seq: i, [`k${i}`]: i, ...(i === 3 ? { k1: null } : {}) } });
    }
    assert.deepEqual(await store.loadMeta(), { seq: 5, k2: 2, k3: 3, k4: 4, k5: 5 });
    assert.equal(compactions, 1);
    assert.equal(logLines().length, 0, 'everything is in the snapshot');
    const snapshot = JSON.parse(readFileSync(join(root, 's', 'index.snapshot'), 'utf8'));
    assert.equal(snapshot.version, 2);
    assert.deepEqual(snapshot.tables, { journal: [5, 6, 7, 8].map(id => ({ id, path: `/f${10 - id}` })), recovery: [{ id: 1, r: true }] });
    assert.deepEqual(snapshot.meta, { seq: 5, k2: 2, k3: 3, k4: 4, k5: 5 });
    await store.close();
    store = await open(options);
    assert.deepEqual(await store.loadTable('journal'), [5, 6, 7, 8].map(id => ({ id, path: `/f${10 - id}` })));
    assert.deepEqual(await store.loadTable('recovery'), [{ id: 1, r: true }]);
    assert.deepEqual(await store.loadMeta(), { seq: 5, k2: 2, k3: 3, k4: 4, k5: 5 });
    assert.equal((await store.loadIndex()).length, 5);
  });

  test('a version 1 snapshot (entries only) still loads: no tables, no meta; the next compaction writes version 2', async () => {
    await fs.mkdir(join(root, 's'), { recursive: true });
    writeFileSync(join(root, 's', 'index.snapshot'), JSON.stringify({ format: 'webdav-offline-index', version: 1, entries: [fileEntry('/old', 1)] }));
    const options: DiskStoreOptions = { compactAfterBatches: 1 };
    let store = await open(options);
    assert.deepEqual(await store.loadIndex(), [fileEntry('/old', 1)]);
    assert.deepEqual(await store.loadTable('journal'), []);
    assert.deepEqual(await store.loadMeta(), {});
    await store.commit({ put: [fileEntry('/new', 1)], delete: [], tables: tbl({ journal: { put: [{ id: 1 }] } }), meta: { a: 1 } });
    await store.commit({ put: [], delete: [], meta: { b: 2 } });
    await store.loadIndex(); // behind the compaction
    assert.equal(JSON.parse(readFileSync(join(root, 's', 'index.snapshot'), 'utf8')).version, 2);
    await store.close();
    store = await open(options);
    assert.deepEqual(sorted(await store.loadIndex()), [fileEntry('/new', 1), fileEntry('/old', 1)]);
    assert.deepEqual(await store.loadTable('journal'), [{ id: 1 }]);
    assert.deepEqual(await store.loadMeta(), { a: 1, b: 2 });
  });

  test('a snapshot of an unknown version is refused, not misread', async () => {
    await fs.mkdir(join(root, 's'), { recursive: true });
    writeFileSync(join(root, 's', 'index.snapshot'), JSON.stringify({ format: 'webdav-offline-index', version: 3, entries: [], tables: {}, meta: {} }));
    const store = await open();
    await assert.rejects(store.loadIndex(), (err: NodeJS.ErrnoException) => err.code === 'EBADINDEX' && /unknown format \(version 3\)/.test(err.message));
    await assert.rejects(store.loadMeta(), (err: NodeJS.ErrnoException) => err.code === 'EBADINDEX');
  });

  test('compaction folds the log into the snapshot, and the result reloads', async () => {
    let compactions = 0;
    const options: DiskStoreOptions = { compactAfterBatches: 10, onCompaction: phase => phase === 'end' && compactions++ };
    let store = await open(options);
    const model = new Map<string, CacheEntry>();
    for (let i = 0; i < 35; i++) {
      const batch = { put: [fileEntry(`/f${i % 12}`, i)], delete: i % 5 === 4 ? [`/f${(i + 3) % 12}`] : [] };
      await store.commit(batch);
      for (const p of batch.delete) model.delete(p);
      for (const e of batch.put) model.set(e.path, e);
    }
    assert.deepEqual(sorted(await store.loadIndex()), sorted(model.values())); // queued behind any compaction
    assert.equal(compactions, 3);
    assert.ok(logLines().length <= 10, `the log was truncated (${logLines().length} lines)`);
    const snapshot = JSON.parse(readFileSync(join(root, 's', 'index.snapshot'), 'utf8'));
    assert.ok(snapshot.entries.length >= 10, 'the snapshot holds the folded entries');
    await store.close();
    store = await open(options);
    assert.deepEqual(sorted(await store.loadIndex()), sorted(model.values()));
  });

  test('a log that outgrows the snapshot is compacted', async () => {
    let compactions = 0;
    const store = await open({ compactMinBytes: 4096, onCompaction: phase => phase === 'end' && compactions++ });
    for (let i = 0; i < 40; i++) await store.commit({ put: [fileEntry(`/f${i % 3}`, i, { children: ['x'.repeat(200)] })], delete: [] });
    await store.loadIndex();
    assert.ok(compactions >= 1, `compacted ${compactions} times`);
    assert.ok(statSync(logFile()).size <= Math.max(4096, statSync(join(root, 's', 'index.snapshot')).size) + 400);
  });

  test('replaying the log over a snapshot that already holds it (a crash between rename and truncate) changes nothing', async () => {
    let store = await open();
    await store.commit({ put: [fileEntry('/a', 1), fileEntry('/b', 1)], delete: [] });
    await store.commit({ put: [fileEntry('/a', 2)], delete: ['/b'] });
    await store.close();
    const log = readFileSync(logFile());
    writeFileSync(join(root, 's', 'index.snapshot'), JSON.stringify({ format: 'webdav-offline-index', version: 1, entries: [fileEntry('/a', 2)] }));
    writeFileSync(logFile(), log);
    store = await open();
    assert.deepEqual(await store.loadIndex(), [fileEntry('/a', 2)]);
    // The same with table records and meta values, over a version 2 snapshot.
    await store.commit({ put: [], delete: [], tables: tbl({ journal: { put: [{ id: 1, v: 1 }, { id: 2, v: 1 }] } }), meta: { a: 1, b: 1 } });
    await store.commit({ put: [], delete: [], tables: tbl({ journal: { put: [{ id: 1, v: 2 }], delete: [2] } }), meta: { a: 2, b: null } });
    await store.close();
    const log2 = readFileSync(logFile());
    writeFileSync(
      join(root, 's', 'index.snapshot'),
      JSON.stringify({ format: 'webdav-offline-index', version: 2, entries: [fileEntry('/a', 2)], tables: { journal: [{ id: 1, v: 2 }] }, meta: { a: 2 } }),
    );
    writeFileSync(logFile(), log2);
    store = await open();
    assert.deepEqual(await store.loadIndex(), [fileEntry('/a', 2)]);
    assert.deepEqual(await store.loadTable('journal'), [{ id: 1, v: 2 }]);
    assert.deepEqual(await store.loadMeta(), { a: 2 });
  });

  test('a torn last log line is ignored and cut off; later commits are kept', async () => {
    let store = await open();
    await store.commit({ put: [fileEntry('/a', 1)], delete: [] });
    await store.commit({ put: [fileEntry('/b', 1)], delete: [] });
    await store.close();
    const intact = statSync(logFile()).size;
    // The whole line a third commit would have written, cut in the middle as by a crash during append.
    const json = JSON.stringify({ d: ['/a'], p: [fileEntry('/c', 1)] });
    const line = `${json}\t${crc32(Buffer.from(json)).toString(16).padStart(8, '0')}\n`;
    appendFileSync(logFile(), line.slice(0, line.length >> 1));
    store = await open();
    assert.equal(statSync(logFile()).size, intact, 'the torn tail was cut off');
    assert.deepEqual(sorted(await store.loadIndex()), [fileEntry('/a', 1), fileEntry('/b', 1)]);
    await store.commit({ put: [fileEntry('/d', 1)], delete: [] });
    await store.close();
    store = await open();
    assert.deepEqual(sorted(await store.loadIndex()), [fileEntry('/a', 1), fileEntry('/b', 1), fileEntry('/d', 1)]);
  });

  test('a last line whose checksum does not match is ignored', async () => {
    let store = await open();
    await store.commit({ put: [fileEntry('/a', 1)], delete: [] });
    await store.commit({ put: [fileEntry('/a', 2)], delete: [] });
    await store.close();
    const text = readFileSync(logFile(), 'utf8');
    assert.ok(text.includes('"size":20'));
    writeFileSync(logFile(), text.replace('"size":20', '"size":21'));
    store = await open();
    assert.deepEqual(await store.loadIndex(), [fileEntry('/a', 1)]);
  });

  test('temp files left by a crash are removed when the store opens', async () => {
    let store = await open();
    await store.putBlob(new Uint8Array([1]));
    await store.close();
    writeFileSync(join(root, 's', 'tmp', '123-1-abcd'), 'half a blob');
    writeFileSync(join(root, 's', 'index.snapshot.tmp'), '{"format":');
    store = await open();
    assert.deepEqual(readdirSync(join(root, 's', 'tmp')), []);
    assert.equal(existsSync(join(root, 's', 'index.snapshot.tmp')), false);
    assert.equal((await store.listBlobs()).length, 1);
  });

  test('a blob is a file named by its hash under a folder named by its first two digits', async () => {
    const store = await open();
    const hash = await store.putBlob(new TextEncoder().encode('abc'));
    assert.equal(hash, 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    assert.equal(readFileSync(join(root, 's', 'blobs', 'ba', hash), 'utf8'), 'abc');
  });

  test('a share is open in one place at a time; the lock of a dead process is taken over', async () => {
    const store = await open();
    await assert.rejects(new DiskShareStores(root).open('s'), (err: NodeJS.ErrnoException) => err.code === 'EBUSY');
    await store.close();
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const boot = Date.now() - uptime() * 1000;
    writeFileSync(join(root, 's', 'lock'), JSON.stringify({ pid: Number(dead.stdout), boot }));
    const again = await open();
    assert.deepEqual(await again.loadIndex(), []);
  });

  test('a lock file left empty by a crash is taken over once it is old, not while it may be being written', async () => {
    mkdirSync(join(root, 's'), { recursive: true });
    writeFileSync(join(root, 's', 'lock'), '');
    await assert.rejects(new DiskShareStores(root).open('s'), (err: Error) => err instanceof StoreBusyError && /opening it now/.test(err.holder));
    const old = new Date(Date.now() - 10_000);
    utimesSync(join(root, 's', 'lock'), old, old);
    const store = await open();
    assert.deepEqual(await store.loadIndex(), []);
    assert.equal(JSON.parse(readFileSync(join(root, 's', 'lock'), 'utf8')).pid, process.pid, 'the lock is this process\'s now');
  });

  test('whenFree resolves when the holder process ends (killed: its lock stays behind, stale)', async () => {
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    const exited = new Promise(r => holder.on('exit', r));
    try {
      mkdirSync(join(root, 's'), { recursive: true });
      writeFileSync(join(root, 's', 'lock'), JSON.stringify({ pid: holder.pid, boot: Date.now() - uptime() * 1000 }));
      const storage = new DiskShareStores(root, { lockPollMs: 20 });
      await assert.rejects(storage.open('s'), (err: Error) => err instanceof StoreBusyError && err.holder === `another window (process ${holder.pid})`);
      let freed = false;
      const free = storage.whenFree('s', new AbortController().signal).then(() => (freed = true));
      await new Promise(r => setTimeout(r, 100));
      assert.equal(freed, false, 'not free while the holder lives');
      holder.kill('SIGKILL');
      await exited;
      await free;
      stores.push(await storage.open('s'));
    } finally {
      holder.kill('SIGKILL');
    }
  });

  test('share ids cannot leave the root', async () => {
    for (const id of ['', '..', '../x', 'a/b', 'a\\b', '.hidden']) {
      await assert.rejects(new DiskShareStores(root).open(id), /invalid share id/, id);
    }
  });

  test('I/O errors say what failed; a full disk says so and keeps code ENOSPC', () => {
    const full = diskError(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }), 'writing blob ab12');
    assert.equal(full.code, 'ENOSPC');
    assert.match(full.message, /writing blob ab12: the disk is full/);
    const quota = diskError(Object.assign(new Error('EDQUOT'), { code: 'EDQUOT' }), 'committing');
    assert.equal(quota.code, 'ENOSPC');
    assert.match(quota.message, /quota/);
    const other = diskError(Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' }), 'reading blob cd34');
    assert.equal(other.code, 'EIO');
    assert.match(other.message, /^cache store: reading blob cd34: EIO: i\/o error/);
  });

  test('a store that cannot be created fails with a message that names its folder and keeps the code', async () => {
    writeFileSync(join(root, 'not-a-folder'), '');
    await assert.rejects(new DiskShareStores(join(root, 'not-a-folder')).open('s'), (err: NodeJS.ErrnoException) => {
      assert.match(err.message, /^cache store: creating .*not-a-folder.s: /);
      assert.equal(err.code, 'ENOTDIR');
      return true;
    });
  });

  test('figures: 100,000 entries load fast; blob throughput', async () => {
    const random = seededRandom(100_000);
    let store = await open();
    const paths: string[] = [];
    for (let i = 0; i < 100_000; i++) paths.push(`/project/src/module${i % 300}/sub${i % 17}/file-${i}-${Math.floor(random() * 1e6)}.ts`);
    for (let i = 0; i < paths.length; i += 1000) {
      // A journal record per 100 entries and a meta value, as the offline journal will add them.
      const records = Array.from({ length: 10 }, (_, j) => ({ id: i / 100 + j, op: 'write', path: paths[i + j * 100], base: '"v1"' }));
      await store.commit({ put: paths.slice(i, i + 1000).map((p, j) => fileEntry(p, i + j, { blob: 'a1'.repeat(32) })), delete: [], tables: tbl({ journal: { put: records } }), meta: { seq: i } });
    }
    await store.close();
    const snapshotBytes = statSync(join(root, 's', 'index.snapshot')).size;
    const logBytes = statSync(logFile()).size;
    global.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    const t0 = performance.now();
    store = await open();
    const entries = await store.loadIndex();
    const loadMs = performance.now() - t0;
    const heapPeak = process.memoryUsage().heapUsed;
    const t1 = performance.now();
    const journal = await store.loadTable('journal');
    const meta = await store.loadMeta();
    const extrasMs = performance.now() - t1;
    assert.equal(journal.length, 1000);
    assert.deepEqual(meta, { seq: 99_000 });
    global.gc?.();
    const heapAfter = process.memoryUsage().heapUsed;
    assert.equal(entries.length, 100_000);
    const mb = 1024 * 1024;
    console.log(
      `      [figures] 100k entries: open+loadIndex ${loadMs.toFixed(0)} ms, heap +${((heapPeak - heapBefore) / mb).toFixed(0)} MB at the end of the load, ` +
        `+${((heapAfter - heapBefore) / mb).toFixed(0)} MB held by the entries${global.gc ? '' : ' (no --expose-gc: garbage included)'} ` +
        `(snapshot ${(snapshotBytes / mb).toFixed(1)} MB, log ${(logBytes / mb).toFixed(1)} MB); then loadTable (1,000 records)+loadMeta ${extrasMs.toFixed(1)} ms`,
    );
    assert.ok(loadMs < 5000, `loading took ${loadMs} ms`);
    await store.close();

    let compactionStart = 0;
    let compactionMs = 0;
    const compacting = new DiskShareStores(root, {
      compactAfterBatches: 0,
      onCompaction: phase => (phase === 'start' ? (compactionStart = performance.now()) : (compactionMs = performance.now() - compactionStart)),
    });
    store = await compacting.open('s');
    stores.push(store);
    await store.commit({ put: [fileEntry('/one-more', 1)], delete: [] });
    assert.equal((await store.loadIndex()).length, 100_001);
    assert.ok(compactionMs > 0, 'a compaction ran');
    console.log(`      [figures] compaction of 100k entries: ${compactionMs.toFixed(0)} ms (commits wait behind it)`);

    const blobs = Array.from({ length: 32 }, (_, i) => {
      const b = new Uint8Array(1024 * 1024);
      b.fill(i);
      b[0] = 255 - i;
      return b;
    });
    const w0 = performance.now();
    const hashes = [];
    for (const b of blobs) hashes.push(await store.putBlob(b));
    const writeS = (performance.now() - w0) / 1000;
    const r0 = performance.now();
    for (const h of hashes) assert.ok(await store.getBlob(h));
    const readS = (performance.now() - r0) / 1000;
    console.log(`      [figures] blobs 32 × 1 MiB: write ${(32 / writeS).toFixed(0)} MiB/s (fsync each), read+verify ${(32 / readS).toFixed(0)} MiB/s`);
  });
});
