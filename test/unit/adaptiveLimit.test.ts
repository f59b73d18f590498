// The pin's adaptive parallelism (cache/adaptiveLimit.ts), with a fake clock: where it starts, that it
// grows while throughput grows and holds at a plateau, never passes the ceiling, halves once per round
// of throttled requests, and waits out Retry-After (capped) or a doubling wait before the next start.
import * as assert from 'node:assert/strict';
import { AdaptiveLimit, MAX_WAIT_MS, MIN_WINDOW_MS } from '../../src/cache/adaptiveLimit';

class Clock {
  t = 1_000;
  readonly now = () => this.t;
}

/**
 * A link that takes `rttMs` per request and carries at most `linkBytesPerMs`: a request started when
 * `n` are in flight takes rttMs, or longer once n requests of `size` bytes need more than the link gives.
 * Runs `ms` of simulated time, starting whatever the limit lets start; returns the most in flight seen.
 */
function simulate(limit: AdaptiveLimit, clock: Clock, ms: number, o = { rttMs: 50, size: 50_000, linkBytesPerMs: 10_000 }): number {
  const running: { endsAt: number; startedAt: number }[] = [];
  let most = 0;
  const end = clock.t + ms;
  for (; clock.t < end; clock.t += 1) {
    for (let i = running.length - 1; i >= 0; i--) {
      if (running[i].endsAt <= clock.t) {
        limit.succeeded(running[i].startedAt, o.size);
        running.splice(i, 1);
      }
    }
    while (limit.canStart()) {
      const startedAt = limit.begin();
      const n = limit.inFlight;
      const duration = Math.max(o.rttMs, (n * o.size) / o.linkBytesPerMs);
      running.push({ startedAt, endsAt: clock.t + duration });
      most = Math.max(most, limit.inFlight);
    }
  }
  for (const r of running) limit.succeeded(r.startedAt, o.size);
  return most;
}

suite('unit: adaptive limit', () => {
  test('starts at 8, or at the ceiling when that is lower', () => {
    const clock = new Clock();
    assert.equal(new AdaptiveLimit({ ceiling: 32, now: clock.now }).limit, 8);
    assert.equal(new AdaptiveLimit({ ceiling: 4, now: clock.now }).limit, 4);
    assert.equal(new AdaptiveLimit({ ceiling: 0, now: clock.now }).limit, 1);
    assert.equal(new AdaptiveLimit({ ceiling: 32, start: 100, now: clock.now }).limit, 32);
  });

  test('grows while throughput grows, holds at the plateau, below the ceiling', () => {
    const clock = new Clock();
    const limit = new AdaptiveLimit({ ceiling: 64, now: clock.now });
    // rtt 50 ms, 50 kB per request, 10 kB/ms: the link is full at 10 requests in flight
    const most = simulate(limit, clock, 10_000);
    assert.ok(limit.limit >= 10, `it grew to fill the link (limit ${limit.limit})`);
    assert.ok(limit.limit <= 20, `it stopped growing when throughput did not (limit ${limit.limit})`);
    assert.ok(most <= limit.ceiling);
  });

  test('on a link that rewards parallelism it climbs to the ceiling quickly, and never past it', () => {
    const clock = new Clock();
    const limit = new AdaptiveLimit({ ceiling: 24, now: clock.now });
    // each request 50 ms, a link far wider than 24 × 50 kB / 50 ms
    const most = simulate(limit, clock, 3_000, { rttMs: 50, size: 50_000, linkBytesPerMs: 1e9 });
    assert.equal(limit.limit, 24);
    assert.equal(most, 24);
  });

  test('does not grow when the work, not the limit, is what bounds it', () => {
    const clock = new Clock();
    const limit = new AdaptiveLimit({ ceiling: 32, now: clock.now });
    for (let i = 0; i < 100; i++) {
      const t = limit.begin(); // one at a time: the limit of 8 is never reached
      clock.t += 20;
      limit.succeeded(t, 100_000);
    }
    assert.equal(limit.limit, 8);
  });

  test('a throttle halves the limit, once for the requests in flight together', () => {
    const clock = new Clock();
    const limit = new AdaptiveLimit({ ceiling: 32, start: 16, now: clock.now });
    const started = Array.from({ length: 16 }, () => limit.begin());
    clock.t += 30;
    limit.throttled(started[0], 'reset');
    assert.equal(limit.limit, 8);
    limit.throttled(started[1], 'timeout'); // in flight when the limit was cut: not again
    limit.throttled(started[2], 'reset');
    assert.equal(limit.limit, 8);
    for (const t of started.slice(3)) limit.succeeded(t, 1000);
    clock.t += 10;
    const later = limit.begin(); // started after the cut: its throttle cuts again
    clock.t += 10;
    limit.throttled(later, 'timeout');
    assert.equal(limit.limit, 4);
    assert.equal(limit.waitMs(), 0, 'timeouts and resets do not pause');
    assert.equal(limit.inFlight, 0);
    for (let i = 0; i < 10; i++) limit.throttled(limit.begin(), 'reset');
    assert.equal(limit.limit, 1, 'never below one');
  });

  test('429/503 with Retry-After: no start until it has passed; capped at a minute', () => {
    const clock = new Clock();
    const limit = new AdaptiveLimit({ ceiling: 16, now: clock.now });
    const a = limit.begin();
    const b = limit.begin();
    limit.throttled(a, 'busy', 1_000);
    assert.equal(limit.limit, 4);
    assert.equal(limit.waitMs(), 1_000);
    assert.equal(limit.canStart(), false);
    clock.t += 999;
    assert.equal(limit.canStart(), false);
    limit.succeeded(b, 10);
    clock.t += 1;
    assert.equal(limit.canStart(), true);
    limit.throttled(limit.begin(), 'busy', 3_600_000);
    assert.equal(limit.waitMs(), MAX_WAIT_MS);
  });

  test('429/503 without Retry-After: 1 s, doubling while the server keeps refusing, back to 1 s after a success', () => {
    const clock = new Clock();
    const limit = new AdaptiveLimit({ ceiling: 16, now: clock.now });
    const waits: number[] = [];
    for (let i = 0; i < 3; i++) {
      limit.throttled(limit.begin(), 'busy');
      waits.push(limit.waitMs());
      clock.t += limit.waitMs();
    }
    assert.deepEqual(waits, [1_000, 2_000, 4_000]);
    const t = limit.begin();
    clock.t += 5;
    limit.succeeded(t, 10);
    limit.throttled(limit.begin(), 'busy');
    assert.equal(limit.waitMs(), 1_000);
  });

  test('after a throttle it grows again by one at a time, and a lower ceiling takes effect at once', () => {
    const clock = new Clock();
    const limit = new AdaptiveLimit({ ceiling: 64, start: 32, now: clock.now });
    limit.throttled(limit.begin(), 'reset');
    assert.equal(limit.limit, 16);
    clock.t += MIN_WINDOW_MS;
    simulate(limit, clock, 2_000, { rttMs: 50, size: 50_000, linkBytesPerMs: 1e9 });
    assert.ok(limit.limit > 16 && limit.limit <= 16 + 2_000 / MIN_WINDOW_MS, `additive growth (limit ${limit.limit})`);
    limit.setCeiling(6);
    assert.equal(limit.limit, 6);
    assert.equal(limit.ceiling, 6);
    assert.ok(simulate(limit, clock, 2_000, { rttMs: 50, size: 50_000, linkBytesPerMs: 1e9 }) <= 6);
  });
});
