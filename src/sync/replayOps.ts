// How each kind of journaled change is sent on reconnect: PUT with If-Match (base) or If-None-Match: *,
// DELETE with If-Match, MOVE/COPY with Overwrite: F, MKCOL. A 412 or a changed validator is a conflict,
// never an overwrite. Identical contents resolve silently, non-overlapping text edits merge with the
// cached base. On a server that ignores preconditions, the validator is compared right before each
// write instead (a narrow race, logged; the user is told once by the replayer).
// A change that was sent is "done" only with what its landing must show (Expectation): the replayer
// proves those, batched per folder (provenWrites.ts, offline/landing.ts), before the journal forgets it.
import { isShareError, ShareError } from '../core/errors';
import type { Logger } from '../core/log';
import { dirname, isEqualOrParent } from '../core/remotePath';
import type { Conflict, ConflictKind, RemoteSide, Version } from '../offline/conflicts';
import { decide } from '../offline/conflicts';
import type { JournalOp, KnownFile } from '../offline/journalOps';
import { sameVersion, type ServerVersion } from '../remote/version';
import { mergeContent } from '../offline/merge';
import type { Capabilities } from '../remote/capabilities';
import { isWeakEtag, weakEtagEquals } from '../remote/etag';
import type { Preconditions, RemoteEntry, RemoteFs, WriteResult } from '../remote/remoteFs';
import { settled, settledStatOrGone, statOrGone } from '../remote/settle';
import type { BlobReader } from '../cache/shareStore';
import type { Expectation } from './provenWrites';

export type Outcome =
  | {
      readonly kind: 'done';
      readonly identical?: boolean;
      readonly merged?: boolean;
      /** What the server must show for the change to count as landed (empty: nothing was sent, or proven already). */
      readonly checks: readonly Expectation[];
      /** The validator of the server's version of the path when it is known without a check. */
      readonly etag?: string;
      /** The answer was a web page with a 200 (a gateway's sign-in page): if the checks fail, a sign-in is needed. */
      readonly html?: boolean;
    }
  | { readonly kind: 'conflict'; readonly conflict: Omit<Conflict, 'id' | 'opId' | 'time'> };

/** What the replay needs of the cache: blobs, and making merged content the local content. */
export interface ReplayCache {
  getBlob(hash: string): Promise<Uint8Array | undefined>;
  putBlob(data: Uint8Array): Promise<string>;
  /** A blob read as it is sent (optional: the disk store), for changes above STREAM_ABOVE. */
  openBlob?(hash: string): Promise<BlobReader | undefined>;
  /** Stores a download as it arrives (the server's version of a big file in conflict). */
  putBlobStream?(chunks: AsyncIterable<Uint8Array>): Promise<{ readonly hash: string; readonly size: number }>;
  /** The merged content becomes the local content too (until it is proven on the server). */
  writeLocal(path: string, data: Uint8Array): Promise<void>;
  /** The local content of `path` as the cache holds it (for a conflict's local side). */
  localVersion(path: string): Version | undefined;
}

/** The server's version of a path produced earlier in the same replay (undefined: it exists, its version unknown). */
export type Produced = Map<string, ServerVersion | undefined>;

/**
 * What earlier changes of the replay produced where `op` removes or replaces things is gone: later changes
 * there go by their own base or by the server (else a delete after a folder moved away and back names an
 * older version: a false conflict).
 */
export function forgetReplaced(produced: Produced, op: JournalOp): void {
  const forget = (root: string) => [...produced.keys()].filter(p => isEqualOrParent(p, root)).forEach(p => produced.delete(p));
  if (op.kind === 'delete') forget(op.path);
  if (op.kind === 'move') forget(op.from);
  if (op.kind === 'move' || op.kind === 'copy') forget(op.to);
}

type WriteOp = Extract<JournalOp, { kind: 'write' }>;

/**
 * A change larger than this is sent as a stream from the blob store, and the server's version of it in
 * a conflict is compared by hash as it is stored: a big file is never loaded whole (nor merged).
 */
export const STREAM_ABOVE = 8 * 1024 * 1024;

/** The content of a change: in memory (small), or read from the store as it is sent (big). */
export type Body = { readonly size: number; readonly data: Uint8Array } | { readonly size: number; readonly reader: BlobReader };
type DeleteOp = Extract<JournalOp, { kind: 'delete' }>;
type TransferOp = Extract<JournalOp, { kind: 'move' | 'copy' }>;

export class ReplayOps {
  constructor(
    private readonly server: RemoteFs,
    private readonly cache: ReplayCache,
    private readonly log: Logger,
  ) {}

  private statOrGone(path: string): Promise<RemoteEntry | undefined> {
    return statOrGone(this.server, path);
  }

