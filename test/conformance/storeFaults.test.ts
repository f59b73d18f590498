// The disk share store, the cache index and the journal on a REAL small disk: a 1 MiB tmpfs mounted for
// this suite (as root), filled up until the kernel answers ENOSPC, emptied again, and remounted read-only.
// What must hold:
//   - a full disk fails a commit and a blob write with code ENOSPC and a message that says the disk is
//     full; a partly written log line is cut off, no blob is left under its final name, nothing of it is
//     applied; a failed compaction leaves the store readable and correct;
//   - once space is back, the SAME open store (and the same cache index, by itself) stores again;
//   - a reopen loads every acknowledged commit and nothing refused;
//   - a read-only file system fails open() with code EROFS and says so; back read-write, it opens.
// Where mounting is not permitted (a CI machine without CAP_SYS_ADMIN), the same assertions run against
// an injected fault layer (test/support/faultyFs.ts: a byte budget for "full", EROFS for "read-only");
// the mode that ran is printed (WDO_STORE_FAULTS=injected forces that mode, to check it). Linux refuses to remount a file system read-only while a file on it is
// open for writing (the store's log), so read-only is tested at open; read-only in the middle of
// operations is tested with injected faults in test/unit/storeFaults.test.ts.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, rmdirSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CacheEntry } from '../../src/cache/cacheEntry';
import { CacheIndex } from '../../src/cache/cacheIndex';
import { sha256Hex } from '../../src/cache/contentHash';
import { CacheStoreError, type IndexBatch, type ShareStore, type StoredRecord } from '../../src/cache/shareStore';
import { Journal, JOURNAL_TABLE, type ApplyOp, type JournalRecord } from '../../src/offline/journal';
import { DiskShareStores, DiskStoreError, type DiskStoreOptions } from '../../src/platform/diskShareStore';
import { eventually } from '../support/eventually';
import { FaultyFs } from '../support/faultyFs';
import { RecordingLogger } from '../support/recordingLogger';
import { fileEntry, sorted, tbl } from '../unit/shareStore.suite';

const TMPFS_SIZE = '1m';

/** A disk that can be filled, emptied and made read-only: a real tmpfs, or injected faults. */
interface Disk {
  readonly mode: string;
  /** A fresh folder on the disk. */
  folder(name: string): string;
  /** Store options that put the store on this disk. */
  readonly options: DiskStoreOptions;
  /** Fills the disk, leaving about `leave` bytes. */
  fill(leave: number): void;
  /** Frees what fill() took. */
  free(): void;
  readOnly(on: boolean): void;
  dispose(): void;
}

function run(cmd: string, args: string[]): { ok: boolean; output: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { ok: r.status === 0, output: `${r.stderr ?? ''}${r.stdout ?? ''}${r.error?.message ?? ''}`.trim() };
}

function tmpfsDisk(): Disk | string {
  const mountPoint = mkdtempSync(join(tmpdir(), 'wdo-tmpfs-'));
  const mounted = run('mount', ['-t', 'tmpfs', '-o', `size=${TMPFS_SIZE},mode=0755`, 'tmpfs', mountPoint]);
  if (!mounted.ok) {
    rmdirSync(mountPoint);
    return mounted.output || 'mount failed';
  }
  const filler = join(mountPoint, 'filler');
  const spacer = join(mountPoint, 'spacer');
  return {
    mode: `real tmpfs (size=${TMPFS_SIZE}) mounted at ${mountPoint}`,
    folder(name) {
      const dir = join(mountPoint, name);
      mkdirSync(dir);
      return dir;
    },
    options: {},
    fill(leave) {
      // a spacer of `leave` bytes first, then everything else, then the spacer goes
      if (leave > 0) {
        const fd = openSync(spacer, 'w');
        writeSync(fd, Buffer.alloc(leave, 1));
        closeSync(fd);
      }
      const fd = openSync(filler, 'a');
      try {
        for (const chunk of [65536, 4096, 512, 1]) {
          const buf = Buffer.alloc(chunk, 2);
          for (;;) {
            try {
              writeSync(fd, buf);
            } catch (err) {
              if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
              throw err;
            }
          }
        }
      } finally {
        closeSync(fd);
      }
      rmSync(spacer, { force: true });
    },
    free() {
      rmSync(filler, { force: true });
    },
    readOnly(on) {
      const r = run('mount', ['-o', `remount,${on ? 'ro' : 'rw'}`, mountPoint]);
      if (!r.ok) throw new Error(`remount ${on ? 'ro' : 'rw'} ${mountPoint}: ${r.output}`);
    },
    dispose() {
      run('mount', ['-o', 'remount,rw', mountPoint]);
      let r = run('umount', [mountPoint]);
      if (!r.ok) r = run('umount', ['-l', mountPoint]);
      if (!r.ok) throw new Error(`umount ${mountPoint}: ${r.output}`);
      rmdirSync(mountPoint);
    },
  };
}

