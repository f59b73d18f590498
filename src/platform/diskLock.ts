// One process at a time has a share's disk store open: a lock file with {pid, boot}. A lock of a process
// that is gone (or from before the last reboot, or torn by a crash while it was written) is stale and taken
// over — under a short-lived takeover guard (`lock.takeover`), so that windows that find the same stale
// lock at the same moment never remove the lock one of them has just taken, and never both hold the store.
// Another window waits for the store by looking at the lock (waitForLock). Also the folder fsync that
// makes a rename or creation durable.
import * as os from 'node:os';
import { StoreBusyError } from '../cache/shareStore';
import { diskError, errno } from './diskErrors';
import type { DiskFs } from './diskShareStore';

/** Lock files this process holds (a store opened twice in one process is refused). */
export const heldLocks = new Set<string>();

interface Holder {
  readonly pid: number;
  readonly boot: number;
}

function bootTime(): number {
  return Date.now() - os.uptime() * 1000;
}

export async function takeLock(fs: DiskFs, file: string): Promise<void> {
  if (heldLocks.has(file)) throw new StoreBusyError(`cache store: ${file} is already open in this process`, 'this window');
  const mine = JSON.stringify({ pid: process.pid, boot: bootTime() });
  const guard = `${file}.takeover`;
  // long enough for a torn guard (older versions) to become stale
  const deadline = Date.now() + TORN_LOCK_MS + 2000;
  while (Date.now() < deadline) {
    if (await create(fs, file, mine)) {
      heldLocks.add(file);
      return;
    }
    const found = await judge(fs, file);
    if (found.state === 'held') throw busy(file, found.holder);
    if (found.state === 'free') continue; // removed meanwhile: try again
    // Stale: removed only under the takeover guard, and only when read as stale under it. A lock changes
    // only by being created where there is none, or removed — by its live holder, or by a guard holder —
    // so what a guard holder read is still there when it removes it.
    if (await create(fs, guard, mine)) {
      try {
        if ((await judge(fs, file)).state === 'stale') await fs.rm(file, { force: true });
      } finally {
        await fs.rm(guard, { force: true });
      }
      continue;
    }
    const g = await judge(fs, guard);
    if (g.state === 'stale') await removeStale(fs, guard, g.text); // its holder died within those milliseconds
    else await new Promise(r => setTimeout(r, 5 + Math.random() * 15)); // another window is taking over: it is quick
  }
  throw new StoreBusyError(`cache store: could not lock ${file} (other windows kept taking it)`, 'another window');
}

/**
 * Creates `file` with `text` unless it exists; resolves whether it did. Written whole under another name
 * first and hard-linked into place, so that nobody ever reads it empty or half-written (a window killed
 * while writing it leaves no torn lock); where the file system has no hard links, written in place.
 */
async function create(fs: DiskFs, file: string, text: string): Promise<boolean> {
  const temp = `${file}.new-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  try {
    await fs.writeFile(temp, text, { flag: 'wx' });
    try {
      await fs.link(temp, file);
      return true;
    } catch (err) {
      if (errno(err) === 'EEXIST') return false;
      if (!NO_LINKS.has(errno(err) ?? '')) throw err;
    }
    await fs.writeFile(file, text, { flag: 'wx' });
    return true;
  } catch (err) {
    if (errno(err) === 'EEXIST') return false;
    throw diskError(err, `locking ${file}`);
  } finally {
    await fs.rm(temp, { force: true }).catch(() => undefined);
  }
}

/** What link() says on a file system without hard links (FAT, some network shares). */
const NO_LINKS = new Set(['EPERM', 'ENOTSUP', 'ENOSYS', 'EOPNOTSUPP', 'EXDEV']);

/**
 * Removes the stale takeover guard if it still holds `stale`. Moved aside first (atomic), then compared:
 * when another window took the guard between our read and the move, the move took ITS guard, which is put
 * back (a hard link never replaces a file that appeared meanwhile).
 */
async function removeStale(fs: DiskFs, file: string, stale: string): Promise<void> {
  const aside = `${file}.stale-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  try {
    await fs.rename(file, aside);
  } catch (err) {
    if (errno(err) === 'ENOENT') return; // someone else removed it
    throw diskError(err, `removing the stale ${file}`);
  }
  try {
    if ((await readText(fs, aside)) === stale) return;
    await fs.link(aside, file).catch((err: unknown) => {
      // a third window took the guard in the moment the live one was aside: both go on (it takes a
      // window dying while it holds the guard, for milliseconds, and three racing for it)
      if (errno(err) !== 'EEXIST') throw diskError(err, `putting back ${file}`);
    });
  } finally {
    await fs.rm(aside, { force: true }).catch(() => undefined);
  }
}

