// The collapsing rules of the offline journal as a table: recorded sequence → what is replayed.
import * as assert from 'node:assert/strict';
import { appendItem, collapse, type BaseVersion, type JournalOp } from '../../src/offline/journalOps';

const B1: BaseVersion = { etag: '"v1"', mtime: 1, size: 1 };
const B2: BaseVersion = { etag: '"v2"', mtime: 2, size: 2 };
const write = (path: string, blob: string, base?: BaseVersion): JournalOp => ({ kind: 'write', path, blob, size: blob.length, base });
const del = (path: string, type: 'file' | 'directory' = 'file', base?: BaseVersion): JournalOp => ({ kind: 'delete', path, type, base });
const mkdir = (path: string): JournalOp => ({ kind: 'mkdir', path });
const move = (from: string, to: string, base?: BaseVersion, type: 'file' | 'directory' = 'file'): JournalOp => ({ kind: 'move', from, to, type, overwrite: false, base });
const copy = (from: string, to: string): JournalOp => ({ kind: 'copy', from, to, type: from === '/d' ? 'directory' : 'file', overwrite: false });

const TABLE: [string, JournalOp[], JournalOp[]][] = [
  ['one save is kept', [write('/a', 'x', B1)], [write('/a', 'x', B1)]],
  ['many saves of one file → one upload with the original base', [write('/a', 'x', B1), write('/a', 'y', B1), write('/a', 'z', B1)], [write('/a', 'z', B1)]],
  ['saves of a new file stay a create', [write('/n', 'x'), write('/n', 'y')], [write('/n', 'y')]],
  ['create then delete → nothing', [write('/n', 'x'), write('/n', 'y'), del('/n')], []],
  ['mkdir then delete → nothing', [mkdir('/d'), del('/d', 'directory')], []],
  ['mkdir, files inside, delete the folder → nothing', [mkdir('/d'), write('/d/f', 'x'), mkdir('/d/e'), write('/d/e/g', 'y'), del('/d', 'directory')], []],
  ['change then delete → delete of the original version', [write('/a', 'x', B1), del('/a', 'file', B2)], [del('/a', 'file', B1)]],
  ['delete then write → a write over the original version', [del('/a', 'file', B1), write('/a', 'x')], [write('/a', 'x', B1)]],
  ['delete of a folder absorbs changes inside it', [write('/d/f', 'x', B1), write('/other', 'y', B2), del('/d', 'directory')], [write('/other', 'y', B2), del('/d', 'directory')]],
  ['…but not what a later copy still reads', [write('/d/f', 'x', B1), copy('/d/f', '/keep'), del('/d', 'directory')], [write('/d/f', 'x', B1), copy('/d/f', '/keep'), del('/d', 'directory')]],
  ['…nor what a later copy of the folder itself still reads', [del('/d/f', 'file', B1), copy('/d', '/keep'), del('/d', 'directory')], [del('/d/f', 'file', B1), copy('/d', '/keep'), del('/d', 'directory')]],
  ['rename chain → one move', [move('/a', '/b', B1), move('/b', '/c'), move('/c', '/d')], [move('/a', '/d', B1)]],
  ['renamed back → nothing', [move('/a', '/b', B1), move('/b', '/a')], []],
  ['create then rename → create under the new name', [write('/n', 'x'), move('/n', '/m')], [write('/m', 'x')]],
  ['rename then delete → delete of the original', [move('/a', '/b', B1), del('/b')], [del('/a', 'file', B1)]],
  ['rename, save, delete → delete of the original', [move('/a', '/b', B1), { kind: 'write', path: '/b', blob: 'x', size: 1, follows: true }, del('/b')], [del('/a', 'file', B1)]],
  ['create, rename, delete → nothing', [write('/n', 'x'), move('/n', '/m'), del('/m')], []],
  ['change then rename: both replay (PUT with If-Match, then MOVE)', [write('/a', 'x', B1), move('/a', '/b', B1)], [write('/a', 'x', B1), move('/a', '/b', B1)]],
  ['a copy in between keeps two saves apart', [write('/a', 'x', B1), copy('/a', '/c'), write('/a', 'y', B1)], [write('/a', 'x', B1), copy('/a', '/c'), write('/a', 'y', B1)]],
  ['a rename chain broken by a change in between stays', [move('/a', '/b', B1), write('/a', 'new'), move('/b', '/c')], [move('/a', '/b', B1), write('/a', 'new'), move('/b', '/c')]],
  ['unrelated operations keep their order', [mkdir('/x'), write('/y', 'a', B1), del('/z', 'file', B2)], [mkdir('/x'), write('/y', 'a', B1), del('/z', 'file', B2)]],
  ['a move onto itself is nothing', [move('/a', '/a', B1)], []],
  ['new folder, a file moved into it, the folder deleted → the file deleted where it was (found by the fault trials)', [mkdir('/f'), move('/a', '/f/a', B1), del('/f', 'directory')], [del('/a', 'file', B1)]],
  ['a new file moved into a new folder, the folder deleted → nothing', [mkdir('/f'), write('/n', 'x'), move('/n', '/f/n'), del('/f', 'directory')], []],
  ['a copy into a folder that is then deleted is moot', [copy('/a', '/d/c'), del('/d', 'directory')], [del('/d', 'directory')]],
  ['copy then delete the copy → nothing', [copy('/a', '/c'), del('/c')], []],
  ['a folder copied, a file saved in the copy, the copy deleted → nothing', [copy('/d', '/c'), write('/c/f', 'x'), del('/c', 'directory')], []],
  ['a copy read by a later copy, then deleted, stays', [copy('/a', '/c'), copy('/c', '/e'), del('/c')], [copy('/a', '/c'), copy('/c', '/e'), del('/c')]],
  [
    'a folder moved, then deleted → the folder deleted where it was, its known files under their old names (nephele gives moved files new etags: found by the window trials)',
    [move('/d', '/e', undefined, 'directory'), { kind: 'delete', path: '/e', type: 'directory', files: [{ path: '/e/f', etag: '"v1"', size: 1, mtime: 1 }, { path: '/e/s/g', size: 2, mtime: 2 }] }],
    [{ kind: 'delete', path: '/d', type: 'directory', base: undefined, files: [{ path: '/d/f', etag: '"v1"', size: 1, mtime: 1 }, { path: '/d/s/g', size: 2, mtime: 2 }] }],
  ],
  [
    'a folder moved (its server files kept with the move), renamed again, then deleted → the folder deleted where it was, with those files',
    [
      { kind: 'move', from: '/d', to: '/e', type: 'directory', overwrite: false, files: [{ path: '/d/f', etag: '"v1"', size: 1, mtime: 1 }] },
      { kind: 'move', from: '/e', to: '/g', type: 'directory', overwrite: false, files: [] },
      { kind: 'delete', path: '/g', type: 'directory', files: [] },
    ],
    [{ kind: 'delete', path: '/d', type: 'directory', base: undefined, files: [{ path: '/d/f', etag: '"v1"', size: 1, mtime: 1 }] }],
  ],
  ['a file moved into a folder that is deleted, its old name reused → the move stays', [move('/a', '/d/a', B1), write('/a', 'new'), del('/d', 'directory')], [move('/a', '/d/a', B1), write('/a', 'new'), del('/d', 'directory')]],
];

