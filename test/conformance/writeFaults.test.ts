// Write-fault trials: ≥ 300 random short sequences of changes (seeded) against nephele and Apache, each
// with one or two faults armed that the other fault suites do not make — at the HTTP level
// (test/support/httpFaultProxy.ts: a 5xx without the change, the change stored and a 503 answered, an
// answer stalled mid-body until the client's timeout, a reset mid-request or mid-answer, a 204/201 for a
// change never stored, a gateway's sign-in page) and in the cache store (test/support/faultyStore.ts: a
// commit or a blob write failing with ENOSPC or EROFS). The changes are saves of existing files, new
// files, new folders, renames, deletes and copies, some made online and some offline then replayed by
// "Go Online". The trial models what was acknowledged (the call resolved), what was refused (the call
// rejected because the store failed) and what failed otherwise (unacknowledged: either state is allowed,
// never a mix, never twice); then it disarms, goes online (retrying a few times) and checks:
//   1. every acknowledged change is on the server's disk exactly as modelled (0 acknowledged changes lost);
//   2. nothing applied twice: the server's folder is exactly the model — no duplicate, no conflict copy,
//      no moved item at both places, a copy once;
//   3. nothing pending and no conflict (there is no colleague here: any conflict is a false one);
//   4. a refused change is not on the server, not pending, and left nothing provisional behind.
// Also: a 2xx the server does not show puts the share offline with cause 'unstored' ('signin' for a web
// page). Problems are collected, each trial's summary printed, and the figures at the end; findings that
// are product bugs are reduced to fixed sequences in the last suite of this file.
// WEBDAV_FAULT_TRIALS sets the number of trials (default 300; 40 % on nephele, 60 % on Apache),
// WEBDAV_FAULT_SEED the seed, WEBDAV_FAULT_TRIAL=<n> runs trial n alone (as printed); WEBDAV_FAULT_VERBOSE=1
// prints every trial's steps (=log: and its log), not only those of trials with a problem. About 2 minutes
// for 300 trials on 2 cores (timeouts of 1 s; a stalled answer costs one).
import * as assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isShareError } from '../../src/core/errors';
import { DEFAULTS, type Settings } from '../../src/core/settings';
import type { ShareLocation } from '../../src/core/shareLocation';
import { describeState as describeConnection } from '../../src/offline/connection';
import { describeOp } from '../../src/offline/journal';
import type { JournalOp } from '../../src/offline/journalOps';
import { DiskShareStores, DiskStoreError } from '../../src/platform/diskShareStore';
import { probeCapabilities, type Capabilities } from '../../src/remote/capabilities';
import { WebdavRemote } from '../../src/remote/webdavRemote';
import { Share } from '../../src/share/share';
import { startApache } from '../support/apacheServer';
import { FaultyStore, faultyDiskCache, type StoreFault } from '../support/faultyStore';
import { ANY_METHOD, HttpFaultProxy, WRITE_METHODS, type FaultEvent, type HttpFault } from '../support/httpFaultProxy';
import { startNephele, type RunningServer } from '../support/nepheleServer';
import { RecordingLogger } from '../support/recordingLogger';
import { assertServerInstalled, handToServer, tempFolder, USERS } from '../support/servers';
import { seededRandom } from '../unit/shareStore.suite';

const TRIALS = Number(process.env.WEBDAV_FAULT_TRIALS ?? 300);
const SEED = Number(process.env.WEBDAV_FAULT_SEED ?? 0x3a17f);
const ONLY = process.env.WEBDAV_FAULT_TRIAL ? Number(process.env.WEBDAV_FAULT_TRIAL) : undefined;
const PER_TEST = 25;
/** nephele answers a request in 10–20 ms, Apache in 2–5: Apache gets more of the trials. */
const NEPHELE_TRIALS = Math.ceil(TRIALS * 0.4);
/** Request and transfer timeout: a stalled answer costs this much. */
const TIMEOUT_MS = 1000;
/** "Go Online" attempts after the faults are disarmed. */
const FINAL_ATTEMPTS = 4;
/** Where src/share/serverCapabilities.ts keeps the probed capabilities among the per-share values. */
const CAPABILITIES_KEY = 'capabilities';
const GOOD = { username: 'alice', password: USERS.alice };
const auth = { stored: async () => GOOD, ask: async () => undefined, save: async () => undefined };
const bytes = (s: string) => new TextEncoder().encode(s);

// --- the faults

const HTTP_KINDS = ['500', '502', '503', 'landed+503', 'stall', 'reset mid-request', 'reset mid-answer', '204 not stored', '201 not stored', 'sign-in page'] as const;
const STORE_KINDS = ['commit ENOSPC', 'commit EROFS', 'putBlob ENOSPC', 'putBlob EROFS'] as const;
const KINDS = [...HTTP_KINDS, ...STORE_KINDS];
type HttpKind = (typeof HTTP_KINDS)[number];
type StoreKind = (typeof STORE_KINDS)[number];
type FaultKind = HttpKind | StoreKind;

interface ArmedFault {
  readonly kind: FaultKind;
  readonly http?: HttpFault;
  readonly store?: StoreFault;
  readonly label: string;
}

const HTTP_FAULTS: Record<HttpKind, Pick<HttpFault, 'kind' | 'status'>> = {
  '500': { kind: 'status', status: 500 },
  '502': { kind: 'status', status: 502 },
  '503': { kind: 'status', status: 503 },
  'landed+503': { kind: 'landedThen503' },
  stall: { kind: 'stall' },
  'reset mid-request': { kind: 'resetRequest' },
  'reset mid-answer': { kind: 'resetAnswer' },
  '204 not stored': { kind: 'fake2xx', status: 204 },
  '201 not stored': { kind: 'fake2xx', status: 201 },
  'sign-in page': { kind: 'signIn' },
};

function httpFault(kind: HttpKind, random: () => number): ArmedFault {
  // writes mostly; reads (PROPFIND, GET) too for faults a read can meet
  const onWrites = kind === 'landed+503' || kind.endsWith('not stored') || random() < 0.65;
  // sometimes one method only, so that each kind of change meets each fault
  const single = onWrites && random() < 0.4 ? [WRITE_METHODS[Math.floor(random() * WRITE_METHODS.length)]] : undefined;
  const methods = single ?? (onWrites ? WRITE_METHODS : ANY_METHOD);
  const nth = 1 + Math.floor(random() * (single ? 2 : onWrites ? 5 : 14));
  const fault: HttpFault = { ...HTTP_FAULTS[kind], methods, nth };
  return { kind, http: fault, label: `${kind} at ${single ? single[0] : onWrites ? 'write' : 'request'} #${nth}` };
}

