// Finding files without a network (F1.5): VS Code's Quick Open and text search do not reach a plain
// FileSystemProvider, so the cache answers from its own index and cached contents.
import { basename } from '../core/remotePath';
import { hasValidContent, type CacheEntry } from './cacheEntry';

/** What a search reads: the entries, and the blobs by hash. */
export interface Searchable {
  all(): Iterable<CacheEntry>;
  blob(hash: string): Promise<Uint8Array | undefined>;
}

export interface FileHit {
  readonly path: string;
  readonly cached: boolean;
}

export interface TextHit {
  readonly path: string;
  /** 0-based line and column. */
  readonly line: number;
  readonly column: number;
  readonly preview: string;
}

/** Every file the index knows (read, listed or pinned), best matches of `query` first. */
export function findFiles(cache: Pick<Searchable, 'all'>, query: string, limit = 5000): FileHit[] {
  const q = query.toLowerCase();
  const hits: (FileHit & { score: number })[] = [];
  for (const e of cache.all()) {
    if (e.type !== 'file') continue;
    const name = basename(e.path).toLowerCase();
    const path = e.path.toLowerCase();
    const score = !q ? 0 : name.startsWith(q) ? 0 : name.includes(q) ? 1 : path.includes(q) ? 2 : -1;
    if (score >= 0) hits.push({ path: e.path, cached: hasValidContent(e), score });
  }
  hits.sort((a, b) => a.score - b.score || a.path.localeCompare(b.path));
  return hits.slice(0, limit).map(({ path, cached }) => ({ path, cached }));
}

/** Lines of cached text files containing `query` (case-insensitive); binary content is skipped. */
export async function findInCachedFiles(cache: Searchable, query: string, limit = 2000): Promise<TextHit[]> {
  const q = query.toLowerCase();
  const hits: TextHit[] = [];
  if (!q) return hits;
  const decoder = new TextDecoder('utf-8', { fatal: true });
  for (const e of [...cache.all()].sort((a, b) => a.path.localeCompare(b.path))) {
    if (e.type !== 'file' || !hasValidContent(e)) continue;
    const data = await cache.blob(e.blob!);
    if (!data || data.includes(0)) continue;
    let text: string;
    try {
      text = decoder.decode(data);
    } catch {
      continue;
    }
    const lines = text.split('\n');
    for (let i = 0; i < lines.length && hits.length < limit; i++) {
      const column = lines[i].toLowerCase().indexOf(q);
      if (column >= 0) hits.push({ path: e.path, line: i, column, preview: lines[i].trim().slice(0, 200) });
    }
    if (hits.length >= limit) break;
  }
  return hits;
}
