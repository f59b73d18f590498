// The behaviour every ShareStores backend must have, run against each of them (shareStore.test.ts):
// what a restart sees after commits (entries, table records, meta values), atomic batches, byte-exact
// blobs, damage detection, isolation.
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { CacheEntry } from '../../src/cache/cacheEntry';
import { StoreBusyError, type ShareStores, type IndexBatch, type ShareStore, type StoredRecord } from '../../src/cache/shareStore';

export interface StorageFixture {
  readonly storage: ShareStores;
  /** A new ShareStores over the same data: what the next session sees (close the stores first). */
  reopen(): Promise<ShareStores>;
  /** Changes the stored bytes of a blob behind the store's back, keeping its key. */
  damageBlob(shareId: string, hash: string): Promise<void>;
  dispose(): Promise<void>;
}

/** A small deterministic PRNG (mulberry32), so a failing randomized run can be repeated. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function fileEntry(path: string, version: number, extra: Partial<CacheEntry> = {}): CacheEntry {
  return { path, type: 'file', size: version * 10, mtime: 1_700_000_000_000 + version, ctime: 1_600_000_000_000, etag: `"v${version}"`, lastAccess: 1_700_000_000_000 + version * 7, ...extra };
}

const byPath = (a: CacheEntry, b: CacheEntry) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

export function sorted(entries: Iterable<CacheEntry>): CacheEntry[] {
  return [...entries].sort(byPath);
}

/** A record literal with any JSON fields (StoredRecord alone would refuse them as excess properties). */
export type AnyRecord = StoredRecord & Record<string, unknown>;
/** The tables of a batch, written as literals. */
export const tbl = (tables: Record<string, { put?: AnyRecord[]; delete?: number[] }>): IndexBatch['tables'] => tables;