function storeFault(kind: StoreKind, random: () => number): ArmedFault {
  const [op, code] = kind.split(' ') as ['commit' | 'putBlob', 'ENOSPC' | 'EROFS'];
  const nth = 1 + Math.floor(random() * (op === 'commit' ? 6 : 3));
  const sticky = random() < 0.3;
  return { kind, store: { op, code, nth, sticky }, label: `${kind} at ${op} #${nth}${sticky ? ' and after (until disarmed)' : ''}` };
}

/** One or two faults: the first cycles through every kind (so each is tried evenly), the second is random. */
function chooseFaults(trial: number, random: () => number): ArmedFault[] {
  const make = (kind: FaultKind) => ((STORE_KINDS as readonly string[]).includes(kind) ? storeFault(kind as StoreKind, random) : httpFault(kind as HttpKind, random));
  const faults = [make(KINDS[(trial - 1) % KINDS.length])];
  if (random() < 0.35) {
    let second = KINDS[Math.floor(random() * KINDS.length)];
    // one store fault at a time
    if (faults[0].store && (STORE_KINDS as readonly string[]).includes(second)) second = HTTP_KINDS[Math.floor(random() * HTTP_KINDS.length)];
    faults.push(make(second));
  }
  return faults;
}

// --- the model: the trial folder as the server should hold it (relative paths; null is a folder)

type Tree = Map<string, string | null>;
/** The state of some paths: content, null for a folder, undefined for nothing there. */
type State = Map<string, string | null | undefined>;

/** A change whose call failed (not refused): the server may hold any of `alts` (the first: before it). */
interface Unacknowledged {
  readonly op: Op;
  readonly alts: State[];
}

type Op =
  | { readonly kind: 'save' | 'create' | 'delete' | 'mkdir' | 'rmdir'; readonly path: string; readonly content?: string }
  | { readonly kind: 'rename' | 'copy'; readonly from: string; readonly to: string };

function opPathsOf(op: Op): string[] {
  return 'from' in op ? [op.from, op.to] : [op.path];
}

function describe(op: Op): string {
  switch (op.kind) {
    case 'rename':
    case 'copy':
      return `${op.kind} ${op.from} → ${op.to}`;
    default:
      return `${op.kind} ${op.path}`;
  }
}

/** The state of the op's paths in `tree` (for a folder deleted: all below it too), and after the op. */
function statesOf(tree: Tree, op: Op): { before: State; after: State } {
  const paths = op.kind === 'rmdir' ? [...tree.keys()].filter(p => p === op.path || p.startsWith(`${op.path}/`)) : opPathsOf(op);
  const before: State = new Map(paths.map(p => [p, tree.get(p)]));
  const after: State = new Map(before);
  switch (op.kind) {
    case 'rmdir':
      for (const p of paths) after.set(p, undefined);
      break;
    case 'save':
    case 'create':
      after.set(op.path, op.content);
      break;
    case 'mkdir':
      after.set(op.path, null);
      break;
    case 'delete':
      after.set(op.path, undefined);
      break;
    case 'rename':
      after.set(op.to, tree.get(op.from));
      after.set(op.from, undefined);
      break;
    case 'copy':
      after.set(op.to, tree.get(op.from));
      break;
  }
  return { before, after };
}

function apply(tree: Tree, state: State): void {
  for (const [p, v] of state) {
    if (v === undefined) tree.delete(p);
    else tree.set(p, v);
  }
}

function matches(tree: Tree, state: State): boolean {
  return [...state].every(([p, v]) => (v === undefined ? !tree.has(p) : tree.has(p) && tree.get(p) === v));
}

function show(v: string | null | undefined): string {
  return v === undefined ? 'nothing' : v === null ? 'a folder' : JSON.stringify(v);
}

/** The trial folder on the server's disk. */
function diskTree(root: string): Tree {
  const out: Tree = new Map();
  const walk = (rel: string) => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      if (statSync(join(root, r)).isDirectory()) {
        out.set(r, null);
        walk(r);
      } else out.set(r, readFileSync(join(root, r), 'utf8'));
    }
  };
  walk('');
  return out;
}

const INITIAL: [string, string | null][] = [
  ['docs', null],
  ['docs/a.md', 'alpha\n'],
  ['docs/b.md', 'bravo\n'],
  ['docs/c.md', 'charlie\n'],
  ['docs/d.md', 'delta\n'],
  ['docs/e.md', 'echo\n'],
  ['sub', null],
  ['sub/x.md', 'x-ray\n'],
  ['sub/y.md', 'yankee\n'],
];

/**
 * A random change among what the model allows: items already changed in this trial (`locked`) are left
 * alone (Apache's etag of a changed file is weak for a second: a second change would wait for it); new
 * items go into any folder but those of failed or refused changes (`unusable`); new folders go at the top
 * or into a folder made in this trial, and only those are deleted (with what they hold).
 */
