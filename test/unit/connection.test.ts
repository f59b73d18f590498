import * as assert from 'node:assert/strict';
import { ShareError } from '../../src/core/errors';
import { Connection, type Timers } from '../../src/offline/connection';
import { RecordingLogger } from '../support/recordingLogger';

/** Timers that fire only when the test says so. */
class ManualTimers implements Timers {
  private next = 1;
  readonly pending = new Map<number, { fn: () => void; ms: number }>();
  setTimeout(fn: () => void, ms: number) {
    const id = this.next++;
    this.pending.set(id, { fn, ms });
    return id;
  }
  clearTimeout(h: unknown) {
    this.pending.delete(h as number);
  }
  delays() {
    return [...this.pending.values()].map(p => p.ms);
  }
  fireAll() {
    const due = [...this.pending.values()];
    this.pending.clear();
    due.forEach(p => p.fn());
  }
}

const refused = new ShareError('Unavailable', 'PROPFIND /: the server refused the connection', { reason: 'refused' });
const timeout = new ShareError('Unavailable', 'GET /a: the server did not answer in time', { reason: 'timeout' });
const s503 = new ShareError('Unavailable', 'GET /a: internal error (HTTP 503)', { reason: 'server', status: 503 });
const tls = new ShareError('Unavailable', 'GET /: certificate', { reason: 'tls' });
const tick = () => new Promise(r => setImmediate(r));

suite('connection state', () => {
  function make(probeResults: boolean[]) {
    const timers = new ManualTimers();
    let probes = 0;
    const conn = new Connection({
      log: new RecordingLogger(),
      timers,
      probe: async () => {
        probes++;
        if (!probeResults.shift()) throw refused;
      },
    });
    const states: string[] = [];
    conn.onDidChange(c => states.push(c.current.kind + (c.current.kind === 'offline' ? (c.current.manual ? ':manual' : ':unreachable') : '')));
    return { conn, timers, states, probes: () => probes };
  }

  test('network failures switch offline; a 401-like or TLS failure does not', () => {
    const { conn, states } = make([]);
    assert.equal(conn.reportFailure(new ShareError('Unauthorized', '401')), false);
    assert.equal(conn.reportFailure(tls), false);
    assert.equal(conn.isOnline, true);
    assert.equal(conn.reportFailure(timeout), true);
    assert.deepEqual(states, ['offline:unreachable']);
    assert.equal(conn.reportFailure(refused), true, 'still offline, no second change');
    assert.deepEqual(states, ['offline:unreachable']);
  });

  test('5xx answers switch offline only when they repeat', () => {
    const { conn } = make([]);
    assert.equal(conn.reportFailure(s503), false);
    conn.reportSuccess();
    assert.equal(conn.reportFailure(s503), false);
    assert.equal(conn.reportFailure(s503), false);
    assert.equal(conn.reportFailure(s503), true);
    assert.equal(conn.isOnline, false);
  });

  test('a busy server that says when to come back (429, 503 with Retry-After) is not offline, however often', () => {
    const { conn } = make([]);
    const busy = [429, 503].map(status => new ShareError('Unavailable', `GET /a: busy (HTTP ${status})`, { reason: 'server', status, retryAfterMs: 1000 }));
    for (let i = 0; i < 5; i++) for (const e of busy) assert.equal(conn.reportFailure(e), false);
    assert.equal(conn.isOnline, true);
  });

  test('a probe with exponential backoff brings it back', async () => {
    const { conn, timers, states, probes } = make([false, false, true]);
    conn.reportFailure(refused);
    assert.deepEqual(timers.delays(), [1000]);
    timers.fireAll();
    await tick();
    assert.deepEqual(timers.delays(), [2000], 'second retry waits longer');
    timers.fireAll();
    await tick();
    assert.deepEqual(timers.delays(), [4000]);
    timers.fireAll();
    await tick();
    assert.equal(conn.isOnline, true);
    assert.equal(probes(), 3);
    assert.deepEqual(states, ['offline:unreachable', 'reconnecting', 'offline:unreachable', 'reconnecting', 'offline:unreachable', 'reconnecting', 'online']);
    assert.deepEqual(timers.delays(), [], 'no timer left');
  });

  test('offline by hand stays offline: no probe until "Go Online"', async () => {
    const { conn, timers, probes } = make([true]);
    conn.goOffline();
    assert.equal(conn.reportFailure(refused), true);
    assert.deepEqual(timers.delays(), []);
    assert.equal(probes(), 0);
    assert.equal(await conn.goOnline(), true);
    assert.equal(conn.isOnline, true);
  });

  test('"Go Online" while the server is down stays offline and retries by itself', async () => {
    const { conn, timers } = make([false, true]);
    conn.goOffline();
    assert.equal(await conn.goOnline(), false);
    assert.deepEqual(conn.state, { kind: 'offline', manual: false, reason: 'the server refused the connection', cause: 'refused' }, 'the reason speaks of the server, not of a request');
    assert.equal(timers.delays().length, 1);
    timers.fireAll();
    await tick();
    assert.equal(conn.isOnline, true);
  });

  test('resync replays while online (changes left by an earlier session), but not when offline by hand', async () => {
    const timers = new ManualTimers();
    let replays = 0;
    const conn = new Connection({ log: new RecordingLogger(), timers, probe: async () => undefined, beforeOnline: async () => void replays++ });
    assert.equal(await conn.goOnline(), true);
    assert.equal(replays, 0, 'already online: Go Online does nothing');
    assert.equal(await conn.resync(), true);
    assert.equal(replays, 1);
    conn.goOffline();
    assert.equal(await conn.resync(), false);
    assert.equal(replays, 1, 'offline by hand stays offline');
  });

  test('the replay hook runs before online; a failing replay stays offline', async () => {
    const timers = new ManualTimers();
    const order: string[] = [];
    let fail = true;
    const conn = new Connection({
      log: new RecordingLogger(),
      timers,
      probe: async () => void order.push('probe'),
      beforeOnline: async () => {
        order.push('replay');
        if (fail) throw refused;
      },
    });
    conn.onDidChange(c => order.push(c.current.kind));
    conn.goOffline();
    assert.equal(await conn.goOnline(), false);
    fail = false;
    assert.equal(await conn.goOnline(), true);
    assert.deepEqual(order, ['offline', 'reconnecting', 'probe', 'replay', 'offline', 'reconnecting', 'probe', 'replay', 'online']);
    conn.dispose();
    assert.deepEqual(timers.delays(), [], 'dispose clears the retry timer');
  });

  test('a reconnect that fails after dispose() schedules no retry (no timer outlives the share)', async () => {
    const timers = new ManualTimers();
    let release!: () => void;
    const conn = new Connection({
      log: new RecordingLogger(),
      timers,
      probe: () => new Promise<void>((_, reject) => (release = () => reject(refused))),
    });
    const reconnect = conn.resync();
    conn.dispose();
    release();
    assert.equal(await reconnect, false);
    assert.deepEqual(timers.delays(), [], 'no retry timer after dispose');
  });

  test('a sign-in page or a change not stored takes the share offline with that cause', () => {
    const { conn } = make([]);
    assert.equal(conn.reportFailure(new ShareError('Unavailable', 'PROPFIND /: a web page', { reason: 'signin' })), true);
    const s = conn.state;
    assert.ok(s.kind === 'offline' && !s.manual && s.cause === 'signin');
  });
});
