// What test/conformance/offlineCrash.test.ts and its child (test/support/offlineCrashChild.ts) share: the
// server's files, the changes the child makes (as it prints them), the content of each save, and the
// model of the share's tree those changes give.
import { createHash } from 'node:crypto';
import { dirname, isEqualOrParent, joinPath, relativeTo } from '../../src/core/remotePath';
import type { JournalItem, JournalOp } from '../../src/offline/journalOps';
import type { Share } from '../../src/share/share';

/** The files the server starts with (share paths); every folder above them exists too. */
export const SERVER_FILES: Readonly<Record<string, string>> = {
  '/a.txt': 'server a\n',
  '/b.txt': 'server b\n',
  '/notes.md': 'server notes\n',
  '/docs/one.md': 'server one\n',
  '/docs/two.md': 'server two\n',
  '/docs/sub/three.md': 'server three\n',
};
/** Folders the server starts with, empty ones included. */
export const SERVER_FOLDERS: readonly string[] = ['/docs', '/docs/sub', '/empty'];

export const SHARE_ID = 'share';

/** A change as the child makes it (and prints it: `begin <json>` before, `ack <json>` once it resolved). */
export type ChildOp =
  /** `save` overwrites an existing file, `create` makes a new one; the content is contentOf(path, c). */
  | { readonly k: 'save' | 'create'; readonly path: string; readonly c: number }
  | { readonly k: 'mkdir'; readonly path: string }
  /** Recursive. */
  | { readonly k: 'delete'; readonly path: string }
  | { readonly k: 'rename' | 'copy'; readonly from: string; readonly to: string; readonly overwrite: boolean };

/** The content of save number `c` of `path`: it names both, so a misplaced or stale content shows. */
export function contentOf(path: string, c: number): string {
  // mostly small, now and then large (a slower blob write, a longer log line): the kills land in both
  const size = c % 11 === 0 ? 96 * 1024 + (c % 7) * 1000 : (c * 7919) % 3000;
  return `${path} #${c}\n${'.'.repeat(size)}\n`;
}

/** How a content is named in messages: its first line and length. */
export function describeContent(content: string): string {
  return `"${content.slice(0, content.indexOf('\n'))}" (${content.length} bytes)`;
}

export function sha1(content: string | Uint8Array): string {
  return createHash('sha1').update(content).digest('hex');
}

export type Node = { readonly type: 'directory' } | { readonly type: 'file'; readonly content: string };
/** Every item of the share but its root, by path. */
export type Tree = ReadonlyMap<string, Node>;

const DIR: Node = { type: 'directory' };

export function serverTree(): Tree {
  const tree = new Map<string, Node>();
  for (const d of SERVER_FOLDERS) tree.set(d, DIR);
  for (const [path, content] of Object.entries(SERVER_FILES)) tree.set(path, { type: 'file', content });
  return tree;
}

/** The tree without `path` and what lies below it. */
function without(tree: Tree, path: string): Map<string, Node> {
  return new Map([...tree].filter(([p]) => !isEqualOrParent(p, path)));
}

/** `from` and what lies below it, placed at `to`. */
function transplanted(tree: Tree, from: string, to: string): [string, Node][] {
  return [...tree].filter(([p]) => isEqualOrParent(p, from)).map(([p, n]) => [joinPath(to, relativeTo(p, from)!), n]);
}

/** The tree after a change (the semantics of the share's offline operations). */
export function applyChildOp(tree: Tree, op: ChildOp): Tree {
  switch (op.k) {
    case 'save':
    case 'create':
      return new Map(tree).set(op.path, { type: 'file', content: contentOf(op.path, op.c) });
    case 'mkdir':
      return new Map(tree).set(op.path, DIR);
    case 'delete':
      return without(tree, op.path);
    case 'rename':
    case 'copy': {
      const moved = transplanted(tree, op.from, op.to);
      const next = without(op.k === 'rename' ? without(tree, op.from) : tree, op.to);
      for (const [p, n] of moved) next.set(p, n);
      return next;
    }
  }
}

/** One line per item, sorted: `path/` for a folder, `path sha1` for a file (how trees are compared). */
export function treeLines(tree: Tree): string[] {
  return [...tree]
    .map(([p, n]) => (n.type === 'directory' ? `${p}/` : `${p} ${sha1(n.content)}`))
    .sort();
}

export function sameTree(a: Tree, b: Tree): boolean {
  const x = treeLines(a);
  const y = treeLines(b);
  return x.length === y.length && x.every((l, i) => l === y[i]);
}

