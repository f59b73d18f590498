// Both share store backends under injected faults, then the whole stack (store, cache index, journal)
// in seeded random trials:
//   - disk: a file system wrapper (test/support/faultyFs.ts) fails chosen calls of a commit, a blob write,
//     a compaction, an open, with ENOSPC / EDQUOT (after storing part of the data, as a disk filling up
//     does), EROFS, EACCES or EIO. The real disk-full and read-only runs on a tmpfs are in
//     test/conformance/storeFaults.test.ts;
//   - IndexedDB: fake-indexeddb with QuotaExceededError on a request, a quota abort, a bare abort
//     (test/support/idbFaults.ts), and connections closed under the store.
// What must hold: a failed operation rejects with a CacheStoreError whose code says what happened (ENOSPC
// for a full disk, an exhausted quota or an aborted transaction) and applies nothing; the same open store
// works again once the fault is gone; what a restart loads is exactly what was acknowledged.
import 'fake-indexeddb/auto';
import * as assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CacheEntry } from '../../src/cache/cacheEntry';
import { CacheIndex } from '../../src/cache/cacheIndex';
import { sha256Hex } from '../../src/cache/contentHash';
import { CacheStoreError, type IndexBatch, type ShareStore, type StoredRecord } from '../../src/cache/shareStore';
import { Journal, JOURNAL_TABLE, type ApplyOp, type JournalRecord } from '../../src/offline/journal';
import { DiskShareStores, DiskStoreError, type DiskStoreOptions } from '../../src/platform/diskShareStore';
import { IdbShareStores } from '../../src/platform/idbShareStore';
import { nodeLocks } from '../support/memoryLocks';
import { FaultyFs } from '../support/faultyFs';
import { installIdbFaults, type IdbFault, type IdbFaults } from '../support/idbFaults';
import { RecordingLogger } from '../support/recordingLogger';
import { fileEntry, seededRandom, sorted, tbl } from './shareStore.suite';

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));
const bytes = (text: string) => new TextEncoder().encode(text);

/** A fast place for stores that fsync a lot: tmpfs when the machine has one (the faults are injected anyway). */
function fastTmp(): string {
  return existsSync('/dev/shm') && statSync('/dev/shm').isDirectory() ? '/dev/shm' : tmpdir();
}

/** What a store holds but blobs, in the order it loads. */
async function contents(store: ShareStore, tables: readonly string[] = ['journal', 'other']) {
  const out: { entries: CacheEntry[]; meta: Record<string, unknown>; tables: Record<string, StoredRecord[]> } = {
    entries: sorted(await store.loadIndex()),
    meta: await store.loadMeta(),
    tables: {},
  };
  for (const t of tables) out.tables[t] = await store.loadTable(t);
  return out;
}

const CODE_OF: Record<string, string> = { ENOSPC: 'ENOSPC', EDQUOT: 'ENOSPC', EROFS: 'EROFS', EACCES: 'EACCES', EIO: 'EIO' };
const WORDS_OF: Record<string, RegExp> = {
  ENOSPC: /the disk is full \(ENOSPC\)/,
  EDQUOT: /the disk quota is exhausted \(EDQUOT\)/,
  EROFS: /the file system is read-only \(EROFS\)/,
  EACCES: /permission denied \(EACCES\)/,
  EIO: /EIO: injected fault/,
};

