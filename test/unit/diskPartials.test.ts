// The disk store's cut downloads (platform/diskPartials.ts), on a real folder: what arrived before a
// cut is kept under its version and resumes to the exact blob; another version, a refused answer, a
// torn record or garbage collection drop it; at most maxCount partials are kept; one download holds a
// path at a time; a blob read as a stream fails before its last slice when damaged.
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ShareStore } from '../../src/cache/shareStore';
import { DiskShareStores } from '../../src/platform/diskShareStore';

function bytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const cut = Object.assign(new Error('the connection ended'), { kind: 'cut' });
const isCut = (err: unknown) => err === cut;

async function* arriving(data: Uint8Array, failAfter?: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < data.byteLength; at += 1000) {
    if (failAfter !== undefined && at >= failAfter) throw cut;
    yield data.subarray(at, Math.min(at + 1000, data.byteLength));
  }
}

suite('disk store: partial downloads', () => {
  let dir: string;
  let store: ShareStore;
  setup(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wdo-partials-'));
    store = await new DiskShareStores(dir, { partials: { minBytes: 1, maxCount: 2 } }).open('s');
  });
  teardown(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const partials = () => readdirSync(join(dir, 's', 'partials')).sort();

  test('kept at a cut under its version, resumed to the exact blob', async () => {
    const data = bytes(10_000, 1);
    const first = (await store.partials!.take('/a', () => true))!;
    assert.equal(first.size, 0);
    await assert.rejects(first.put(0, '"v1"', arriving(data, 6000), isCut), cut);
    const again = (await store.partials!.take('/a', v => v === '"v1"'))!;
    assert.deepEqual([again.size, again.validator], [6000, '"v1"']);
    const blob = await again.put(6000, '"v1"', arriving(data.subarray(6000)), isCut);
    assert.deepEqual(blob, { hash: sha(data), size: 10_000 });
    assert.deepEqual(await store.getBlob(blob.hash), data);
    assert.deepEqual(partials(), [], 'gone once stored');
  });

  test('another version, a refused answer or a torn record drop what was kept; starting over replaces it', async () => {
    const data = bytes(10_000, 2);
    await assert.rejects((await store.partials!.take('/a', () => true))!.put(0, '"v1"', arriving(data, 5000), isCut));
    assert.equal((await store.partials!.take('/a', v => v === '"v2"'))!.size, 0, 'another version: dropped');
    await assert.rejects((await store.partials!.take('/b', () => true))!.put(0, '"v1"', arriving(data, 5000), () => false));
    assert.ok(!partials().some(f => f.endsWith('.json')), 'a refused answer keeps nothing');
    await assert.rejects((await store.partials!.take('/c', () => true))!.put(0, '"v1"', arriving(data, 5000), isCut));
    const record = partials().find(f => f.endsWith('.json'))!;
    writeFileSync(join(dir, 's', 'partials', record), '{"path":"/c","valid');
    const torn = (await store.partials!.take('/c', () => true))!;
    assert.equal(torn.size, 0, 'a torn record: the bytes belong to no version');
    const other = bytes(8000, 3);
    assert.deepEqual(await torn.put(0, '"v2"', arriving(other), isCut), { hash: sha(other), size: 8000 });
  });

  test('one download holds a path at a time; at most maxCount kept; garbage collection drops gone paths', async () => {
    const data = bytes(4000, 4);
    const held = (await store.partials!.take('/a', () => true))!;
    assert.equal(await store.partials!.take('/a', () => true), undefined, 'held by another download');
    await held.release();
    for (const path of ['/a', '/b', '/c']) {
      await assert.rejects((await store.partials!.take(path, () => true))!.put(0, '"v"', arriving(data, 2000), isCut));
      await new Promise(r => setTimeout(r, 5));
    }
    assert.equal(partials().filter(f => f.endsWith('.json')).length, 2, 'the oldest dropped');
    assert.equal((await store.partials!.take('/a', () => true))!.size, 0, 'the oldest was /a');
    await store.partials!.retain(path => path === '/c');
    assert.equal((await store.partials!.take('/b', () => true))!.size, 0);
    assert.equal((await store.partials!.take('/c', () => true))!.size, 2000);
  });

  test('a blob read as a stream: whole when sound; a damaged one fails before its last slice', async () => {
    const data = bytes(9 * 1024 * 1024, 5);
    const hash = await store.putBlob(data);
    const reader = (await store.openBlob!(hash))!;
    assert.equal(reader.size, data.byteLength);
    const got: Uint8Array[] = [];
    for await (const c of reader.chunks()) got.push(c);
    assert.equal(sha(Buffer.concat(got)), hash);
    writeFileSync(join(dir, 's', 'blobs', hash.slice(0, 2), hash), bytes(9 * 1024 * 1024, 6));
    let passed = 0;
    await assert.rejects(async () => {
      for await (const c of (await store.openBlob!(hash))!.chunks()) passed += c.byteLength;
    }, /damaged/);
    assert.ok(passed < data.byteLength, 'the last slice was held back');
    assert.equal(await store.openBlob!(hash), undefined, 'and the damaged blob removed');
  });
});
