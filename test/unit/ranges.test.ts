// Resumed downloads' answers as a table (remote/ranges.ts): a 206 is taken only for exactly the range
// asked for, of the version named in If-Range; a streamed body is held to its announced size; two
// streams compare byte for byte whatever their chunking (sync/provenWrites.ts `sameBytes`).
import * as assert from 'node:assert/strict';
import { isShareError } from '../../src/core/errors';
import { checkedRange, collect, exactly, parseContentRange } from '../../src/remote/ranges';
import type { FetchResponse } from '../../src/remote/httpExchange';
import { sameBytes } from '../../src/sync/provenWrites';

const answer = (headers: Record<string, string>): FetchResponse => ({ status: 206, headers: { get: n => headers[n.toLowerCase()] ?? null }, body: null });
const MAX = 1 << 30;

async function* chunks(...parts: number[][]): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield new Uint8Array(p);
}

suite('resumed downloads and streamed bodies', () => {
  test('Content-Range: what is read', () => {
    assert.deepEqual(parseContentRange('bytes 100-199/200'), { first: 100, last: 199, total: 200 });
    assert.deepEqual(parseContentRange('BYTES 0-0/1'), { first: 0, last: 0, total: 1 });
    for (const bad of [null, '', 'bytes 100-199/*', 'bytes */200', 'bytes 200-100/300', 'bytes 0-200/200', 'items 0-1/2', 'bytes -1-5/9', 'bytes 1e3-5/9']) {
      assert.equal(parseContentRange(bad), undefined, String(bad));
    }
  });

  test('a 206: taken for exactly the range and version asked, refused otherwise', () => {
    const resume = { from: 100, ifRange: '"v1"' };
    const rows: [string, Record<string, string>, typeof resume | undefined, boolean][] = [
      ['the rest, same etag', { 'content-range': 'bytes 100-199/200', etag: '"v1"' }, resume, true],
      ['the rest, no etag sent', { 'content-range': 'bytes 100-199/200' }, resume, true],
      ['nobody asked for a range', { 'content-range': 'bytes 100-199/200' }, undefined, false],
      ['another start', { 'content-range': 'bytes 96-199/200', etag: '"v1"' }, resume, false],
      ['stops before the end', { 'content-range': 'bytes 100-150/200', etag: '"v1"' }, resume, false],
      ['unreadable', { 'content-range': 'bytes 100-199/*', etag: '"v1"' }, resume, false],
      ['another version', { 'content-range': 'bytes 100-199/200', etag: '"v2"' }, resume, false],
      ['another version, weak', { 'content-range': 'bytes 100-199/200', etag: 'W/"v2"' }, resume, false],
      ['by date: the same', { 'content-range': 'bytes 100-199/200', 'last-modified': 'Sun, 29 Nov 2026 10:00:00 GMT' }, { from: 100, ifRange: 'Sun, 29 Nov 2026 10:00:00 GMT' }, true],
      ['by date: another', { 'content-range': 'bytes 100-199/200', 'last-modified': 'Sun, 29 Nov 2026 10:00:01 GMT' }, { from: 100, ifRange: 'Sun, 29 Nov 2026 10:00:00 GMT' }, false],
      ['above the size limit', { 'content-range': `bytes 100-${MAX + 1}/${MAX + 2}`, etag: '"v1"' }, resume, false],
    ];
    for (const [what, headers, asked, ok] of rows) {
      const res = answer(headers);
      const run = () => checkedRange(res, 'GET', '/f', asked, headers.etag, headers['last-modified'], MAX);
      if (ok) assert.deepEqual(run(), { from: 100, total: 200 }, what);
      else assert.throws(run, (err: unknown) => isShareError(err, 'Rejected') && /not trusted/.test((err as Error).message), what);
    }
  });

  test('a streamed body is held to its size: more is refused, less is a cut', async () => {
    assert.deepEqual([...(await collect(chunks([1, 2], [3]), 3, 'GET', '/f'))], [1, 2, 3]);
    await assert.rejects(collect(chunks([1, 2], [3, 4]), 3, 'GET', '/f'), (err: unknown) => isShareError(err, 'Rejected'));
    await assert.rejects(collect(chunks([1]), 3, 'GET', '/f'), (err: unknown) => isShareError(err, 'Unavailable'));
    const seen: number[] = [];
    await assert.rejects(async () => {
      for await (const c of exactly(chunks([1, 2], [3, 4, 5]), 4, 'PUT', '/f')) seen.push(...c);
    });
    assert.deepEqual(seen, [1, 2], 'nothing past the size is passed on');
  });

  test('two streams compare byte for byte, whatever their chunking', async () => {
    assert.equal(await sameBytes(chunks([1, 2, 3], [4]), chunks([1], [2, 3, 4])), true);
    assert.equal(await sameBytes(chunks([1, 2, 3]), [new Uint8Array([1, 2, 3])]), true);
    assert.equal(await sameBytes(chunks([1, 2, 3]), chunks([1, 2, 4])), false);
    assert.equal(await sameBytes(chunks([1, 2, 3]), chunks([1, 2])), false);
    assert.equal(await sameBytes(chunks([1, 2], []), chunks([1, 2, 0])), false);
    assert.equal(await sameBytes(chunks(), chunks([])), true);
  });
});