function pickOp(random: () => number, model: Tree, locked: ReadonlySet<string>, unusable: ReadonlySet<string>, counter: { n: number }, trial: number, step: number): Op {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)];
  const files = [...model].filter(([p, v]) => v !== null && !locked.has(p)).map(([p]) => p);
  const folders = [...model].filter(([p, v]) => v === null && !unusable.has(p)).map(([p]) => p);
  // a folder holding what a failed or refused change may have left is not deleted: the server may have it
  const made = folders.filter(f => !INITIAL.some(([p]) => p === f) && ![...unusable].some(u => u.startsWith(`${f}/`)));
  const weights: (readonly [Op['kind'], number])[] = [
    ['create', 2],
    ['mkdir', 1],
    ...(files.length ? ([['save', 3], ['rename', 2], ['delete', 1], ['copy', 1]] as const) : []),
    ...(made.length ? ([['rmdir', 1]] as const) : []),
  ];
  let r = random() * weights.reduce((a, [, w]) => a + w, 0);
  let kind: Op['kind'] = weights[0][0];
  for (const [k, w] of weights) {
    if ((r -= w) < 0) {
      kind = k;
      break;
    }
  }
  const folder = pick(folders.length ? folders : ['docs']);
  const n = ++counter.n;
  switch (kind) {
    case 'save': {
      const path = pick(files);
      return { kind, path, content: `${path} saved in trial ${trial}, step ${step}\n` };
    }
    case 'create':
      return { kind, path: `${folder}/n${n}.md`, content: `new n${n} of trial ${trial}\n` };
    case 'mkdir':
      return { kind, path: made.includes(folder) ? `${folder}/m${n}` : `m${n}` };
    case 'rmdir':
      return { kind, path: pick(made) };
    case 'delete':
      return { kind, path: pick(files) };
    case 'rename':
      return { kind, from: pick(files), to: `${folder}/r${n}.md` };
    case 'copy':
      return { kind, from: pick(files), to: `${folder}/c${n}.md` };
  }
}

// --- figures

interface Figures {
  trials: number;
  ms: number;
  byKind: Record<string, { trials: number; fired: number }>;
  acknowledged: number;
  acknowledgedOnline: number;
  acknowledgedOffline: number;
  refused: number;
  failed: number;
  replays: number;
  retries: number;
  replayedChanges: number;
  identical: number;
  merged: number;
  resumes: number;
  causes: Record<string, number>;
  /** HTTP faults that fired, by the request's method. */
  firedOn: Record<string, number>;
  recovered: number;
  /** Conflicts over an upload the server kept in part after the proxy cut it (a server defect, handled). */
  partialUploads: number;
  problems: Problem[];
}

interface Problem {
  readonly trial: number;
  readonly kind: string;
  readonly text: string;
}

function newFigures(): Figures {
  return {
    trials: 0,
    ms: 0,
    byKind: Object.fromEntries(KINDS.map(k => [k, { trials: 0, fired: 0 }])),
    acknowledged: 0,
    acknowledgedOnline: 0,
    acknowledgedOffline: 0,
    refused: 0,
    failed: 0,
    replays: 0,
    retries: 0,
    replayedChanges: 0,
    identical: 0,
    merged: 0,
    resumes: 0,
    causes: {},
    firedOn: {},
    recovered: 0,
    partialUploads: 0,
    problems: [],
  };
}

