// F5.4 crash trials: a child process (test/support/offlineCrashChild.ts) works a Share offline against a
// real server (nephele, in this process) and is killed with SIGKILL at a random moment: in the middle of
// saves (storing content, committing an intent, applying it), between changes, and in the middle of the
// crash recovery of a cache a previous killed child left (the child that opens such a cache runs the
// journal's recovery; it is killed again, on the recovery's own log line or a random delay after it
// starts, so that recovery itself is interrupted). A chain of children shares one cache folder.
// After each kill the cache is COPIED (the chain goes on with the original) and the copy is opened here as
// the next session would (a new Share, offline by hand), and checked:
//   1. every acknowledged change is there: the cached tree (every folder listed, every file read) is
//      exactly the acknowledged state, or that plus the one change in flight at the kill — never older,
//      never a part of a change;
//   2. nothing is half-applied: the pending journal, replayed over the server's tree with the contents of
//      its blobs, gives exactly the cached tree; every item that differs from the server is provisional;
//      every provisional item is covered by a pending operation; every blob the journal needs is there,
//      also once the start-up garbage collection is done;
//   3. no journal record is still an intent once the share is open (recovery applied or rolled it back);
//   4. the server is untouched (the share is offline by hand): its folder is as it started, it answered no
//      write, and the checking share sent no request.
// Then the kill's moment is classified from the child's markers and the figures are printed.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IndexBatch, ShareStore } from '../../src/cache/shareStore';
import { DEFAULTS, type Settings } from '../../src/core/settings';
import type { ShareLocation } from '../../src/core/shareLocation';
import type { JournalItem } from '../../src/offline/journalOps';
import { DiskShareStores } from '../../src/platform/diskShareStore';
import { WebdavRemote } from '../../src/remote/webdavRemote';
import { Share } from '../../src/share/share';
import { openCache } from '../../src/cache/openCache';
import type { ChildConfig } from '../support/offlineCrashChild';
import {
  applyChildOp,
  covers,
  describeJournalOp,
  describeContent,
  replayed,
  runOp,
  SERVER_FILES,
  SERVER_FOLDERS,
  serverTree,
  sameTree,
  SHARE_ID,
  treeDiff,
  treeLines,
  type ChildOp,
  type Tree,
  walkShare,
} from '../support/offlineCrashModel';
import { startNephele, type RunningServer } from '../support/nepheleServer';
import { RecordingLogger } from '../support/recordingLogger';
import { USERS } from '../support/servers';
import { bundleChild } from '../support/bundleChild';
import { seededRandom } from '../unit/shareStore.suite';

const TRIALS = 120;
const PER_TEST = 20;
const SEED = 0x0ff1c4;
/** At most this many children per cache folder. */
const MAX_SESSIONS = 4;
/** A child that has not reached its kill point after this long is killed anyway (and it is reported). */
const CHILD_TIMEOUT_MS = 15_000;
const GOOD = { username: 'alice', password: USERS.alice };
const WRITE_METHODS = ['PUT', 'DELETE', 'MKCOL', 'MOVE', 'COPY', 'PROPPATCH', 'LOCK', 'UNLOCK'];

// --- killing a child

/** When the parent kills a child. Markers are the child's stdout lines (see offlineCrashChild.ts). */
type KillPlan =
  /** `delayMs` after the first line starting with `after`. */
  | { readonly kind: 'delay'; readonly after: 'changing' | 'opening'; readonly delayMs: number }
  /**
   * On the `nth` line starting with `marker` (counted from `after`), `extraMs` later (0: at once); if it
   * never comes, `fallbackMs` after `changing`.
   */
  | { readonly kind: 'marker'; readonly after: 'changing' | 'opening'; readonly marker: string; readonly nth: number; readonly extraMs: number; readonly fallbackMs: number };

function describePlan(plan: KillPlan): string {
  return plan.kind === 'delay'
    ? `${plan.delayMs.toFixed(1)} ms after "${plan.after}"`
    : `on "${plan.marker}" #${plan.nth} after "${plan.after}" +${plan.extraMs.toFixed(1)} ms`;
}

interface ChildRun {
  readonly lines: string[];
  readonly stderr: string;
  readonly signal: NodeJS.Signals | null;
  readonly code: number | null;
  readonly ms: number;
}

