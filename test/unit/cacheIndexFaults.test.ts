// The cache index and the offline journal over a store whose commits fail (a disk that fills up for a
// while): a wrapper around a real disk store fails chosen commit attempts with the store's ENOSPC error,
// or holds a commit in flight until the test lets it end. What must hold: a failed batch is kept and ends
// durable (retried in the background with backoff, or by the next flush), a newer change to the same path,
// record or meta key is never overwritten by the retried older one, every flush() caller learns the fate
// of the commit that carries its changes, the journal refuses a change whose intent was not stored (and
// that change never reaches the store later), and accepts the next one once the store can write.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CacheIndex, type CacheIndexOptions } from '../../src/cache/cacheIndex';
import { CacheStoreError, type ShareStores, type IndexBatch, type ShareStore, type StoredRecord } from '../../src/cache/shareStore';
import { Journal, JOURNAL_TABLE, type ApplyOp, type JournalRecord } from '../../src/offline/journal';
import type { JournalOp } from '../../src/offline/journalOps';
import { DiskShareStores } from '../../src/platform/diskShareStore';
import { eventually } from '../support/eventually';
import { RecordingLogger } from '../support/recordingLogger';
import { fileEntry, sorted } from './shareStore.suite';

interface Attempt {
  readonly at: number;
  readonly batch: IndexBatch;
  readonly failed: boolean;
}

/** A store whose commit attempts fail when `failWhen` says so, and wait for `gate` when one is set. */
class FlakyStore implements ShareStore {
  readonly attempts: Attempt[] = [];
  failWhen: (attempt: number) => boolean = () => false;
  gate: Promise<void> | undefined;

  constructor(readonly inner: ShareStore) {}

  /** Holds every commit until the returned function is called. */
  hold(): () => void {
    let release!: () => void;
    this.gate = new Promise(r => (release = r));
    return () => {
      this.gate = undefined;
      release();
    };
  }

  async commit(batch: IndexBatch): Promise<void> {
    const n = this.attempts.length + 1;
    const failed = this.failWhen(n);
    this.attempts.push({ at: performance.now(), batch: structuredClone(batch), failed });
    if (this.gate) await this.gate;
    if (failed) throw new CacheStoreError(`cache store: committing ${batch.put.length + batch.delete.length} index changes: the disk is full (ENOSPC) [attempt ${n}]`, 'ENOSPC');
    return this.inner.commit(batch);
  }

  loadIndex() { return this.inner.loadIndex(); }
  loadTable(table: string) { return this.inner.loadTable(table); }
  loadMeta() { return this.inner.loadMeta(); }
  putBlob(data: Uint8Array) { return this.inner.putBlob(data); }
  putBlobStream(chunks: AsyncIterable<Uint8Array>) { return this.inner.putBlobStream(chunks); }
  getBlob(hash: string) { return this.inner.getBlob(hash); }
  deleteBlobs(hashes: readonly string[]) { return this.inner.deleteBlobs(hashes); }
  listBlobs() { return this.inner.listBlobs(); }
  clear() { return this.inner.clear(); }
  close() { return this.inner.close(); }
}

const BLOB = 'ab'.repeat(32);
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));
const write = (path: string, size: number): JournalOp => ({ kind: 'write', path, blob: BLOB, size });