async function readText(fs: DiskFs, file: string): Promise<string | undefined> {
  return fs.readFile(file, 'utf8').then(
    text => text,
    (err: unknown) => (errno(err) === 'ENOENT' ? undefined : ''), // unreadable: judged like a torn one
  );
}

/**
 * A torn lock younger than this may be one that is being written (created, not yet filled: a file system
 * without hard links, or an older version of this code): not stale yet.
 */
const TORN_LOCK_MS = 2000;

type Found = { readonly state: 'free' } | { readonly state: 'held'; readonly holder?: Holder } | { readonly state: 'stale'; readonly text: string };

/** What the lock file says now: nobody holds it, a live process does, or it is stale (with its text). */
async function judge(fs: DiskFs, file: string): Promise<Found> {
  const text = await readText(fs, file);
  if (text === undefined) return { state: 'free' };
  const holder = parseHolder(text);
  if (holder) return isAlive(holder) ? { state: 'held', holder } : { state: 'stale', text };
  // empty or torn: stale once it is old enough that its writer cannot still be writing it
  const mtime = await fs.stat(file).then(s => s.mtimeMs, () => undefined);
  if (mtime === undefined) return { state: 'free' };
  return Date.now() - mtime < TORN_LOCK_MS ? { state: 'held' } : { state: 'stale', text };
}

/** The holder a lock file names; undefined when it is empty or torn (its writer was killed while writing it). */
function parseHolder(text: string): Holder | undefined {
  try {
    const h = JSON.parse(text) as { pid?: unknown; boot?: unknown };
    return typeof h.pid === 'number' && typeof h.boot === 'number' ? { pid: h.pid, boot: h.boot } : undefined;
  } catch {
    return undefined;
  }
}

function busy(file: string, holder: Holder | undefined): StoreBusyError {
  const who = holder ? `another window (process ${holder.pid})` : 'another window (opening it now)';
  return new StoreBusyError(`cache store: in use by ${who}: ${file}`, who);
}

function isAlive({ pid, boot }: Holder): boolean {
  // A lock from before the last reboot is stale even if its pid now names some other process.
  if (pid === process.pid || Math.abs(boot - bootTime()) > 120_000) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errno(err) === 'EPERM';
  }
}

/**
 * Resolves once the lock `file` may be taken: nobody holds it, or its holder is gone. Looks every
 * `pollMs`; rejects with the signal's reason when it aborts.
 */
export async function waitForLock(fs: DiskFs, file: string, signal: AbortSignal, pollMs: number): Promise<void> {
  for (;;) {
    signal.throwIfAborted();
    if (!heldLocks.has(file) && (await judge(fs, file)).state !== 'held') return;
    await new Promise<void>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', aborted);
      };
      const aborted = () => {
        done();
        reject(signal.reason);
      };
      const timer = setTimeout(() => {
        done();
        resolve();
      }, pollMs);
      signal.addEventListener('abort', aborted);
    });
  }
}

/** Makes a rename or creation in `dir` durable. Windows cannot open a folder; NTFS journals the rename. */
export async function fsyncDir(fs: DiskFs, dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const fh = await fs.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
