// One process at a time has a share's disk store open: a lock file with {pid, boot}. A lock of a process
// that is gone (or from before the last reboot, or torn by a crash while it was written) is stale and taken
// over. Also the folder fsync that makes a rename or creation durable.
import * as os from 'node:os';
import { diskError, DiskStoreError, errno } from './diskErrors';
import type { DiskFs } from './diskShareStore';

export const heldLocks = new Set<string>();

function bootTime(): number {
  return Date.now() - os.uptime() * 1000;
}

export async function takeLock(fs: DiskFs, file: string): Promise<void> {
  if (heldLocks.has(file)) throw new DiskStoreError(`cache store: ${file} is already open in this process`, 'EBUSY');
  const mine = JSON.stringify({ pid: process.pid, boot: bootTime() });
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await fs.writeFile(file, mine, { flag: 'wx' });
      heldLocks.add(file);
      return;
    } catch (err) {
      if (errno(err) !== 'EEXIST') {
        // created but not written (a full disk): an empty lock holds nothing, but leave none behind
        if (errno(err) !== 'EROFS') await fs.rm(file, { force: true }).catch(() => undefined);
        throw diskError(err, `locking ${file}`);
      }
    }
    // an empty or torn lock file: its writer was killed while writing it, so it holds nothing
    const holder = await fs.readFile(file, 'utf8').then(
      text => {
        try {
          return JSON.parse(text) as { pid?: unknown; boot?: unknown };
        } catch {
          return undefined;
        }
      },
      () => undefined,
    );
    if (holder && typeof holder.pid === 'number' && typeof holder.boot === 'number' && isAlive(holder.pid, holder.boot)) {
      throw new DiskStoreError(`cache store: in use by another window (process ${holder.pid}): ${file}`, 'EBUSY');
    }
    await fs.rm(file, { force: true }); // stale: its process is gone
  }
  throw new DiskStoreError(`cache store: could not lock ${file}`, 'EBUSY');
}

function isAlive(pid: number, boot: number): boolean {
  // A lock from before the last reboot is stale even if its pid now names some other process.
  if (pid === process.pid || Math.abs(boot - bootTime()) > 120_000) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errno(err) === 'EPERM';
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
