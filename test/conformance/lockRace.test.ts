// Issue 13: windows that find the same stale lock at the same moment. A share's disk store is open in one
// process at a time; the lock of a process that is gone (or a lock file left empty by a crash while it was
// written) is taken over. Here several window processes (test/support/lockRaceChild.ts) are released at
// the same millisecond on a store whose lock is stale, round after round: exactly one of them must get the
// store, every other one must be told it is busy (naming the winner), and nobody may get it while the
// winner holds it. (Before the takeover moved the stale lock aside and checked what it moved, two racers
// could each remove the lock the other had just taken, and both open the store.)
import * as assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir, uptime } from 'node:os';
import { join } from 'node:path';
import { bundleChild } from '../support/bundleChild';

const RACERS = 4;
const ROUNDS = Number(process.env.WEBDAV_LOCK_RACE_ROUNDS ?? 30);
const HOLD_MS = 150;

interface Racer {
  readonly child: ChildProcess;
  readonly lines: string[];
  next(): Promise<string>;
}

function racer(js: string, root: string): Racer {
  const child = spawn(process.execPath, [js, root, String(HOLD_MS)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines: string[] = [];
  let waiting: (() => void) | undefined;
  let partial = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d: string) => {
    const parts = (partial + d).split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
    waiting?.();
  });
  let read = 0;
  return {
    child,
    lines,
    async next() {
      const deadline = Date.now() + 10_000;
      while (read >= lines.length) {
        if (Date.now() > deadline) throw new Error(`racer ${child.pid}: no answer (${lines.join(' | ')})`);
        await new Promise<void>(r => {
          waiting = r;
          setTimeout(r, 100);
        });
      }
      return lines[read++];
    },
  };
}

suite('issue 13: windows racing for a stale lock', function () {
  this.timeout(60_000 + ROUNDS * 2000);
  let bundle: Awaited<ReturnType<typeof bundleChild>>;
  let root: string;
  const racers: Racer[] = [];

  suiteSetup(async () => {
    bundle = await bundleChild('lockRaceChild');
    root = mkdtempSync(join(tmpdir(), 'wdo-lock-race-'));
    mkdirSync(join(root, 's'), { recursive: true });
  });
  suiteTeardown(() => {
    for (const r of racers) r.child.kill('SIGKILL');
    bundle?.dispose();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  test(`${RACERS} windows released together on a stale lock, ${ROUNDS} rounds: exactly one gets the store each time`, async () => {
    for (let i = 0; i < RACERS; i++) racers.push(racer(bundle.js, root));
    for (const r of racers) assert.equal(await r.next(), 'ready');
    const dead = Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
    const lock = join(root, 's', 'lock');
    const kinds = { dead: 0, torn: 0 };
    let opening = 0;
    for (let round = 0; round < ROUNDS; round++) {
      // a stale lock: a process that is gone, or a lock file a crash left empty (old enough not to be one being written)
      if (round % 3 === 2) {
        writeFileSync(lock, '');
        const old = new Date(Date.now() - 60_000);
        utimesSync(lock, old, old);
        kinds.torn++;
      } else {
        writeFileSync(lock, JSON.stringify({ pid: dead, boot: Date.now() - uptime() * 1000 }));
        kinds.dead++;
      }
      const at = Date.now() + 60;
      for (const r of racers) r.child.stdin!.write(`go ${at}\n`);
      const answers = await Promise.all(racers.map(r => r.next()));
      const winners = racers.filter((_, i) => answers[i].startsWith('got'));
      assert.equal(winners.length, 1, `round ${round}: exactly one window got the store: ${answers.join(' | ')}`);
      const winner = winners[0].child.pid!;
      for (const a of answers.filter(x => !x.startsWith('got'))) {
        // the winner's pid, or — read in the instant the lock changed hands — that it is being opened
        assert.match(a, new RegExp(`^busy another window \\((process ${winner}|opening it now)\\)$`), `round ${round}: the others are told who has it: ${answers.join(' | ')}`);
        if (a.endsWith('(opening it now)')) opening++;
      }
      assert.match(await winners[0].next(), /^released /, `round ${round}: the winner used and closed the store`);
    }
    console.log(`      [figures] ${ROUNDS} rounds of ${RACERS} windows: stale locks of a dead process ${kinds.dead}, empty (torn) ${kinds.torn}; one winner every round; losers that read the lock in the instant it changed hands (told: being opened) ${opening}`);
  });
});
