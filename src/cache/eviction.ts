// Culling policy, a pure function: least-recently-used clean, unpinned content goes first; pinned,
// dirty and conflicted content never. Blobs shared by several entries count once.
import type { CacheEntry } from './cacheEntry';

export interface CullPlan {
  /** Entries whose content to drop, oldest access first. */
  readonly victims: CacheEntry[];
  /** Bytes of content held now. */
  readonly totalBytes: number;
  /** Bytes after dropping the victims. */
  readonly remainingBytes: number;
  /** Bytes that may never be culled (pinned, dirty, conflicted). */
  readonly keptBytes: number;
  /** True when what may never be culled alone exceeds the limit: the cache is full. */
  readonly full: boolean;
}

export function planCull(entries: Iterable<CacheEntry>, limitBytes: number, isPinned: (e: CacheEntry) => boolean): CullPlan {
  const sizes = new Map<string, number>();
  const keepers = new Set<string>();
  let candidates: CacheEntry[] = [];
  for (const e of entries) {
    if (!e.blob) continue;
    sizes.set(e.blob, e.blobSize ?? e.size);
    if (isPinned(e) || (e.state ?? 'clean') !== 'clean') keepers.add(e.blob);
    else candidates.push(e);
  }
  let total = 0;
  for (const s of sizes.values()) total += s;
  let kept = 0;
  for (const h of keepers) kept += sizes.get(h)!;

  // dropping content a keeper shares frees nothing
  candidates = candidates.filter(c => !keepers.has(c.blob!));
  candidates.sort((a, b) => a.lastAccess - b.lastAccess || a.path.localeCompare(b.path));
  // a blob is freed once every candidate that references it is dropped, and no keeper does
  const users = new Map<string, number>();
  for (const c of candidates) users.set(c.blob!, (users.get(c.blob!) ?? 0) + 1);
  const victims: CacheEntry[] = [];
  let remaining = total;
  for (const c of candidates) {
    if (remaining <= limitBytes) break;
    victims.push(c);
    const left = users.get(c.blob!)! - 1;
    users.set(c.blob!, left);
    if (left === 0) remaining -= sizes.get(c.blob!)!;
  }
  return { victims, totalBytes: total, remainingBytes: remaining, keptBytes: kept, full: kept > limitBytes };
}