async function runChild(childJs: string, config: ChildConfig, plan: KillPlan): Promise<ChildRun> {
  const t0 = Date.now();
  const child = spawn(process.execPath, [childJs, JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let partial = '';
  let stderr = '';
  let killed = false;
  const kill = () => {
    if (killed) return;
    killed = true;
    child.kill('SIGKILL');
  };
  const timers: ReturnType<typeof setTimeout>[] = [setTimeout(kill, CHILD_TIMEOUT_MS)];
  const later = (ms: number) => (ms <= 0 ? kill() : timers.push(setTimeout(kill, ms)));
  let started = false;
  let seen = 0;
  const onLine = (line: string) => {
    lines.push(line);
    if (killed) return;
    if (!started && line === plan.after) {
      started = true;
      if (plan.kind === 'delay') later(plan.delayMs);
      return;
    }
    if (plan.kind === 'marker') {
      if (started && line.startsWith(plan.marker) && ++seen === plan.nth) later(plan.extraMs);
      else if (line === 'changing') later(plan.fallbackMs);
    }
  };
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d: string) => {
    const parts = (partial + d).split('\n');
    partial = parts.pop()!; // a line without its newline yet (or cut by the kill)
    for (const l of parts) onLine(l);
  });
  child.stderr.on('data', d => (stderr += d));
  const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(resolve =>
    child.on('exit', (c, s) => resolve({ code: c, signal: s })),
  );
  await new Promise(r => setImmediate(r)); // the last stdout chunk
  for (const t of timers) clearTimeout(t);
  return { lines, stderr, signal, code, ms: Date.now() - t0 };
}

// --- what the child said

interface SessionLog {
  /** Where the kill landed, in detail, and the broad category. */
  readonly phase: string;
  readonly category: 'opening' | 'recovery' | 'change' | 'between changes' | 'after opening';
  /** Recovery log lines (an intent applied again or rolled back). */
  readonly recoveries: readonly string[];
  /** The child opened the share and printed its tree: path → 'dir' or the sha1 of the content. */
  readonly tree?: Readonly<Record<string, string>>;
  readonly offline: boolean;
  readonly acks: readonly ChildOp[];
  /** The change begun and not acknowledged at the kill. */
  readonly inFlight?: ChildOp;
  /** Garbage collection was deleting blobs at the kill. */
  readonly collecting: boolean;
}

function readSession(lines: readonly string[]): SessionLog {
  let stage = 'spawned';
  let recovery = '';
  let op: ChildOp | undefined;
  let step = '';
  let tree: Record<string, string> | undefined;
  let offline = false;
  let collecting = false;
  const acks: ChildOp[] = [];
  const recoveries: string[] = [];
  for (const line of lines) {
    const space = line.indexOf(' ');
    const word = space < 0 ? line : line.slice(0, space);
    const rest = space < 0 ? '' : line.slice(space + 1);
    switch (word) {
      case 'opening':
        stage = 'opening';
        break;
      case 'recovering':
        stage = 'recovering';
        recovery = 'applying';
        recoveries.push(rest);
        break;
      case 'commit':
      case 'committed':
        if (rest === 'other') break;
        if (stage === 'recovering') recovery = word === 'commit' ? 'committing' : 'committed';
        else if (op) {
          if (rest === 'intent') step = word === 'commit' ? 'committing the intent' : 'intent durable, applying it';
          else step = word === 'commit' ? 'committing the applied change' : 'applied, not yet acknowledged';
        }
        break;
      case 'opened':
        stage = 'opened';
        break;
      case 'offline':
        offline = true;
        break;
      case 'tree':
        tree = JSON.parse(rest) as Record<string, string>;
        stage = 'tree';
        break;
      case 'changing':
        stage = 'changing';
        break;
      case 'begin':
        op = JSON.parse(rest) as ChildOp;
        step = 'checking, nothing stored yet';
        break;
      case 'blob':
        if (op) step = 'storing the content';
        break;
      case 'blob-done':
        if (op) step = 'content stored, intent not yet written';
        break;
      case 'ack':
        acks.push(op!);
        op = undefined;
        break;
      case 'gc':
        collecting = true;
        break;
      case 'gc-done':
        collecting = false;
        break;
    }
  }
  let phase: string;
  let category: SessionLog['category'];
  if (stage === 'spawned' || stage === 'opening') {
    phase = 'opening the cache (no recovery under way)';
    category = 'opening';
  } else if (stage === 'recovering') {
    phase = { applying: 'recovery: applying an intent again', committing: 'recovery: committing', committed: 'recovery: committed, share still opening' }[recovery]!;
    category = 'recovery';
  } else if (stage !== 'changing') {
    phase = 'opened, reading the tree';
    category = 'after opening';
  } else if (op) {
    phase = `${op.k}: ${step}`;
    category = 'change';
  } else {
    phase = 'between changes';
    category = 'between changes';
  }
  return { phase, category, recoveries, tree, offline, acks, inFlight: op, collecting };
}

