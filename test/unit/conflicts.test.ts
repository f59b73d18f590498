import * as assert from 'node:assert/strict';
import { decide, type LocalSide, type RemoteSide } from '../../src/offline/conflicts';

suite('conflict decision (table)', () => {
  const TABLE: [LocalSide, RemoteSide, string][] = [
    ['changed', 'same', 'apply'],
    ['changed', 'changed', 'both-changed'],
    ['changed', 'gone', 'changed-deleted'],
    ['changed', 'exists', 'both-changed'],
    ['created', 'gone', 'apply'],
    ['created', 'exists', 'both-created'],
    ['created', 'changed', 'both-created'],
    ['deleted', 'same', 'apply'],
    ['deleted', 'changed', 'deleted-changed'],
    ['deleted', 'gone', 'done'],
  ];
  for (const [local, remote, expected] of TABLE) {
    test(`local ${local}, server ${remote} → ${expected}`, () => assert.equal(decide(local, remote), expected));
  }
});