  /** The content of a write: streamed from the store when it is big and both sides can, else loaded; undefined when missing. */
  async contentOf(op: WriteOp): Promise<Body | undefined> {
    if (op.size > STREAM_ABOVE && this.server.putStream && this.cache.openBlob) {
      const reader = await this.cache.openBlob(op.blob);
      return reader && { size: reader.size, reader };
    }
    const data = await this.cache.getBlob(op.blob);
    return data && { size: data.byteLength, data };
  }

  /** PUT of a change's content: as a stream (never held whole) or as bytes. */
  private send(path: string, body: Body, pre?: Preconditions): Promise<WriteResult> {
    return 'reader' in body ? this.server.putStream!(path, body.reader, pre) : this.server.put(path, body.data, pre);
  }

  async write(op: WriteOp, caps: Capabilities, produced: Produced): Promise<Outcome> {
    const data = await this.contentOf(op);
    if (!data) throw new ShareError('Other', `the content of ${op.path} is missing from the cache`);
    const known = produced.has(op.path);
    let expected = known ? produced.get(op.path)?.etag : op.base?.etag;
    let base: ServerVersion | undefined = known ? (expected ? { etag: expected, mtime: 0, size: -1 } : undefined) : op.base;
    if ((op.follows && !known) || (known && !expected)) {
      // it exists through earlier local changes that replayed in an earlier session, or in this one with no
      // etag to show for it (a server without etags): their result, the server's version now, is the base
      const current = await settled(this.server, await this.statOrGone(op.path));
      expected = current?.etag;
      base = current;
    }
    const isCreate = !op.base && !known && !(op.follows && base);
    if (caps.ifMatch && caps.ifNoneMatch && expected && isWeakEtag(expected)) {
      // a weak etag (Apache, within a second of a change) never matches If-Match: the version is compared
      // before the body goes out (as for online saves), not after a 412 that sent a big file twice
      const current = await settled(this.server, await this.statOrGone(op.path));
      if (!current?.etag || isWeakEtag(current.etag) || !weakEtagEquals(current.etag, expected)) return this.writeConflict(op, data, expected);
      expected = current.etag;
      base = current;
    }
    if (caps.ifMatch && caps.ifNoneMatch && (expected || isCreate)) {
      try {
        const answer = await this.send(op.path, data, expected ? { ifMatch: expected } : { ifNoneMatch: '*' });
        return done([{ path: op.path, kind: 'write', size: data.size, base: isCreate ? undefined : base, answer }]);
      } catch (err) {
        if (!isShareError(err, 'Conflict') && !isShareError(err, 'NotFound')) throw err;
      }
      return this.writeConflict(op, data, expected);
    }
    // the server ignores preconditions: compare the validator right before writing
    const current = await this.statOrGone(op.path);
    const remote: RemoteSide = !current ? 'gone' : isCreate ? 'exists' : sameVersion(current, expectedVersion(expected, known && expected ? undefined : base)) ? 'same' : 'changed';
    const decision = decide(isCreate ? 'created' : 'changed', remote);
    if (decision === 'apply') {
      this.log.info(`[replay] ${op.path}: written after comparing validators (the server ignores If-Match; a change in the last moment would be lost)`);
      const answer = await this.send(op.path, data);
      return done([{ path: op.path, kind: 'write', size: data.size, base: current, answer }]);
    }
    return this.writeConflict(op, data, expected);
  }

