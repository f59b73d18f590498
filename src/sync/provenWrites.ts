// Changes sent to the server while online, each conditional and each proven (offline/landing.ts):
// a save sends If-Match with the version the editor's content came from (If-None-Match: * for a new
// file); where the server ignores preconditions (or has no etags), the version is compared right before
// writing. The freshness window of the cache never lets a write skip this: the server decides, or a
// fresh stat does. A 412 or a changed version is a conflict (the caller keeps the user's bytes and
// lists it), never an overwrite; a 2xx the server does not show is "unstored" (the caller keeps the
// change pending). The replay (replayer.ts) uses the same proof, batched per folder.
import { isShareError, ShareError } from '../core/errors';
import type { Logger } from '../core/log';
import { inParallel } from '../core/parallel';
import { dirname, isEqualOrParent } from '../core/remotePath';
import type { Capabilities } from '../remote/capabilities';
import { isWeakEtag } from '../remote/etag';
import { collect } from '../remote/ranges';
import type { EntryType, Preconditions, RemoteEntry, RemoteFs, UploadBody, WriteResult } from '../remote/remoteFs';
import { settled, statOrGone } from '../remote/settle';
import { sameVersion, type ServerVersion } from '../remote/version';
import { judgePresence, judgeWrite, provenByAnswer, type Verdict } from './landing';

export type WriteOutcome =
  /** the server shows the change; for a write, `version` is the validator of the bytes sent */
  | { readonly kind: 'landed'; readonly version?: ServerVersion }
  /** someone else's version is there (a 412, a changed validator before or after): nothing was overwritten */
  | { readonly kind: 'conflict'; readonly current?: RemoteEntry }
  /** the server answered but does not show the change; `html`: the answer was a web page (a sign-in) */
  | { readonly kind: 'unstored'; readonly html: boolean };

/** What a change should have left on the server, checked by a stat or its folder's listing. */
export type Expectation =
  | { readonly path: string; readonly kind: 'write'; readonly size: number; readonly base?: ServerVersion; readonly answer: WriteResult }
  | { readonly path: string; readonly kind: 'present'; readonly type: EntryType }
  | { readonly path: string; readonly kind: 'absent'; readonly base?: ServerVersion };

/** The base of a write: the server version the content came from, or `absent` for a new file. */
export type WriteBase = ServerVersion | 'absent';