suite('journal collapsing (table)', () => {
  for (const [name, input, expected] of TABLE) {
    test(name, () => assert.deepEqual(collapse(input), expected));
  }

  test('collapsing is stable: collapsing the result changes nothing', () => {
    for (const [name, input] of TABLE) {
      const once = collapse(input);
      assert.deepEqual(collapse(once), once, name);
    }
  });
});

suite('journal collapsing keeps record ids', () => {
  /** As the journal does: each change takes the next id, and collapsing allocates further ones from the same counter. */
  const run = (ops: JournalOp[]) => {
    let next = 1;
    return ops.reduce<{ id: number; op: JournalOp }[]>((acc, op) => appendItem(acc, { id: next++, op }, () => next++), []);
  };

  test('every table case: the same operations as collapse(), unique ids in ascending order', () => {
    for (const [name, input, expected] of TABLE) {
      const items = run(input);
      assert.deepEqual(items.map(i => i.op), expected, name);
      const ids = items.map(i => i.id);
      assert.deepEqual([...ids].sort((a, b) => a - b), ids, `${name}: ids ascend`);
      assert.equal(new Set(ids).size, ids.length, `${name}: ids unique`);
    }
  });

  test('a merged save keeps the id (and place) of the first save; a collapsed move takes the new id', () => {
    assert.deepEqual(run([write('/a', 'x', B1), mkdir('/m'), write('/a', 'y', B1)]).map(i => i.id), [1, 2]);
    assert.deepEqual(run([move('/a', '/b', B1), mkdir('/m'), move('/b', '/c')]).map(i => i.id), [2, 3]);
    assert.deepEqual(run([write('/a', 'x', B1), mkdir('/m'), del('/a', 'file', B2)]).map(i => i.id), [2, 3]);
  });

  test('a folder delete that turns a move into it into a delete of the source: both new operations get their own id (found by the crash trials)', () => {
    const items = run([write('/b', 'x', B1), move('/b', '/d/m', B1), mkdir('/x'), del('/d', 'directory')]);
    assert.deepEqual(items.map(i => i.op), [mkdir('/x'), del('/b', 'file', B1), del('/d', 'directory')]);
    assert.deepEqual(items.map(i => i.id), [3, 4, 5], 'unique, ascending, the second new one allocated');
  });
});