/** A failure that comes from the cache store (a full or read-only disk): the change was refused. */
function isStoreRefusal(err: unknown): boolean {
  for (let e = err as { code?: string; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (e instanceof DiskStoreError || isShareError(e, 'InsufficientStorage')) return true;
  }
  return false;
}

function journalPaths(op: JournalOp): string[] {
  return op.kind === 'move' || op.kind === 'copy' ? [op.from, op.to] : [op.path];
}

// --- the trials

const SERVERS = [
  { name: 'nephele', start: startNephele, first: 1, count: NEPHELE_TRIALS },
  { name: 'apache', start: startApache, first: NEPHELE_TRIALS + 1, count: TRIALS - NEPHELE_TRIALS },
];

for (const kind of SERVERS) {
  const trials = Array.from({ length: kind.count }, (_, i) => kind.first + i).filter(t => ONLY === undefined || t === ONLY);
  if (!trials.length) continue;
  suite(`conformance: write faults on ${kind.name} (HTTP answers, stalls, resets, a full or read-only cache store)`, function () {
    this.timeout(600_000);
    let disk: ReturnType<typeof tempFolder>;
    let server: RunningServer;
    let proxy: HttpFaultProxy;
    let location: ShareLocation;
    /** The server's capabilities, probed once: every trial's cache starts with them, as a long-open share's does. */
    let capabilities: Capabilities;
    const figures = newFigures();

    suiteSetup(async () => {
      if (kind.name === 'apache') assertServerInstalled('apache');
      disk = tempFolder(`wdo-writefaults-${kind.name}-`);
      server = await kind.start({ root: disk.path, mount: '/share', users: USERS });
      proxy = await new HttpFaultProxy(server.port).start();
      location = { scheme: 'dav', authority: `127.0.0.1:${proxy.port}`, basePath: '/share' };
      const log = new RecordingLogger();
      capabilities = await probeCapabilities(new WebdavRemote(location, () => DEFAULTS, log, {}, GOOD), log);
      console.log(`      [seed] ${SEED} (WEBDAV_FAULT_SEED); trials ${kind.first}–${kind.first + kind.count - 1} on ${kind.name}; one alone: WEBDAV_FAULT_TRIAL=<n>`);
    });
    suiteTeardown(async () => {
      await proxy?.stop();
      await server?.close();
      disk?.remove();
    });

    async function runTrial(trial: number): Promise<void> {
      const random = seededRandom(SEED + trial * 7919);
      const problems: Problem[] = [];
      const problem = (kind: string, text: string) => problems.push({ trial, kind, text });
      const lines: string[] = [];
      const t0 = Date.now();
      const line = (text: string) => lines.push(`+${String(Date.now() - t0).padStart(4)} ms ${text}`);
      const dir = `t${trial}`;
      const root = join(disk.path, dir);
      for (const [rel, content] of INITIAL) {
        if (content === null) mkdirSync(join(root, rel), { recursive: true });
        else writeFileSync(join(root, rel), content);
      }
      // Apache gives weak etags for a second after a change: the trial's files are older than that
      const past = new Date(Date.now() - 60_000);
      for (const [rel] of INITIAL) utimesSync(join(root, rel), past, past);
      handToServer(kind.name, root);
      const model: Tree = new Map(INITIAL);
      const cache = tempFolder('wdo-writefaults-cache-');
      const log = new RecordingLogger();
      const settings: Settings = { ...DEFAULTS, pollIntervalMs: 0, requestTimeoutMs: TIMEOUT_MS, transferTimeoutMs: TIMEOUT_MS };
      const seed = await new DiskShareStores(cache.path).open('share');
      await seed.commit({ put: [], delete: [], meta: { [CAPABILITIES_KEY]: capabilities } });
      await seed.close();
      let store: FaultyStore | undefined;
      proxy.disarm();
      const share = new Share(location, new WebdavRemote(location, () => settings, log), auth, log, faultyDiskCache(cache.path, () => settings, log, s => (store = s)));
      const p = (rel: string) => `/${dir}/${rel}`;
      const faults = chooseFaults(trial, random);
      const locked = new Set<string>();
      const unusable = new Set<string>();
      const uncertain: Unacknowledged[] = [];
      const refused: { op: Op; before: State }[] = [];
      const acked = new Set<string>();
      /** Journal ids of changes in conflict (they stay pending until resolved). */
      const conflictOps = new Set<number>();
      const outcome = { acknowledged: 0, refused: 0, failed: 0 };
      let replayed = 0;
      try {
        assert.ok(await share.hasCache(), 'the cache opens');
        share.onDidReplay(r => {
          replayed += r.applied;
          figures.identical += r.identical.length;
          figures.merged += r.merged.length;
        });
        share.onDidChangeConnection(c => {
          if (c.current.kind === 'offline' && !c.current.manual) figures.causes[c.current.cause] = (figures.causes[c.current.cause] ?? 0) + 1;
        });
        // the share has long been open: capabilities probed, the folder read
        await share.capabilities();
        if (log.lines.some(l => l.includes('[capabilities] ifMatch='))) throw new Error(`the share probed its server again: the capabilities seeded under the key "${CAPABILITIES_KEY}" were not used (did the key change? see src/share/serverCapabilities.ts)`);
        for (const folder of ['', 'docs', 'sub']) {
          for (const [name, type] of await share.readDirectory(p(folder).replace(/\/$/, ''))) {
            if (type === 'file') await share.readFile(p(folder ? `${folder}/${name}` : name));
          }
        }
        assert.ok(store, 'the faulty store is in place');
        line('opened, capabilities probed, the folder read');
        // arm
        proxy.arm(faults.flatMap(f => (f.http ? [f.http] : [])));
        const sf = faults.find(f => f.store)?.store;
        if (sf) store.arm(sf);
        line(`faults: ${faults.map(f => f.label).join(' + ')}`);

        /** After a call: did a fault that must leave the share offline with a cause fire during it? */
        const expectCause = (fired: readonly FaultEvent[], what: string) => {
          if (fired.length !== 1) return;
          const { fault, method } = fired[0];
          const want = fault.kind === 'fake2xx' && WRITE_METHODS.includes(method) ? 'unstored' : fault.kind === 'signIn' && method !== 'GET' ? 'signin' : undefined;
          if (!want) return;
          const s = share.connectionState;
          if (s?.kind !== 'offline' || s.manual || s.cause !== want) {
            problem('6. the wrong cause of going offline', `${what}: after "${fired[0].what}" the share should be offline with cause '${want}', but is ${JSON.stringify(s)}`);
          }
        };

        let mode: 'online' | 'offline' = 'online';
        const goOnlineUnderFaults = async (why: string) => {
          const mark = proxy.events.length;
          const online = await share.goOnline();
          figures.replays++;
          line(`${why}: Go Online → ${online ? 'online' : `still offline (${describeState(share)})`}${eventsSince(mark)}`);
          if (!online) expectCause(proxy.events.slice(mark), 'Go Online');
        };
        const eventsSince = (mark: number) => (proxy.events.length > mark ? ` [${proxy.events.slice(mark).map(e => e.what).join('; ')}]` : '');

        const steps = 3 + Math.floor(random() * 4);
        const counter = { n: 0 };
        /** A change that failed (not refused): the user may save (or rename, …) again at the next step. */
        let failedLast: Unacknowledged | undefined;
        for (let step = 1; step <= steps; step++) {
          const want: 'online' | 'offline' = random() < 0.6 ? mode : mode === 'online' ? 'offline' : 'online';
          if (want !== mode) {
            if (want === 'offline') await share.goOffline();
            else await goOnlineUnderFaults('back online');
            mode = want;
          }
          // after a failure the user tries again (a save: as it was, or with more typed since)
          const retryOf = failedLast && random() < 0.6 ? failedLast : undefined;
          failedLast = undefined;
          let op: Op;
          if (retryOf) {
            const o = retryOf.op;
            op = o.kind === 'save' && random() < 0.5 ? { ...o, content: `${o.content}typed after the failed save\n` } : o;
            figures.retries++;
          } else op = pickOp(random, model, locked, unusable, counter, trial, step);
          const { before, after } = statesOf(model, op);
          const mark = proxy.events.length;
          const storeMark = store.events.length;
          // what a refused change must leave as it was: the pending changes on its paths, their provisional marks
          const touching = (items: readonly { id: number; op: JournalOp }[]) =>
            items.filter(i => journalPaths(i.op).some(jp => opPathsOf(op).some(path => jp === p(path) || jp.startsWith(`${p(path)}/`)))).map(i => `${i.id} ${JSON.stringify(i.op)}`);
          const pendingBefore = new Set(touching(await share.pendingChanges()));
          const provisionalBefore = new Set(opPathsOf(op).filter(path => share.isProvisional(p(path))));
          const wasOnline = share.connectionState?.kind === 'online';
          const what = `${wasOnline ? 'online' : 'offline'} ${retryOf ? 'again: ' : ''}${describe(op)}`;
          try {
            await runOp(share, op, p);
            apply(model, after);
            if (retryOf) uncertain.splice(uncertain.indexOf(retryOf), 1); // what it left is now what this one made
            for (const path of before.keys()) acked.add(path);
            figures.acknowledged++;
            outcome.acknowledged++;
            if (wasOnline) figures.acknowledgedOnline++;
            else figures.acknowledgedOffline++;
            line(`${what}: acknowledged${share.connectionState?.kind === 'online' ? '' : ` (the share is ${describeState(share)})`}${eventsSince(mark)}`);
          } catch (err) {
            const msg = (err as Error).message;
            for (const path of before.keys()) unusable.add(path);
            // An online change whose request went out before the refusal (it met a fault on its way back and
            // was to be kept offline, and the store refused that): the server may hold it, in whole or in part
            // — the user was told it failed and still has the bytes. Not a refusal of the model's kind then.
            const sentBeforeRefusal = wasOnline && proxy.events.length > mark;
            if (isStoreRefusal(err) && !sentBeforeRefusal) {
              figures.refused++;
              outcome.refused++;
              // a refused retry leaves what the failed change left: its alternatives still stand
              if (!retryOf) refused.push({ op, before });
              line(`${what}: refused (${msg})${eventsSince(mark)}`);
              // never half-kept: nothing provisional, nothing pending for it
              // (a reconnect running meanwhile may only take pending changes away)
              const provisional = opPathsOf(op).filter(path => share.isProvisional(p(path)) && !provisionalBefore.has(path));
              if (provisional.length) problem('4. refused change half-kept', `${describe(op)} was refused (${msg}), but ${provisional.join(' and ')} ${provisional.length > 1 ? 'are' : 'is'} provisional in the cache`);
              const added = touching(await share.pendingChanges()).filter(i => !pendingBefore.has(i));
              if (added.length) problem('4. refused change half-kept', `${describe(op)} was refused (${msg}), but the pending changes gained ${added.map(i => describeOp(JSON.parse(i.slice(i.indexOf(' ') + 1)) as JournalOp)).join(', ')}`);
            } else {
              figures.failed++;
              outcome.failed++;
              if (retryOf) retryOf.alts.push(after);
              else uncertain.push((failedLast = { op, alts: [before, after] }));
              if (retryOf && op.kind === 'save') failedLast = retryOf; // saved again later, perhaps
              line(`${what}: failed (${msg})${eventsSince(mark)}`);
            }
          }
          if (store.events.length > storeMark) line(`  store: ${store.events.slice(storeMark).join('; ')}`);
          expectCause(proxy.events.slice(mark), describe(op));
          for (const path of before.keys()) locked.add(path);
        }
        if (mode === 'offline') await goOnlineUnderFaults('replay under faults');

        // disarm, then back online
        for (const f of faults) {
          figures.byKind[f.kind].trials++;
          const fired = f.http ? !proxy.unfired.includes(f.http) : store.fired;
          if (fired) figures.byKind[f.kind].fired++;
        }
        for (const e of proxy.events) figures.firedOn[e.method] = (figures.firedOn[e.method] ?? 0) + 1;
        proxy.disarm();
        store.disarm();
        let online = false;
        let attempts = 0;
        for (; !online && attempts < FINAL_ATTEMPTS; attempts++) online = await share.goOnline();
        figures.resumes += attempts - 1;
        line(`disarmed: ${online ? `online after ${attempts} Go Online` : `still offline after ${attempts} Go Online (${describeState(share)})`}`);
        if (!online) problem('3. not back online', `still offline after ${attempts} "Go Online" with the faults disarmed: ${describeState(share)}`);

        // 3. nothing pending, no conflict
        const inConflict = (id: number) => conflictOps.has(id);
        for (const c of await share.conflicts()) conflictOps.add(c.opId);
        let pending = (await share.pendingChanges()).filter(i => !inConflict(i.id));
        if (online && pending.length) {
          problem('3. pending while online', `online, yet ${pending.length} changes pending: ${pending.map(i => describeOp(i.op)).join(', ')}`);
          await share.goOffline();
          const again = await share.goOnline();
          for (const c of await share.conflicts()) conflictOps.add(c.opId);
          pending = (await share.pendingChanges()).filter(i => !inConflict(i.id));
          line(`a reconnect by hand: ${again ? 'online' : 'offline'}, ${pending.length} pending`);
        }
        if (pending.length) problem('3. pending after the reconnect', pending.map(i => describeOp(i.op)).join(', '));
        const onDisk = diskTree(root);
        /** Paths in conflict whose local version (ours) the conflict keeps: the server's stays on its disk. */
        const keptInConflict = new Map<string, string>();
        for (const c of await share.conflicts()) {
          const ours = c.local?.blob ? Buffer.from((await share.blob(c.local.blob)) ?? []).toString() : undefined;
          const rel = c.path.slice(dir.length + 2);
          if (ours !== undefined) keptInConflict.set(rel, ours);
          const theirs = onDisk.get(rel);
          // a server that kept part of an upload the proxy cut (nephele does): another version is there — a
          // conflict is right, as long as ours is kept and theirs is what the server kept
          const cut = proxy.events.some(e => e.fault.kind === 'resetRequest' && e.method === 'PUT' && decodeURI(e.target) === `/share${c.path}`);
          if (cut && ours && typeof theirs === 'string' && theirs.length < ours.length && ours.startsWith(theirs)) {
            figures.partialUploads++;
            line(`conflict at ${rel}: the server kept ${theirs.length} of ${ours.length} bytes of an upload cut mid-request (${JSON.stringify(theirs)}); ours is kept in the conflict`);
            continue;
          }
          problem(
            '3. false conflict',
            `${c.kind} at ${c.path}${c.detail ? ` (${c.detail})` : ''}; our version ${ours !== undefined ? `is recoverable (${JSON.stringify(ours)})` : 'is not kept in the conflict'}; the server has ${show(theirs)}`,
          );
        }
        const recovered = await share.recoveredFiles();
        figures.recovered += recovered.length;

        // 1, 2, 4: the server's disk against the model
        const expected: Tree = new Map(model);
        const uncertainPaths = new Set<string>();
        for (const u of uncertain) {
          for (const path of u.alts[0].keys()) uncertainPaths.add(path);
          const alt = u.alts.find(a => matches(onDisk, a));
          if (alt) apply(expected, alt);
          else {
            problem(
              '2. an unacknowledged change half-applied',
              `${describe(u.op)} failed; the server has none of the states it may have left: ${[...u.alts[0].keys()].map(k => `${k}: ${show(onDisk.get(k))}`).join(', ')}`,
            );
          }
        }
        const refusedPaths = new Set(refused.flatMap(r => [...r.before.keys()]));
        for (const r of refused) {
          if (!matches(onDisk, r.before)) problem('4. refused change on the server', `${describe(r.op)} was refused, but the server has ${[...r.before.keys()].map(k => `${k}: ${show(onDisk.get(k))}`).join(', ')}`);
        }
        for (const [path, v] of expected) {
          const got = onDisk.has(path) ? onDisk.get(path) : undefined;
          if (got === v || refusedPaths.has(path) || uncertainPaths.has(path)) continue;
          // in conflict: ours is kept in the conflict, the server's version is on its disk
          if (keptInConflict.get(path) === v && got !== undefined) continue;
          problem(acked.has(path) ? '1. acknowledged change lost' : '1. an untouched item changed', `${path}: the server has ${show(got)}, expected ${show(v)}`);
        }
        for (const [path, got] of onDisk) {
          if (expected.has(path) || refusedPaths.has(path) || uncertainPaths.has(path)) continue;
          problem('2. unexpected item on the server', `${path} (${show(got)}): applied twice, a conflict copy, or left behind by a move`);
        }
        line(`replayed ${replayed} changes; recovered files ${recovered.length}`);
      } catch (err) {
        problem('trial failed', `${(err as Error).stack ?? err}`);
      } finally {
        proxy.disarm();
        store?.disarm();
        await share.dispose().catch(err => problem('5. the session cannot close its cache', (err as Error).message));
        // what the next session would find: a journal record left on disk is replayed (or recovered) again
        try {
          await store?.close();
          const next = await new DiskShareStores(cache.path).open('share');
          const records = ((await next.loadTable('journal')) as { id: number; state: string; op: JournalOp }[]).filter(r => !conflictOps.has(r.id));
          const conflicts = await next.loadTable('conflicts');
          await next.close();
          if (records.length) {
            problem('3. pending on disk after the session', `the journal on disk still holds ${records.map(r => `${r.state} ${describeOp(r.op)}`).join(', ')}: the next session replays it`);
          }
          if (conflicts.length !== conflictOps.size) problem('3. conflicts on disk after the session', `${conflicts.length} conflict records on disk, ${conflictOps.size} in the session`);
        } catch (err) {
          problem('trial failed', `reopening the cache: ${(err as Error).message}`);
        }
        cache.remove();
      }
      figures.trials++;
      figures.replayedChanges += replayed;
      figures.ms += Date.now() - t0;
      figures.problems.push(...problems);
      console.log(
        `      [trial ${trial} ${kind.name}] ${problems.length ? `${problems.length} PROBLEMS` : 'ok'} · ${faults.map(f => f.label).join(' + ')} · ${outcome.acknowledged} acknowledged, ` +
          `${outcome.refused} refused, ${outcome.failed} failed, ${replayed} replayed · ${Date.now() - t0} ms`,
      );
      if (problems.length || process.env.WEBDAV_FAULT_VERBOSE) {
        for (const l of lines) console.log(`          ${l}`);
        for (const pr of problems) console.log(`        ✗ ${pr.kind}: ${pr.text}`);
        if (problems.length || process.env.WEBDAV_FAULT_VERBOSE === 'log') for (const l of log.lines.filter(l => process.env.WEBDAV_FAULT_VERBOSE === 'log' || !l.startsWith('trace')).slice(process.env.WEBDAV_FAULT_VERBOSE === 'log' ? 0 : -25)) console.log(`          | ${l}`);
      }
    }

    for (let i = 0; i < trials.length; i += PER_TEST) {
      const chunk = trials.slice(i, i + PER_TEST);
      test(`trials ${chunk[0]}–${chunk[chunk.length - 1]}: nothing acknowledged lost, nothing applied twice, nothing refused kept`, async () => {
        const before = figures.problems.length;
        for (const t of chunk) await runTrial(t);
        const found = figures.problems.slice(before);
        const byTrial = [...new Set(found.map(pr => pr.trial))].map(t => `trial ${t}: ${[...new Set(found.filter(pr => pr.trial === t).map(pr => pr.kind))].join('; ')}`);
        assert.equal(found.length, 0, `${found.length} problems (each trial's are printed above, with its changes and log):\n${byTrial.join('\n')}`);
      });
    }

    test('every fault kind fired, and the figures', () => {
      const f = figures;
      const tally = (o: Record<string, number>) => Object.entries(o).map(([k, v]) => `${k} ×${v}`).join(', ') || 'none';
      console.log(
        `      [figures] ${kind.name}: ${f.trials} trials in ${(f.ms / 1000).toFixed(1)} s (${(f.ms / Math.max(1, f.trials)).toFixed(0)} ms each)\n` +
          `      [figures] ${kind.name}: faults (trials / fired): ${Object.entries(f.byKind).map(([k, v]) => `${k} ${v.trials}/${v.fired}`).join(', ')}\n` +
          `      [figures] ${kind.name}: changes acknowledged ${f.acknowledged} (online ${f.acknowledgedOnline}, offline ${f.acknowledgedOffline}), refused ${f.refused}, failed ${f.failed} (tried again ${f.retries}); ` +
          `Go Online under faults ${f.replays}, changes replayed ${f.replayedChanges} (identical ${f.identical}, merged ${f.merged}); resumes after disarming ${f.resumes}\n` +
          `      [figures] ${kind.name}: HTTP faults fired on ${tally(f.firedOn)}; offline causes seen: ${tally(f.causes)}; recovered files ${f.recovered}; conflicts over a partial upload the server kept ${f.partialUploads}\n` +
          `      [figures] ${kind.name}: findings: ${tally(f.problems.reduce<Record<string, number>>((o, pr) => ((o[pr.kind] = (o[pr.kind] ?? 0) + 1), o), {}))}` +
          (f.problems.length ? ` (trials ${[...new Set(f.problems.map(pr => pr.trial))].join(', ')})` : ''),
      );
      // with fewer trials than a few of each kind, not every kind can be expected to hit
      if (ONLY !== undefined || kind.count < 4 * KINDS.length) return;
      const silent = Object.entries(f.byKind).filter(([, v]) => v.fired === 0).map(([k]) => k);
      assert.deepEqual(silent, [], 'every fault kind hit a request or a store call at least once');
      assert.ok(f.acknowledged > 0 && f.refused > 0 && f.replayedChanges > 0, 'changes were acknowledged, refused and replayed');
    });
  });
}

async function runOp(share: Share, op: Op, p: (rel: string) => string): Promise<void> {
  switch (op.kind) {
    case 'save':
      await share.writeFile(p(op.path), bytes(op.content!), { create: false, overwrite: true });
      return;
    case 'create':
      await share.writeFile(p(op.path), bytes(op.content!), { create: true, overwrite: false });
      return;
    case 'mkdir':
      return share.createDirectory(p(op.path));
    case 'delete':
      return share.delete(p(op.path), { recursive: false });
    case 'rmdir':
      return share.delete(p(op.path), { recursive: true });
    case 'rename':
      return share.rename(p(op.from), p(op.to), { overwrite: false });
    case 'copy':
      return share.copy(p(op.from), p(op.to), { overwrite: false });
  }
}

function describeState(share: Share): string {
  const s = share.connectionState;
  if (!s) return 'live';
  if (s.kind === 'offline') return s.manual ? 'offline by hand' : `offline, ${s.cause}: ${s.reason}`;
  return s.kind;
}

// The trials' findings, each reduced to a fixed sequence (one fault, no randomness) against nephele behind
// the HTTP fault proxy, with the cache on the faulty store. Each states what should happen; where the
// product does otherwise, the test fails and says what happened instead.
suite('conformance: write-fault findings, reproduced deterministically', function () {
  this.timeout(30_000);
  let disk: ReturnType<typeof tempFolder>;
  let server: RunningServer;
  let proxy: HttpFaultProxy;
  let location: ShareLocation;
  let cacheDir: ReturnType<typeof tempFolder>;
  let n = 0;
  let dir: string;
  const opened: { share: Share; store: () => FaultyStore | undefined }[] = [];
  const settings: Settings = { ...DEFAULTS, pollIntervalMs: 0, requestTimeoutMs: TIMEOUT_MS, transferTimeoutMs: TIMEOUT_MS };
  const p = (rel: string) => `/${dir}/${rel}`;
  const onDisk = (rel: string) => join(disk.path, dir, rel);
  const text = (b: Uint8Array) => Buffer.from(b).toString();

  suiteSetup(async () => {
    disk = tempFolder('wdo-writefaults-findings-');
    server = await startNephele({ root: disk.path, mount: '/share', users: USERS });
    proxy = await new HttpFaultProxy(server.port).start();
    location = { scheme: 'dav', authority: `127.0.0.1:${proxy.port}`, basePath: '/share' };
  });
  suiteTeardown(async () => {
    await proxy?.stop();
    await server?.close();
    disk?.remove();
  });
  setup(() => {
    dir = `f${++n}`;
    mkdirSync(join(disk.path, dir));
    writeFileSync(onDisk('a.md'), 'alpha\n');
    writeFileSync(onDisk('b.md'), 'bravo\n');
    cacheDir = tempFolder('wdo-writefaults-findings-cache-');
    proxy.disarm();
  });
  teardown(async () => {
    proxy.disarm();
    for (const o of opened.splice(0)) {
      o.store()?.disarm();
      await o.share.dispose().catch(() => undefined); // a poisoned index cannot close (finding 1): close its store
      await o.store()?.close();
    }
    cacheDir.remove();
  });

  /** A share on the faulty store, its server's capabilities probed and the folder read (the editor holds both files), settled. */
  async function open(): Promise<{ share: Share; store: FaultyStore; log: RecordingLogger }> {
    const log = new RecordingLogger();
    let store: FaultyStore | undefined;
    const share = new Share(location, new WebdavRemote(location, () => settings, log), auth, log, faultyDiskCache(cacheDir.path, () => settings, log, s => (store = s)));
    opened.push({ share, store: () => store });
    assert.ok(await share.hasCache());
    await share.capabilities(); // probed before any fault is armed
    for (const [name] of await share.readDirectory(`/${dir}`)) await share.readFile(p(name));
    await settle();
    return { share, store: store!, log };
  }

  /** Lets the index's delayed commit (50 ms) run, so that an armed store fault meets the commit meant. */
  const settle = () => new Promise(r => setTimeout(r, 150));
  const refusedForSpace = (e: unknown) => isShareError(e, 'InsufficientStorage') && /local cache is full/.test((e as Error).message);

  test('finding 1: one failed commit (the disk full for a moment) does not refuse every later change, nor keep the session from closing its cache', async () => {
    const { share, store } = await open();
    await share.goOffline();
    await settle();
    store.arm({ op: 'commit', nth: 1, code: 'ENOSPC' });
    await assert.rejects(share.writeFile(p('a.md'), bytes('alpha, while the disk was full\n'), { create: false, overwrite: true }), refusedForSpace);
    store.disarm(); // space again
    await share.writeFile(p('b.md'), bytes('bravo, with space again\n'), { create: false, overwrite: true }).catch((e: Error) =>
      assert.fail(`a change made after the disk has space again is refused with "${e.message}": one failed commit poisoned every later one (CacheIndex.flush chains on the rejected commit)`),
    );
    assert.deepEqual((await share.pendingChanges()).map(i => describeOp(i.op)), [`change of ${p('b.md')}`]);
    await share.dispose().catch((e: Error) => assert.fail(`the session cannot close its cache: ${e.message}`));
    // what the next session finds: the change made with space again, not the refused one
    const next = await new DiskShareStores(cacheDir.path).open('share');
    const records = (await next.loadTable('journal')) as unknown as { state: string; op: JournalOp }[];
    await next.close();
    assert.deepEqual(records.map(r => `${r.state} ${describeOp(r.op)}`), [`applied change of ${p('b.md')}`], 'the journal on disk');
  });

  // The intent is what makes a change durable: once it is stored, the change is acknowledged and kept
  // (the apply step that failed is committed by the index's retry, or re-applied from the intent by the next
  // session's recovery). The bug was the mix: refused to the user, yet kept and uploaded.
  test('finding 2: an offline save whose commit fails after its intent was stored is acknowledged and kept consistently — pending, shown, replayed by the next session', async () => {
    const { share, store } = await open();
    await share.goOffline();
    await settle();
    store.arm({ op: 'commit', nth: 2, code: 'ENOSPC' }); // #1: the intent, #2: the change applied to the cache
    await share.writeFile(p('a.md'), bytes('alpha, kept\n'), { create: false, overwrite: true });
    store.disarm();
    assert.deepEqual((await share.pendingChanges()).map(i => describeOp(i.op)), [`change of ${p('a.md')}`]);
    assert.equal(share.isProvisional(p('a.md')), true);
    assert.equal(text(await share.readFile(p('a.md'))), 'alpha, kept\n');
    await share.dispose().catch(() => undefined);
    await store.close();
    const log = new RecordingLogger();
    const next = new Share(location, new WebdavRemote(location, () => settings, log), auth, log, faultyDiskCache(cacheDir.path, () => settings, log, () => undefined));
    opened.push({ share: next, store: () => undefined });
    assert.ok(await next.hasCache());
    assert.deepEqual((await next.pendingChanges()).map(i => describeOp(i.op)), [`change of ${p('a.md')}`], 'the next session has it');
    assert.equal(text(await next.readFile(p('a.md'))), 'alpha, kept\n');
    assert.equal(await next.goOnline(), true);
    assert.equal(readFileSync(onDisk('a.md'), 'utf8'), 'alpha, kept\n', 'it lands once');
  });

  test('finding 3: an online rename whose answer is lost after it landed (a stalled answer, the timeout fires) is replayed without a conflict', async () => {
    const { share } = await open();
    proxy.arm([{ kind: 'stall', methods: ['MOVE'], nth: 1 }]);
    await share.rename(p('a.md'), p('renamed.md'), { overwrite: false }); // kept offline after the timeout
    assert.equal(proxy.events.length, 1, 'the MOVE met the stall');
    assert.ok(existsSync(onDisk('renamed.md')) && !existsSync(onDisk('a.md')), 'the MOVE landed on the server');
    proxy.disarm();
    assert.equal(await share.goOnline(), true);
    assert.deepEqual((await share.conflicts()).map(c => `${c.kind} ${c.path}`), [], 'no conflict: the server shows the rename that was sent');
    assert.deepEqual((await share.pendingChanges()).map(i => describeOp(i.op)), []);
    assert.deepEqual(readdirSync(join(disk.path, dir)).sort(), ['b.md', 'renamed.md']);
  });

  test('finding 4: an online copy whose answer is lost after it landed (a reset mid-answer) is replayed without a conflict', async () => {
    const { share } = await open();
    proxy.arm([{ kind: 'resetAnswer', methods: ['COPY'], nth: 1 }]);
    await share.copy(p('a.md'), p('copy.md'), { overwrite: false }); // kept offline after the reset
    assert.equal(proxy.events.length, 1, 'the COPY met the reset');
    assert.equal(readFileSync(onDisk('copy.md'), 'utf8'), 'alpha\n', 'the COPY landed on the server');
    proxy.disarm();
    assert.equal(await share.goOnline(), true);
    assert.deepEqual((await share.conflicts()).map(c => `${c.kind} ${c.path}`), [], 'no conflict: the server shows the copy that was sent');
    assert.deepEqual((await share.pendingChanges()).map(i => describeOp(i.op)), []);
    assert.deepEqual(readdirSync(join(disk.path, dir)).sort(), ['a.md', 'b.md', 'copy.md']);
  });

  test('finding 5: a save that landed although the server answered 503 does not make the next save a conflict with itself', async () => {
    const { share } = await open();
    proxy.arm([{ kind: 'landedThen503', methods: ['PUT'], nth: 1 }]);
    // today the save fails ("the server had an internal error"); a proof of landing may acknowledge it instead
    await share.writeFile(p('a.md'), bytes('alpha, first save\n'), { create: false, overwrite: true }).catch(() => undefined);
    assert.equal(proxy.events.length, 1, 'the PUT met the 503');
    assert.equal(readFileSync(onDisk('a.md'), 'utf8'), 'alpha, first save\n', 'the first save landed');
    proxy.disarm();
    // the editor is still dirty: the user saves again, with a little more typed
    await share.writeFile(p('a.md'), bytes('alpha, first save\nand a second line\n'), { create: false, overwrite: true });
    assert.deepEqual((await share.conflicts()).map(c => `${c.kind} ${c.path}`), [], 'no conflict: the only other version is our own earlier save');
    assert.equal(readFileSync(onDisk('a.md'), 'utf8'), 'alpha, first save\nand a second line\n');
  });

  test('finding 6: a replayed delete answered with a sign-in page leaves the share offline with cause "signin", not "unstored"', async () => {
    const { share } = await open();
    await share.goOffline();
    await share.delete(p('b.md'), { recursive: false });
    proxy.arm([{ kind: 'signIn', methods: ['DELETE'], nth: 1 }]);
    assert.equal(await share.goOnline(), false, 'the delete did not land');
    assert.equal(proxy.events.length, 1, 'the DELETE met the sign-in page');
    const s = share.connectionState;
    assert.equal(s?.kind === 'offline' && !s.manual ? s.cause : JSON.stringify(s), 'signin', `the state says why: ${JSON.stringify(s)}`);
    proxy.disarm();
    assert.equal(await share.goOnline(), true);
    assert.ok(!existsSync(onDisk('b.md')));
  });

  test('finding 7: a reconnect that fails because the cache cannot commit does not call the server unreachable', async () => {
    const { share, store } = await open();
    await share.goOffline();
    await share.writeFile(p('a.md'), bytes('alpha, offline\n'), { create: false, overwrite: true });
    await settle();
    store.arm({ op: 'commit', nth: 1, code: 'ENOSPC', sticky: true }); // the disk stays full
    assert.equal(await share.goOnline(), false, 'the replay cannot record its progress');
    const s = share.connectionState!;
    assert.equal(s.kind, 'offline');
    assert.doesNotMatch(describeConnection(s), /unreachable/, `the status names the full disk, not the server: "${describeConnection(s)}"`);
  });

  test('finding 8: offline, a new folder, a file moved into it, the folder deleted — the replay deletes the file, without a conflict', async () => {
    // found by a trial whose replay met a fault first; the fault plays no part
    const { share } = await open();
    await share.goOffline();
    await share.createDirectory(p('made'));
    await share.rename(p('a.md'), p('made/a.md'), { overwrite: false });
    await share.delete(p('made'), { recursive: true });
    const pending = (await share.pendingChanges()).map(i => describeOp(i.op));
    assert.equal(await share.goOnline(), true);
    assert.deepEqual((await share.conflicts()).map(c => `${c.kind} ${c.path}: ${c.detail ?? ''}`), [], `no conflict (the journal was: ${pending.join(', ')})`);
    assert.deepEqual((await share.pendingChanges()).map(i => describeOp(i.op)), []);
    assert.deepEqual(readdirSync(join(disk.path, dir)).sort(), ['b.md'], 'a.md is deleted (it was moved into the folder that was deleted)');
  });
});
