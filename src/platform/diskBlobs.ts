// The disk store's content: blobs named by their SHA-256 under blobs/<first two hex digits>/, written to
// the temp folder, fsynced and renamed into place (a crash leaves a temp file, never a partial blob),
// verified against their hash on every read. Streamed blobs are hashed as they are written.
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { join } from 'node:path';
import { isSha256Hex, sha256Hex } from '../cache/contentHash';
import type { Logger } from '../core/log';
import { diskError, DiskStoreError, errno, isIoError } from './diskErrors';
import { fsyncDir } from './diskLock';
import type { DiskFs } from './diskShareStore';

type FileHandle = Awaited<ReturnType<DiskFs['open']>>;
/** Bytes read at a time from a blob (an upload, a partial download's hash seeded). */
const SLICE = 4 * 1024 * 1024;

export class DiskBlobs {
  private tempCounter = 0;

  constructor(
    private readonly fs: DiskFs,
    private readonly dir: string,
    private readonly tmpDir: string,
    private readonly logger: Logger,
  ) {}

  private blobPath(hash: string): string {
    return join(this.dir, 'blobs', hash.slice(0, 2), hash);
  }

  /** A fresh temp file name (also for the store's snapshot writes). */
  tempPath(): string {
    return join(this.tmpDir, `${process.pid}-${++this.tempCounter}-${randomBytes(4).toString('hex')}`);
  }

  async put(data: Uint8Array): Promise<string> {
    const hash = await sha256Hex(data);
    const file = this.blobPath(hash);
    try {
      if ((await this.fs.stat(file)).size === data.byteLength) return hash;
    } catch (err) {
      if (errno(err) !== 'ENOENT') throw diskError(err, `reading blob ${hash}`);
    }
    const temp = this.tempPath();
    try {
      const fh = await this.fs.open(temp, 'wx');
      try {
        await fh.writeFile(data);
        await fh.sync();
      } finally {
        await fh.close();
      }
      const folder = join(this.dir, 'blobs', hash.slice(0, 2));
      const created = await this.fs.mkdir(folder, { recursive: true });
      if (created) await fsyncDir(this.fs, join(this.dir, 'blobs'));
      await this.fs.rename(temp, file);
      await fsyncDir(this.fs, folder);
    } catch (err) {
      await this.fs.rm(temp, { force: true }).catch(() => undefined);
      throw diskError(err, `writing blob ${hash} (${data.byteLength} bytes)`);
    }
    return hash;
  }

  async putStream(chunks: AsyncIterable<Uint8Array>): Promise<{ hash: string; size: number }> {
    const temp = this.tempPath();
    const hasher = createHash('sha256');
    let size = 0;
    let fh: FileHandle | undefined;
    let hash: string | undefined;
    try {
      fh = await this.fs.open(temp, 'wx');
      size = await writeChunks(fh, hasher, chunks, 0);
      await fh.sync();
      await fh.close();
      fh = undefined;
      hash = hasher.digest('hex');
      await this.adopt(temp, hash, size);
      return { hash, size };
    } catch (err) {
      await fh?.close().catch(() => undefined);
      await this.fs.rm(temp, { force: true }).catch(() => undefined);
      // a failure of the source (the download) is its own error, not the store's
      if (!isIoError(err)) throw err;
      throw diskError(err, `writing blob ${hash ?? '(streamed)'} (${size} bytes so far)`);
    }
  }

  /**
   * Makes `file` (written and synced, its SHA-256 `hash`, `size` bytes) the blob of its hash: renamed into
   * place, or removed when that blob is there already.
   */
  async adopt(file: string, hash: string, size: number): Promise<void> {
    const target = this.blobPath(hash);
    const existing = await this.fs.stat(target).then(
      st => st.size,
      err => (errno(err) === 'ENOENT' ? undefined : Promise.reject(err)),
    );
    if (existing === size) {
      await this.fs.rm(file, { force: true });
      return;
    }
    const folder = join(this.dir, 'blobs', hash.slice(0, 2));
    const created = await this.fs.mkdir(folder, { recursive: true });
    if (created) await fsyncDir(this.fs, join(this.dir, 'blobs'));
    await this.fs.rename(file, target);
    await fsyncDir(this.fs, folder);
  }

