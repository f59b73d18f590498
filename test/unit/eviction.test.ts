import * as assert from 'node:assert/strict';
import type { CacheEntry } from '../../src/cache/cacheEntry';
import { planCull } from '../../src/cache/eviction';

const file = (path: string, size: number, lastAccess: number, extra: Partial<CacheEntry> = {}): CacheEntry => ({
  path, type: 'file', size, mtime: 0, ctime: 0, lastAccess, blob: `h-${path}`, blobSize: size, ...extra,
});
const notPinned = () => false;

suite('eviction: planCull', () => {
  test('under the limit nothing is culled', () => {
    const plan = planCull([file('/a', 10, 1), file('/b', 10, 2)], 20, notPinned);
    assert.deepEqual(plan.victims, []);
    assert.equal(plan.totalBytes, 20);
    assert.equal(plan.full, false);
  });

  test('least recently used go first, only as many as needed', () => {
    const plan = planCull([file('/new', 10, 30), file('/old', 10, 10), file('/mid', 10, 20)], 15, notPinned);
    assert.deepEqual(plan.victims.map(v => v.path), ['/old', '/mid']);
    assert.equal(plan.remainingBytes, 10);
  });

  test('pinned, dirty and conflicted content is never culled; a full cache is reported', () => {
    const entries = [
      file('/pinned', 50, 1),
      file('/dirty', 50, 2, { state: 'dirty' }),
      file('/conflict', 50, 3, { state: 'conflict' }),
      file('/clean', 50, 4),
    ];
    const plan = planCull(entries, 100, e => e.path === '/pinned');
    assert.deepEqual(plan.victims.map(v => v.path), ['/clean']);
    assert.equal(plan.keptBytes, 150);
    assert.equal(plan.full, true);
  });

  test('entries without content are ignored; a blob shared by two entries counts once', () => {
    const shared = { blob: 'same', blobSize: 40 };
    const plan = planCull(
      [file('/x', 40, 1, shared), file('/y', 40, 2, shared), { ...file('/meta', 99, 0), blob: undefined }],
      39,
      notPinned,
    );
    assert.equal(plan.totalBytes, 40);
    assert.deepEqual(plan.victims.map(v => v.path), ['/x', '/y'], 'both users must go to free the blob');
    assert.equal(plan.remainingBytes, 0);
  });

  test('a blob shared with a pinned entry is not freed by culling its other user', () => {
    const shared = { blob: 'same', blobSize: 40 };
    const plan = planCull([file('/pinned', 40, 5, shared), file('/copy', 40, 1, shared), file('/other', 10, 2)], 40, e => e.path === '/pinned');
    assert.deepEqual(plan.victims.map(v => v.path), ['/other']);
    assert.equal(plan.remainingBytes, 40);
  });
});
