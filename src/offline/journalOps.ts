// The operations the offline journal records, and the rules that collapse redundant ones (Coda's
// "store cancellation" and "identity cancellation"): a pure function, tested as a table.
//
// Collapsing never changes what a replay does to the server when nobody else touched it, and it keeps
// the ORIGINAL base version of every item, so a replay still detects changes made by others.
import { isEqualOrParent, joinPath, relativeTo } from '../core/remotePath';
import type { EntryType } from '../remote/remoteFs';

/** The server version a local change started from. */
export interface BaseVersion {
  readonly etag?: string;
  readonly mtime: number;
  readonly size: number;
  /** Content hash of that server version when it was cached (for diffs, merges and recovery). */
  readonly blob?: string;
}

/** A server file as the cache knew it. */
export interface KnownFile {
  readonly path: string;
  readonly etag?: string;
  readonly size: number;
  readonly mtime: number;
}

export type JournalOp =
  /**
   * New content for a file. Without `base` the file did not exist (a create) — unless `follows`: then
   * the file exists through earlier local changes (a move, a copy), and the server version it starts
   * from is whatever those produce when they replay.
   */
  | { readonly kind: 'write'; readonly path: string; readonly blob: string; readonly size: number; readonly base?: BaseVersion; readonly follows?: boolean }
  | { readonly kind: 'mkdir'; readonly path: string }
  /** For a folder, `files` are the server files known below it then: the replay deletes nothing else. */
  | { readonly kind: 'delete'; readonly path: string; readonly type: EntryType; readonly base?: BaseVersion; readonly files?: readonly KnownFile[] }
  /**
   * For a folder, `files` are the server files known below it then: should the folder be deleted later,
   * the delete collapses into one of the origin, which deletes only these (the delete alone would know none:
   * what lies below a moved folder is local until the move replays).
   */
  | {
      readonly kind: 'move';
      readonly from: string;
      readonly to: string;
      readonly type: EntryType;
      readonly overwrite: boolean;
      readonly base?: BaseVersion;
      readonly files?: readonly KnownFile[];
    }
  | { readonly kind: 'copy'; readonly from: string; readonly to: string; readonly type: EntryType; readonly overwrite: boolean };

/** Every path an operation reads or changes. */
export function opPaths(op: JournalOp): string[] {
  return op.kind === 'move' || op.kind === 'copy' ? [op.from, op.to] : [op.path];
}

/** Whether `op` makes what is at `path` (or above it) exist locally: a write or new folder there, a move or copy onto it. */
export function produces(op: JournalOp, path: string): boolean {
  switch (op.kind) {
    case 'write':
    case 'mkdir':
      return isEqualOrParent(path, op.path);
    case 'move':
    case 'copy':
      return isEqualOrParent(path, op.to);
    case 'delete':
      return false;
  }
}

const related = (a: string, b: string) => isEqualOrParent(a, b) || isEqualOrParent(b, a);

/** Whether `op` reads, changes or depends on anything at, above or below one of `paths`. */
function touches(op: JournalOp, paths: string[]): boolean {
  return opPaths(op).some(p => paths.some(q => related(p, q)));
}

/** A journal operation with the id of the record that holds it (ids give the order). */
export interface JournalItem {
  readonly id: number;
  readonly op: JournalOp;
}

/** Index of the last op matching `match`, provided no later op touches `guard`. */
function lastOpOn(ops: readonly JournalOp[], match: (op: JournalOp) => boolean, guard: string[]): number {
  for (let i = ops.length - 1; i >= 0; i--) {
    if (match(ops[i])) return i;
    if (touches(ops[i], guard)) return -1;
  }
  return -1;
}

const isCreate = (op: JournalOp) => (op.kind === 'write' && !op.base && !op.follows) || op.kind === 'mkdir';
const isCreateOf = (path: string) => (op: JournalOp) => isCreate(op) && opPaths(op)[0] === path;

/**
 * Appends `item` to a collapsed journal and collapses; returns the new list (the input is not changed).
 * An operation that replaces an earlier one keeps the earlier one's id (and so its place); a new one
 * takes `item.id`.
 */
