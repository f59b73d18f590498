// How a replay groups the journal into rounds (pure logic; replayer.ts sends them). A round holds the
// pending changes that are independent of each other — none at, above or below a path of another, nor of
// one left for later — so they can go out in parallel while the order per path stays the journal's. One
// exception: a change inside a folder the same round makes goes in that round, to be sent once the folder
// was made (`after`); if it fails then, the replayer leaves it for the next round (after the folder's
// proof) — a change into a folder not there yet changes nothing.
import { isEqualOrParent } from '../core/remotePath';
import { opPaths, type JournalItem } from '../offline/journalOps';

export interface Round {
  /** The round's changes, in journal order. */
  readonly items: JournalItem[];
  /** For a change inside folders this round makes: those folders' changes, which must be done first. */
  readonly after: Map<number, JournalItem[]>;
}

/** The next round of `candidates` (pending, in journal order, not tried yet), at most `limit` changes. */
export function nextRound(candidates: readonly JournalItem[], limit: number): Round {
  const items: JournalItem[] = [];
  const after = new Map<number, JournalItem[]>();
  const waiting: string[] = [];
  for (const item of candidates) {
    const paths = opPaths(item.op);
    const earlier = items.filter(r => overlaps(paths, opPaths(r.op)));
    const insideMadeFolders = earlier.every(r => {
      const made = r.op.kind === 'mkdir' ? r.op.path : undefined;
      return made !== undefined && paths.every(p => !overlaps([p], [made]) || isStrictlyBelow(p, made));
    });
    if (items.length >= limit || overlaps(paths, waiting) || !insideMadeFolders) {
      waiting.push(...paths);
      continue;
    }
    if (earlier.length) after.set(item.id, earlier);
    items.push(item);
  }
  return { items, after };
}

function isStrictlyBelow(path: string, folder: string): boolean {
  return path !== folder && isEqualOrParent(path, folder);
}

/** Whether any of `a` is at, above or below any of `b`. */
function overlaps(a: readonly string[], b: readonly string[]): boolean {
  return a.some(p => b.some(q => isEqualOrParent(p, q) || isEqualOrParent(q, p)));
}
