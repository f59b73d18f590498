// The behaviour every CacheStorage backend must have, run against each of them (shareStore.test.ts):
// what a restart sees after commits, atomic batches, byte-exact blobs, damage detection, isolation.
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { CacheEntry } from '../../src/cache/cacheEntry';
import type { CacheStorage, IndexBatch, ShareStore } from '../../src/cache/shareStore';

export interface StorageFixture {
  readonly storage: CacheStorage;
  /** A new CacheStorage over the same data: what the next session sees (close the stores first). */
  reopen(): Promise<CacheStorage>;
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

    async function open(storage: CacheStorage, shareId = 'share1'): Promise<ShareStore> {
      const store = await storage.open(shareId);
      opened.push(store);
      return store;
    }

    /** Closes `store` and opens the same share through a new CacheStorage, as after a restart. */
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

    test('a few thousand random operations in batches reload as the in-memory model (seed 20240611)', async () => {
      const random = seededRandom(20240611);
      const model = new Map<string, CacheEntry>();
      const paths = Array.from({ length: 150 }, (_, i) => `/dir${i % 7}/file ${i}.txt`);
      let store = await open(fx.storage);
      let version = 0;
      let operations = 0;
      for (let round = 0; operations < 3000; round++) {
        const batch: { put: CacheEntry[]; delete: string[] } = { put: [], delete: [] };
        const size = 1 + Math.floor(random() * 12);
        for (let i = 0; i < size; i++, operations++) {
          const path = paths[Math.floor(random() * paths.length)];
          if (random() < 0.3) batch.delete.push(path);
          else batch.put.push(fileEntry(path, ++version, random() < 0.2 ? { pinned: true, blob: sha256(new Uint8Array([version & 255])) } : {}));
        }
        await store.commit(batch);
        for (const path of batch.delete) model.delete(path);
        for (const entry of batch.put) model.set(entry.path, entry);
        if (round % 97 === 96) store = await restart(store);
      }
      assert.ok(model.size > 20, `the model is not trivial (${model.size} entries)`);
      store = await restart(store);
      assert.deepEqual(sorted(await store.loadIndex()), sorted(model.values()));
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
      await store.commit({ put: [fileEntry('/a', 1)], delete: [] });
      await store.putBlob(new Uint8Array([1, 2, 3]));
      await store.clear();
      assert.deepEqual(await store.loadIndex(), []);
      assert.deepEqual(await store.listBlobs(), []);
      await store.commit({ put: [fileEntry('/b', 1)], delete: [] });
      const hash = await store.putBlob(new Uint8Array([4]));
      store = await restart(store);
      assert.deepEqual(await store.loadIndex(), [fileEntry('/b', 1)]);
      assert.deepEqual(await store.listBlobs(), [hash]);
    });

    test('two shares are isolated', async () => {
      const one = await open(fx.storage, 'share-one');
      const two = await open(fx.storage, 'share-two');
      await one.commit({ put: [fileEntry('/same', 1)], delete: [] });
      await two.commit({ put: [fileEntry('/same', 2), fileEntry('/other', 1)], delete: [] });
      const blob = await one.putBlob(new Uint8Array([9, 9]));
      await two.clear();
      assert.deepEqual(await one.loadIndex(), [fileEntry('/same', 1)]);
      assert.deepEqual(await one.listBlobs(), [blob]);
      assert.equal(await two.getBlob(blob), undefined);
      const batch: IndexBatch = { put: [fileEntry('/two', 1)], delete: ['/same'] };
      await two.commit(batch);
      const again = await restart(one, 'share-one');
      assert.deepEqual(await again.loadIndex(), [fileEntry('/same', 1)]);
    });

    test('a closed store refuses work', async () => {
      const store = await open(fx.storage);
      await store.close();
      await assert.rejects(async () => store.loadIndex(), /closed/);
      await assert.rejects(async () => store.putBlob(new Uint8Array([1])), /closed/);
    });
  });
}