/** How `actual` differs from `expected`, for a person: at most `max` lines. */
export function treeDiff(actual: Tree, expected: Tree, max = 8): string[] {
  const out: string[] = [];
  const show = (n: Node | undefined) => (!n ? 'nothing' : n.type === 'directory' ? 'a folder' : describeContent(n.content));
  for (const path of [...new Set([...actual.keys(), ...expected.keys()])].sort()) {
    const a = actual.get(path);
    const e = expected.get(path);
    const same = a && e && a.type === e.type && (a.type === 'directory' || (e.type === 'file' && a.content === e.content));
    if (!same) out.push(`${path}: ${show(a)} where ${show(e)} was expected`);
  }
  return out.length > max ? [...out.slice(0, max), `… ${out.length - max} more`] : out;
}

// --- the changes the child makes

/** Every item below the root: path → type, and the sha1 of each file's content. */
export async function walk(share: Share): Promise<Map<string, { type: 'file' | 'directory'; sha1?: string }>> {
  const out = new Map<string, { type: 'file' | 'directory'; sha1?: string }>();
  const visit = async (dir: string) => {
    for (const [name, type] of await share.readDirectory(dir)) {
      const path = joinPath(dir, name);
      if (type === 'directory') {
        out.set(path, { type });
        await visit(path);
      } else out.set(path, { type: 'file', sha1: sha1(await share.readFile(path)) });
    }
  };
  await visit('/');
  return out;
}

const depth = (path: string) => (path === '/' ? 0 : path.split('/').length - 1);

/** Picks the next change, valid for the tree as the child knows it. */
export class Chooser {
  private hot?: string;
  private lastRename?: { from: string; to: string };
  constructor(
    private readonly tree: Map<string, 'file' | 'directory'>,
    private readonly random: () => number,
    /** false: deletes only files (see twoWindowsChild.ts). */
    private readonly folderDeletes = true,
  ) {}

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)];
  }
  private files(): string[] {
    return [...this.tree].filter(([, t]) => t === 'file').map(([p]) => p);
  }
  private dirs(): string[] {
    return ['/', ...[...this.tree].filter(([, t]) => t === 'directory').map(([p]) => p)];
  }
  /** A folder to put something new in (not too deep; not inside `avoid`). */
  private targetDir(avoid?: string): string {
    const dirs = this.dirs().filter(d => depth(d) < 3 && (!avoid || !isEqualOrParent(d, avoid)));
    return this.pick(dirs);
  }

  next(c: number): ChildOp {
    const files = this.files();
    const dirs = this.dirs().filter(d => d !== '/');
    if (!this.hot || this.tree.get(this.hot) !== 'file') this.hot = files.length ? this.pick(files) : undefined;
    let r = this.random();
    if (files.length > 40) r = 0.62 + this.random() * 0.08; // shrink: delete
    if (files.length < 2) r = 0.45; // grow: create
    if (r < 0.3 && this.hot) return { k: 'save', path: this.hot, c };
    if (r < 0.42 && files.length) return { k: 'save', path: this.pick(files), c };
    if (r < 0.54) return { k: 'create', path: joinPath(this.targetDir(), `n${c}.txt`), c };
    if (r < 0.61) return { k: 'mkdir', path: joinPath(this.targetDir(), `d${c}`) };
    if (r < 0.7) {
      const path = this.random() < 0.75 || !dirs.length || !this.folderDeletes ? this.pick(files) : this.pick(dirs);
      return { k: 'delete', path };
    }
    const kind = r < 0.83 ? 'rename' : 'copy';
    const s = this.random();
    const back = this.lastRename;
    const parentOk = (path: string) => dirname(path) === '/' || this.tree.get(dirname(path)) === 'directory';
    if (kind === 'rename' && s < 0.12 && back && this.tree.has(back.to) && !this.tree.has(back.from) && parentOk(back.from)) {
      // renamed back (undone)
      return { k: 'rename', from: back.to, to: back.from, overwrite: false };
    }
    if (s < 0.3 && files.length >= 2) {
      // onto another file, overwriting it
      const from = this.pick(files);
      const to = this.pick(files.filter(f => f !== from));
      return { k: kind, from, to, overwrite: true };
    }
    if (s < 0.5 && dirs.length) {
      const from = this.pick(dirs);
      const dir = this.targetDir(from);
      return { k: kind, from, to: joinPath(dir, `${kind === 'rename' ? 'm' : 'c'}${c}`), overwrite: false };
    }
    const from = this.pick(files);
    return { k: kind, from, to: joinPath(this.targetDir(), `${kind === 'rename' ? 'm' : 'c'}${c}.txt`), overwrite: false };
  }

  /** The change was acknowledged: the tree as it is now. */
  done(op: ChildOp): void {
    const tree = this.tree;
    const subtree = (p: string) => [...tree].filter(([x]) => isEqualOrParent(x, p));
    const drop = (p: string) => subtree(p).forEach(([x]) => tree.delete(x));
    switch (op.k) {
      case 'save':
      case 'create':
        tree.set(op.path, 'file');
        break;
      case 'mkdir':
        tree.set(op.path, 'directory');
        break;
      case 'delete':
        drop(op.path);
        break;
      case 'rename':
      case 'copy': {
        const moved = subtree(op.from).map(([x, t]) => [op.to + x.slice(op.from.length), t] as const);
        if (op.k === 'rename') {
          drop(op.from);
          this.lastRename = { from: op.from, to: op.to };
        }
        drop(op.to);
        for (const [x, t] of moved) tree.set(x, t);
        break;
      }
    }
  }
}

