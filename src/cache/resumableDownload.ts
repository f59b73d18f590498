// A download into the cache as the bytes arrive (never the whole file in memory), resumed where an
// earlier one of the same version was cut. Where the store keeps cut downloads (the disk store; the
// IndexedDB store does not, so there a cut download starts over), what arrived stays as a partial tied
// to the path and the version's validator: a strong ETag, else Last-Modified (an ETag that is weak —
// Apache's within a second of a change — cannot name a version in If-Range). The next download of the
// path asks `Range: bytes=N-` with `If-Range: <validator>`; a 206 of exactly that range appends (the
// kept bytes are hashed again first: the blob's name is the hash of the whole), a 200 starts over (the
// server ignores ranges, or the version changed), and a 206 for anything else is refused and its
// partial dropped (remote/ranges.ts). A listing that shows another version drops the partial before
// asking.
import { isShareError } from '../core/errors';
import type { RemoteFs, RemoteStream, ResumeFrom } from '../remote/remoteFs';
import type { CacheEntry } from './cacheEntry';
import type { ShareStore } from './shareStore';

export interface Downloaded {
  readonly stream: RemoteStream;
  readonly blob: { readonly hash: string; readonly size: number };
}

/**
 * GETs `path` as a stream into the store, resuming a cut download of the same version. `check` sees the
 * answer before its body is read (and may refuse it: the body is then cancelled).
 */
export async function downloadInto(
  remote: Required<Pick<RemoteFs, 'getStream'>>,
  store: ShareStore,
  path: string,
  known: CacheEntry | undefined,
  check: (stream: RemoteStream) => void,
): Promise<Downloaded> {
  const hold = await store.partials?.take(path, validator => sameVersion(validator, known));
  let stream: RemoteStream;
  try {
    const resume: ResumeFrom | undefined = hold?.size ? { from: hold.size, ifRange: hold.validator } : undefined;
    stream = await remote.getStream(path, resume ? { resume } : {});
    try {
      check(stream);
    } catch (err) {
      await stream.chunks[Symbol.asyncIterator]().return?.();
      throw err;
    }
  } catch (err) {
    // a refused 206 (hostile, or a server that cannot do ranges right), a 416, a file gone: start over next time
    await hold?.release(!isShareError(err, 'Unavailable'));
    throw err;
  }
  const blob = hold
    ? await hold.put(stream.range?.from ?? 0, resumeValidator(stream), stream.chunks, err => isShareError(err, 'Unavailable'))
    : await store.putBlobStream(stream.chunks);
  return { stream, blob };
}

/** The validator a cut download of this answer is kept under: a strong etag, else Last-Modified. */
export function resumeValidator(answer: { etag?: string; lastModified?: string }): string | undefined {
  if (answer.etag && !answer.etag.startsWith('W/')) return answer.etag;
  return answer.lastModified || undefined;
}

/** Whether kept bytes of `validator` can be of the version the cache knows (unknown: If-Range decides). */
function sameVersion(validator: string, known: CacheEntry | undefined): boolean {
  if (known?.type !== 'file') return true;
  if (validator.startsWith('"')) return !known.etag || known.etag.replace(/^W\//, '') === validator;
  return known.etag !== undefined && !known.etag.startsWith('W/') ? false : Date.parse(validator) === known.mtime;
}