export function appendItem(journal: readonly JournalItem[], item: JournalItem, allocate: () => number = noMoreIds): JournalItem[] {
  const ids = new Map<JournalOp, number>();
  journal.forEach(j => ids.set(j.op, j.id));
  const before = journal.map(j => j.op);
  const after = appendOp(before, item.op);
  // A new operation stands either in place of an earlier one (same index, all before it unchanged: it
  // keeps that one's id and place), or after every kept one: the first takes `item.id`, any further one
  // (a folder's delete that turned a move into it into a delete of its source) a newly allocated id —
  // ids stay unique and ascending in replay order.
  let itemIdUsed = false;
  return after.map((op, i) => {
    const known = ids.get(op);
    if (known !== undefined) return { id: known, op };
    const inPlace = i < before.length && !after.includes(before[i]) && after.slice(0, i).every((o, k) => o === before[k]);
    if (inPlace) return { id: journal[i].id, op };
    if (!itemIdUsed) {
      itemIdUsed = true;
      return { id: item.id, op };
    }
    return { id: allocate(), op };
  });
}

function noMoreIds(): number {
  throw new Error('journal: collapsing made more than one new operation and no id allocator was given');
}

/** Appends `op` to a collapsed journal and collapses; returns the new list (the input is not changed). */
export function appendOp(journal: readonly JournalOp[], op: JournalOp): JournalOp[] {
  const ops = [...journal];
  switch (op.kind) {
    case 'write': {
      // many saves of one file → one write with the original base
      const i = lastOpOn(ops, o => (o.kind === 'write' || o.kind === 'delete') && o.path === op.path, [op.path]);
      if (i >= 0) {
        const prev = ops[i];
        if (prev.kind === 'write') ops[i] = { ...prev, blob: op.blob, size: op.size };
        else if (prev.kind === 'delete' && prev.type === 'file') ops[i] = { kind: 'write', path: op.path, blob: op.blob, size: op.size, base: prev.base };
        else break;
        return ops;
      }
      break;
    }
    case 'delete': {
      if (op.type === 'directory') {
        const into = intoDeletedFolder(ops, op.path);
        if (into) return appendOp(into, op);
      }
      const absorbed = absorbInside(ops, op.path);
      // created here, then deleted: nothing happened
      const c = lastOpOn(absorbed, isCreateOf(op.path), [op.path]);
      if (c >= 0) return absorbed.filter((_, k) => k !== c);
      // changed, then deleted: delete the version the change started from
      const w = lastOpOn(absorbed, o => o.kind === 'write' && o.path === op.path, [op.path]);
      if (w >= 0) {
        const prev = absorbed[w] as Extract<JournalOp, { kind: 'write' }>;
        // the write goes; what made the file exist before it (a move here, …) may collapse further
        return appendOp(absorbed.filter((_, k) => k !== w), { ...op, base: prev.base ?? op.base });
      }
      // copied here, then deleted: nothing happened
      const cp = lastOpOn(absorbed, o => o.kind === 'copy' && o.to === op.path && !o.overwrite, [op.path]);
      if (cp >= 0) return absorbed.filter((_, k) => k !== cp);
      // moved here, then deleted: delete the origin (a folder with the server files known below it when it
      // was moved — or, in a journal from before moves kept them, those the delete knew, under their old names)
      const m = lastOpOn(absorbed, o => o.kind === 'move' && o.to === op.path && !o.overwrite, [op.path]);
      if (m >= 0) {
        const prev = absorbed[m] as Extract<JournalOp, { kind: 'move' }>;
        if (!absorbed.slice(m + 1).some(o => touches(o, [prev.from]))) {
          const files = prev.files ?? op.files?.map(f => ({ ...f, path: pathBefore(prev, f.path) }));
          return appendOp(absorbed.filter((_, k) => k !== m), { kind: 'delete', path: prev.from, type: prev.type, base: prev.base, ...(files ? { files } : {}) });
        }
      }
      return [...absorbed, op];
    }
    case 'move': {
      if (op.from === op.to) return ops;
      // a rename chain → one move; moved back → nothing
      const m = lastOpOn(ops, o => o.kind === 'move' && o.to === op.from && !o.overwrite, [op.from, op.to]);
      if (m >= 0) {
        const prev = ops[m] as Extract<JournalOp, { kind: 'move' }>;
        if (!ops.slice(m + 1).some(o => touches(o, [prev.from]))) {
          const rest = ops.filter((_, k) => k !== m);
          if (prev.from === op.to) return rest;
          return [...rest, { ...op, from: prev.from, base: prev.base, overwrite: op.overwrite, ...(prev.files ? { files: prev.files } : {}) }];
        }
      }
      // a file created here, then renamed → created under the new name
      if (op.type === 'file' && !op.overwrite) {
        const c = lastOpOn(ops, o => o.kind === 'write' && o.path === op.from && isCreate(o), [op.from, op.to]);
        if (c >= 0) {
          const prev = ops[c] as Extract<JournalOp, { kind: 'write' }>;
          return [...ops.filter((_, k) => k !== c), { ...prev, path: op.to }];
        }
      }
      break;
    }
    case 'mkdir':
    case 'copy':
      break;
  }
  ops.push(op);
  return ops;
}

