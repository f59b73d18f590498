// Finding files without a network (F1.5): VS Code's Quick Open and text search do not reach a plain
// FileSystemProvider (they wait for a search provider, an API only VS Code's own extensions may use), so
// the cache answers from its own index — every name the walk of the whole tree learnt — and from the
// cached contents, saying how many files it could not search because their content is not here.
import { basename } from '../core/remotePath';
import { hasValidContent, isLocal, type CacheEntry } from './cacheEntry';

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

export interface TextSearch {
  readonly hits: readonly TextHit[];
  /** Files known whose content is not on this computer: not searched. */
  readonly notDownloaded: number;
}

/** Whether the letters of `q` appear in `text` in order (a fuzzy match, as Quick Open's). */
function inOrder(q: string, text: string): boolean {
  let at = 0;
  for (const ch of q) {
    at = text.indexOf(ch, at);
    if (at < 0) return false;
    at++;
  }
  return true;
}

/**
 * Every file the index knows (read, listed, learnt or pinned) matching `query`, best first: the name
 * starts with it, the name contains it, the path contains it, then its letters in order in the name
 * (`hljs` finds `hello.js`). Spaces separate words that must all be in the path (`docs c.md`).
 */
export function findFiles(cache: Pick<Searchable, 'all'>, query: string, limit = 5000): FileHit[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  const q = words.join('');
  const hits: (FileHit & { score: number })[] = [];
  for (const e of cache.all()) {
    if (e.type !== 'file') continue;
    const path = e.path.toLowerCase();
    let score = 0;
    if (words.length === 1) {
      const name = basename(path);
      score = name.startsWith(q) ? 0 : name.includes(q) ? 1 : path.includes(q) ? 2 : inOrder(q, name) ? 3 : -1;
    } else if (words.length > 1) {
      score = words.every(w => path.includes(w)) ? 2 : -1;
    }
    if (score >= 0) hits.push({ path: e.path, cached: hasValidContent(e), score });
  }
  hits.sort((a, b) => a.score - b.score || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return hits.slice(0, limit).map(({ path, cached }) => ({ path, cached }));
}

/**
 * Lines of cached text files containing `query` (case-insensitive); binary content is skipped. Files
 * known without their content (not downloaded) cannot be searched: they are counted.
 */
export async function findInCachedFiles(cache: Searchable, query: string, limit = 2000): Promise<TextSearch> {
  const q = query.toLowerCase();
  const hits: TextHit[] = [];
  if (!q) return { hits, notDownloaded: 0 };
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const files: CacheEntry[] = [];
  let notDownloaded = 0;
  for (const e of cache.all()) {
    if (e.type !== 'file') continue;
    if (hasValidContent(e)) files.push(e);
    else if (!isLocal(e)) notDownloaded++;
  }
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (const e of files) {
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
  return { hits, notDownloaded };
}