// --- checking a cache

/** The server's folder: path → content ('/' for a folder). */
function serverDisk(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const visit = (dir: string, rel: string) => {
    for (const name of readdirSync(dir)) {
      const full = join(dir, name);
      const path = `${rel}/${name}`;
      if (statSync(full).isDirectory()) {
        out.set(path, '/');
        visit(full, path);
      } else out.set(path, readFileSync(full, 'utf8'));
    }
  };
  visit(root, '');
  return out;
}

/** A failed check: which one (for the summary) and what exactly. */
interface Problem {
  readonly kind: string;
  readonly text: string;
}

const KIND_ACKED = '1. acknowledged changes lost, or a change half there';

function kindOf(text: string): string {
  if (/neither the acknowledged state/.test(text)) return KIND_ACKED;
  if (/replayed over the server's tree/.test(text)) return "2. the pending journal does not replay to the cached tree";
  if (/blob/.test(text)) return '2. blobs the pending journal needs are gone';
  if (/garbage collection/.test(text)) return '2. the start-up garbage collection took content the tree needs';
  if (/provisional/.test(text)) return '2. provisional marks';
  if (/ lists /.test(text)) return '2. folder listings';
  if (/intent/.test(text)) return '3. intents left after opening';
  if (/server|request/.test(text)) return '4. the server was touched';
  return 'other';
}

/** Problems by kind: how many trials, and the first two of each in full. */
function summarize(problems: readonly Problem[]): string {
  const byKind = new Map<string, Problem[]>();
  for (const p of problems) byKind.set(p.kind, [...(byKind.get(p.kind) ?? []), p]);
  return [...byKind]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([kind, ps]) => `  ${kind}: ${ps.length}\n${ps.slice(0, 2).map(p => `    ${p.text}`).join('\n')}`)
    .join('\n');
}

interface Candidate {
  readonly tree: Tree;
  readonly history: readonly ChildOp[];
}

interface Chain {
  readonly n: number;
  readonly cacheRoot: string;
  /**
   * The states the cache may hold (the acknowledged one, and with an unresolved change in flight), each
   * with the changes that led to it (printed when a check fails, to reproduce it).
   */
  candidates: Candidate[];
  sessions: number;
  counter: number;
}

interface TrialOutcome {
  readonly trial: number;
  readonly chain: number;
  readonly session: number;
  readonly plan: string;
  readonly phase: string;
  readonly category: SessionLog['category'];
  /** The child ran a crash recovery (applied or rolled back an intent). */
  readonly recovered: boolean;
  /** Intent records in the cache at the kill. */
  readonly intentsAtKill: number;
  readonly acks: number;
  readonly pending: number;
  /** The kill's change in flight turned out applied. */
  readonly inFlightApplied?: boolean;
  readonly collecting: boolean;
  readonly ms: number;
}