/**
 * A folder is deleted: the changes made inside it are moot and go, unless a later change still reads
 * them (a copy or move from inside to outside), in which case nothing is absorbed.
 */
function absorbInside(ops: JournalOp[], folder: string): JournalOp[] {
  const inside = (p: string) => p !== folder && isEqualOrParent(p, folder);
  // a copy or move of something inside — or of the folder itself — to elsewhere reads what is inside
  const escapes = ops.some(o => (o.kind === 'copy' || o.kind === 'move') && isEqualOrParent(o.from, folder) && !inside(o.to));
  if (escapes) return ops;
  return ops.filter(o => !opPaths(o).every(inside));
}

/**
 * A folder is deleted: a copy made into it is moot, and a file moved into it is gone from where it was —
 * the move becomes a delete of its source (which may collapse further). Returns the journal with the
 * latest such operation rewritten (the caller repeats until there is none), or undefined. Nothing changes
 * when a later change still reads something inside the folder from outside it.
 */
function intoDeletedFolder(ops: JournalOp[], folder: string): JournalOp[] | undefined {
  const inside = (p: string) => p !== folder && isEqualOrParent(p, folder);
  if (ops.some(o => (o.kind === 'copy' || o.kind === 'move') && isEqualOrParent(o.from, folder) && !inside(o.to))) return undefined;
  for (let i = ops.length - 1; i >= 0; i--) {
    const o = ops[i];
    if ((o.kind !== 'copy' && o.kind !== 'move') || o.overwrite || !inside(o.to) || isEqualOrParent(o.from, folder)) continue;
    const rest = ops.filter((_, k) => k !== i);
    if (o.kind === 'copy') return rest;
    if (o.type !== 'file' || ops.slice(i + 1).some(x => touches(x, [o.from]))) continue;
    return appendOp(rest, { kind: 'delete', path: o.from, type: 'file', base: o.base });
  }
  return undefined;
}

/** Collapses a whole sequence (the journal as recorded, in order). */
export function collapse(ops: readonly JournalOp[]): JournalOp[] {
  return ops.reduce<JournalOp[]>((acc, op) => appendOp(acc, op), []);
}

/** Where `path` lives after `op` (for ops that move things), else `path` itself. */
export function pathAfter(op: JournalOp, path: string): string {
  if (op.kind !== 'move') return path;
  const rel = relativeTo(path, op.from);
  return rel === undefined ? path : joinPath(op.to, rel);
}

/** Where `path` was before `op` moved it (for a path at or below its target), else `path` itself. */
function pathBefore(op: Extract<JournalOp, { kind: 'move' }>, path: string): string {
  const rel = relativeTo(path, op.to);
  return rel === undefined ? path : joinPath(op.from, rel);
}
