import * as assert from 'node:assert/strict';
import { dispose, Emitter, toDisposable } from '../../src/core/events';

suite('events', () => {
  test('Emitter delivers to listeners until they are disposed', () => {
    const e = new Emitter<number>();
    const seen: number[] = [];
    const d = e.event(n => seen.push(n));
    e.fire(1);
    d.dispose();
    e.fire(2);
    assert.deepEqual(seen, [1]);
  });

  test('listeners can be collected into a disposables array and bound to thisArgs', () => {
    const e = new Emitter<string>();
    const target = { got: '' };
    let bag: { dispose(): void }[] = [];
    e.event(function (this: typeof target, s: string) { this.got = s; }, target, bag);
    e.fire('x');
    bag = dispose(bag);
    e.fire('y');
    assert.equal(target.got, 'x');
    assert.deepEqual(bag, []);
  });

  test('toDisposable runs once', () => {
    let n = 0;
    const d = toDisposable(() => n++);
    d.dispose();
    d.dispose();
    assert.equal(n, 1);
  });
});