suite('F5.4 offline journal: crash trials (SIGKILL during saves, journal commits and recovery)', function () {
  this.timeout(120_000);
  let child: Awaited<ReturnType<typeof bundleChild>>;
  let childJs: string;
  let disk: string;
  let server: RunningServer;
  let location: ShareLocation;
  let initialDisk: Map<string, string>;
  const settings: Settings = { ...DEFAULTS, pollIntervalMs: 0 };
  const auth = { stored: async () => GOOD, ask: async () => undefined, save: async () => undefined };
  const outcomes: TrialOutcome[] = [];
  const allProblems: Problem[] = [];
  const random = seededRandom(SEED);
  const started = Date.now();
  let chains = 0;

  suiteSetup(async () => {
    child = await bundleChild('offlineCrashChild');
    childJs = child.js;
    disk = mkdtempSync(join(tmpdir(), 'wdo-offline-crash-server-'));
    for (const d of SERVER_FOLDERS) mkdirSync(join(disk, d), { recursive: true });
    for (const [p, content] of Object.entries(SERVER_FILES)) writeFileSync(join(disk, p), content);
    initialDisk = serverDisk(disk);
    server = await startNephele({ root: disk, mount: '/share', users: USERS });
    location = { scheme: 'dav', authority: `127.0.0.1:${server.port}`, basePath: '/share' };
  });
  suiteTeardown(async () => {
    await server?.close();
    if (disk) rmSync(disk, { recursive: true, force: true });
    child?.dispose();
  });

  /** Opens a copy of the chain's cache as the next session would and checks it; resolves with the problems. */
  async function check(session: SessionLog, copy: string, expected: Tree[]): Promise<{ problems: string[]; intentsAtKill: number; pending: number; matched?: Tree }> {
    const problems: string[] = [];
    // the journal as the kill left it (opening the store cuts a torn log tail, nothing else)
    const raw = await new DiskShareStores(copy).open(SHARE_ID);
    const atKill = (await raw.loadTable('journal')) as { id: number; state: string }[];
    await raw.close();
    const intentsAtKill = atKill.filter(r => r.state === 'intent').length;
    if (intentsAtKill > 1) problems.push(`${intentsAtKill} intents at the kill (changes are recorded one at a time)`);

    const log = new RecordingLogger();
    const remote = new WebdavRemote(location, () => settings, log);
    const share = new Share(location, remote, auth, log, async r => openCache(await new DiskShareStores(copy).open(SHARE_ID), r, () => settings, log));
    let pending: readonly JournalItem[] = [];
    let matched: Tree | undefined;
    try {
      assert.ok(await share.hasCache(), `the cache opens (${log.lines.filter(l => l.startsWith('error')).join('; ')})`);
      assert.deepEqual(share.connectionState, { kind: 'offline', manual: true }, 'the share opens offline by hand, as the child left it');
      const tree = await walkShare(share, problems);
      // wait for the start-up garbage collection (freeing nothing: the path does not exist), then look again
      await share.freeUpSpace('/.no-such-item');
      const again = await walkShare(share, []);
      if (!sameTree(tree, again)) problems.push(`the start-up garbage collection took content the tree needs: ${treeDiff(again, tree).join('; ')}`);

      // 1. the acknowledged state, or that plus the change in flight
      matched = expected.find(t => sameTree(tree, t));
      if (!matched) {
        problems.push(
          `the cached tree is neither the acknowledged state nor that plus the change in flight (${session.inFlight ? JSON.stringify(session.inFlight) : 'none'}); ` +
            `against the acknowledged state: ${treeDiff(tree, expected[0]).join('; ')}` +
            (expected.length > 1 ? `; against it plus the change in flight: ${treeDiff(tree, expected[expected.length - 1]).join('; ')}` : ''),
        );
      }

      // 2. nothing half-applied: the journal replayed over the server's tree is the cached tree
      pending = await share.pendingChanges();
      const replay = await replayed(share, pending, problems);
      if (!sameTree(tree, replay)) {
        problems.push(
          `the pending journal (${pending.map(i => `${i.id} ${describeJournalOp(i.op)}`).join(', ')}) replayed over the server's tree is not the cached tree: ` +
            treeDiff(tree, replay).join('; '),
        );
      }
      const base = serverTree();
      for (const [path, node] of tree) {
        const was = base.get(path);
        const changed = !was || was.type !== node.type || (node.type === 'file' && was.type === 'file' && was.content !== node.content);
        const provisional = share.isProvisional(path);
        if (changed && !provisional) problems.push(`${path} differs from the server (${node.type === 'file' ? describeContent(node.content) : 'folder'}) but is not provisional`);
        if (provisional && !pending.some(i => covers(i.op, path))) {
          problems.push(`${path} is provisional but no pending change covers it (pending: ${pending.map(i => describeJournalOp(i.op)).join(', ') || 'none'})`);
        }
      }
      const requests = [...remote.requestCounts.values()].reduce((a, b) => a + b, 0);
      if (requests) problems.push(`the share, offline by hand, sent ${requests} requests`);
    } finally {
      await share.dispose();
    }

    // 3. no intent left once the share was open
    const after = await new DiskShareStores(copy).open(SHARE_ID);
    const records = (await after.loadTable('journal')) as { id: number; state: string }[];
    await after.close();
    const intents = records.filter(r => r.state !== 'applied');
    if (intents.length) problems.push(`journal records still intents after the share opened: ${intents.map(r => r.id).join(', ')}`);
    const ids = (xs: readonly { id: number }[]) => xs.map(x => x.id).sort((a, b) => a - b).join(',');
    if (ids(records) !== ids(pending)) problems.push(`the journal on disk (${ids(records)}) is not the pending list (${ids(pending)})`);

    // 4. the server is untouched
    const now = serverDisk(disk);
    if (JSON.stringify([...now].sort()) !== JSON.stringify([...initialDisk].sort())) {
      problems.push(`the server's folder changed: ${[...now.keys()].filter(k => now.get(k) !== initialDisk.get(k)).join(', ') || [...initialDisk.keys()].filter(k => !now.has(k)).join(', ')}`);
    }
    const writes = WRITE_METHODS.map(m => [m, server.requests.get(m) ?? 0] as const).filter(([, n]) => n > 0);
    if (writes.length) problems.push(`the server answered writes: ${writes.map(([m, n]) => `${m} ×${n}`).join(', ')}`);
    return { problems, intentsAtKill, pending: pending.length, matched };
  }

  /** How the next child of a chain is killed. */
  function planFor(session: number, intentLeft: boolean): KillPlan {
    const r = random();
    const fallbackMs = random() * 60;
    const extra = () => (random() < 0.5 ? 0 : random() * 2);
    if (session > 0 && (intentLeft ? r < 0.7 : r < 0.35)) {
      // interrupt the recovery (on its log line) or the opening (a random moment)
      if (intentLeft && random() < 0.75) return { kind: 'marker', after: 'opening', marker: 'recovering', nth: 1, extraMs: extra(), fallbackMs };
      return { kind: 'delay', after: 'opening', delayMs: random() * 25 };
    }
    if (random() < 0.4) return { kind: 'delay', after: 'changing', delayMs: random() * 150 };
    const markers = ['begin', 'blob', 'blob-done', 'commit intent', 'committed intent', 'committed intent', 'commit journal', 'committed journal'];
    return { kind: 'marker', after: 'changing', marker: markers[Math.floor(random() * markers.length)], nth: 1 + Math.floor(random() * 12), extraMs: extra(), fallbackMs };
  }

  /** Runs one chain (a cache folder, one child after another, each killed and checked); resolves with its trials. */
  async function runChain(maxTrials: number): Promise<{ outcomes: TrialOutcome[]; problems: Problem[] }> {
    const n = ++chains;
    const chain: Chain = { n, cacheRoot: mkdtempSync(join(tmpdir(), 'wdo-offline-crash-cache-')), candidates: [{ tree: serverTree(), history: [] }], sessions: 0, counter: 0 };
    const results: TrialOutcome[] = [];
    const problems: Problem[] = [];
    let intentLeft = false;
    try {
      while (chain.sessions < MAX_SESSIONS && results.length < maxTrials) {
        const session = chain.sessions++;
        const plan = planFor(session, intentLeft);
        const config: ChildConfig = {
          cacheRoot: chain.cacheRoot,
          port: server.port,
          user: GOOD.username,
          password: GOOD.password,
          seed: SEED * 31 + n * 1009 + session,
          counter: n * 10_000 + session * 1000,
          warm: session === 0,
        };
        const run = await runChild(childJs, config, plan);
        const trial = outcomes.length + results.length + 1;
        const log = readSession(run.lines);
        const context = `trial ${trial} (chain ${n}, session ${session}, killed ${describePlan(plan)} after ${run.ms} ms: ${log.phase})`;
        if (run.signal !== 'SIGKILL') {
          problems.push({ kind: 'the child', text: `${context}: the child ended by itself (exit ${run.code})\n${run.stderr}` });
          break;
        }
        if (session === 0 && !log.offline) {
          problems.push({ kind: 'the child', text: `${context}: killed before it went offline (the plans never do that)\n${run.stderr}` });
          break;
        }
        // the states the cache may be in: from what the child found at its start, its acknowledged
        // changes, and the change in flight
        let from = chain.candidates;
        if (log.tree) {
          const seen = JSON.stringify(Object.entries(log.tree).map(([p, s]) => (s === 'dir' ? `${p}/` : `${p} ${s}`)).sort());
          from = from.filter(c => JSON.stringify(treeLines(c.tree)) === seen);
          if (!from.length) {
            problems.push({ kind: KIND_ACKED, text: `${context}: the tree the next child found on opening the cache is none of the states it may be in` });
            break;
          }
        }
        const expected: Candidate[] = [];
        const withInFlight = new Set<Tree>();
        for (const c of from) {
          const acked = { tree: log.acks.reduce(applyChildOp, c.tree), history: [...c.history, ...log.acks] };
          expected.push(acked);
          if (log.inFlight) {
            const next = { tree: applyChildOp(acked.tree, log.inFlight), history: [...acked.history, log.inFlight] };
            expected.push(next);
            withInFlight.add(next.tree);
          }
        }
        const copy = mkdtempSync(join(tmpdir(), 'wdo-offline-crash-copy-'));
        let result;
        try {
          cpSync(chain.cacheRoot, copy, { recursive: true });
          result = await check(log, copy, expected.map(c => c.tree));
        } finally {
          rmSync(copy, { recursive: true, force: true });
        }
        results.push({
          trial,
          chain: n,
          session,
          plan: describePlan(plan),
          phase: log.phase,
          category: log.category,
          recovered: log.recoveries.length > 0,
          intentsAtKill: result.intentsAtKill,
          acks: log.acks.length,
          pending: result.pending,
          inFlightApplied: log.inFlight && result.matched ? withInFlight.has(result.matched) : undefined,
          collecting: log.collecting,
          ms: run.ms,
        });
        const history = JSON.stringify(expected.at(-1)!.history);
        for (const text of result.problems) {
          problems.push({ kind: kindOf(text), text: `${context}:\n        ${text}\n        changes (acknowledged, then the one in flight): ${history}` });
        }
        // the chain goes on unless what the cache holds is unknown now
        if (!result.matched) break;
        chain.candidates = [...new Map(expected.map(c => [JSON.stringify(treeLines(c.tree)), c])).values()];
        intentLeft = result.intentsAtKill > 0;
        if (!(intentLeft ? random() < 0.85 : random() < 0.4)) break;
      }
    } finally {
      rmSync(chain.cacheRoot, { recursive: true, force: true });
    }
    return { outcomes: results, problems };
  }

  for (let first = 0; first < TRIALS; first += PER_TEST) {
    test(`trials ${first + 1}–${first + PER_TEST}`, async () => {
      const problems: Problem[] = [];
      const until = first + PER_TEST;
      while (outcomes.length < until) {
        const chain = await runChain(until - outcomes.length);
        outcomes.push(...chain.outcomes);
        problems.push(...chain.problems);
      }
      allProblems.push(...problems);
      assert.equal(problems.length, 0, `problems found:\n${summarize(problems)}`);
    });
  }

  test('the kills landed in every phase: saves, journal commits, recovery', () => {
    const count = (f: (o: TrialOutcome) => boolean) => outcomes.filter(f).length;
    const tally = (key: (o: TrialOutcome) => string) => {
      const m = new Map<string, number>();
      for (const o of outcomes) m.set(key(o), (m.get(key(o)) ?? 0) + 1);
      return [...m].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ');
    };
    console.log(
      `      [figures] ${outcomes.length} trials (kills) in ${chains} cache folders, ${((Date.now() - started) / 1000).toFixed(1)} s\n` +
        `      [figures] by category: ${tally(o => o.category)}\n` +
        `      [figures] by phase: ${tally(o => o.phase.replace(/^(save|create|mkdir|delete|rename|copy): /, 'change: '))}\n` +
        `      [figures] by change: ${tally(o => (o.category === 'change' ? o.phase.split(':')[0] : '-'))}\n` +
        `      [figures] intents in the cache at the kill ${count(o => o.intentsAtKill > 0)}; children that ran a recovery ${count(o => o.recovered)}, ` +
        `of them killed during it ${count(o => o.recovered && o.category === 'recovery')} (an intent still there after that ${count(o => o.recovered && o.category === 'recovery' && o.intentsAtKill > 0)}); ` +
        `killed while garbage collection deleted blobs ${count(o => o.collecting)}\n` +
        `      [figures] change in flight found applied ${count(o => o.inFlightApplied === true)}, not applied ${count(o => o.inFlightApplied === false)}; ` +
        `acknowledged changes per child ${Math.min(...outcomes.map(o => o.acks))}–${Math.max(...outcomes.map(o => o.acks))} (total ${outcomes.reduce((a, o) => a + o.acks, 0)}); ` +
        `pending journal after recovery ${Math.min(...outcomes.map(o => o.pending))}–${Math.max(...outcomes.map(o => o.pending))}; ` +
        `child lifetime ${Math.min(...outcomes.map(o => o.ms))}–${Math.max(...outcomes.map(o => o.ms))} ms\n` +
        `      [figures] problems by check: ${[...new Set(allProblems.map(p => p.kind))].map(k => `${k} ×${allProblems.filter(p => p.kind === k).length}`).join('; ') || 'none'}`,
    );
    assert.ok(outcomes.length >= TRIALS, `${outcomes.length} trials`);
    assert.ok(count(o => o.category === 'change') >= TRIALS / 4, 'many kills landed inside a change');
    assert.ok(count(o => o.phase.endsWith('committing the intent')) > 0, 'some kills landed while an intent was committed');
    assert.ok(count(o => o.phase.endsWith('intent durable, applying it') || o.phase.endsWith('committing the applied change')) > 0, 'some kills landed between an intent and its applied commit');
    assert.ok(count(o => o.phase.endsWith('storing the content')) > 0, 'some kills landed while content was stored');
    assert.ok(count(o => o.intentsAtKill > 0) > 0, 'some kills left an intent to recover');
    assert.ok(count(o => o.recovered) > 0, 'some children ran a crash recovery');
    assert.ok(count(o => o.category === 'recovery') > 0, 'some kills landed during a recovery');
  });
});