  /** The server's file differs from what the change started from: identical? mergeable? else a conflict. */
  async writeConflict(op: WriteOp, data: Body, expected: string | undefined): Promise<Outcome> {
    let current = await this.statOrGone(op.path);
    if (!current) {
      if (!op.base && !expected) {
        // nothing there any more: create it (If-None-Match: * keeps a racing creation safe)
        const answer = await this.send(op.path, data, { ifNoneMatch: '*' });
        return done([{ path: op.path, kind: 'write', size: data.size, answer }]);
      }
      const parentGone = dirname(op.path) !== '/' && !(await this.statOrGone(dirname(op.path)));
      return conflict({ path: op.path, kind: parentGone ? 'folder-deleted' : 'changed-deleted', local: { blob: op.blob, size: op.size }, base: op.base });
    }
    // Apache: the etag we hold may be the weak one given within a second of a write; the version is the same
    if (expected && weakEtagEquals(current.etag, expected) && (isWeakEtag(current.etag) || isWeakEtag(expected))) {
      current = await settledStatOrGone(this.server, op.path);
      if (current?.etag && !isWeakEtag(current.etag) && weakEtagEquals(current.etag, expected)) {
        const settled: RemoteEntry = current;
        try {
          const answer = await this.send(op.path, data, { ifMatch: settled.etag });
          return done([{ path: op.path, kind: 'write', size: data.size, base: settled, answer }]);
        } catch (err) {
          if (!isShareError(err, 'Conflict')) throw err;
          current = await this.statOrGone(op.path);
        }
      }
    }
    if (!current) return this.writeConflict(op, data, expected);
    current = await settled(this.server, current); // a usable If-Match below
    if (!current) return this.writeConflict(op, data, expected);
    const server = await this.serverContent(op.path, 'reader' in data);
    // also: our PUT had landed before a drop (blobs are named by their content's hash)
    if (server.blob === op.blob) return { kind: 'done', identical: true, checks: [], etag: current.etag };
    const serverVersion: Version = { blob: server.blob, etag: isWeakEtag(server.etag) ? current.etag : (server.etag ?? current.etag), size: server.size, mtime: current.mtime };
    const baseData = 'data' in data && server.data && op.base?.blob ? await this.cache.getBlob(op.base.blob) : undefined;
    if (baseData && 'data' in data && server.data) {
      const merged = mergeContent(baseData, server.data, data.data);
      if (merged.clean) {
        const bytes = new TextEncoder().encode(merged.text);
        try {
          const answer = await this.server.put(op.path, bytes, serverVersion.etag ? { ifMatch: serverVersion.etag } : {});
          await this.cache.writeLocal(op.path, bytes);
          this.log.info(`[replay] ${op.path}: merged the changes made here and on the server`);
          const mergedBase: ServerVersion = { etag: serverVersion.etag, mtime: current.mtime, size: current.size };
          return { kind: 'done', merged: true, checks: [{ path: op.path, kind: 'write', size: bytes.byteLength, base: mergedBase, answer }] };
        } catch (err) {
          if (!isShareError(err, 'Conflict')) throw err;
        }
      }
    }
    const kind: ConflictKind = op.base ? 'both-changed' : 'both-created';
    return conflict({ path: op.path, kind, local: { blob: op.blob, size: op.size }, server: serverVersion, base: op.base });
  }

  /**
   * The server's version of `path`, stored as a blob: streamed into the store for a big file (never
   * held whole; no merge then), else read whole (its bytes kept for a merge).
   */
  async serverContent(path: string, big: boolean): Promise<{ blob: string; size: number; etag?: string; data?: Uint8Array }> {
    if (big && this.server.getStream && this.cache.putBlobStream) {
      const stream = await this.server.getStream(path);
      const { hash, size } = await this.cache.putBlobStream(stream.chunks);
      return { blob: hash, size, etag: stream.etag };
    }
    const server = await this.server.get(path);
    if (server === 'not-modified') throw new ShareError('Other', `GET ${path}: unexpected 304`);
    return { blob: await this.cache.putBlob(server.data), size: server.data.byteLength, etag: server.etag, data: server.data };
  }

  async mkdir(path: string): Promise<Outcome> {
    try {
      const answer = await this.server.mkcol(path);
      return done([{ path, kind: 'present', type: 'directory' }], answer.html);
    } catch (err) {
      if (isShareError(err, 'Exists')) {
        const current = await this.statOrGone(path);
        if (current?.type === 'directory') return { kind: 'done', identical: true, checks: [] }; // made on both sides: folders merge
        return conflict({ path, kind: 'both-created' });
      }
      if (isShareError(err, 'NotFound')) return conflict({ path, kind: 'folder-deleted' });
      throw err;
    }
  }

  async deleteFile(op: DeleteOp, caps: Capabilities, produced: Produced): Promise<Outcome> {
    let base = op.base;
    if (!base) {
      // no base: the file exists through earlier local changes; the version they produced is the one to delete
      const current = produced.has(op.path) ? undefined : await this.statOrGone(op.path);
      const etag = produced.has(op.path) ? produced.get(op.path)?.etag : current?.etag;
      if (!produced.has(op.path) && !current) return { kind: 'done', identical: true, checks: [] };
      base = { etag, mtime: current?.mtime ?? 0, size: current?.size ?? 0 };
      if (!etag && current) base = { mtime: current.mtime, size: current.size };
    }
    const gone = (b: ServerVersion | undefined, html?: boolean) => done([{ path: op.path, kind: 'absent', base: b }], html);
    if (caps.ifMatch && base?.etag && !isWeakEtag(base.etag)) {
      try {
        const answer = await this.server.delete(op.path, { ifMatch: base.etag });
        return gone(base, answer.html);
      } catch (err) {
        if (isShareError(err, 'NotFound')) return { kind: 'done', identical: true, checks: [] }; // deleted on both sides
        if (!isShareError(err, 'Conflict')) throw err;
      }
    }
    const current = await settled(this.server, await this.statOrGone(op.path));
    const remote: RemoteSide = !current ? 'gone' : sameVersion(current, expectedVersion(base?.etag, base)) ? 'same' : 'changed';
    const decision = decide('deleted', remote);
    if (decision === 'done') return { kind: 'done', identical: true, checks: [] };
    if (decision === 'apply') {
      // same version (a weak etag, or a server without If-Match): delete it now
      const answer = await this.server.delete(op.path, current?.etag && !isWeakEtag(current.etag) && caps.ifMatch ? { ifMatch: current.etag } : {});
      return gone(current, answer.html);
    }
    return conflict({ path: op.path, kind: 'deleted-changed', base, server: { etag: current?.etag, size: current?.size, mtime: current?.mtime } });
  }

