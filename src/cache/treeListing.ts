// A whole-tree answer (PROPFIND `Depth: infinity`) turned into the folder listings the cache records,
// parents first. The answer comes from a server, so it is checked like any listing: entries outside the
// folder asked for, repeated ones, and ones whose parent is not a folder of the same answer are dropped
// (counted), and an answer that does not describe the folder itself is refused.
import { ShareError } from '../core/errors';
import { dirname, isEqualOrParent } from '../core/remotePath';
import type { RemoteEntry, RemoteListing } from '../remote/remoteFs';

export interface TreeListings {
  /** One listing per folder of the answer, each after its parent's (the folder asked for first). */
  readonly listings: RemoteListing[];
  /** Entries dropped: outside the folder, repeated, or below something that is not a folder of the answer. */
  readonly dropped: number;
}

function depth(path: string): number {
  let n = 0;
  for (let i = 0; i < path.length; i++) if (path.charCodeAt(i) === 47) n++;
  return path === '/' ? 0 : n;
}

/** Groups the entries of a whole-tree answer for `root` into listings (see the file's comment). */
export function groupTree(root: string, entries: readonly RemoteEntry[]): TreeListings {
  let dropped = 0;
  let all = entries;
  if (!entries.some(e => e.path === root)) {
    // a server that spells the folder in another Unicode normalization (NFD on macOS): its one twin,
    // and everything below it, is taken under the name asked for
    const nfc = root.normalize('NFC');
    const twins = entries.filter(e => e.path.normalize('NFC') === nfc);
    if (twins.length === 1) {
      const twin = twins[0].path;
      all = entries.map(e => (isEqualOrParent(e.path, twin) ? { ...e, path: root + e.path.slice(twin.length) } : e));
    }
  }
  const byPath = new Map<string, RemoteEntry>();
  for (const e of all) {
    if (!isEqualOrParent(e.path, root) || byPath.has(e.path)) {
      dropped++;
      continue;
    }
    byPath.set(e.path, e);
  }
  const self = byPath.get(root);
  if (!self || self.type !== 'directory') {
    throw new ShareError('Rejected', `PROPFIND ${root}: the server's whole-tree answer does not describe the folder itself; it is not trusted.`);
  }
  const children = new Map<string, RemoteEntry[]>([[root, []]]);
  const order = [self];
  const sorted = [...byPath.values()].map(e => ({ e, d: depth(e.path) })).sort((a, b) => a.d - b.d);
  for (const { e } of sorted) {
    if (e === self) continue;
    const siblings = children.get(dirname(e.path));
    if (!siblings) {
      dropped++; // its parent is a file, or not in the answer
      continue;
    }
    siblings.push(e);
    if (e.type === 'directory') {
      children.set(e.path, []);
      order.push(e);
    }
  }
  return { listings: order.map(dir => ({ self: dir, children: children.get(dir.path)! })), dropped };
}
