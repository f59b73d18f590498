import * as assert from 'node:assert/strict';
import { asText, mergeContent, mergeText } from '../../src/offline/merge';

const enc = (s: string) => new TextEncoder().encode(s);

suite('three-way merge', () => {
  test('non-overlapping edits merge', () => {
    const base = 'one\ntwo\nthree\nfour\nfive\n';
    const server = 'ONE\ntwo\nthree\nfour\nfive\n';
    const local = 'one\ntwo\nthree\nfour\nFIVE\n';
    assert.deepEqual(mergeText(base, server, local), { clean: true, text: 'ONE\ntwo\nthree\nfour\nFIVE\n' });
  });

  test('the same line changed differently does not merge', () => {
    const r = mergeText('a\nb\nc\n', 'a\nX\nc\n', 'a\nY\nc\n');
    assert.equal(r.clean, false);
  });

  test('the same change on both sides is clean; one-sided changes take that side', () => {
    assert.deepEqual(mergeText('a\n', 'b\n', 'b\n'), { clean: true, text: 'b\n' });
    assert.deepEqual(mergeText('a\n', 'a\n', 'l\n'), { clean: true, text: 'l\n' });
    assert.deepEqual(mergeText('a\n', 's\n', 'a\n'), { clean: true, text: 's\n' });
  });

  test('CRLF line endings and a missing final newline survive', () => {
    const base = 'a\r\nb\r\nc';
    const r = mergeText(base, 'A\r\nb\r\nc', 'a\r\nb\r\nC');
    assert.deepEqual(r, { clean: true, text: 'A\r\nb\r\nC' });
  });

  test('binary content is never merged', () => {
    assert.equal(asText(new Uint8Array([0x66, 0, 0x67])), undefined);
    assert.equal(asText(new Uint8Array([0xff, 0xfe, 0x41])), undefined);
    const r = mergeContent(new Uint8Array([1, 0]), new Uint8Array([2, 0]), new Uint8Array([3, 0]));
    assert.deepEqual(r, { clean: false, reason: 'not text' });
    assert.deepEqual(mergeContent(enc('x\n'), enc('y\n'), enc('x\n')), { clean: true, text: 'y\n' });
  });
});