  /**
   * Deletes a folder only if the server has nothing below it that the cache did not know as it was, or that
   * this replay did not put there (the files made or saved in it offline before it was deleted).
   */
  async deleteFolder(path: string, files: readonly KnownFile[], produced: Produced): Promise<Outcome> {
    const known = new Map<string, ServerVersion | undefined>(files.map(f => [f.path, f]));
    for (const [p, v] of produced) if (v && isEqualOrParent(p, path)) known.set(p, v);
    const unknown: string[] = [];
    const walk = async (folder: string): Promise<boolean> => {
      let listing;
      try {
        listing = await this.server.list(folder);
      } catch (err) {
        if (isShareError(err, 'NotFound')) return false;
        throw err;
      }
      for (const c of listing.children) {
        if (c.type === 'directory') await walk(c.path);
        else {
          const k = known.get(c.path);
          if (!k || !sameVersion(c, k)) unknown.push(c.path);
        }
      }
      return true;
    };
    if (!(await walk(path))) return { kind: 'done', identical: true, checks: [] }; // gone on the server already
    if (unknown.length) {
      return conflict({ path, kind: 'deleted-changed', detail: `the server has new or changed files inside: ${unknown.slice(0, 3).join(', ')}` });
    }
    let html: boolean | undefined;
    try {
      html = (await this.server.delete(path)).html;
    } catch (err) {
      if (!isShareError(err, 'NotFound')) throw err;
    }
    return done([{ path, kind: 'absent' }], html);
  }

  async transfer(op: TransferOp, attempted: boolean): Promise<Outcome> {
    const landing: Expectation[] = [{ path: op.to, kind: 'present', type: op.type }];
    if (op.kind === 'move') landing.push({ path: op.from, kind: 'absent' });
    try {
      const answer = await this.server[op.kind](op.from, op.to, { overwrite: op.overwrite });
      return done(landing, answer.html);
    } catch (err) {
      // A move the server already shows (the source gone, the item at its target: an earlier attempt whose
      // answer was lost, even one the user made again) is done; a copy only when this one was sent before.
      const mayHaveLanded = attempted || op.kind === 'move';
      if (isShareError(err, 'Conflict') || isShareError(err, 'Exists')) {
        // the target exists: if a previous attempt landed, it is our own result
        if (mayHaveLanded && (await this.transferLanded(op))) return { kind: 'done', identical: true, checks: [] };
        return conflict({ path: op.to, kind: 'both-created' });
      }
      if (isShareError(err, 'NotFound')) {
        if (mayHaveLanded && (await this.transferLanded(op))) return { kind: 'done', identical: true, checks: [] };
        const parentGone = !(await this.statOrGone(dirname(op.to)));
        return conflict({
          path: op.to,
          kind: parentGone ? 'folder-deleted' : 'changed-deleted',
          local: this.cache.localVersion(op.to),
          base: op.kind === 'move' ? op.base : undefined,
        });
      }
      throw err;
    }
  }

  /** After a drop: did the earlier MOVE/COPY land? (the target is there; a moved source is gone) */
  private async transferLanded(op: TransferOp): Promise<boolean> {
    const target = await this.statOrGone(op.to);
    if (!target) return false;
    if (op.kind === 'move' && (await this.statOrGone(op.from))) return false;
    const base = op.kind === 'move' ? op.base : undefined;
    return base && op.type === 'file' ? target.size === base.size : true;
  }
}

function done(checks: Expectation[], html?: boolean): Outcome {
  return html ? { kind: 'done', checks, html } : { kind: 'done', checks };
}

function conflict(c: Omit<Conflict, 'id' | 'opId' | 'time'>): Outcome {
  return { kind: 'conflict', conflict: c };
}

/** The version a change expects on the server: an etag, and the mtime + size where there is none (unknown: never the same). */
export function expectedVersion(etag: string | undefined, base?: { mtime: number; size: number }): ServerVersion {
  return { etag, mtime: base?.mtime ?? Number.NaN, size: base?.size ?? Number.NaN };
}