suite('CacheIndex: a store that fails commits', function () {
  this.timeout(20_000);
  let root: string;
  let storage: ShareStores;
  let store: FlakyStore;
  let log: RecordingLogger;
  const open: (CacheIndex | ShareStore)[] = [];

  setup(async () => {
    root = await fs.mkdtemp(join(tmpdir(), 'wdo-index-faults-'));
    storage = new DiskShareStores(root);
    store = new FlakyStore(await storage.open('s'));
    log = new RecordingLogger();
    open.length = 0;
  });
  teardown(async function () {
    for (const x of open.splice(0).reverse()) await (x instanceof CacheIndex ? x.dispose() : x.close());
    await store.close();
    await fs.rm(root, { recursive: true, force: true });
    if (this.currentTest?.state === 'failed') console.log(log.lines.join('\n'));
  });

  async function load(options: CacheIndexOptions = {}): Promise<CacheIndex> {
    const index = await CacheIndex.load(store, log, { flushDelayMs: 5, retryFirstMs: 20, retryMaxMs: 80, ...options });
    open.push(index);
    return index;
  }

  /** Closes the store and opens it again as the next session would: what is durable. */
  async function reopen(index?: CacheIndex): Promise<{ entries: ReturnType<typeof sorted>; journal: StoredRecord[]; other: StoredRecord[]; meta: Record<string, unknown> }> {
    if (index) {
      open.splice(open.indexOf(index), 1);
      await index.dispose();
    }
    await store.close();
    store = new FlakyStore(await storage.open('s'));
    return { entries: sorted(await store.loadIndex()), journal: await store.loadTable(JOURNAL_TABLE), other: await store.loadTable('other'), meta: await store.loadMeta() };
  }

  test('a failed background commit keeps its batch, is retried with growing delays, logged once, and ends durable', async () => {
    store.failWhen = n => n <= 5;
    const index = await load();
    const states: boolean[] = [];
    index.onDidChangeWritable(w => states.push(w));
    index.set(fileEntry('/a', 1));
    index.putRecord('other', { id: 1 });
    index.setMeta('k', 'v');
    await eventually(() => assert.equal(store.attempts.length, 2), 2000, 5);
    assert.equal(index.writable, false);
    assert.equal((index.lastError as CacheStoreError).code, 'ENOSPC');
    // changes made during the streak go with the next retry, at the retry's pace
    for (let i = 0; i < 20; i++) index.set(fileEntry(`/during${i}`, i));
    await eventually(() => assert.ok(index.writable), 3000, 5);
    assert.equal(store.attempts.length, 6);
    const gaps = store.attempts.slice(1).map((a, i) => a.at - store.attempts[i].at);
    [20, 40, 80, 80, 80].forEach((min, i) => assert.ok(gaps[i] >= min - 2, `retry ${i + 1} came after ${gaps[i].toFixed(1)} ms, not after ${min} ms: ${gaps.map(g => g.toFixed(0))}`));
    assert.deepEqual(states, [false, true]);
    assert.equal(log.lines.filter(l => l.startsWith('error')).length, 1, 'one log line for the whole streak');
    assert.match(log.lines.find(l => l.startsWith('error'))!, /could not store 3 changes \(cache store: .*the disk is full \(ENOSPC\).*\); they are kept in memory and retried/);
    assert.match(log.lines.find(l => l.startsWith('info'))!, /can write again after 5 failed commits; the changes kept meanwhile are stored/);
    const last = store.attempts[5].batch;
    assert.equal(last.put.length, 21, 'the last attempt carries the failed batch and everything since');
    const durable = await reopen(index);
    assert.deepEqual(durable.entries, sorted([fileEntry('/a', 1), ...Array.from({ length: 20 }, (_, i) => fileEntry(`/during${i}`, i))]));
    assert.deepEqual(durable.other, [{ id: 1 }]);
    assert.deepEqual(durable.meta, { k: 'v' });
  });

  test('flush() rejects with the store error when its commit failed; the next flush is not poisoned and stores the failed batch too', async () => {
    store.failWhen = n => n === 1;
    const index = await load();
    index.set(fileEntry('/a', 1));
    index.putRecord('other', { id: 7, v: 1 } as StoredRecord);
    index.setMeta('m', 1);
    await assert.rejects(index.flush(), (err: CacheStoreError) => err instanceof CacheStoreError && err.code === 'ENOSPC' && /the disk is full/.test(err.message));
    assert.equal(index.pendingChanges, 3, 'the failed batch is pending again');
    assert.deepEqual(await store.loadIndex(), [], 'nothing of it was applied');
    index.set(fileEntry('/b', 1));
    await index.flush();
    assert.equal(index.writable, true);
    assert.equal(index.pendingChanges, 0);
    assert.equal(store.attempts.length, 2);
    assert.deepEqual(sorted(store.attempts[1].batch.put), [fileEntry('/a', 1), fileEntry('/b', 1)], 'one batch: the failed changes and the new one');
    await index.flush(); // nothing pending: no commit at all
    assert.equal(store.attempts.length, 2);
    const durable = await reopen(index);
    assert.deepEqual(durable.entries, [fileEntry('/a', 1), fileEntry('/b', 1)]);
    assert.deepEqual(durable.other, [{ id: 7, v: 1 }]);
    assert.deepEqual(durable.meta, { m: 1 });
  });

  test('a newer change made while the failing commit was in flight wins over the retried older one', async () => {
    store.failWhen = n => n === 1;
    const index = await load();
    index.set(fileEntry('/new-later', 1));
    index.set(fileEntry('/deleted-later', 1));
    index.set(fileEntry('/untouched', 1));
    index.putRecord('other', { id: 1, v: 'old' } as StoredRecord);
    index.putRecord('other', { id: 2, v: 'old' } as StoredRecord);
    index.putRecord('other', { id: 3, v: 'kept' } as StoredRecord);
    index.setMeta('a', 'old');
    index.setMeta('b', 'old');
    index.setMeta('c', 'kept');
    const release = store.hold();
    const failing = index.flush();
    await eventually(() => assert.equal(store.attempts.length, 1), 1000, 1);
    // in flight: newer changes to the same items
    index.set(fileEntry('/new-later', 2));
    index.delete('/deleted-later');
    index.putRecord('other', { id: 1, v: 'new' } as StoredRecord);
    index.deleteRecord('other', 2);
    index.setMeta('a', 'new');
    index.setMeta('b', undefined);
    release();
    await assert.rejects(failing, /ENOSPC/);
    await index.flush();
    const retried = store.attempts[1].batch;
    assert.deepEqual(sorted(retried.put), [fileEntry('/new-later', 2), fileEntry('/untouched', 1)]);
    const durable = await reopen(index);
    assert.deepEqual(durable.entries, [fileEntry('/new-later', 2), fileEntry('/untouched', 1)]);
    assert.deepEqual(durable.other, [{ id: 1, v: 'new' }, { id: 3, v: 'kept' }]);
    assert.deepEqual(durable.meta, { a: 'new', c: 'kept' });
  });

  test('flushes called while a commit is in flight share the next commit, which carries what the failed one held', async () => {
    store.failWhen = n => n === 1;
    const index = await load();
    index.set(fileEntry('/first', 1));
    const release = store.hold();
    const first = index.flush();
    await eventually(() => assert.equal(store.attempts.length, 1), 1000, 1);
    index.set(fileEntry('/second', 1));
    const second = index.flush();
    index.set(fileEntry('/third', 1));
    const third = index.flush();
    assert.equal(second, third, 'one queued commit for both');
    release();
    const outcomes = await Promise.allSettled([first, second, third]);
    assert.deepEqual(outcomes.map(o => o.status), ['rejected', 'fulfilled', 'fulfilled']);
    assert.equal(store.attempts.length, 2);
    assert.deepEqual(store.attempts[1].batch.put.map(e => e.path).sort(), ['/first', '/second', '/third']);
    assert.deepEqual((await reopen(index)).entries.map(e => e.path), ['/first', '/second', '/third']);
  });

  test('a flush queued behind a commit that succeeds resolves once its own changes are durable', async () => {
    const index = await load();
    index.set(fileEntry('/a', 1));
    const release = store.hold();
    const first = index.flush();
    await eventually(() => assert.equal(store.attempts.length, 1), 1000, 1);
    index.set(fileEntry('/b', 1));
    let secondDone = false;
    const second = index.flush().then(() => (secondDone = true));
    await sleep(20);
    assert.equal(secondDone, false, 'waits for the commit in flight and then its own');
    release();
    await Promise.all([first, second]);
    assert.deepEqual(sorted(await store.loadIndex()), [fileEntry('/a', 1), fileEntry('/b', 1)]);
  });

  test('dispose makes one last attempt, never rejects, and stops retrying', async () => {
    store.failWhen = () => true;
    const index = await CacheIndex.load(store, log, { flushDelayMs: 1, retryFirstMs: 5, retryMaxMs: 5 });
    index.set(fileEntry('/a', 1));
    await eventually(() => assert.ok(store.attempts.length >= 3), 2000, 2);
    await index.dispose();
    const after = store.attempts.length;
    index.set(fileEntry('/b', 1)); // after dispose: nothing is scheduled
    await sleep(60);
    assert.equal(store.attempts.length, after, 'no retry after dispose');
    assert.ok(log.lines.some(l => /error .*1 change could not be stored before closing/.test(l)), log.lines.join('\n'));
  });

  test('a store closed under the index is not retried (it never works again)', async () => {
    const index = await CacheIndex.load(store, log, { flushDelayMs: 1, retryFirstMs: 5, retryMaxMs: 5 });
    await store.close();
    index.set(fileEntry('/a', 1));
    await eventually(() => assert.equal(store.attempts.length, 1), 1000, 2);
    await sleep(40);
    assert.equal(store.attempts.length, 1, 'no retry timer');
    assert.equal((index.lastError as CacheStoreError).code, 'ECLOSED');
    await index.dispose();
  });

  test('an explicit flush during the backoff tries at once; success ends the streak and the retry timer', async () => {
    store.failWhen = n => n <= 2;
    const index = await load({ retryFirstMs: 10_000, retryMaxMs: 10_000 });
    index.set(fileEntry('/a', 1));
    await assert.rejects(index.flush(), /ENOSPC/);
    await assert.rejects(index.flush(), /ENOSPC/);
    assert.equal(index.writable, false);
    await index.flush();
    assert.equal(index.writable, true);
    assert.equal(index.lastError, undefined);
    await sleep(30);
    assert.equal(store.attempts.length, 3);
    assert.deepEqual(await store.loadIndex(), [fileEntry('/a', 1)]);
  });
});