/** Records of a model table (id → record) in the order loadTable gives them. */
export function byIdOrder<R extends StoredRecord>(records: Iterable<R>): R[] {
  return [...records].sort((a, b) => a.id - b.id);
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function randomBytes(length: number, random: () => number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (random() * 256) | 0;
  return out;
}

export function runShareStoreSuite(name: string, makeStorage: () => Promise<StorageFixture>): void {
  suite(`ShareStore conformance: ${name}`, function () {
    this.timeout(60_000);
    let fx: StorageFixture;
    let opened: ShareStore[] = [];

    setup(async () => {
      fx = await makeStorage();
      opened = [];
    });
    teardown(async () => {
      for (const store of opened) await store.close();
      await fx.dispose();
    });

    async function open(storage: ShareStores, shareId = 'share1'): Promise<ShareStore> {
      const store = await storage.open(shareId);
      opened.push(store);
      return store;
    }

    /** Closes `store` and opens the same share through a new ShareStores, as after a restart. */
    async function restart(store: ShareStore, shareId = 'share1'): Promise<ShareStore> {
      await store.close();
      return open(await fx.reopen(), shareId);
    }

    test('an empty store has no entries and no blobs', async () => {
      const store = await open(fx.storage);
      assert.deepEqual(await store.loadIndex(), []);
      assert.deepEqual(await store.listBlobs(), []);
    });

    test('committed puts and deletes are what a restart loads', async () => {
      let store = await open(fx.storage);
      const folder: CacheEntry = { path: '/docs', type: 'directory', size: 0, mtime: 5, ctime: 4, lastAccess: 6, children: ['a.md', 'ü b.md'], pinned: true };
      await store.commit({ put: [fileEntry('/docs/a.md', 1), fileEntry('/docs/ü b.md', 1, { state: 'dirty' }), folder], delete: [] });
      await store.commit({ put: [fileEntry('/docs/a.md', 2, { blob: 'ab'.repeat(32), state: 'conflict' })], delete: ['/docs/ü b.md', '/never/there'] });
      store = await restart(store);
      assert.deepEqual(sorted(await store.loadIndex()), [folder, fileEntry('/docs/a.md', 2, { blob: 'ab'.repeat(32), state: 'conflict' })]);
    });

    test('within a batch, deletions apply before puts', async () => {
      let store = await open(fx.storage);
      await store.commit({ put: [fileEntry('/a', 1), fileEntry('/b', 1)], delete: [] });
      await store.commit({ put: [fileEntry('/a', 2)], delete: ['/a', '/b'] });
      store = await restart(store);
      assert.deepEqual(await store.loadIndex(), [fileEntry('/a', 2)]);
    });

    test('a batch that cannot be stored applies nothing, and the store goes on working', async () => {
      let store = await open(fx.storage);
      await store.commit({ put: [fileEntry('/keep', 1), fileEntry('/gone', 1)], delete: [] });
      // Neither JSON (a cycle) nor structured cloning (a function) can store this entry.
      const unstorable: Record<string, unknown> = { f() {} };
      unstorable.self = unstorable;
      const bad = { ...fileEntry('/z-bad', 1), extra: unstorable } as CacheEntry;
      await assert.rejects(store.commit({ put: [fileEntry('/keep', 2), fileEntry('/new', 1), bad], delete: ['/gone'] }));
      await store.commit({ put: [fileEntry('/after', 1)], delete: [] });
      const expected = sorted([fileEntry('/after', 1), fileEntry('/gone', 1), fileEntry('/keep', 1)]);
      assert.deepEqual(sorted(await store.loadIndex()), expected);
      store = await restart(store);
      assert.deepEqual(sorted(await store.loadIndex()), expected);
    });

    test('table records round-trip, reload, and load in ascending numeric id order; a batch may change only tables', async () => {
      let store = await open(fx.storage);
      assert.deepEqual(await store.loadTable('journal'), [], 'a table never written is empty');
      const records = [
        { id: 10, op: 'write', path: '/docs/ü b.md', base: { etag: '"x"', size: 0 }, flags: [true, false, null], note: 'tab\there, newline\nthere' },
        { id: 2, op: 'mkdir', path: '/new' },
        { id: 100, op: 'delete', path: '/old', nested: { deep: { deeper: [1, 2.5, -3, 1e21] } } },
      ];
      await store.commit({ put: [], delete: [], tables: tbl({ journal: { put: records } }) });
      await store.commit({ put: [], delete: [], tables: tbl({ journal: { put: [{ id: 1, op: 'rename' }, { id: 0, op: 'first' }, { id: 7.5, op: 'half' }, { id: -4, op: 'negative' }] } }) });
      const expected = byIdOrder<AnyRecord>([...records, { id: 1, op: 'rename' }, { id: 0, op: 'first' }, { id: 7.5, op: 'half' }, { id: -4, op: 'negative' }]);
      assert.deepEqual(
        expected.map(r => r.id),
        [-4, 0, 1, 2, 7.5, 10, 100],
      );
      assert.deepEqual(await store.loadTable('journal'), expected, 'before a restart');
      store = await restart(store);
      assert.deepEqual(await store.loadTable('journal'), expected, 'after a restart');
      assert.deepEqual(await store.loadIndex(), [], 'no entry came with them');
    });

    test('a put replaces the whole record with its id; deletes remove records; deletes apply before puts', async () => {
      let store = await open(fx.storage);
      await store.commit({ put: [], delete: [], tables: tbl({ journal: { put: [{ id: 1, a: 1, keep: true }, { id: 2, a: 2 }, { id: 3, a: 3 }, { id: 4, a: 4 }] } }) });
      await store.commit({ put: [], delete: [], tables: tbl({ journal: { put: [{ id: 1, b: 2 }], delete: [2, 99] } }) });
      // Same id deleted and put in one batch: the put wins.
      await store.commit({ put: [], delete: [], tables: tbl({ journal: { delete: [3], put: [{ id: 3, a: 33 }] } }) });
      const expected = [{ id: 1, b: 2 }, { id: 3, a: 33 }, { id: 4, a: 4 }];
      assert.deepEqual(await store.loadTable('journal'), expected);
      store = await restart(store);
      assert.deepEqual(await store.loadTable('journal'), expected);
      await store.commit({ put: [], delete: [], tables: tbl({ journal: { delete: [1, 3, 4] } }) });
      store = await restart(store);
      assert.deepEqual(await store.loadTable('journal'), []);
    });

    test('loaded and committed records are copies: changing them changes nothing stored', async () => {
      const store = await open(fx.storage);
      const record = { id: 1, list: [1, 2], inner: { x: 1 } };
      await store.commit({ put: [], delete: [], tables: tbl({ journal: { put: [record] } }), meta: { m: { count: 1 } } });
      record.list.push(3);
      record.inner.x = 2;
      const loaded = (await store.loadTable('journal')) as (typeof record)[];
      assert.deepEqual(loaded, [{ id: 1, list: [1, 2], inner: { x: 1 } }]);
      loaded[0].list.push(4);
      loaded[0].inner.x = 5;
      loaded.pop();
      const meta = await store.loadMeta();
      (meta.m as { count: number }).count = 9;
      meta.other = 1;
      assert.deepEqual(await store.loadTable('journal'), [{ id: 1, list: [1, 2], inner: { x: 1 } }]);
      assert.deepEqual(await store.loadMeta(), { m: { count: 1 } });
    });

    test('several tables are independent', async () => {
      let store = await open(fx.storage);
      await store.commit({
        put: [],
        delete: [],
        tables: tbl({ journal: { put: [{ id: 1, t: 'j1' }, { id: 2, t: 'j2' }] }, 'journal-old': { put: [{ id: 1, t: 'o1' }] }, recovery: { put: [{ id: 2, t: 'r2' }, { id: 1, t: 'r1' }] } }),
      });
      await store.commit({ put: [], delete: [], tables: tbl({ recovery: { delete: [1, 2] }, journal: { put: [{ id: 1, t: 'j1b' }] } }) });
      await store.commit({ put: [], delete: [], tables: tbl({ j: { put: [{ id: 2, t: 'short' }] }, 'journal-old': { delete: [2] } }) });
      const check = async () => {
        assert.deepEqual(await store.loadTable('journal'), [{ id: 1, t: 'j1b' }, { id: 2, t: 'j2' }]);
        assert.deepEqual(await store.loadTable('journal-old'), [{ id: 1, t: 'o1' }]);
        assert.deepEqual(await store.loadTable('recovery'), []);
        assert.deepEqual(await store.loadTable('j'), [{ id: 2, t: 'short' }]);
        assert.deepEqual(await store.loadTable('journa'), []);
      };
      await check();
      store = await restart(store);
      await check();
    });

    test('meta values are set, replaced and removed (null), and reload', async () => {
      let store = await open(fx.storage);
      assert.deepEqual(await store.loadMeta(), {});
      await store.commit({ put: [], delete: [], meta: { counter: 1, name: 'ü', nested: { a: [1, { b: null }] }, off: false, zero: 0, empty: '' } });
      await store.commit({ put: [], delete: [], meta: { counter: 2, name: null, never: null } });
      const expected = { counter: 2, nested: { a: [1, { b: null }] }, off: false, zero: 0, empty: '' };
      assert.deepEqual(await store.loadMeta(), expected);
      store = await restart(store);
      assert.deepEqual(await store.loadMeta(), expected);
      await store.commit({ put: [], delete: [], meta: { counter: 3, nested: [] } });
      store = await restart(store);
      assert.deepEqual(await store.loadMeta(), { counter: 3, nested: [], off: false, zero: 0, empty: '' });
    });

    test('invalid table names, record ids and meta values are refused, and nothing of their batch is applied', async () => {
      let store = await open(fx.storage);
      await store.commit({ put: [fileEntry('/a', 1)], delete: [], tables: tbl({ journal: { put: [{ id: 1 }] } }), meta: { n: 1 } });
      const bad: IndexBatch[] = [
        ...['Journal', '', '1x', 'a b', '-x', 'x_y', '../x', 'x/y', '\u0000'].map(name => ({ put: [fileEntry('/a', 2)], delete: [], tables: tbl({ journal: { put: [{ id: 2 }] }, [name]: { put: [{ id: 1 }] } }), meta: { n: 2 } })),
        ...[NaN, Infinity, '3', undefined, null].map(id => ({ put: [fileEntry('/a', 2)], delete: [], tables: tbl({ journal: { put: [{ id: 2 }, { id } as unknown as AnyRecord] } }), meta: { n: 2 } })),
        { put: [fileEntry('/a', 2)], delete: [], tables: tbl({ journal: { delete: [NaN] } }), meta: { n: 2 } },
        { put: [fileEntry('/a', 2)], delete: [], tables: tbl({ journal: { put: [{ id: 2 }] } }), meta: { n: 2, bad: undefined } },
        { put: [fileEntry('/a', 2)], delete: [], tables: tbl({ journal: { put: [{ id: 2 }] } }), meta: { n: 2, big: 10n } },
      ];
      for (const batch of bad) await assert.rejects(async () => store.commit(batch), Error, JSON.stringify(batch, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v)));
      for (const name of ['Journal', '', 'a b', '../x']) await assert.rejects(async () => store.loadTable(name), /invalid table name/, name);
      await assert.rejects(async () => store.commit(bad[0]), /invalid table name "Journal"/);
      const check = async () => {
        assert.deepEqual(await store.loadIndex(), [fileEntry('/a', 1)]);
        assert.deepEqual(await store.loadTable('journal'), [{ id: 1 }]);
        assert.deepEqual(await store.loadMeta(), { n: 1 });
      };
      await check();
      store = await restart(store);
      await check();
    });

    test('a batch mixing entries, two tables and meta is atomic: one unstorable part and none of it is applied', async () => {
      let store = await open(fx.storage);
      const before: IndexBatch = {
        put: [fileEntry('/keep', 1), fileEntry('/gone', 1)],
        delete: [],
        tables: tbl({ journal: { put: [{ id: 1, path: '/keep' }, { id: 2, path: '/gone' }] }, recovery: { put: [{ id: 1, path: '/r' }] } }),
        meta: { seq: 1, stays: 'yes' },
      };
      await store.commit(before);
      const cyclic: Record<string, unknown> = { f() {} };
      cyclic.self = cyclic;
      const mixed = (part: 'entry' | 'record' | 'meta'): IndexBatch => ({
        put: [fileEntry('/keep', 2), fileEntry('/new', 1), ...(part === 'entry' ? [{ ...fileEntry('/z-bad', 1), extra: cyclic } as CacheEntry] : [])],
        delete: ['/gone'],
        tables: tbl({
          journal: { delete: [2], put: [{ id: 3, path: '/new' }] },
          recovery: { delete: [1], put: [{ id: 5, path: '/new' }, ...(part === 'record' ? [{ id: 6, extra: cyclic }] : [])] },
        }),
        meta: { seq: 2, stays: null, ...(part === 'meta' ? { bad: cyclic } : {}) },
      });
      for (const part of ['entry', 'record', 'meta'] as const) await assert.rejects(store.commit(mixed(part)), Error, `an unstorable ${part}`);
      const check = async (what: string) => {
        assert.deepEqual(sorted(await store.loadIndex()), [fileEntry('/gone', 1), fileEntry('/keep', 1)], what);
        assert.deepEqual(await store.loadTable('journal'), [{ id: 1, path: '/keep' }, { id: 2, path: '/gone' }], what);
        assert.deepEqual(await store.loadTable('recovery'), [{ id: 1, path: '/r' }], what);
        assert.deepEqual(await store.loadMeta(), { seq: 1, stays: 'yes' }, what);
      };
      await check('after the refused batches');
      store = await restart(store);
      await check('after a restart');
      // The same batch without the unstorable part applies whole.
      const good = { ...mixed('entry'), put: [fileEntry('/keep', 2), fileEntry('/new', 1)] };
      await store.commit(good);
      store = await restart(store);
      assert.deepEqual(sorted(await store.loadIndex()), [fileEntry('/keep', 2), fileEntry('/new', 1)]);
      assert.deepEqual(await store.loadTable('journal'), [{ id: 1, path: '/keep' }, { id: 3, path: '/new' }]);
      assert.deepEqual(await store.loadTable('recovery'), [{ id: 5, path: '/new' }]);
      assert.deepEqual(await store.loadMeta(), { seq: 2 });
    });

    test('a few thousand random operations in batches reload as the in-memory model (seed 20240611)', async () => {
      const random = seededRandom(20240611);
      const model = new Map<string, CacheEntry>();
      const tableNames = ['journal', 'recovery'];
      const tables = new Map(tableNames.map(name => [name, new Map<number, StoredRecord>()]));
      const meta = new Map<string, unknown>();
      const paths = Array.from({ length: 150 }, (_, i) => `/dir${i % 7}/file ${i}.txt`);
      let store = await open(fx.storage);
      let version = 0;
      let operations = 0;
      const check = async (what: string) => {
        assert.deepEqual(sorted(await store.loadIndex()), sorted(model.values()), what);
        for (const name of tableNames) assert.deepEqual(await store.loadTable(name), byIdOrder(tables.get(name)!.values()), `${what}: table ${name}`);
        assert.deepEqual(await store.loadMeta(), Object.fromEntries(meta), `${what}: meta`);
      };
      for (let round = 0; operations < 3000; round++) {
        const batch = { put: [] as CacheEntry[], delete: [] as string[], tables: {} as Record<string, { put: StoredRecord[]; delete: number[] }>, meta: {} as Record<string, unknown> };
        const size = 1 + Math.floor(random() * 12);
        for (let i = 0; i < size; i++, operations++) {
          const kind = random();
          if (kind < 0.6) {
            const path = paths[Math.floor(random() * paths.length)];
            if (random() < 0.3) batch.delete.push(path);
            else batch.put.push(fileEntry(path, ++version, random() < 0.2 ? { pinned: true, blob: sha256(new Uint8Array([version & 255])) } : {}));
          } else if (kind < 0.9) {
            const name = tableNames[Math.floor(random() * tableNames.length)];
            const change = (batch.tables[name] ??= { put: [], delete: [] });
            const id = Math.floor(random() * 60);
            if (random() < 0.35) change.delete.push(id);
            else change.put.push({ id, path: paths[Math.floor(random() * paths.length)], version: ++version } as StoredRecord);
          } else {
            const key = `k${Math.floor(random() * 8)}`;
            batch.meta[key] = random() < 0.25 ? null : { version: ++version };
          }
        }
        await store.commit(batch);
        for (const path of batch.delete) model.delete(path);
        for (const entry of batch.put) model.set(entry.path, entry);
        for (const [name, change] of Object.entries(batch.tables)) {
          for (const id of change.delete) tables.get(name)!.delete(id);
          for (const record of change.put) tables.get(name)!.set(record.id, record);
        }
        for (const [key, value] of Object.entries(batch.meta)) {
          if (value === null) meta.delete(key);
          else meta.set(key, value);
        }
        if (round % 97 === 96) store = await restart(store);
        if (round % 61 === 60) await check(`round ${round}`);
      }
      assert.ok(model.size > 20, `the model is not trivial (${model.size} entries)`);
      assert.ok(tables.get('journal')!.size > 10 && tables.get('recovery')!.size > 10 && meta.size > 3, 'the tables and meta are not trivial');
      store = await restart(store);
      await check('at the end');
    });

    test('blobs round-trip byte-exact: every byte value, empty, 5 MB', async () => {
      let store = await open(fx.storage);
      const samples = [Uint8Array.from({ length: 256 }, (_, i) => i), new Uint8Array(0), randomBytes(5 * 1024 * 1024, seededRandom(7))];
      const hashes: string[] = [];
      for (const data of samples) {
        const hash = await store.putBlob(data);
        assert.equal(hash, sha256(data));
        hashes.push(hash);
      }
      store = await restart(store);
      for (const [i, data] of samples.entries()) {
        const back = await store.getBlob(hashes[i]);
        assert.ok(back, `blob ${i} is there`);
        assert.equal(back.byteLength, data.byteLength);
        assert.ok(Buffer.from(back.buffer, back.byteOffset, back.byteLength).equals(data), `blob ${i} has the same bytes`);
      }
      assert.deepEqual((await store.listBlobs()).sort(), [...hashes].sort());
    });

    test('a streamed blob (a download) is hashed on the way; a source that fails leaves nothing behind', async () => {
      let store = await open(fx.storage);
      const data = randomBytes(3 * 1024 * 1024 + 17, seededRandom(11));
      async function* chunks(fail = false) {
        for (let at = 0; at < data.byteLength; at += 64 * 1024) {
          if (fail && at > data.byteLength / 2) throw new Error('the download broke off');
          yield data.subarray(at, Math.min(at + 64 * 1024, data.byteLength));
        }
      }
      const before = (await store.listBlobs()).length;
      await assert.rejects(store.putBlobStream(chunks(true)), /the download broke off/, "the source's own error comes through");
      assert.equal((await store.listBlobs()).length, before, 'nothing kept of a broken stream');
      const stored = await store.putBlobStream(chunks());
      assert.deepEqual(stored, { hash: sha256(data), size: data.byteLength });
      assert.deepEqual(await store.putBlobStream(chunks()), stored, 'the same content again: the same blob');
      store = await restart(store);
      const back = await store.getBlob(stored.hash);
      assert.ok(back && Buffer.from(back.buffer, back.byteOffset, back.byteLength).equals(data));
    });

    test('the same content stored twice has one hash and one blob; a view stores only its own bytes', async () => {
      const store = await open(fx.storage);
      const text = new TextEncoder().encode('hello, cache');
      const first = await store.putBlob(text);
      const second = await store.putBlob(Uint8Array.from(text));
      assert.equal(first, second);
      const outer = new Uint8Array([1, 2, 3, ...text, 4, 5]);
      assert.equal(await store.putBlob(outer.subarray(3, 3 + text.length)), first);
      assert.deepEqual(await store.listBlobs(), [first]);
      assert.deepEqual(await store.getBlob(first), text);
    });

    test('a damaged blob reads as undefined, never as other bytes, and can be stored again', async () => {
      const store = await open(fx.storage);
      const data = new TextEncoder().encode('the right content of /a.txt');
      const hash = await store.putBlob(data);
      await fx.damageBlob('share1', hash);
      assert.equal(await store.getBlob(hash), undefined);
      assert.deepEqual(await store.listBlobs(), [], 'the damaged blob was removed');
      assert.equal(await store.putBlob(data), hash);
      assert.deepEqual(await store.getBlob(hash), data);
      assert.equal(await store.getBlob('0'.repeat(64)), undefined, 'unknown hash');
      assert.equal(await store.getBlob('../../etc/passwd'), undefined, 'not a hash');
    });

    test('deleteBlobs removes the named blobs only; listBlobs lists what is stored', async () => {
      const store = await open(fx.storage);
      const hashes = [];
      for (let i = 0; i < 20; i++) hashes.push(await store.putBlob(new TextEncoder().encode(`blob ${i}`)));
      assert.deepEqual((await store.listBlobs()).sort(), [...hashes].sort());
      await store.deleteBlobs([...hashes.slice(0, 15), 'f'.repeat(64)]);
      assert.deepEqual((await store.listBlobs()).sort(), hashes.slice(15).sort());
      assert.equal(await store.getBlob(hashes[0]), undefined);
      assert.deepEqual(await store.getBlob(hashes[19]), new TextEncoder().encode('blob 19'));
    });

    test('clear removes entries and blobs, and the store stays usable', async () => {
      let store = await open(fx.storage);
      await store.commit({ put: [fileEntry('/a', 1)], delete: [], tables: tbl({ journal: { put: [{ id: 1 }] } }), meta: { a: 1 } });
      await store.putBlob(new Uint8Array([1, 2, 3]));
      assert.deepEqual(await store.loadTable('journal'), [{ id: 1 }]);
      await store.clear();
      assert.deepEqual(await store.loadIndex(), []);
      assert.deepEqual(await store.loadTable('journal'), []);
      assert.deepEqual(await store.loadMeta(), {});
      assert.deepEqual(await store.listBlobs(), []);
      await store.commit({ put: [fileEntry('/b', 1)], delete: [], tables: tbl({ journal: { put: [{ id: 2 }] } }), meta: { b: 2 } });
      const hash = await store.putBlob(new Uint8Array([4]));
      store = await restart(store);
      assert.deepEqual(await store.loadIndex(), [fileEntry('/b', 1)]);
      assert.deepEqual(await store.loadTable('journal'), [{ id: 2 }]);
      assert.deepEqual(await store.loadMeta(), { b: 2 });
      assert.deepEqual(await store.listBlobs(), [hash]);
    });

    test('two shares are isolated', async () => {
      const one = await open(fx.storage, 'share-one');
      const two = await open(fx.storage, 'share-two');
      await one.commit({ put: [fileEntry('/same', 1)], delete: [], tables: tbl({ journal: { put: [{ id: 1, share: 1 }] } }), meta: { share: 1 } });
      await two.commit({ put: [fileEntry('/same', 2), fileEntry('/other', 1)], delete: [], tables: tbl({ journal: { put: [{ id: 1, share: 2 }] } }), meta: { share: 2 } });
      assert.deepEqual(await two.loadTable('journal'), [{ id: 1, share: 2 }]);
      const blob = await one.putBlob(new Uint8Array([9, 9]));
      await two.clear();
      assert.deepEqual(await one.loadIndex(), [fileEntry('/same', 1)]);
      assert.deepEqual(await one.listBlobs(), [blob]);
      assert.equal(await two.getBlob(blob), undefined);
      const batch: IndexBatch = { put: [fileEntry('/two', 1)], delete: ['/same'] };
      await two.commit(batch);
      const again = await restart(one, 'share-one');
      assert.deepEqual(await again.loadIndex(), [fileEntry('/same', 1)]);
      assert.deepEqual(await again.loadTable('journal'), [{ id: 1, share: 1 }]);
      assert.deepEqual(await again.loadMeta(), { share: 1 });
    });

    test('a store is open in one place at a time: a second open is busy until the first closes; whenFree says when', async () => {
      const first = await open(fx.storage);
      await first.commit({ put: [fileEntry('/a', 1)], delete: [], tables: tbl({ journal: { put: [{ id: 1, by: 'first' }] } }) });
      const other = await fx.reopen(); // another window's ShareStores over the same storage
      await assert.rejects(other.open('share1'), (err: Error) => {
        assert.ok(err instanceof StoreBusyError, `${err.name}: ${err.message}`);
        assert.equal(err.code, 'EBUSY');
        assert.match(err.holder, /another|this window/);
        return true;
      });
      assert.ok(await open(other, 'share2'), 'another share of the same storage is not held');
      let freed = false;
      const free = other.whenFree('share1', new AbortController().signal).then(() => (freed = true));
      await new Promise(r => setTimeout(r, 150));
      assert.equal(freed, false, 'not free while the first has it open');
      await first.close();
      await free;
      const second = await open(other);
      assert.deepEqual(await second.loadTable('journal'), [{ id: 1, by: 'first' }], 'the second sees what the first committed');
      // a wait that is given up rejects with the reason
      const gaveUp = new AbortController();
      const waiting = fx.storage.whenFree('share1', gaveUp.signal);
      gaveUp.abort(new Error('closed meanwhile'));
      await assert.rejects(waiting, /closed meanwhile/);
    });

    test('a closed store refuses work', async () => {
      const store = await open(fx.storage);
      await store.close();
      await assert.rejects(async () => store.loadIndex(), /closed/);
      await assert.rejects(async () => store.loadTable('journal'), /closed/);
      await assert.rejects(async () => store.loadMeta(), /closed/);
      await assert.rejects(async () => store.commit({ put: [], delete: [], meta: { a: 1 } }), /closed/);
      await assert.rejects(async () => store.putBlob(new Uint8Array([1])), /closed/);
    });
  });
}