export async function runOp(share: Share, op: ChildOp): Promise<void> {
  switch (op.k) {
    case 'save':
      await share.writeFile(op.path, Buffer.from(contentOf(op.path, op.c)), { create: false, overwrite: true });
      return;
    case 'create':
      await share.writeFile(op.path, Buffer.from(contentOf(op.path, op.c)), { create: true, overwrite: false });
      return;
    case 'mkdir':
      return share.createDirectory(op.path);
    case 'delete':
      return share.delete(op.path, { recursive: true });
    case 'rename':
      return share.rename(op.from, op.to, { overwrite: op.overwrite });
    case 'copy':
      return share.copy(op.from, op.to, { overwrite: op.overwrite });
  }
}

// --- checks on an open share

/** The share as the cached tree shows it (offline), and what looked wrong while walking it. */
export async function walkShare(share: Share, problems: string[]): Promise<Map<string, Node>> {
  const out = new Map<string, Node>();
  const visit = async (dir: string) => {
    for (const [name, type] of await share.readDirectory(dir)) {
      const path = joinPath(dir, name);
      try {
        const stat = await share.stat(path);
        if (stat.type !== type) problems.push(`${dir} lists ${name} as a ${type}, but it is a ${stat.type}`);
        if (type === 'directory') {
          out.set(path, { type });
          await visit(path);
        } else out.set(path, { type: 'file', content: Buffer.from(await share.readFile(path)).toString() });
      } catch (err) {
        problems.push(`${dir} lists ${name} (${type}), which cannot be read: ${(err as Error).message}`);
      }
    }
  };
  await visit('/');
  return out;
}

/** What the pending journal does to the server's tree (the contents from the journal's blobs). */
export async function replayed(share: Share, pending: readonly JournalItem[], problems: string[]): Promise<Tree> {
  let tree: Tree = serverTree();
  for (const { id, op } of pending) {
    if ('base' in op && op.base?.blob && !(await share.blob(op.base.blob))) {
      problems.push(`pending change ${id} (${describeJournalOp(op)}): the blob of its base version is gone`);
    }
    switch (op.kind) {
      case 'write': {
        const data = await share.blob(op.blob);
        if (!data) {
          problems.push(`pending change ${id} (${describeJournalOp(op)}): its content blob is gone`);
          tree = new Map(tree).set(op.path, { type: 'file', content: '<missing blob>' });
        } else {
          if (data.byteLength !== op.size) problems.push(`pending change ${id} (${describeJournalOp(op)}): size ${op.size}, blob ${data.byteLength} bytes`);
          tree = new Map(tree).set(op.path, { type: 'file', content: Buffer.from(data).toString() });
        }
        break;
      }
      case 'mkdir':
        tree = applyChildOp(tree, { k: 'mkdir', path: op.path });
        break;
      case 'delete':
        tree = applyChildOp(tree, { k: 'delete', path: op.path });
        break;
      case 'move':
      case 'copy':
        tree = applyChildOp(tree, { k: op.kind === 'move' ? 'rename' : 'copy', from: op.from, to: op.to, overwrite: op.overwrite });
        break;
    }
  }
  return tree;
}

export function describeJournalOp(op: JournalOp): string {
  return `${op.kind} ${'path' in op ? op.path : `${op.from} → ${op.to}`}`;
}

/** Whether a pending operation made (or changed) what is at `path`. */
export function covers(op: JournalOp, path: string): boolean {
  switch (op.kind) {
    case 'write':
    case 'mkdir':
      return op.path === path;
    case 'move':
    case 'copy':
      return isEqualOrParent(path, op.to);
    case 'delete':
      return false;
  }
}

