// Issue 13, one cache for every window: windows of VS Code on the same share, as processes
// (test/support/twoWindowsChild.ts), on ONE disk cache, against nephele, killed at random moments. A trial:
//   1. window A, on a fresh cache, reads the share, goes offline by hand and changes things offline in a
//      loop (saves, creates, folders, deletes, renames, copies);
//   2. window B starts on the same cache: it must say that it waits (naming A's process) and never open the
//      cache while A lives; most times it then works without it (a live read of the share); sometimes a
//      window W also starts and is killed while it waits — A must not notice;
//   3. A ends: SIGKILL at a random moment inside a change (content stored, intent committed, applied…) or
//      between two, or closed as a window is closed;
//   4. B takes the cache over — only after A's end — offline by hand as A left it, and its tree, read from
//      the cache offline, is what A acknowledged, with A's change in flight or without it, never a part;
//   5. B changes things offline; sometimes it is killed in the middle and a window C (waiting already, or
//      started after the kill) takes over the same way and makes its own changes;
//   6. the last window goes online ONCE: the journal replays with no conflict and nothing left pending, and
//      the server's folder is exactly the changes of all windows in order — none lost, none doubled.
// WEBDAV_WINDOW_TRIALS sets the number of trials (default 12; the full run is 50 or more),
// WEBDAV_WINDOW_SEED the seed.
import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleChild } from '../support/bundleChild';
import { startNephele, type RunningServer } from '../support/nepheleServer';
import {
  applyChildOp,
  SERVER_FILES,
  SERVER_FOLDERS,
  serverTree,
  sameTree,
  treeDiff,
  treeLines,
  type ChildOp,
  type Node,
  type Tree,
} from '../support/offlineCrashModel';
import { USERS } from '../support/servers';
import type { WindowConfig } from '../support/twoWindowsChild';
import { seededRandom } from '../unit/shareStore.suite';

const TRIALS = Number(process.env.WEBDAV_WINDOW_TRIALS ?? 12);
const SEED = Number(process.env.WEBDAV_WINDOW_SEED ?? 0x2f1d0e);
const LINE_TIMEOUT_MS = 20_000;
const ARTIFACTS = join(__dirname, '..', '..', '..', 'artifacts');
const LOCK_POLL_MS = 50;
const GOOD = { username: 'alice', password: USERS.alice };

/** When a window is killed: on the `nth` line starting with `marker` from now, `extraMs` later; else after `fallbackMs`. */
interface KillPlan {
  readonly marker: string;
  readonly nth: number;
  readonly extraMs: number;
  readonly fallbackMs: number;
}

const describePlan = (p: KillPlan) => `on "${p.marker}" #${p.nth} +${p.extraMs.toFixed(1)} ms`;

