import * as assert from 'node:assert/strict';
import { basename, decodePath, dirname, encodePath, isEqualOrParent, joinPath, normalizePath, relativeTo } from '../../src/core/remotePath';

suite('remotePath', () => {
  test('normalizePath: leading slash, no trailing slash, no empty or dot segments', () => {
    const table: [string, string][] = [
      ['', '/'],
      ['/', '/'],
      ['a', '/a'],
      ['/a/', '/a'],
      ['//a//b/', '/a/b'],
      ['/a/./b', '/a/b'],
      ['/a/../b', '/b'],
      ['/../../a', '/a'],
      ['/a/b', '/a/b'],
      ['/a/..', '/'],
      ['/a/.', '/a'],
      ['/..', '/'],
      ['/.hidden/..x', '/.hidden/..x'],
      ['/a//', '/a'],
    ];
    for (const [input, expected] of table) assert.equal(normalizePath(input), expected, input);
  });

  test('dirname, basename, joinPath', () => {
    assert.equal(dirname('/a/b/c.txt'), '/a/b');
    assert.equal(dirname('/a'), '/');
    assert.equal(dirname('/'), '/');
    assert.equal(basename('/a/b/c.txt'), 'c.txt');
    assert.equal(basename('/'), '');
    assert.equal(joinPath('/a', 'b c'), '/a/b c');
    assert.equal(joinPath('/', 'x'), '/x');
  });

  test('isEqualOrParent and relativeTo respect segment boundaries', () => {
    assert.equal(isEqualOrParent('/share/a', '/share'), true);
    assert.equal(isEqualOrParent('/share', '/share'), true);
    assert.equal(isEqualOrParent('/shared/a', '/share'), false);
    assert.equal(isEqualOrParent('/anything', '/'), true);
    assert.equal(relativeTo('/share/a/b', '/share'), '/a/b');
    assert.equal(relativeTo('/share', '/share/'), '/');
    assert.equal(relativeTo('/shared/a', '/share'), undefined);
    assert.equal(relativeTo('/x', '/'), '/x');
  });

  test('encodePath and decodePath round-trip odd names', () => {
    for (const name of ['a b', 'ü✓', '#', '%', '%41', '?', '+', '&;', "'", '[x]']) {
      const p = `/dir ${name}/${name}`;
      const encoded = encodePath(p);
      assert.doesNotMatch(encoded, /[ #?]/, 'reserved characters are encoded');
      assert.equal(decodePath(encoded), p);
    }
    assert.equal(decodePath('/bad%zzname'), '/bad%zzname', 'invalid escapes are kept');
  });
});