export class ProvenWrites {
  constructor(
    private readonly server: RemoteFs,
    private readonly capabilities: () => Promise<Capabilities>,
    private readonly log: Logger,
    /** Told what a real answer showed (an etag with a PUT), to keep with the probed capabilities. */
    private readonly learn: (change: Partial<Capabilities>) => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * PUT `data` at `path` only if the server still has `base`; proven. A big file's content comes as an
   * UploadBody read from the blob store as it is sent (never held whole); the proof uses its size.
   */
  async put(path: string, data: Uint8Array | UploadBody, base: WriteBase): Promise<WriteOutcome> {
    const pre = await this.preconditions(path, base);
    if ('conflict' in pre) return { kind: 'conflict', current: pre.conflict };
    const size = data instanceof Uint8Array ? data.byteLength : data.size;
    const expected: Expectation = { path, kind: 'write', size, base: base === 'absent' ? undefined : base, answer: {} };
    let answer: WriteResult;
    try {
      answer = await this.send(path, data, pre);
    } catch (err) {
      if (isShareError(err, 'Conflict')) return { kind: 'conflict', current: await statOrGone(this.server, path).catch(() => undefined) };
      return this.landedDespite(err, path, [expected], data);
    }
    if (answer.etag) this.learn({ etagOnPut: true });
    return this.prove(path, [{ ...expected, answer }], answer, data);
  }

  private async send(path: string, data: Uint8Array | UploadBody, pre: Preconditions): Promise<WriteResult> {
    if (data instanceof Uint8Array) return this.server.put(path, data, pre);
    if (this.server.putStream) return this.server.putStream(path, data, pre);
    return this.server.put(path, await collect(data.chunks(), data.size, 'PUT', path), pre);
  }

  /** The preconditions that make a write of `base` safe, or the conflict found instead. */
  private async preconditions(path: string, base: WriteBase): Promise<Preconditions | { conflict: RemoteEntry | undefined }> {
    const caps = await this.capabilities();
    if (base === 'absent') {
      if (caps.ifNoneMatch) return { ifNoneMatch: '*' };
      const current = await statOrGone(this.server, path);
      return current ? { conflict: current } : {};
    }
    if (caps.ifMatch && base.etag && !isWeakEtag(base.etag)) return { ifMatch: base.etag };
    // A weak etag (Apache, within a second of a change) can never match If-Match; a server that ignores
    // If-Match, or gives no etags, gets the version compared right before the write.
    const current = await settled(this.server, await statOrGone(this.server, path));
    if (!current || current.type !== 'file' || !sameVersion(current, base)) return { conflict: current };
    if (caps.ifMatch && current.etag && !isWeakEtag(current.etag)) return { ifMatch: current.etag };
    if (!caps.ifMatch) this.log.debug(`[write] ${path}: the server ignores If-Match; the version was compared right before writing`);
    return {};
  }

  /** MKCOL, proven by the folder being there. */
  async mkcol(path: string): Promise<WriteOutcome> {
    const expected: Expectation[] = [{ path, kind: 'present', type: 'directory' }];
    const answer = await this.server.mkcol(path).catch(err => this.landedDespite(err, path, expected));
    return 'kind' in answer ? answer : this.prove(path, expected, answer);
  }

  /** DELETE (If-Match of `base` for a file, where the server honours it), proven by the item being gone. */
  async delete(path: string, base: ServerVersion | undefined): Promise<WriteOutcome> {
    const pre = base ? await this.preconditions(path, base) : {};
    if ('conflict' in pre) return { kind: 'conflict', current: pre.conflict };
    const expected: Expectation[] = [{ path, kind: 'absent', base }];
    let answer: WriteResult;
    try {
      answer = await this.server.delete(path, pre);
    } catch (err) {
      if (isShareError(err, 'Conflict')) return { kind: 'conflict', current: await statOrGone(this.server, path).catch(() => undefined) };
      return this.landedDespite(err, path, expected);
    }
    return this.prove(path, expected, answer);
  }

  /** MOVE / COPY (the caller's Overwrite), proven by the target being there and a moved source gone. */
  async transfer(kind: 'move' | 'copy', from: string, to: string, type: EntryType, overwrite: boolean): Promise<WriteOutcome> {
    const checks: Expectation[] = [{ path: to, kind: 'present', type }];
    if (kind === 'move') checks.push({ path: from, kind: 'absent' });
    const answer = await this.server[kind](from, to, { overwrite }).catch(err => this.landedDespite(err, to, checks));
    return 'kind' in answer ? answer : this.prove(to, checks, answer);
  }

  /**
   * The server answered a change with an error that does not say it did not happen (a 5xx: some servers
   * and gateways answer 503 after the change landed). If the server shows the change, it landed;
   * otherwise the error stands. Network failures are not checked here: the share is offline then, and the
   * replay checks (the change is recorded as sent once).
   */
  private async landedDespite(err: unknown, path: string, expected: Expectation[], data?: Uint8Array | UploadBody): Promise<WriteOutcome> {
    if (!(isShareError(err, 'Unavailable') && err.reason === 'server')) throw err;
    let outcome: WriteOutcome;
    try {
      outcome = await this.prove(path, expected, {}, data);
    } catch {
      throw err;
    }
    if (outcome.kind !== 'landed') throw err;
    this.log.info(`[write] ${path}: the server answered ${err.status ?? 'an error'}, but shows the change: it landed`);
    return outcome;
  }

  /** Checks what the server shows now against `expected`; one request per folder at most. */
  private async prove(path: string, expected: Expectation[], answer: WriteResult, data?: Uint8Array | UploadBody): Promise<WriteOutcome> {
    const after = await this.observe(expected.filter(needsObservation).map(e => e.path));
    let version: ServerVersion | undefined;
    const verdicts: Verdict[] = [];
    for (const e of expected) {
      let v = judge(e, after.get(e.path));
      if (v.kind === 'ambiguous' && data) v = await this.readBack(e.path, data);
      if (e.kind === 'write' && v.kind === 'landed') {
        const seen = after.get(e.path);
        version = { etag: v.etag, mtime: seen?.mtime ?? this.now(), size: e.size };
      }
      verdicts.push(v);
    }
    if (verdicts.every(v => v.kind === 'landed')) return { kind: 'landed', version };
    if (verdicts.some(v => v.kind === 'other-version')) {
      this.log.warn(`[write] ${path}: the server answered, but now holds another version than the one sent`);
      return { kind: 'conflict', current: after.get(path) };
    }
    this.log.warn(`[write] ${path}: the server answered${answer.html ? ' with a web page' : ''}, but does not show the change`);
    return { kind: 'unstored', html: !!answer.html };
  }

  /** What the server has at each path: a stat where one path of a folder is asked, else the folder's listing. */
  private async observe(paths: readonly string[]): Promise<Map<string, RemoteEntry | undefined>> {
    return observeServer(this.server, paths);
  }

  /** The last resort where nothing else tells: read the bytes back (a big file's as a stream, beside the blob's). */
  private async readBack(path: string, data: Uint8Array | UploadBody): Promise<Verdict> {
    if (!(data instanceof Uint8Array) && this.server.getStream) {
      const got = await this.server.getStream(path);
      return (await sameBytes(got.chunks, data.chunks())) ? { kind: 'landed', etag: got.etag } : { kind: 'unstored' };
    }
    const got = await this.server.get(path);
    if (got === 'not-modified') return { kind: 'unstored' };
    return (await sameBytes([got.data], data instanceof Uint8Array ? [data] : data.chunks())) ? { kind: 'landed', etag: got.etag } : { kind: 'unstored' };
  }
}

/** Whether proving `e` needs to look at the server (a write whose answer carried a new validator does not). */
export function needsObservation(e: Expectation): boolean {
  return !(e.kind === 'write' && provenByAnswer(e.answer.etag, e.base));
}

/** Judges one expectation by what the server shows (write answers with a new validator prove themselves). */
export function judge(e: Expectation, after: RemoteEntry | undefined): Verdict {
  switch (e.kind) {
    case 'write':
      if (provenByAnswer(e.answer.etag, e.base)) return { kind: 'landed', etag: e.answer.etag };
      return judgeWrite(after, e.size, e.base);
    case 'present':
      return judgePresence(after, e.type);
    case 'absent':
      return judgePresence(after, 'absent', e.base);
  }
}

/** Entries at most in a whole-tree answer that proves a replay round; a bigger tree is asked folder by folder. */
export const PROOF_TREE_ENTRIES = 2000;

/**
 * What the server has at each path, in one request per folder: a Depth-0 stat where only one path of a
 * folder is asked, else one Depth-1 listing of the folder (a folder that is gone: nothing below it). Where
 * more than two such requests are to be made and `wholeTree` says yes for the folder that holds them all
 * (the server answers Depth: infinity, the tree below is known small), one listing of that tree answers
 * them all — if it holds at most PROOF_TREE_ENTRIES entries, else they are made after all.
 */
export async function observeServer(
  server: RemoteFs,
  paths: readonly string[],
  parallel = 1,
  wholeTree?: (folder: string) => boolean,
): Promise<Map<string, RemoteEntry | undefined>> {
  const out = new Map<string, RemoteEntry | undefined>();
  const byFolder = new Map<string, Set<string>>();
  for (const p of new Set(paths)) {
    const folder = dirname(p);
    if (!byFolder.has(folder)) byFolder.set(folder, new Set());
    byFolder.get(folder)!.add(p);
  }
  const asks: { folder?: string; members: string[] }[] = [];
  for (const [folder, members] of byFolder) {
    if (members.size === 1 || folder === [...members][0]) for (const p of members) asks.push({ members: [p] });
    else asks.push({ folder, members: [...members] });
  }
  const root = commonFolder([...byFolder.keys()]);
  if (asks.length > 2 && server.listTree && wholeTree?.(root)) {
    const tree = await listBelow(server, root);
    if (tree) {
      for (const p of new Set(paths)) out.set(p, tree.get(p));
      return out;
    }
  }
  await inParallel(asks, parallel, async ({ folder, members }) => {
    if (folder === undefined) {
      out.set(members[0], await statOrGone(server, members[0]));
      return;
    }
    let children: RemoteEntry[] = [];
    try {
      children = (await server.list(folder)).children;
    } catch (err) {
      if (!isShareError(err, 'NotFound')) throw err;
    }
    const byPath = new Map(children.map(c => [c.path, c]));
    for (const p of members) out.set(p, byPath.get(p));
  });
  return out;
}

/** Every entry at and below `root`, by path — or undefined where one answer cannot tell (too many, refused, gone). */
async function listBelow(server: RemoteFs, root: string): Promise<Map<string, RemoteEntry> | undefined> {
  try {
    const entries = await server.listTree!(root, PROOF_TREE_ENTRIES);
    if (entries === 'too-large' || !entries.some(e => e.path === root && e.type === 'directory')) return undefined;
    return new Map(entries.map(e => [e.path, e]));
  } catch (err) {
    if (isShareError(err, 'Unavailable') || isShareError(err, 'Unauthorized')) throw err;
    return undefined; // asked folder by folder instead
  }
}

/** The deepest folder that holds every one of `folders`. */
function commonFolder(folders: readonly string[]): string {
  let common = folders[0] ?? '/';
  for (const f of folders) while (!isEqualOrParent(f, common)) common = dirname(common);
  return common;
}

/** Changes the server answered but does not show: kept pending, the share offline ("sign-in needed" for a web page). */
export function notLanded(paths: readonly string[], html: boolean, what = 'uploaded'): ShareError {
  const which = paths.length === 1 ? paths[0] : `${paths.length} changes (${paths.slice(0, 3).join(', ')}${paths.length > 3 ? ', …' : ''})`;
  return html
    ? new ShareError(
        'Unavailable',
        `the server (or a gateway in front of it) answered the change of ${which} with a web page: a sign-in is needed; nothing is lost, it is ${what} once the server lets it through`,
        { reason: 'signin' },
      )
    : new ShareError('Unavailable', `the server answered the change of ${which}, but did not store it; nothing is lost, it is ${what} once the server stores changes again`, {
        reason: 'unstored',
      });
}

/** Whether two streams of bytes are the same bytes, read side by side (whatever their chunking). */
export async function sameBytes(a: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, b: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<boolean> {
  const ia = chunksOf(a);
  const ib = chunksOf(b);
  let ca: Uint8Array = new Uint8Array(0);
  let cb: Uint8Array = new Uint8Array(0);
  try {
    for (;;) {
      if (!ca.byteLength) ca = (await ia.next()).value ?? new Uint8Array(0);
      if (!cb.byteLength) cb = (await ib.next()).value ?? new Uint8Array(0);
      if (!ca.byteLength || !cb.byteLength) return !ca.byteLength && !cb.byteLength;
      const n = Math.min(ca.byteLength, cb.byteLength);
      for (let i = 0; i < n; i++) if (ca[i] !== cb[i]) return false;
      ca = ca.subarray(n);
      cb = cb.subarray(n);
    }
  } finally {
    await ia.return(undefined);
    await ib.return(undefined);
  }
}

/** The non-empty chunks of a (sync or async) iterable. */
async function* chunksOf(chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): AsyncGenerator<Uint8Array, undefined> {
  for await (const c of chunks) if (c.byteLength) yield c;
  return undefined;
}