/** One window process: its lines (with arrival times), waiting for lines, commands, kills. */
class Window {
  readonly lines: { readonly text: string; readonly at: number }[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr = '';
  private readonly child: ChildProcess;
  private readonly waiters = new Set<() => void>();
  private plan?: { readonly p: KillPlan; seen: number; fallback: ReturnType<typeof setTimeout> };
  private killedAt?: number;

  constructor(
    readonly name: string,
    js: string,
    config: WindowConfig,
  ) {
    this.child = spawn(process.execPath, [js, JSON.stringify(config)], { stdio: ['pipe', 'pipe', 'pipe'] });
    let partial = '';
    this.child.stdout!.setEncoding('utf8');
    this.child.stdout!.on('data', (d: string) => {
      const parts = (partial + d).split('\n');
      partial = parts.pop()!;
      for (const text of parts) this.onLine(text);
    });
    this.child.stderr!.on('data', d => (this.stderr += d));
    this.child.stdin!.on('error', () => undefined); // a killed window's stdin
    this.exited = new Promise(resolve => this.child.on('exit', (code, signal) => resolve({ code, signal })));
    void this.exited.then(() => this.wake());
  }

  get pid(): number {
    return this.child.pid!;
  }

  private onLine(text: string): void {
    this.lines.push({ text, at: Date.now() });
    const plan = this.plan;
    if (plan && text.startsWith(plan.p.marker) && ++plan.seen === plan.p.nth) {
      clearTimeout(plan.fallback);
      if (plan.p.extraMs <= 0) this.kill();
      else setTimeout(() => this.kill(), plan.p.extraMs);
    }
    this.wake();
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  /** The first line at index `from` or later that starts with `prefix`; fails when the window ends first. */
  async waitFor(prefix: string, from = 0, ms = LINE_TIMEOUT_MS): Promise<{ text: string; at: number; index: number }> {
    const deadline = Date.now() + ms;
    let ended = false;
    void this.exited.then(() => (ended = true));
    for (;;) {
      const index = this.lines.findIndex((l, i) => i >= from && l.text.startsWith(prefix));
      if (index >= 0) return { ...this.lines[index], index };
      if (ended) throw new Error(`${this.name} ended before "${prefix}":\n${this.tail()}`);
      if (Date.now() > deadline) throw new Error(`${this.name}: no "${prefix}" within ${ms} ms:\n${this.tail()}`);
      await new Promise<void>(resolve => {
        const timer = setTimeout(done, 200);
        this.waiters.add(done);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        void this.exited.then(done);
      }).finally(() => this.waiters.clear());
    }
  }

  send(command: string): void {
    this.child.stdin!.write(`${command}\n`);
  }

  /** Kills the window now (SIGKILL); resolves with the time the signal was sent. */
  kill(): number {
    if (this.killedAt === undefined) {
      this.killedAt = Date.now();
      this.child.kill('SIGKILL');
    }
    return this.killedAt;
  }

  get killTime(): number | undefined {
    return this.killedAt;
  }

  /** Arms a kill plan (counted from now). */
  killOn(p: KillPlan): void {
    this.plan = { p, seen: 0, fallback: setTimeout(() => this.kill(), p.fallbackMs) };
  }

  /** The changes it acknowledged, and the one in flight when it ended. */
  session(): { acks: ChildOp[]; inFlight?: ChildOp; tree?: Record<string, string> } {
    const acks: ChildOp[] = [];
    let inFlight: ChildOp | undefined;
    let tree: Record<string, string> | undefined;
    for (const { text } of this.lines) {
      const space = text.indexOf(' ');
      const word = space < 0 ? text : text.slice(0, space);
      const rest = text.slice(space + 1);
      if (word === 'begin') inFlight = JSON.parse(rest) as ChildOp;
      else if (word === 'ack') {
        acks.push(JSON.parse(rest) as ChildOp);
        inFlight = undefined;
      } else if (word === 'tree') tree = JSON.parse(rest) as Record<string, string>;
    }
    return { acks, inFlight, tree };
  }

  /** Everything it said, and its warnings and errors: for the log of a failed trial. */
  full(): string {
    return [`${this.name} (process ${this.pid})`, ...this.lines.map(l => `  | ${l.text}`), ...this.stderr.split('\n').filter(Boolean).map(l => `  ! ${l}`)].join('\n');
  }

  tail(n = 12): string {
    return [...this.lines.slice(-n).map(l => `  | ${l.text.slice(0, 200)}`), ...this.stderr.split('\n').filter(Boolean).slice(-8).map(l => `  ! ${l}`)].join('\n');
  }

  dispose(): void {
    if (this.plan) clearTimeout(this.plan.fallback);
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

/** The server's folder as a tree (every item but the root). */
function diskTree(root: string): Tree {
  const out = new Map<string, Node>();
  const visit = (dir: string, rel: string) => {
    for (const name of readdirSync(dir)) {
      const full = join(dir, name);
      const path = `${rel}/${name}`;
      if (statSync(full).isDirectory()) {
        out.set(path, { type: 'directory' });
        visit(full, path);
      } else out.set(path, { type: 'file', content: readFileSync(full, 'utf8') });
    }
  };
  visit(root, '');
  return out;
}

const treeKey = (t: Tree) => JSON.stringify(treeLines(t));

/** The trees a window may have left: its acknowledged changes over each candidate, with its change in flight or not. */
function after(candidates: readonly Tree[], w: Window): Tree[] {
  const { acks, inFlight } = w.session();
  const out = new Map<string, Tree>();
  for (const c of candidates) {
    const acked = acks.reduce(applyChildOp, c);
    out.set(treeKey(acked), acked);
    if (inFlight) {
      const more = applyChildOp(acked, inFlight);
      out.set(treeKey(more), more);
    }
  }
  return [...out.values()];
}

/**
 * The candidates that are the tree a window printed when it took the cache over; fails (saying what is
 * missing and what is extra) when there is none: a change lost, doubled or half there.
 */
function matching(candidates: readonly Tree[], w: Window, what: string): Tree[] {
  const printed = w.session().tree;
  assert.ok(printed, `${w.name} printed its tree`);
  const got = Object.entries(printed).map(([p, s]) => (s === 'dir' ? `${p}/` : `${p} ${s}`)).sort();
  const found = candidates.filter(c => JSON.stringify(treeLines(c)) === JSON.stringify(got));
  if (!found.length) {
    const want = treeLines(candidates[0]);
    assert.fail(
      `${w.name}'s tree, read offline from the cache it took over, is not ${what}: ` +
        `missing ${JSON.stringify(want.filter(l => !got.includes(l)).slice(0, 6))}, extra ${JSON.stringify(got.filter(l => !want.includes(l)).slice(0, 6))}`,
    );
  }
  return found;
}

interface TrialFigures {
  readonly endOfA: string;
  readonly bWentLive: boolean;
  readonly waiterKilled: boolean;
  readonly bKilled?: string;
  readonly cWaited?: boolean;
  /** From the end of the holder to the waiting window's cache being open (ms), per takeover. */
  readonly takeoverMs: number[];
  readonly acks: number;
  readonly applied: number;
  readonly ms: number;
}

suite('issue 13: one cache for every window — window processes on one disk cache, killed at random', function () {
  this.timeout(60_000 + TRIALS * 20_000);
  let child: Awaited<ReturnType<typeof bundleChild>>;
  const random = seededRandom(SEED);
  const figures: TrialFigures[] = [];
  const windows: Window[] = [];
  const cleanups: (() => Promise<void> | void)[] = [];

  suiteSetup(async () => {
    child = await bundleChild('twoWindowsChild');
  });
  suiteTeardown(() => child?.dispose());
  teardown(async () => {
    for (const w of windows.splice(0)) w.dispose();
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  function open(name: string, cacheRoot: string, server: RunningServer, o: { warm: boolean; counter: number; changes?: number; seed: number }): Window {
    const w = new Window(name, child.js, {
      cacheRoot,
      port: server.port,
      user: GOOD.username,
      password: GOOD.password,
      seed: o.seed,
      counter: o.counter,
      warm: o.warm,
      changes: o.changes,
      pauseMs: 8,
      cacheWaitMs: 300,
      lockPollMs: LOCK_POLL_MS,
    });
    windows.push(w);
    return w;
  }

  /** A kill plan inside (or between) the window's next changes. */
  function changePlan(maxNth: number): KillPlan {
    const markers = ['begin', 'blob', 'blob-done', 'commit intent', 'committed intent', 'commit journal', 'committed journal', 'ack'];
    return {
      marker: markers[Math.floor(random() * markers.length)],
      nth: 1 + Math.floor(random() * maxNth),
      extraMs: random() < 0.5 ? 0 : random() * 3,
      fallbackMs: 1500,
    };
  }

  /** Checks that `w` waited for the cache while `holder` had it, naming the holder, and says when it went live. */
  async function waitsFor(w: Window, holder: Window): Promise<void> {
    const waiting = await w.waitFor('status {"kind":"waiting"');
    assert.match(waiting.text, new RegExp(`process ${holder.pid}\\)`), `${w.name} names the window that has the cache (${holder.name}, process ${holder.pid}): ${waiting.text}`);
  }

  /** Checks that `w` got the cache only after `holder` ended (at `endedAt`), and how long it took. */
  async function tookOver(w: Window, endedAt: number): Promise<number> {
    const open = await w.waitFor('status {"kind":"open"}');
    assert.ok(open.at >= endedAt, `${w.name} opened the cache ${endedAt - open.at} ms BEFORE the other window ended`);
    const state = await w.waitFor('opened ');
    assert.equal(state.text, 'opened {"kind":"offline","manual":true}', `${w.name} follows the offline-by-hand choice stored with the cache`);
    await w.waitFor('tree ');
    return open.at - endedAt;
  }

  async function trial(n: number): Promise<TrialFigures> {
    const t0 = Date.now();
    const disk = mkdtempSync(join(tmpdir(), 'wdo-windows-server-'));
    const cacheRoot = mkdtempSync(join(tmpdir(), 'wdo-windows-cache-'));
    cleanups.push(() => rmSync(disk, { recursive: true, force: true }), () => rmSync(cacheRoot, { recursive: true, force: true }));
    for (const d of SERVER_FOLDERS) mkdirSync(join(disk, d), { recursive: true });
    for (const [p, content] of Object.entries(SERVER_FILES)) writeFileSync(join(disk, p), content);
    const server = await startNephele({ root: disk, mount: '/share', users: USERS });
    cleanups.push(() => server.close());
    const seed = SEED * 31 + n * 1009;
    const takeoverMs: number[] = [];

    // 1. A: a fresh cache, offline by hand, changing
    const a = open('A', cacheRoot, server, { warm: true, counter: n * 100_000, seed });
    await a.waitFor('changing');
    await new Promise(r => setTimeout(r, random() * 60));

    // 2. sometimes a window that waits and is killed while it waits; then B
    const waiterKilled = random() < 0.25;
    if (waiterKilled) {
      const w = open('W', cacheRoot, server, { warm: false, counter: n * 100_000 + 90_000, seed: seed + 9 });
      await waitsFor(w, a);
      w.kill();
      await w.exited;
      const acked = a.lines.length;
      await a.waitFor('ack ', acked); // A goes on, undisturbed
    }
    const b = open('B', cacheRoot, server, { warm: false, counter: n * 100_000 + 10_000, changes: 2 + Math.floor(random() * 12), seed: seed + 1 });
    await waitsFor(b, a);
    const bWentLive = random() < 0.75;
    if (bWentLive) {
      const live = await b.waitFor('live-ok ');
      assert.equal(live.text, `live-ok ${['a.txt', 'b.txt', 'docs', 'empty', 'notes.md'].join(',')}`, 'B reads the share live (the server is as it was: A is offline)');
    }
    assert.equal(b.lines.some(l => l.text.startsWith('status {"kind":"open"')), false, 'B never has the cache while A lives');

    // 3. A ends: killed inside or between changes, or closed
    let endOfA: string;
    let aEnded: number;
    if (random() < 0.2) {
      endOfA = 'closed';
      aEnded = Date.now();
      a.send('quit');
      await a.waitFor('closed');
    } else {
      const plan = changePlan(4);
      endOfA = `killed ${describePlan(plan)}`;
      a.killOn(plan);
      await a.exited;
      aEnded = a.killTime!;
    }
    await a.exited;
    let candidates = after([serverTree()], a);

    // 4. B takes the cache over
    takeoverMs.push(await tookOver(b, aEnded));
    candidates = matching(candidates, b, `A's acknowledged changes, with or without the one in flight (A ${endOfA})`);

    // 5. B changes things; sometimes it is killed, and C takes over
    let last = b;
    let bKilled: string | undefined;
    let cWaited: boolean | undefined;
    if (random() < 0.5) {
      const plan = changePlan(3);
      bKilled = describePlan(plan);
      cWaited = random() < 0.5;
      const c = () => open('C', cacheRoot, server, { warm: false, counter: n * 100_000 + 20_000, changes: Math.floor(random() * 6), seed: seed + 2 });
      let cWindow: Window | undefined;
      if (cWaited) {
        cWindow = c();
        await waitsFor(cWindow, b);
      }
      b.killOn(plan);
      await b.exited;
      cWindow ??= c();
      takeoverMs.push(await tookOver(cWindow, b.killTime!));
      candidates = matching(after(candidates, b), cWindow, `B's acknowledged changes, with or without the one in flight (B killed ${bKilled})`);
      last = cWindow;
    }
    await last.waitFor('idle');
    candidates = after(candidates, last); // nothing in flight: it is idle

    // 6. the last window goes online once
    last.send('online');
    const online = JSON.parse((await last.waitFor('online ')).text.slice('online '.length)) as {
      ok: boolean;
      pending: number;
      conflicts: string[];
      recovered: number;
      replayed?: { applied: number; identical: number; merged: number; conflicts: number };
    };
    assert.deepEqual({ ok: online.ok, pending: online.pending, conflicts: online.conflicts, recovered: online.recovered }, { ok: true, pending: 0, conflicts: [], recovered: 0 }, 'the reconnect replays everything, with no conflict');
    const onServer = diskTree(disk);
    const expected = candidates.find(c => sameTree(c, onServer));
    assert.ok(expected, `the server has exactly the windows' changes, each once:\n    ${treeDiff(onServer, candidates[0]).join('\n    ')}`);
    last.send('quit');
    await last.waitFor('closed');
    const acks = windows.reduce((sum, w) => sum + w.session().acks.length, 0);
    return { endOfA, bWentLive, waiterKilled, bKilled, cWaited, takeoverMs, acks, applied: online.replayed?.applied ?? 0, ms: Date.now() - t0 };
  }

  for (let n = 1; n <= TRIALS; n++) {
    test(`trial ${n}`, async () => {
      try {
        figures.push(await trial(n));
      } catch (err) {
        for (const w of windows) console.log(`      ${w.name} (process ${w.pid}):\n${w.tail(20)}`);
        // every line of every window (each change begun and acknowledged, in order): what a rare failure needs
        const file = join(ARTIFACTS, `two-windows-trial-${n}-seed-${SEED}.log`);
        mkdirSync(ARTIFACTS, { recursive: true });
        writeFileSync(file, `${String(err)}\n\n${windows.map(w => w.full()).join('\n\n')}\n`);
        console.log(`      every window's lines: ${file}`);
        throw err;
      }
    });
  }

  test('figures: kills of either window, takeovers, changes', () => {
    const count = (f: (t: TrialFigures) => boolean) => figures.filter(f).length;
    const takeovers = figures.flatMap(f => f.takeoverMs).sort((x, y) => x - y);
    const pct = (p: number) => takeovers[Math.min(takeovers.length - 1, Math.floor((p / 100) * takeovers.length))];
    console.log(
      `      [figures] ${figures.length} trials in ${(figures.reduce((s, f) => s + f.ms, 0) / 1000).toFixed(1)} s: the holder killed ${count(f => f.endOfA.startsWith('killed'))}, closed ${count(f => f.endOfA === 'closed')}; ` +
        `a waiting window killed ${count(f => f.waiterKilled)}; B went live while waiting ${count(f => f.bWentLive)}; B killed after taking over ${count(f => !!f.bKilled)} ` +
        `(C waiting already ${count(f => f.cWaited === true)}, started after ${count(f => f.cWaited === false)})\n` +
        `      [figures] takeovers ${takeovers.length}: from the holder's end to the cache open in the waiting window median ${pct(50)} ms, 90th ${pct(90)} ms, max ${takeovers.at(-1)} ms (lock looked at every ${LOCK_POLL_MS} ms)\n` +
        `      [figures] changes acknowledged ${figures.reduce((s, f) => s + f.acks, 0)}; replayed at the one reconnect per trial ${figures.reduce((s, f) => s + f.applied, 0)}; lost 0, doubled 0, conflicts 0 (each trial asserts it)`,
    );
    assert.equal(figures.length, TRIALS, 'every trial ran');
    assert.ok(count(f => f.endOfA.startsWith('killed')) > 0 && (TRIALS < 10 || count(f => !!f.bKilled) > 0), 'both the first and the second holder were killed in some trials');
  });
});