suite('disk store: injected faults', function () {
  this.timeout(30_000);
  let root: string;
  let ffs: FaultyFs;
  let log: RecordingLogger;
  const stores: ShareStore[] = [];

  setup(async () => {
    root = await fs.mkdtemp(join(fastTmp(), 'wdo-disk-faults-'));
    ffs = new FaultyFs(seededRandom(7));
    log = new RecordingLogger();
  });
  teardown(async function () {
    ffs.heal();
    for (const s of stores.splice(0)) await s.close();
    await fs.rm(root, { recursive: true, force: true });
    if (this.currentTest?.state === 'failed') console.log(log.lines.join('\n'));
  });

  async function open(options: DiskStoreOptions = {}): Promise<ShareStore> {
    const store = await new DiskShareStores(root, { fs: ffs.fs, logger: log, ...options }).open('s');
    stores.push(store);
    return store;
  }
  async function restart(store: ShareStore, options: DiskStoreOptions = {}): Promise<ShareStore> {
    stores.splice(stores.indexOf(store), 1);
    await store.close();
    return open(options);
  }
  const logSize = () => statSync(join(root, 's', 'index.log')).size;
  const batchNo = (i: number): IndexBatch => ({
    put: [fileEntry(`/f${i}`, i, { children: ['x'.repeat(300)] })],
    delete: i > 2 ? [`/f${i - 2}`] : [],
    tables: tbl({ journal: { put: [{ id: i, path: `/f${i}` }] } }),
    meta: { seq: i },
  });

  test('a commit that fails at its write or its sync is taken back, says why, and the same store commits again', async () => {
    let store = await open();
    let n = 0;
    let model = await contents(store);
    const commitOk = async () => {
      await store.commit(batchNo(++n));
      model = await contents(store);
    };
    await commitOk();
    for (const code of ['ENOSPC', 'EDQUOT', 'EROFS', 'EACCES', 'EIO']) {
      for (const step of ['write', 'datasync'] as const) {
        const before = logSize();
        ffs.failNth(1, code, call => call.kind === step);
        await assert.rejects(store.commit(batchNo(++n)), (err: DiskStoreError) => {
          assert.ok(err instanceof DiskStoreError && err instanceof CacheStoreError, String(err));
          assert.equal(err.code, CODE_OF[code]);
          assert.match(err.message, /^cache store: committing \d index changes: /);
          assert.match(err.message, WORDS_OF[code]);
          return true;
        }, `${code} at ${step}`);
        assert.equal(logSize(), before, `${code} at ${step}: the failed line was cut off`);
        assert.deepEqual(await contents(store), model, `${code} at ${step}: nothing of it applied`);
        ffs.heal();
        await commitOk();
      }
    }
    assert.ok(ffs.injected.some(f => f === 'write ENOSPC'), ffs.injected.join());
    store = await restart(store);
    assert.deepEqual(await contents(store), model);
  });

  test('an append that cannot be cut off at once is cut before the next commit, and before closing (a synced-but-refused line never counts)', async () => {
    let store = await open();
    await store.commit(batchNo(1));
    const model = await contents(store);
    const intact = logSize();
    // the whole line is written, its sync fails, and the truncation too (a file system gone bad)
    ffs.plan = call => (call.kind === 'datasync' || call.kind === 'truncate' ? 'EIO' : undefined);
    await assert.rejects(store.commit(batchNo(2)), /committing 3 index changes: EIO/);
    assert.ok(logSize() > intact, 'the refused line is still in the file');
    assert.deepEqual(await contents(store), model, 'but it is not read');
    await assert.rejects(store.commit(batchNo(3)), (err: DiskStoreError) => err.code === 'EIO' && /repairing .*index.log after a failed commit/.test(err.message));
    ffs.heal();
    await store.commit(batchNo(4));
    const after = await contents(store);
    assert.deepEqual(after.entries.map(e => e.path), ['/f1', '/f4']);
    store = await restart(store);
    assert.deepEqual(await contents(store), after);

    // the same, then the store is closed before any other commit: close() cuts the line
    ffs.plan = call => (call.kind === 'datasync' || call.kind === 'truncate' ? 'EIO' : undefined);
    await assert.rejects(store.commit(batchNo(5)), /EIO/);
    ffs.heal();
    store = await restart(store);
    assert.deepEqual(await contents(store), after, 'the refused batch is not there after a restart');
  });

  test('a blob write that fails at any step leaves no blob under its final name and no temp file; the same store stores it next time', async () => {
    const store = await open();
    const steps: string[] = [];
    for (const code of ['ENOSPC', 'EROFS']) {
      for (let k = 1; ; k++) {
        const data = bytes(`${code} step ${k} `.repeat(500));
        const hash = await sha256Hex(data);
        const final = join(root, 's', 'blobs', hash.slice(0, 2), hash);
        let failedAt: string | undefined;
        ffs.failNth(k, code, call => {
          if (call.kind === 'rm') return false; // cleaning up works
          return true;
        });
        const seen = ffs.injected.length;
        try {
          await store.putBlob(data);
        } catch (err) {
          failedAt = ffs.injected[seen];
          assert.equal((err as DiskStoreError).code, code);
          assert.match((err as Error).message, new RegExp(`^cache store: writing blob ${hash} \\(${data.byteLength} bytes\\): `));
        }
        ffs.heal();
        if (!failedAt) break; // k is past the last step
        steps.push(`${code}@${failedAt}`);
        // only when the rename happened and the folder sync after it failed: then it is whole
        if (existsSync(final)) assert.deepEqual(new Uint8Array(await fs.readFile(final)), data, `a partial blob under its final name after a failure at ${failedAt}`);
        assert.deepEqual(readdirSync(join(root, 's', 'tmp')), [], `no temp file after a failure at ${failedAt}`);
        assert.equal(await store.putBlob(data), hash);
        assert.deepEqual(await store.getBlob(hash), data);
      }
    }
    // open, write, sync of the temp file; its folder made; (that folder's parent synced); renamed; folder synced
    assert.ok(steps.length >= 12, `failed at: ${steps.join(', ')}`);
  });

  test('a compaction that fails at any step leaves the store readable and correct; the next attempt waits, then succeeds', async () => {
    let compacting = false;
    let starts = 0;
    const options: DiskStoreOptions = {
      compactAfterBatches: 3,
      compactRetryMs: 40,
      onCompaction: phase => {
        compacting = phase === 'start';
        if (compacting) starts++;
      },
    };
    let store = await open(options);
    let n = 0;
    let model = await contents(store);
    const tried: string[] = [];
    for (let k = 1; ; k++) {
      const seen = ffs.injected.length;
      ffs.failNth(k, 'ENOSPC', call => compacting && call.kind !== 'rm');
      const startsBefore = starts;
      // commit until a compaction has run
      while (starts === startsBefore) await store.commit(batchNo(++n));
      model = await contents(store); // queued behind the compaction
      compacting = false; // a failed compaction never says 'end'
      const failedAt = ffs.injected[seen];
      if (!failedAt) break;
      tried.push(failedAt);
      assert.ok(log.lines.some(l => /warn .*compaction failed, the log keeps growing; next attempt in 40 ms \(cache store: .*ENOSPC/.test(l)), log.lines.join('\n'));
      assert.equal(existsSync(join(root, 's', 'index.snapshot.tmp')), false);
      // no new attempt before the delay
      ffs.heal();
      const s = starts;
      await store.commit(batchNo(++n));
      await store.loadIndex();
      assert.equal(starts, s, 'no compaction during the backoff');
      await sleep(50);
      for (let i = 0; i < 4; i++) await store.commit(batchNo(++n)); // due again even if the failed one emptied the log
      model = await contents(store);
      assert.equal(starts, s + 1, 'compacted once the backoff is over');
      store = await restart(store, options);
      assert.deepEqual(await contents(store), model, `after a compaction failed at ${failedAt}`);
      log.lines.length = 0;
    }
    // the temp snapshot opened, written, synced; renamed; the folder synced; the log truncated and synced
    assert.deepEqual(tried, ['open', 'writeFile', 'sync', 'rename', 'sync', 'truncate', 'datasync'].map(k => `${k} ENOSPC`));
  });

  test('a store on a read-only folder is refused at open with EROFS (or EACCES) and says the folder is read-only; writable again, it opens', async () => {
    let store = await open();
    await store.commit(batchNo(1));
    const model = await contents(store);
    stores.splice(0);
    await store.close();
    for (const code of ['EROFS', 'EACCES']) {
      ffs.failAll(code);
      await assert.rejects(new DiskShareStores(root, { fs: ffs.fs }).open('s'), (err: DiskStoreError) => {
        assert.ok(err instanceof DiskStoreError);
        assert.equal(err.code, code);
        assert.match(err.message, code === 'EROFS' ? /cannot open .*s: the folder is on a read-only file system\. The cache needs a folder it can write to/ : /the folder is read-only for this user \(EACCES\)/);
        return true;
      });
      await assert.rejects(new DiskShareStores(join(root, 'new'), { fs: ffs.fs }).open('s'), (err: DiskStoreError) => err.code === code && /read-only/.test(err.message));
    }
    ffs.heal();
    assert.equal(existsSync(join(root, 's', 'lock')), false, 'no lock left behind');
    store = await open();
    assert.deepEqual(await contents(store), model);
  });

  test('a full disk while taking the lock leaves no empty lock behind', async () => {
    ffs.failAll('ENOSPC', call => call.kind === 'writeFile');
    await assert.rejects(new DiskShareStores(root, { fs: ffs.fs }).open('s'), (err: DiskStoreError) => err.code === 'ENOSPC' && /locking .*lock: the disk is full/.test(err.message));
    assert.equal(existsSync(join(root, 's', 'lock')), false);
    ffs.heal();
    await open();
  });
});

suite('IndexedDB store: injected faults', function () {
  this.timeout(30_000);
  let faults: IdbFaults;
  let prefix: string;
  let n = 0;
  const stores: ShareStore[] = [];

  setup(() => {
    faults = installIdbFaults();
    prefix = `faults${++n}`;
  });
  teardown(async () => {
    faults.plan = undefined;
    for (const s of stores.splice(0)) await s.close().catch(() => undefined);
    faults.uninstall();
  });
  async function open(): Promise<ShareStore> {
    const store = await new IdbShareStores({ prefix, locks: nodeLocks }).open('s');
    stores.push(store);
    return store;
  }

  const big = (i: number): IndexBatch => ({
    put: [fileEntry(`/a${i}`, i), fileEntry(`/b${i}`, i)],
    delete: [`/a${i - 1}`],
    tables: tbl({ journal: { put: [{ id: i, v: i }], delete: [i - 1] }, other: { put: [{ id: 1, v: i }] } }),
    meta: { seq: i, gone: null },
  });

  test('QuotaExceededError on any request of a commit, a quota abort or a bare abort: ENOSPC, nothing of it stored, the store goes on', async () => {
    let store = await open();
    let i = 0;
    await store.commit(big(++i));
    let model = await contents(store);
    const kinds: IdbFault[] = ['request-quota', 'abort-quota', 'abort'];
    const requests = 8; // the big batch's puts and deletes
    for (const kind of kinds) {
      for (let k = 1; k <= requests; k++) {
        let seen = 0;
        faults.plan = call => (call.store === 'entries' && ++seen === k ? kind : undefined);
        await assert.rejects(store.commit(big(++i)), (err: CacheStoreError) => {
          assert.ok(err instanceof CacheStoreError, String(err));
          assert.equal(err.code, 'ENOSPC', `${kind} at request ${k}: ${err.message}`);
          assert.match(err.message, kind === 'abort' ? /^cache store: committing 8 index changes: the browser aborted the write .*nothing of it was stored/ : /^cache store: committing 8 index changes: the browser's storage quota for this site is exhausted; nothing of it was stored \(QuotaExceededError\)/);
          return true;
        });
        faults.plan = undefined;
        assert.deepEqual(await contents(store), model, `${kind} at request ${k}: nothing half committed`);
        await store.commit(big(++i));
        model = await contents(store);
      }
    }
    assert.equal(faults.injected.length, kinds.length * requests);
    await store.close();
    stores.splice(0);
    store = await open();
    assert.deepEqual(await contents(store), model);
  });

  test('a blob write refused by the quota stores nothing; the same store stores it next time', async () => {
    const store = await open();
    for (const kind of ['request-quota', 'abort-quota', 'abort'] as const) {
      const data = bytes(`blob ${kind}`);
      faults.plan = call => (call.store === 'blobs' ? kind : undefined);
      await assert.rejects(store.putBlob(data), (err: CacheStoreError) => err.code === 'ENOSPC' && /^cache store: writing blob [0-9a-f]{64} \(\d+ bytes\): /.test(err.message));
      faults.plan = undefined;
      assert.deepEqual(await store.listBlobs(), [], kind);
      const hash = await store.putBlob(data);
      assert.deepEqual(await store.getBlob(hash), data);
      await store.deleteBlobs([hash]);
    }
  });

  test('connections the browser closes (site data cleared) are opened again: the store goes on working', async () => {
    const store = await open();
    await store.commit(big(1));
    assert.ok(faults.forceCloseConnections() >= 2);
    await store.commit(big(2));
    const hash = await store.putBlob(bytes('after the close'));
    assert.equal((await store.loadIndex()).length, 3);
    assert.ok(await store.getBlob(hash));
  });
});

// --- random trials of the whole stack

interface Backend {
  readonly name: string;
  /** Opens the store with faults wired in (off until `faultsOn`). */
  open(): Promise<ShareStore>;
  faultsOn(random: () => number, rate: number): void;
  faultsOff(): void;
  /** The store as the next session opens it, without faults. */
  reopen(): Promise<ShareStore>;
  /** Checks what only this backend has (no temp files…); the store is closed. */
  checkLeftovers(): void;
  dispose(): Promise<void>;
  faults(): number;
}

const TRIALS_PER_BACKEND = 60;
const TRIAL_SEED = 0xfa17;
const OPS_PER_TRIAL = 60;

function diskBackend(trial: number): Backend {
  const root = join(fastTmp(), `wdo-trial-${process.pid}-${trial}`);
  const ffs = new FaultyFs(seededRandom(trial));
  const options: DiskStoreOptions = { fs: ffs.fs, compactAfterBatches: 6, compactRetryMs: 3 };
  const codes = ['ENOSPC', 'ENOSPC', 'EDQUOT', 'EROFS', 'EIO'];
  return {
    name: 'disk',
    open: () => new DiskShareStores(root, options).open('s'),
    faultsOn(random, rate) {
      let streak = 0;
      ffs.plan = () => {
        if (streak > 0) return streak--, 'ENOSPC';
        const r = random();
        if (r < rate / 10) streak = 1 + Math.floor(random() * 6); // full for a while
        return r < rate ? codes[Math.floor(random() * codes.length)] : undefined;
      };
    },
    faultsOff: () => ffs.heal(),
    reopen: () => new DiskShareStores(root).open('s'),
    checkLeftovers() {
      assert.deepEqual(readdirSync(join(root, 's', 'tmp')), [], 'no temp file after a reopen');
    },
    dispose: () => fs.rm(root, { recursive: true, force: true }),
    faults: () => ffs.faults,
  };
}

function idbBackend(trial: number, faults: IdbFaults): Backend {
  const prefix = `trial${trial}`;
  const kinds: IdbFault[] = ['request-quota', 'abort-quota', 'abort'];
  let count = 0;
  return {
    name: 'IndexedDB',
    open: () => new IdbShareStores({ prefix, locks: nodeLocks }).open('s'),
    faultsOn(random, rate) {
      faults.plan = () => (random() < rate / 3 ? (count++, kinds[Math.floor(random() * kinds.length)]) : undefined);
    },
    faultsOff: () => (faults.plan = undefined),
    reopen: () => new IdbShareStores({ prefix, locks: nodeLocks }).open('s'),
    checkLeftovers() {},
    dispose: async () => undefined,
    faults: () => count,
  };
}

interface TrialStats {
  ops: number;
  faults: number;
  refused: number;
  failedFlushes: number;
}

/**
 * One trial: random entry puts and deletes, cached content (blob, then entry), table records, meta values,
 * offline changes through the journal, explicit flushes, garbage collection and pauses (background
 * retries), with faults at random commits and blob writes. The model holds what was acknowledged: every
 * index change (kept in memory and retried), content whose blob was stored, journal changes that were
 * not refused. After the trial: faults off, one flush, reopen: the store must equal the model.
 */
async function runTrial(backend: Backend, seed: number, stats: TrialStats): Promise<void> {
  const random = seededRandom(seed);
  const log = new RecordingLogger();
  let store = await backend.open();
  const index = await CacheIndex.load(store, log, { flushDelayMs: 1, retryFirstMs: 1, retryMaxMs: 8 });
  const apply: ApplyOp = op => {
    if (op.kind === 'write') index.set(fileEntry(op.path, op.size, { blob: op.blob, state: 'dirty' }));
  };
  const journal = await Journal.open(index, apply, async () => true, log);
  index.addBlobHolder(() => journal.blobs());
  const entries = new Map<string, CacheEntry>();
  const other = new Map<number, StoredRecord>();
  const meta = new Map<string, unknown>();
  /** The last acknowledged offline write of each path. */
  const offline = new Map<string, { blob: string; size: number }>();
  /** Every blob the model references, with its bytes. */
  const content = new Map<string, Uint8Array>();
  let version = 0;
  const check = async (what: string) => {
    const got = await contents(store, [JOURNAL_TABLE, 'other']);
    assert.deepEqual(got.entries, sorted(entries.values()), `${what}: entries`);
    assert.deepEqual(got.tables.other, [...other.values()].sort((a, b) => a.id - b.id), `${what}: records`);
    assert.deepEqual(got.meta, Object.fromEntries([...meta].sort()), `${what}: meta`);
    const records = got.tables[JOURNAL_TABLE] as JournalRecord[];
    assert.deepEqual(
      records.map(r => [r.state, r.op.kind === 'write' ? [r.op.path, r.op.blob, r.op.size] : r.op.kind]).sort(),
      [...offline].map(([path, w]) => ['applied', [path, w.blob, w.size]]).sort(),
      `${what}: the journal holds exactly the acknowledged offline changes`,
    );
  };
  // faults draw from their own stream: the operations of a seed stay the same whatever the timers interleave
  backend.faultsOn(seededRandom(seed ^ 0x5bd1e995), 0.03 + random() * 0.25);
  try {
    for (let op = 0; op < OPS_PER_TRIAL; op++) {
      stats.ops++;
      const r = random();
      if (r < 0.2) {
        const e = fileEntry(`/p/${Math.floor(random() * 8)}`, ++version);
        index.set(e);
        entries.set(e.path, e);
      } else if (r < 0.28) {
        const path = `/p/${Math.floor(random() * 8)}`;
        index.delete(path);
        entries.delete(path);
      } else if (r < 0.38) {
        const id = 1 + Math.floor(random() * 5);
        if (random() < 0.7) {
          const rec = { id, v: ++version } as StoredRecord;
          index.putRecord('other', rec);
          other.set(id, rec);
        } else {
          index.deleteRecord('other', id);
          other.delete(id);
        }
      } else if (r < 0.46) {
        const key = `k${Math.floor(random() * 4)}`;
        const value = random() < 0.75 ? { v: ++version } : undefined;
        index.setMeta(key, value);
        if (value === undefined) meta.delete(key);
        else meta.set(key, value);
      } else if (r < 0.58) {
        // cached content: the blob first, then the entry that references it
        const path = `/c/${Math.floor(random() * 4)}`;
        const data = bytes(`${path} v${++version} ${'c'.repeat(Math.floor(random() * 3000))}`);
        try {
          await index.writeContent(async () => {
            const hash = await store.putBlob(data);
            const e = fileEntry(path, version, { blob: hash });
            index.set(e);
            entries.set(path, e);
            content.set(hash, data);
          });
        } catch (err) {
          assert.ok(err instanceof CacheStoreError, String(err));
          stats.refused++;
        }
      } else if (r < 0.74) {
        // an offline save: content, then the journal
        const path = `/j/${Math.floor(random() * 4)}`;
        const data = bytes(`${path} offline v${++version} ${'j'.repeat(Math.floor(random() * 2000))}`);
        try {
          await index.writeContent(async () => {
            const blob = await store.putBlob(data);
            await journal.record({ kind: 'write', path, blob, size: data.byteLength }, apply);
            offline.set(path, { blob, size: data.byteLength });
            entries.set(path, fileEntry(path, data.byteLength, { blob, state: 'dirty' }));
            content.set(blob, data);
          });
        } catch (err) {
          assert.ok(err instanceof CacheStoreError, String(err));
          assert.ok(['ENOSPC', 'EROFS', 'EIO'].includes(err.code), err.code);
          stats.refused++;
        }
      } else if (r < 0.86) {
        const ok = await index.flush().then(
          () => true,
          () => false,
        );
        if (ok) await check(`after a flush that resolved (op ${op})`);
        else stats.failedFlushes++;
      } else if (r < 0.9) {
        await index.collectGarbage().catch(() => undefined);
      } else {
        await sleep(random() * 6);
      }
    }
    backend.faultsOff();
    await index.flush();
    assert.equal(index.writable, true);
    assert.deepEqual(sorted(index.all()), sorted(entries.values()), 'memory is the model');
    await index.dispose();
    await store.close();
    stats.faults += backend.faults();
    store = await backend.reopen();
    await check('after a reopen');
    for (const [hash, data] of content) {
      if ([...entries.values()].some(e => e.blob === hash)) assert.deepEqual(await store.getBlob(hash), data, `blob ${hash}`);
    }
    for (const hash of await store.listBlobs()) assert.ok(await store.getBlob(hash), `stored blob ${hash} verifies`);
    const index2 = await CacheIndex.load(store, log);
    const recovered: string[] = [];
    const journal2 = await Journal.open(index2, op => recovered.push(op.kind), async () => true, log);
    assert.deepEqual(recovered, [], 'no intent left to recover');
    assert.deepEqual(journal2.pending.map(i => (i.op.kind === 'write' ? i.op.path : '')).sort(), [...offline.keys()].sort());
    await index2.dispose();
    await store.close();
    backend.checkLeftovers();
  } catch (err) {
    console.log(`      [trial] ${backend.name} seed ${seed} failed; its log:\n${log.lines.join('\n')}`);
    await store.close().catch(() => undefined);
    throw err;
  }
}

suite('random fault trials: store, cache index and journal', function () {
  this.timeout(120_000);

  for (const name of ['disk', 'IndexedDB'] as const) {
    test(`${name}: ${TRIALS_PER_BACKEND} seeded trials of ${OPS_PER_TRIAL} operations with faults at random commits and blob writes end exactly as acknowledged`, async () => {
      const faults = name === 'IndexedDB' ? installIdbFaults() : undefined;
      const stats: TrialStats = { ops: 0, faults: 0, refused: 0, failedFlushes: 0 };
      const t0 = performance.now();
      const base = TRIAL_SEED + (name === 'disk' ? 0 : 100_000);
      console.log(`      [trials] ${name}: seeds ${base}…${base + TRIALS_PER_BACKEND - 1}`);
      try {
        for (let t = 0; t < TRIALS_PER_BACKEND; t++) {
          const backend = name === 'disk' ? diskBackend(t) : idbBackend(t, faults!);
          try {
            await runTrial(backend, base + t, stats);
          } finally {
            await backend.dispose();
          }
        }
      } finally {
        faults?.uninstall();
      }
      console.log(
        `      [trials] ${name}: ${TRIALS_PER_BACKEND} trials, ${stats.ops} operations, ${stats.faults} faults injected, ` +
          `${stats.refused} writes refused, ${stats.failedFlushes} flushes failed, ${((performance.now() - t0) / 1000).toFixed(1)} s`,
      );
      assert.ok(stats.faults > TRIALS_PER_BACKEND, 'faults were injected');
      assert.ok(stats.refused > 0 && stats.failedFlushes > 0, 'some writes were refused and some flushes failed');
    });
  }
});
