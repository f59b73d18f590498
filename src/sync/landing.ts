// Proof of landing: ONE rule for every write (an online save, a replayed change, a conflict resolution).
// A 2xx answer is not proof: a gateway answers 200 with a sign-in page, a broken server answers 204 and
// drops the body. A change has landed only when the server shows it:
// - a write: the answer carries a validator that differs from the version the write started from, or
//   the server (re-stat or its folder's listing) now has a new validator and exactly the bytes' size —
//   where the server gives no etags, a changed mtime or size (and when even that cannot tell, the bytes
//   are read back and compared);
// - a new folder is there as a folder; a deleted item is gone; a moved item is at its target and no
//   longer at its source; a copy is at its target.
// Otherwise the change did not land: it stays pending ("unstored"), or, when the server now holds another
// version than ours and the base, someone else's version is there: a conflict, never an overwrite.
// Pure functions, tested as tables (test/unit/landing.test.ts).
import { weakEtagEquals } from '../remote/etag';
import type { EntryType, RemoteEntry } from '../remote/remoteFs';
import { sameVersion, type ServerVersion } from '../remote/version';


export type Verdict =
  /** the server shows the change; for a write, `etag` is the validator of the bytes sent (when known) */
  | { readonly kind: 'landed'; readonly etag?: string }
  /** the server shows the state from before the change: it did not land */
  | { readonly kind: 'unstored' }
  /** the server shows neither the base nor the change: someone else's version is there */
  | { readonly kind: 'other-version' }
  /** nothing tells (no etags, same size and mtime): read the bytes back to decide */
  | { readonly kind: 'ambiguous' };

/** What the answer to a PUT proves by itself: a validator that is not the base's. */
export function provenByAnswer(answerEtag: string | undefined, base: ServerVersion | undefined): boolean {
  return !!answerEtag && !(base?.etag && weakEtagEquals(answerEtag, base.etag));
}

/**
 * Judges a write of `size` bytes that started from `base` (undefined: a create) by what the server shows
 * afterwards (`after`: undefined when nothing is there).
 */
export function judgeWrite(after: RemoteEntry | undefined, size: number, base: ServerVersion | undefined): Verdict {
  if (!after) return { kind: 'unstored' }; // not there at all: a create that did not land, or a write and a deletion
  if (after.type !== 'file') return { kind: 'other-version' };
  const unchanged = !!base && sameVersion(after, base);
  if (after.etag) {
    if (unchanged) return { kind: 'unstored' };
    return after.size === size ? { kind: 'landed', etag: after.etag } : { kind: 'other-version' };
  }
  // no etags: mtime + size
  if (after.size !== size) return unchanged ? { kind: 'unstored' } : { kind: 'other-version' };
  if (!base || after.mtime !== base.mtime || after.size !== base.size) return { kind: 'landed' };
  return { kind: 'ambiguous' }; // same size, same second: only the bytes can tell
}

/** Judges a change to the namespace by whether `after` is what it should be. */
export function judgePresence(after: RemoteEntry | undefined, expect: EntryType | 'absent', base?: ServerVersion): Verdict {
  if (expect === 'absent') {
    if (!after) return { kind: 'landed' };
    // still there: the same item (the delete did not happen) or something new in its place
    return !base || (after.type === 'file' && sameVersion(after, base)) || after.type === 'directory' ? { kind: 'unstored' } : { kind: 'other-version' };
  }
  if (!after) return { kind: 'unstored' };
  return after.type === expect ? { kind: 'landed' } : { kind: 'other-version' };
}
