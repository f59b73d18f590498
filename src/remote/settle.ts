// Stat helpers for writes that must not lose an update. Apache gives a weak etag (`W/"…"`) for about a
// second after each change, and compares If-Match strongly: a weak etag can never match. Before a
// conditional request, wait until the etag settles.
import { isShareError } from '../core/errors';
import { isWeakEtag } from './etag';
import type { RemoteEntry, RemoteFs } from './remoteFs';

const SETTLE_WAIT_MS = 1100;

/** Stats `path` and, while its etag is weak, waits and stats again (a few times at most). */
export async function settledStat(remote: RemoteFs, path: string, attempts = 3): Promise<RemoteEntry> {
  let entry = await remote.stat(path);
  for (let i = 0; i < attempts && isWeakEtag(entry.etag); i++) {
    await new Promise(r => setTimeout(r, SETTLE_WAIT_MS));
    entry = await remote.stat(path);
  }
  return entry;
}

/** Stats `path`; undefined when there is nothing there (any other failure is thrown). */
export async function statOrGone(remote: RemoteFs, path: string): Promise<RemoteEntry | undefined> {
  try {
    return await remote.stat(path);
  } catch (err) {
    if (isShareError(err, 'NotFound')) return undefined;
    throw err;
  }
}

/** settledStat, undefined when there is nothing there. */
export async function settledStatOrGone(remote: RemoteFs, path: string): Promise<RemoteEntry | undefined> {
  try {
    return await settledStat(remote, path);
  } catch (err) {
    if (isShareError(err, 'NotFound')) return undefined;
    throw err;
  }
}

/**
 * The ONE rule for a version about to be named in If-Match or compared right before a write: `entry` as it
 * is, unless its etag is weak (Apache, within a second of a change) — then stat again until it settles.
 */
export async function settled(remote: RemoteFs, entry: RemoteEntry | undefined): Promise<RemoteEntry | undefined> {
  return entry && isWeakEtag(entry.etag) ? settledStatOrGone(remote, entry.path) : entry;
}
