// How the replay groups the journal into rounds (sync/replayRounds.ts): independent changes together, the
// order per path kept, a change inside a folder made in the same round sent after it, the round's limit.
import * as assert from 'node:assert/strict';
import type { JournalItem, JournalOp } from '../../src/offline/journalOps';
import { nextRound } from '../../src/sync/replayRounds';

const write = (path: string): JournalOp => ({ kind: 'write', path, blob: 'b', size: 1 });
const mkdir = (path: string): JournalOp => ({ kind: 'mkdir', path });
const del = (path: string): JournalOp => ({ kind: 'delete', path, type: 'file' });
const move = (from: string, to: string): JournalOp => ({ kind: 'move', from, to, type: 'file', overwrite: false });
const items = (...ops: JournalOp[]): JournalItem[] => ops.map((op, i) => ({ id: i + 1, op }));
const ids = (r: { items: JournalItem[] }) => r.items.map(i => i.id);

suite('unit: replay rounds', () => {
  test('independent changes go in one round, in journal order', () => {
    const r = nextRound(items(write('/a/1'), write('/a/2'), del('/b/3'), move('/c/4', '/c/5')), 100);
    assert.deepEqual(ids(r), [1, 2, 3, 4]);
    assert.equal(r.after.size, 0);
  });

  test('a second change of a path waits, and so does every later change touching it (order per path)', () => {
    const r = nextRound(items(write('/a/1'), move('/a/1', '/a/2'), write('/a/2'), write('/b')), 100);
    assert.deepEqual(ids(r), [1, 4], 'the move waits for the write, the write of its target for the move');
  });

  test('a change above or below a path in the round waits', () => {
    assert.deepEqual(ids(nextRound(items(write('/d/x'), del('/d')), 100)), [1]);
    assert.deepEqual(ids(nextRound(items(del('/d'), write('/d/x')), 100)), [1]);
  });

  test('changes inside a folder made in the round go with it, after it; deeper folders too', () => {
    const r = nextRound(items(mkdir('/n'), write('/n/a'), mkdir('/n/m'), write('/n/m/b'), write('/o')), 100);
    assert.deepEqual(ids(r), [1, 2, 3, 4, 5]);
    assert.deepEqual(r.after.get(2)?.map(i => i.id), [1]);
    assert.deepEqual(r.after.get(4)?.map(i => i.id), [1, 3]);
    assert.equal(r.after.has(5), false);
  });

  test('but not a change of the made folder itself, nor a move out of it', () => {
    assert.deepEqual(ids(nextRound(items(mkdir('/n'), move('/n', '/m')), 100)), [1]);
    assert.deepEqual(ids(nextRound(items(mkdir('/n'), write('/n/a'), move('/n/a', '/z')), 100)), [1, 2]);
  });

  test('the limit ends a round; what follows waits with its paths', () => {
    const r = nextRound(items(write('/1'), write('/2'), write('/3'), write('/1')), 2);
    assert.deepEqual(ids(r), [1, 2]);
  });
});