suite('Journal: a store that fails commits', function () {
  this.timeout(20_000);
  let root: string;
  let storage: ShareStores;
  let store: FlakyStore;
  let log: RecordingLogger;
  let index: CacheIndex;
  let applied: JournalOp[];

  const apply = (ix: () => CacheIndex): ApplyOp => op => {
    applied.push(op);
    if (op.kind === 'write') ix().set(fileEntry(op.path, op.size, { blob: op.blob, state: 'dirty' }));
  };

  setup(async () => {
    root = await fs.mkdtemp(join(tmpdir(), 'wdo-journal-faults-'));
    storage = new DiskShareStores(root);
    store = new FlakyStore(await storage.open('s'));
    log = new RecordingLogger();
    applied = [];
    index = await CacheIndex.load(store, log, { flushDelayMs: 5, retryFirstMs: 20, retryMaxMs: 40 });
  });
  teardown(async function () {
    await index.dispose();
    await store.close();
    await fs.rm(root, { recursive: true, force: true });
    if (this.currentTest?.state === 'failed') console.log(log.lines.join('\n'));
  });

  async function restart(): Promise<Journal> {
    await index.dispose();
    await store.close();
    store = new FlakyStore(await storage.open('s'));
    index = await CacheIndex.load(store, log, { flushDelayMs: 5, retryFirstMs: 20, retryMaxMs: 40 });
    return Journal.open(index, apply(() => index), async () => true, log);
  }

  test('a change whose intent cannot be committed is refused, changes nothing, and is never stored later; the next is accepted', async () => {
    let journal = await Journal.open(index, apply(() => index), async () => true, log);
    await journal.record(write('/kept', 1), apply(() => index));
    const before = store.attempts.length;
    store.failWhen = n => n === before + 1; // the next intent
    index.set(fileEntry('/other', 1)); // unrelated, in the same failing batch
    await assert.rejects(journal.record(write('/refused', 2), apply(() => index)), (err: CacheStoreError) => err.code === 'ENOSPC');
    assert.deepEqual(applied.map(op => (op as { path: string }).path), ['/kept'], 'the refused change was not applied');
    assert.deepEqual(journal.pending.map(i => (i.op as { path: string }).path), ['/kept']);
    assert.equal(index.get('/refused'), undefined);
    // the retry stores the unrelated change, not the refused intent
    await eventually(() => assert.ok(index.writable), 2000, 5);
    assert.deepEqual((await store.loadTable(JOURNAL_TABLE)).map(r => (r as JournalRecord).op), [write('/kept', 1)]);
    await journal.record(write('/next', 3), apply(() => index));
    journal = await restart();
    assert.deepEqual(journal.pending.map(i => i.op), [write('/kept', 1), write('/next', 3)]);
    assert.deepEqual((await store.loadTable(JOURNAL_TABLE)).map(r => (r as JournalRecord).state), ['applied', 'applied']);
    assert.deepEqual((await store.loadIndex()).map(e => e.path).sort(), ['/kept', '/next', '/other']);
  });

  test('a change whose intent is durable is acknowledged although storing its applied state failed; the retry stores it', async () => {
    const journal = await Journal.open(index, apply(() => index), async () => true, log);
    const before = store.attempts.length;
    store.failWhen = n => n === before + 2; // the intent lands, its applied state does not (once)
    await journal.record(write('/a', 1), apply(() => index));
    assert.equal(index.writable, false);
    assert.deepEqual(journal.pending.map(i => i.op), [write('/a', 1)]);
    assert.ok(log.lines.some(l => /warn \[journal\] recorded creation of \/a; storing its applied state failed and is retried/.test(l)), log.lines.join('\n'));
    await eventually(() => assert.ok(index.writable), 2000, 5);
    const records = (await store.loadTable(JOURNAL_TABLE)) as JournalRecord[];
    assert.deepEqual(records.map(r => [r.state, r.op]), [['applied', write('/a', 1)]]);
    assert.deepEqual(await store.loadIndex(), [fileEntry('/a', 1, { blob: BLOB, state: 'dirty' })]);
  });

  test('…and if the store never takes that applied state before the window closes, recovery applies the intent', async () => {
    const before = await Journal.open(index, apply(() => index), async () => true, log);
    await before.record(write('/b', 2), apply(() => index));
    // the intent of the next change lands; then the disk stays full, for its applied state and at dispose
    const landed = store.attempts.length + 1;
    store.failWhen = n => n > landed;
    await before.record(write('/c', 3), apply(() => index));
    assert.equal(index.writable, false);
    assert.deepEqual(((await store.loadTable(JOURNAL_TABLE)) as JournalRecord[]).map(r => [r.state, (r.op as { path: string }).path]), [
      ['applied', '/b'],
      ['intent', '/c'],
    ]);
    applied = [];
    const journal = await restart();
    assert.deepEqual(applied, [write('/c', 3)], 'recovery applied the interrupted intent');
    assert.deepEqual(journal.pending.map(i => i.op), [write('/b', 2), write('/c', 3)]);
    assert.deepEqual((await store.loadIndex()).map(e => e.path).sort(), ['/b', '/c']);
    assert.deepEqual(((await store.loadTable(JOURNAL_TABLE)) as JournalRecord[]).map(r => r.state), ['applied', 'applied']);
  });

  test('a replay mark that cannot be stored is refused and not kept (in memory or by a retry)', async () => {
    const journal = await Journal.open(index, apply(() => index), async () => true, log);
    await journal.record(write('/a', 1), apply(() => index));
    const id = journal.pending[0].id;
    const before = store.attempts.length;
    store.failWhen = n => n === before + 1;
    await assert.rejects(journal.markAttempted(id), /ENOSPC/);
    assert.equal(journal.wasAttempted(id), false);
    index.set(fileEntry('/x', 1));
    await index.flush();
    assert.equal(((await store.loadTable(JOURNAL_TABLE)) as JournalRecord[])[0].attempted, undefined);
    await journal.markAttempted(id);
    assert.equal(journal.wasAttempted(id), true);
    assert.equal(((await store.loadTable(JOURNAL_TABLE)) as JournalRecord[])[0].attempted, true);
  });

  test('a tentative record that replaced a queued change gives that change back when its commit fails', async () => {
    index.putRecord('other', { id: 1, v: 'queued' } as StoredRecord);
    index.putRecord('other', { id: 1, v: 'tentative' } as StoredRecord, { tentative: true });
    store.failWhen = n => n === 1;
    await assert.rejects(index.flush(), /ENOSPC/);
    await index.flush();
    assert.deepEqual(await store.loadTable('other'), [{ id: 1, v: 'queued' }]);
    // a plain change after a tentative one is a change of its own: kept and retried
    index.putRecord('other', { id: 2, v: 'tentative' } as StoredRecord, { tentative: true });
    index.putRecord('other', { id: 2, v: 'plain' } as StoredRecord);
    store.failWhen = n => n === 3;
    await assert.rejects(index.flush(), /ENOSPC/);
    await index.flush();
    assert.deepEqual(await store.loadTable('other'), [{ id: 1, v: 'queued' }, { id: 2, v: 'plain' }]);
  });
});
