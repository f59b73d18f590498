// A version of an item on the server, as the server's validator: the etag where there is one, else
// mtime + size (nginx gives no etags in listings). ONE rule compares versions everywhere: the cache's
// coherency, the replay's decisions, the proof of landing.
import { weakEtagEquals } from './etag';

export interface ServerVersion {
  readonly etag?: string;
  readonly mtime: number;
  readonly size: number;
}

/** Whether two versions are the same: etags compared weakly when both have one, else mtime + size. */
export function sameVersion(a: ServerVersion, b: ServerVersion): boolean {
  if (a.etag && b.etag) return weakEtagEquals(a.etag, b.etag);
  return a.mtime === b.mtime && a.size === b.size;
}