function injectedDisk(why: string): Disk {
  const root = mkdtempSync(join(tmpdir(), 'wdo-injected-disk-'));
  const ffs = new FaultyFs();
  return {
    mode: `injected faults (${why})`,
    folder(name) {
      const dir = join(root, name);
      mkdirSync(dir);
      return dir;
    },
    options: { fs: ffs.fs },
    fill(leave) {
      let budget = leave;
      // writes take space from the budget; one that does not fit stores part and fails (the store cuts
      // or removes that part again, so it gives its space back)
      ffs.plan = call => {
        if (call.bytes === undefined) return undefined;
        if (call.bytes <= budget) {
          budget -= call.bytes;
          return undefined;
        }
        return 'ENOSPC';
      };
    },
    free: () => ffs.heal(),
    readOnly(on) {
      if (on) ffs.failAll('EROFS');
      else ffs.heal();
    },
    dispose: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** What a store holds but blobs. */
async function contents(store: ShareStore) {
  return { entries: sorted(await store.loadIndex()), journal: await store.loadTable(JOURNAL_TABLE), meta: await store.loadMeta() };
}

/** A batch of about `bytes` bytes in the log. */
function batchOf(tag: string, bytes: number, id: number): IndexBatch {
  const perEntry = 1000;
  const put: CacheEntry[] = [];
  for (let i = 0; i * perEntry < bytes; i++) put.push(fileEntry(`/${tag}/${i}`, id, { children: ['n'.repeat(perEntry - 200)] }));
  return { put, delete: [], tables: tbl({ journal: { put: [{ id, tag }] } }), meta: { last: tag } };
}

suite('store faults on a real small disk', function () {
  this.timeout(60_000);
  let disk: Disk;
  let log: RecordingLogger;
  const closers: (() => Promise<unknown>)[] = [];

  suiteSetup(() => {
    const tmpfs =
      process.env.WDO_STORE_FAULTS === 'injected' ? 'forced by WDO_STORE_FAULTS=injected' : process.platform === 'linux' ? tmpfsDisk() : 'a tmpfs needs Linux';
    disk = typeof tmpfs === 'string' ? injectedDisk(tmpfs.startsWith('forced') || tmpfs.startsWith('a tmpfs') ? tmpfs : `mounting a tmpfs is not permitted here: ${tmpfs}`) : tmpfs;
    console.log(`      [store faults] mode: ${disk.mode}`);
  });
  suiteTeardown(() => disk?.dispose());
  setup(() => {
    log = new RecordingLogger();
  });
  teardown(async function () {
    for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
    disk.free();
    disk.readOnly(false);
    if (this.currentTest?.state === 'failed') console.log(log.lines.join('\n'));
  });

  async function open(root: string, options: DiskStoreOptions = {}): Promise<ShareStore> {
    const store = await new DiskShareStores(root, { ...disk.options, logger: log, ...options }).open('s');
    closers.push(() => store.close());
    return store;
  }

  test('a full disk fails a commit and a blob write with ENOSPC, applies nothing of them; with space back the same store goes on; a reopen has every acknowledged commit', async () => {
    const root = disk.folder('full');
    let store = await open(root);
    const logFile = join(root, 's', 'index.log');
    for (let i = 1; i <= 3; i++) await store.commit(batchOf(`base${i}`, 2000, i));
    const kept = await store.putBlob(new Uint8Array(3000).fill(7));
    let model = await contents(store);

    disk.fill(8192);
    const before = statSync(logFile).size;
    const big = batchOf('big', 40_000, 10);
    await assert.rejects(store.commit(big), (err: DiskStoreError) => {
      assert.ok(err instanceof DiskStoreError && err instanceof CacheStoreError, String(err));
      assert.equal(err.code, 'ENOSPC');
      assert.match(err.message, /^cache store: committing 42 index changes: the disk is full \(ENOSPC\)$/);
      return true;
    });
    assert.equal(statSync(logFile).size, before, 'the partly written line was cut off');
    assert.deepEqual(await contents(store), model, 'nothing of the failed commit is applied');

    const refused = new Uint8Array(64 * 1024).fill(9);
    const refusedHash = await sha256Hex(refused);
    await assert.rejects(store.putBlob(refused), (err: DiskStoreError) => err.code === 'ENOSPC' && new RegExp(`^cache store: writing blob ${refusedHash} \\(65536 bytes\\): the disk is full \\(ENOSPC\\)$`).test(err.message));
    assert.equal(existsSync(join(root, 's', 'blobs', refusedHash.slice(0, 2), refusedHash)), false, 'no blob under its final name');
    assert.deepEqual(readdirSync(join(root, 's', 'tmp')), [], 'no temp file');
    assert.deepEqual(await store.listBlobs(), [kept]);

    // a small commit still fits: the store was not broken by the failures
    await store.commit(batchOf('small', 300, 11));
    model = await contents(store);

    disk.free();
    await store.commit(big);
    const again = await store.putBlob(new Uint8Array(64 * 1024).fill(10));
    model = await contents(store);
    assert.equal(model.entries.length, 3 * 2 + 1 + 40);

    await store.close();
    store = await open(root);
    assert.deepEqual(await contents(store), model, 'a reopen loads exactly the acknowledged commits');
    assert.deepEqual((await store.listBlobs()).sort(), [kept, again].sort());
    assert.ok(await store.getBlob(again));
  });

  test('a compaction on a full disk fails, the store stays readable and correct; once space is back it compacts', async () => {
    const root = disk.folder('compaction');
    let compactions = 0;
    let starts = 0;
    const options: DiskStoreOptions = { compactAfterBatches: 4, compactRetryMs: 50, onCompaction: phase => (phase === 'start' ? starts++ : compactions++) };
    let store = await open(root, options);
    await store.commit(batchOf('state', 30_000, 1));
    disk.fill(8192);
    let n = 1;
    while (starts === 0) await store.commit(batchOf(`small${++n}`, 300, n));
    const model = await contents(store); // queued behind the compaction
    assert.equal(compactions, 0, 'the compaction failed');
    assert.ok(log.lines.some(l => /^warn .*compaction failed, the log keeps growing; next attempt in 50 ms \(cache store: writing .*index.snapshot: the disk is full \(ENOSPC\)\)/.test(l)), log.lines.join('\n'));
    assert.equal(existsSync(join(root, 's', 'index.snapshot.tmp')), false);
    assert.equal(model.entries.length, 30 + n - 1);

    disk.free();
    await new Promise(r => setTimeout(r, 60));
    await store.commit(batchOf(`small${++n}`, 300, n));
    const after = await contents(store);
    assert.equal(compactions, 1, 'compacted once space was back');
    assert.equal(statSync(join(root, 's', 'index.log')).size, 0);
    await store.close();
    store = await open(root, options);
    assert.deepEqual(await contents(store), after);
  });

  test('the cache index and the journal on a full disk: a save is refused; the kept changes are stored by themselves once space is back, without reopening', async () => {
    const root = disk.folder('index');
    const store = await open(root);
    const index = await CacheIndex.load(store, log, { flushDelayMs: 5, retryFirstMs: 20, retryMaxMs: 100 });
    closers.push(() => index.dispose());
    const apply: ApplyOp = op => {
      if (op.kind === 'write') index.set(fileEntry(op.path, op.size, { blob: op.blob, state: 'dirty' }));
    };
    const journal = await Journal.open(index, apply, async () => true, log);
    const save = async (path: string, data: Uint8Array) => {
      await index.writeContent(async () => {
        const blob = await store.putBlob(data);
        await journal.record({ kind: 'write', path, blob, size: data.byteLength }, apply);
      });
    };
    const first = new Uint8Array(2000).fill(1);
    await save('/first.txt', first);
    const writable: boolean[] = [];
    index.onDidChangeWritable(w => writable.push(w));

    disk.fill(0);
    index.set(fileEntry('/listing', 1, { children: Array.from({ length: 200 }, (_, i) => `child-${i}-${'x'.repeat(40)}`) }));
    await assert.rejects(index.flush(), (err: CacheStoreError) => err.code === 'ENOSPC' && /the disk is full/.test(err.message));
    assert.equal(index.writable, false);
    // new content does not fit: refused
    await assert.rejects(save('/second.txt', new Uint8Array(20_000).fill(2)), (err: CacheStoreError) => err.code === 'ENOSPC' && /writing blob/.test(err.message));
    // content already stored, but its intent does not fit: refused too, and never stored later
    await assert.rejects(save('/again.txt', first), (err: CacheStoreError) => err.code === 'ENOSPC' && /committing/.test(err.message));
    assert.deepEqual(journal.pending.map(i => (i.op as { path: string }).path), ['/first.txt']);

    disk.free();
    await eventually(() => assert.equal(index.writable, true), 5000, 10);
    assert.deepEqual(writable, [false, true]);
    await save('/third.txt', new Uint8Array(100).fill(3));
    const expectPaths = ['/first.txt', '/listing', '/third.txt'];
    assert.deepEqual(sorted(index.all()).map(e => e.path), expectPaths);

    closers.splice(0);
    await index.dispose();
    await store.close();
    const reopened = await open(root);
    assert.deepEqual((await reopened.loadIndex()).map(e => e.path).sort(), expectPaths);
    const records = (await reopened.loadTable(JOURNAL_TABLE)) as JournalRecord[];
    assert.deepEqual(records.map(r => [r.state, (r.op as { path: string }).path]), [['applied', '/first.txt'], ['applied', '/third.txt']]);
    assert.ok(log.lines.some(l => /^info \[cache\] index: the cache store can write again after \d+ failed commits/.test(l)), log.lines.join('\n'));
    assert.equal(log.lines.filter(l => l.startsWith('error [cache] index: could not store')).length, 1, 'one log line for the streak');
  });

  test('a read-only file system fails open() with EROFS and says the folder is read-only; read-write again, the store opens with everything', async () => {
    const root = disk.folder('readonly');
    let store = await open(root);
    await store.commit(batchOf('ro', 2000, 1));
    const model = await contents(store);
    closers.splice(0);
    await store.close();

    disk.readOnly(true);
    for (const share of ['s', 'new-share']) {
      await assert.rejects(new DiskShareStores(root, { ...disk.options, logger: log }).open(share), (err: DiskStoreError) => {
        assert.ok(err instanceof DiskStoreError, String(err));
        assert.equal(err.code, 'EROFS');
        assert.match(err.message, new RegExp(`^cache store: cannot open .*${share}: the folder is on a read-only file system\\. The cache needs a folder it can write to: make it writable, then open the share again\\.$`));
        return true;
      }, share);
    }
    disk.readOnly(false);
    store = await open(root);
    assert.deepEqual(await contents(store), model);
    await store.commit(batchOf('rw', 1000, 2));
    assert.equal((await store.loadIndex()).length, 3);
    const records: StoredRecord[] = await store.loadTable(JOURNAL_TABLE);
    assert.deepEqual(records.map(r => r.id), [1, 2]);
  });
});
