// Bounded parallelism (core/parallel.ts): never more than the limit at once, results in the items' order,
// and the first failure stops new starts and is thrown once the started ones have settled.
import * as assert from 'node:assert/strict';
import { inParallel, mapInParallel } from '../../src/core/parallel';

const tick = (ms: number) => new Promise(r => setTimeout(r, ms));

suite('unit: parallel', () => {
  test('at most `limit` at a time, every item once, results in order', async () => {
    let now = 0;
    let most = 0;
    const seen: number[] = [];
    const out = await mapInParallel([5, 1, 4, 2, 3, 0, 6], 3, async x => {
      most = Math.max(most, ++now);
      await tick(x);
      seen.push(x);
      now--;
      return x * 10;
    });
    assert.deepEqual(out, [50, 10, 40, 20, 30, 0, 60]);
    assert.deepEqual([...seen].sort(), [0, 1, 2, 3, 4, 5, 6]);
    assert.equal(most, 3);
  });

  test('a limit below 1 or above the items still runs every item', async () => {
    assert.deepEqual(await mapInParallel([1, 2], 0, async x => x), [1, 2]);
    assert.deepEqual(await mapInParallel([1, 2], 10, async x => x), [1, 2]);
    assert.deepEqual(await mapInParallel([], 4, async x => x), []);
  });

  test('the first failure stops new starts; it is thrown after the started ones settled', async () => {
    const started: number[] = [];
    const settled: number[] = [];
    await assert.rejects(
      inParallel([1, 2, 3, 4, 5, 6], 2, async x => {
        started.push(x);
        await tick(x === 2 ? 1 : 20);
        settled.push(x);
        if (x === 2) throw new Error('two failed');
      }),
      /two failed/,
    );
    assert.deepEqual(started, [1, 2], 'after the failure of 2 nothing new starts');
    assert.deepEqual([...settled].sort(), [1, 2], '1, still running when 2 failed, had settled before the throw');
  });
});