  /**
   * The blob as it is read, in slices; the last slice is held back until the whole matched its hash, so
   * a damaged blob fails the read before a body sent from it completes (and is removed).
   */
  async open(hash: string): Promise<{ size: number; chunks(): AsyncIterable<Uint8Array> } | undefined> {
    if (!isSha256Hex(hash)) return undefined;
    const file = this.blobPath(hash);
    let size: number;
    try {
      size = (await this.fs.stat(file)).size;
    } catch (err) {
      if (errno(err) === 'ENOENT') return undefined;
      throw diskError(err, `reading blob ${hash}`);
    }
    const verified = async function* (this: DiskBlobs): AsyncGenerator<Uint8Array> {
      const hasher = createHash('sha256');
      let held: Uint8Array | undefined;
      for await (const slice of readSlices(this.fs, file, 0, size, `reading blob ${hash}`)) {
        if (held) yield held;
        hasher.update(slice);
        held = slice;
      }
      if (hasher.digest('hex') !== hash) {
        this.logger.warn(`[cache] blob ${hash}: removed (content does not match its hash)`);
        await this.fs.rm(file, { force: true }).catch(() => undefined);
        throw new DiskStoreError(`cache store: blob ${hash} is damaged (its content does not match its hash); it was removed`, 'EIO');
      }
      if (held) yield held;
    };
    return { size, chunks: () => verified.call(this) };
  }

  async get(hash: string): Promise<Uint8Array | undefined> {
    if (!isSha256Hex(hash)) return undefined;
    const file = this.blobPath(hash);
    let data: Buffer;
    try {
      data = await this.fs.readFile(file);
    } catch (err) {
      if (errno(err) === 'ENOENT') return undefined;
      throw diskError(err, `reading blob ${hash}`);
    }
    if ((await sha256Hex(data)) !== hash) {
      this.logger.warn(`[cache] blob ${hash}: removed (content does not match its hash)`);
      await this.fs.rm(file, { force: true }).catch(() => undefined);
      return undefined;
    }
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }

  async delete(hashes: readonly string[]): Promise<void> {
    for (const hash of hashes) {
      if (!isSha256Hex(hash)) continue;
      try {
        await this.fs.rm(this.blobPath(hash), { force: true });
      } catch (err) {
        throw diskError(err, `deleting blob ${hash}`);
      }
    }
  }

  async list(): Promise<string[]> {
    const blobs = join(this.dir, 'blobs');
    const hashes: string[] = [];
    try {
      for (const prefix of await this.fs.readdir(blobs)) {
        if (!/^[0-9a-f]{2}$/.test(prefix)) continue;
        for (const name of await this.fs.readdir(join(blobs, prefix))) {
          if (isSha256Hex(name) && name.startsWith(prefix)) hashes.push(name);
        }
      }
    } catch (err) {
      if (errno(err) !== 'ENOENT') throw diskError(err, `listing ${blobs}`);
    }
    return hashes;
  }
}

/** Writes the chunks at `at` in the file, hashing them; resolves with the size reached. */
export async function writeChunks(fh: FileHandle, hasher: Hash, chunks: AsyncIterable<Uint8Array>, at: number): Promise<number> {
  let size = at;
  for await (const chunk of chunks) {
    hasher.update(chunk);
    for (let done = 0; done < chunk.byteLength; ) {
      const { bytesWritten } = await fh.write(chunk, done, chunk.byteLength - done, size);
      done += bytesWritten;
      size += bytesWritten;
    }
  }
  return size;
}

/** Bytes `from`..`to` of a file in slices of a few MB (a fresh buffer each: a consumer may keep them). */
export async function* readSlices(fs: DiskFs, file: string, from: number, to: number, what: string): AsyncGenerator<Uint8Array> {
  let fh: FileHandle;
  try {
    fh = await fs.open(file, 'r');
  } catch (err) {
    throw diskError(err, what);
  }
  try {
    for (let at = from; at < to; ) {
      const slice = new Uint8Array(Math.min(SLICE, to - at));
      let got: number;
      try {
        got = (await fh.read(slice, 0, slice.byteLength, at)).bytesRead;
      } catch (err) {
        throw diskError(err, what);
      }
      if (got === 0) throw new DiskStoreError(`cache store: ${what}: the file ended after ${at} of ${to} bytes`, 'EIO');
      at += got;
      yield got === slice.byteLength ? slice : slice.subarray(0, got);
    }
  } finally {
    await fh.close().catch(() => undefined);
  }
}