/** A disk store whose commits take `delayMs` longer (a slow disk); nothing else changes. */
class SlowCommits implements ShareStore {
  constructor(
    private readonly inner: ShareStore,
    private readonly delayMs: number,
  ) {}
  loadIndex() {
    return this.inner.loadIndex();
  }
  loadTable(table: string) {
    return this.inner.loadTable(table);
  }
  loadMeta() {
    return this.inner.loadMeta();
  }
  async commit(batch: IndexBatch) {
    await new Promise(r => setTimeout(r, this.delayMs));
    return this.inner.commit(batch);
  }
  putBlobStream(chunks: AsyncIterable<Uint8Array>) {
    return this.inner.putBlobStream(chunks);
  }
  putBlob(data: Uint8Array) {
    return this.inner.putBlob(data);
  }
  getBlob(hash: string) {
    return this.inner.getBlob(hash);
  }
  deleteBlobs(hashes: readonly string[]) {
    return this.inner.deleteBlobs(hashes);
  }
  listBlobs() {
    return this.inner.listBlobs();
  }
  clear() {
    return this.inner.clear();
  }
  close() {
    return this.inner.close();
  }
}

// The crash trials' findings, each reduced to a fixed sequence (no child, no kill, no randomness).
suite('F5.4 offline journal: crash-trial findings, reproduced deterministically', function () {
  this.timeout(30_000);
  let disk: string;
  let server: RunningServer;
  let location: ShareLocation;
  let cacheRoot: string;
  const settings: Settings = { ...DEFAULTS, pollIntervalMs: 0 };
  const auth = { stored: async () => GOOD, ask: async () => undefined, save: async () => undefined };
  const opened: Share[] = [];

  suiteSetup(async () => {
    disk = mkdtempSync(join(tmpdir(), 'wdo-offline-crash-server-'));
    for (const d of SERVER_FOLDERS) mkdirSync(join(disk, d), { recursive: true });
    for (const [p, content] of Object.entries(SERVER_FILES)) writeFileSync(join(disk, p), content);
    server = await startNephele({ root: disk, mount: '/share', users: USERS });
    location = { scheme: 'dav', authority: `127.0.0.1:${server.port}`, basePath: '/share' };
  });
  suiteTeardown(async () => {
    await server?.close();
    if (disk) rmSync(disk, { recursive: true, force: true });
  });
  setup(() => (cacheRoot = mkdtempSync(join(tmpdir(), 'wdo-offline-crash-cache-'))));
  teardown(async () => {
    for (const s of opened.splice(0)) await s.dispose();
    rmSync(cacheRoot, { recursive: true, force: true });
  });

  async function open(wrap: (store: ShareStore) => ShareStore = s => s): Promise<Share> {
    const log = new RecordingLogger();
    const share = new Share(location, new WebdavRemote(location, () => settings, log), auth, log, async r =>
      openCache(wrap(await new DiskShareStores(cacheRoot).open(SHARE_ID)), r, () => settings, log),
    );
    assert.ok(await share.hasCache());
    opened.push(share);
    return share;
  }

  /** A share whose whole tree is cached, offline by hand. */
  async function warmOffline(): Promise<Share> {
    const share = await open();
    await walkShare(share, []);
    await share.goOffline();
    return share;
  }

  /** The checks of the trials that need no crash: the journal replays to the cached tree, which is the model. */
  async function assertJournalMatches(share: Share, ops: readonly ChildOp[]): Promise<void> {
    const problems: string[] = [];
    const tree = await walkShare(share, problems);
    assert.deepEqual(treeDiff(tree, ops.reduce(applyChildOp, serverTree())), [], 'the cached tree is what the changes made');
    const pending = await share.pendingChanges();
    const replay = await replayed(share, pending, problems);
    assert.deepEqual(
      treeDiff(replay, tree),
      [],
      `the pending journal [${pending.map(i => describeJournalOp(i.op)).join(', ')}], replayed over the server's tree, gives the cached tree`,
    );
    assert.deepEqual(problems, []);
  }

  const cases: [string, ChildOp[]][] = [
    [
      'renamed here, saved, deleted',
      [
        { k: 'rename', from: '/b.txt', to: '/x.txt', overwrite: false },
        { k: 'save', path: '/x.txt', c: 1 },
        { k: 'delete', path: '/x.txt' },
      ],
    ],
    [
      'renamed here, saved, renamed again',
      [
        { k: 'rename', from: '/b.txt', to: '/x.txt', overwrite: false },
        { k: 'save', path: '/x.txt', c: 2 },
        { k: 'rename', from: '/x.txt', to: '/y.txt', overwrite: false },
      ],
    ],
    [
      'copied here, saved, deleted',
      [
        { k: 'copy', from: '/a.txt', to: '/c.txt', overwrite: false },
        { k: 'save', path: '/c.txt', c: 3 },
        { k: 'delete', path: '/c.txt' },
      ],
    ],
  ];
  for (const [name, ops] of cases) {
    test(`collapsing: a file ${name} — the journal still replays to the cached tree`, async () => {
      const share = await warmOffline();
      for (const op of ops) await runOp(share, op);
      await assertJournalMatches(share, ops);
    });
  }

  test('collapsing: a folder renamed and renamed back — nothing pending, nothing left provisional', async () => {
    const share = await warmOffline();
    const ops: ChildOp[] = [
      { k: 'rename', from: '/docs', to: '/moved', overwrite: false },
      { k: 'rename', from: '/moved', to: '/docs', overwrite: false },
    ];
    for (const op of ops) await runOp(share, op);
    await assertJournalMatches(share, ops);
    assert.deepEqual((await share.pendingChanges()).map(i => describeJournalOp(i.op)), [], 'moved back: nothing to replay');
    const marked = ['/docs', '/docs/one.md', '/docs/sub/three.md'].filter(p => share.isProvisional(p));
    assert.deepEqual(marked, [], 'no item is provisional without a pending change (the replay never clears it)');
  });

  test('a restart that recovers an interrupted intent keeps the blobs the pending journal needs', async () => {
    // a pending save whose base version (the server's content) only the journal refers to
    let share = await warmOffline();
    await runOp(share, { k: 'save', path: '/a.txt', c: 4 });
    const [write] = await share.pendingChanges();
    assert.ok(write.op.kind === 'write' && write.op.base?.blob, 'the save keeps its base version');
    const baseBlob = write.op.base.blob;
    await share.dispose();
    opened.splice(0);
    // the state a kill between an intent's commit and its applied commit leaves (journal.ts's record format)
    const store = await new DiskShareStores(cacheRoot).open(SHARE_ID);
    const intent = { id: write.id + 1, op: { kind: 'mkdir', path: '/made-before-the-crash' }, state: 'intent', time: Date.now() };
    await store.commit({ put: [], delete: [], tables: { journal: { put: [intent] } } });
    await store.close();
    // the next session recovers it, on a disk whose commits take 50 ms
    share = await open(s => new SlowCommits(s, 50));
    await share.freeUpSpace('/.no-such-item'); // waits for the start-up garbage collection
    assert.deepEqual(
      (await share.pendingChanges()).map(i => describeJournalOp(i.op)),
      ['write /a.txt', 'mkdir /made-before-the-crash'],
      'the intent was applied',
    );
    assert.ok(await share.blob(write.op.blob), 'the saved content is kept');
    assert.ok(await share.blob(baseBlob), 'the base version of the pending save is kept (diffs, merges and conflict checks need it)');
  });
});
