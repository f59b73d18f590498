// The disk store's cut downloads, kept to resume (cache/shareStore.ts `PartialDownloads`): under
// partials/, one per server path (named by a hash of it), `<name>.part` the bytes that arrived and
// `<name>.json` the path, the version they are of (its validator) and how many bytes are sound. The
// .json is written only after the bytes are synced, and removed before a download overwrites them, so a
// crash never ties bytes to the wrong version; the bytes are hashed again when a download resumes (the
// blob's name is the hash of all of it). Kept at most MAX_COUNT partials and MAX_BYTES (oldest dropped
// first), and none older than MAX_AGE_MS; garbage collection drops those of paths gone from the cache.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from '../core/log';
import type { PartialDownload, PartialDownloads } from '../cache/shareStore';
import { readSlices, writeChunks, type DiskBlobs } from './diskBlobs';
import { diskError, errno, isIoError } from './diskErrors';
import { fsyncDir } from './diskLock';
import type { DiskFs } from './diskShareStore';

/** A cut download smaller than this is not kept (fetching it again costs less than the bookkeeping). */
const MIN_BYTES = 1024 * 1024;
const MAX_COUNT = 8;
const MAX_BYTES = 4 * 1024 * 1024 * 1024;
const MAX_AGE_MS = 14 * 24 * 3600 * 1000;

interface Meta {
  readonly path: string;
  readonly validator: string;
  readonly size: number;
  readonly time: number;
}

export interface PartialLimits {
  readonly minBytes?: number;
  readonly maxCount?: number;
  readonly maxBytes?: number;
}

export class DiskPartials implements PartialDownloads {
  /** Names held by a download in progress. */
  private readonly busy = new Set<string>();
  private readonly dir: string;

  constructor(
    private readonly fs: DiskFs,
    storeDir: string,
    private readonly blobs: DiskBlobs,
    private readonly logger: Logger,
    private readonly limits: PartialLimits = {},
  ) {
    this.dir = join(storeDir, 'partials');
  }

  private name(path: string): string {
    return createHash('sha256').update(path).digest('hex').slice(0, 40);
  }

  async take(path: string, current: (validator: string) => boolean): Promise<PartialDownload | undefined> {
    const name = this.name(path);
    if (this.busy.has(name)) return undefined;
    this.busy.add(name);
    try {
      let meta = await this.readMeta(name);
      if (meta && (meta.path !== path || !current(meta.validator))) {
        this.logger.debug(`[cache] ${path}: the ${meta.size} bytes kept of a cut download are of another version; dropped`);
        await this.drop(name);
        meta = undefined;
      }
      const kept = meta ? Math.min(meta.size, await this.fs.stat(this.part(name)).then(st => st.size, () => 0)) : 0;
      return this.hold(name, path, kept, kept ? meta!.validator : '');
    } catch (err) {
      this.busy.delete(name);
      throw diskError(err, `reading the partial download of ${path}`);
    }
  }

  private hold(name: string, path: string, size: number, validator: string): PartialDownload {
    let held = true;
    const release = async (drop?: boolean) => {
      if (!held) return;
      held = false;
      try {
        if (drop) await this.drop(name);
      } finally {
        this.busy.delete(name);
      }
    };
    return {
      size,
      validator,
      release,
      put: async (from, answerValidator, chunks, keep) => {
        if (!held) throw new Error(`the partial download of ${path} was released`);
        try {
          return await this.put(name, path, Math.min(from, size), chunks, err => answerValidator !== undefined && keep(err) ? answerValidator : undefined);
        } finally {
          await release();
        }
      },
    };
  }

  /** `keptAs`: the validator to keep what arrived under when the chunks fail this way (undefined: drop it). */
  private async put(name: string, path: string, from: number, chunks: AsyncIterable<Uint8Array>, keptAs: (err: unknown) => string | undefined): Promise<{ hash: string; size: number }> {
    const part = this.part(name);
    const hasher = createHash('sha256');
    let size = from;
    // the bytes are about to change: they belong to no version until they are synced again
    await this.fs.rm(this.metaPath(name), { force: true });
    await this.fs.mkdir(this.dir, { recursive: true });
    let fh: Awaited<ReturnType<DiskFs['open']>> | undefined;
    try {
      if (from > 0) {
        for await (const slice of readSlices(this.fs, part, 0, from, `reading the partial download of ${path}`)) hasher.update(slice);
        fh = await this.fs.open(part, 'r+');
        await fh.truncate(from);
      } else {
        fh = await this.fs.open(part, 'w');
      }
      size = await writeChunks(fh, hasher, countingInto(chunks, n => (size = from + n)), from);
      await fh.sync();
      await fh.close();
      fh = undefined;
      const hash = hasher.digest('hex');
      await this.blobs.adopt(part, hash, size);
      return { hash, size };
    } catch (err) {
      const validator = isIoError(err) ? undefined : keptAs(err);
      try {
        if (validator !== undefined && size >= (this.limits.minBytes ?? MIN_BYTES) && fh) {
          await fh.sync();
          await fh.close();
          fh = undefined;
          await this.writeMeta(name, { path, validator, size, time: Date.now() });
          this.logger.debug(`[cache] ${path}: kept ${size} bytes of the cut download to resume`);
          await this.bound(name);
        } else {
          await fh?.close();
          fh = undefined;
          await this.drop(name);
        }
      } catch (cleanup) {
        await fh?.close().catch(() => undefined);
        await this.drop(name).catch(() => undefined);
        this.logger.warn(`[cache] ${path}: the partial download could not be kept (${(cleanup as Error).message})`);
      }
      if (!isIoError(err)) throw err;
      throw diskError(err, `writing the download of ${path} (${size} bytes so far)`);
    }
  }

  async retain(keep: (path: string) => boolean): Promise<void> {
    const now = Date.now();
    for (const { name, meta } of await this.list()) {
      if (this.busy.has(name)) continue;
      if (!meta || !keep(meta.path) || now - meta.time > MAX_AGE_MS) await this.drop(name);
    }
  }

  /** Keeps at most MAX_COUNT partials and MAX_BYTES, dropping the oldest first (never `kept`'s). */
  private async bound(kept: string): Promise<void> {
    const all = (await this.list()).filter(p => p.meta && p.name !== kept && !this.busy.has(p.name)).sort((a, b) => b.meta!.time - a.meta!.time);
    const mine = await this.readMeta(kept);
    let count = 1;
    let bytes = mine?.size ?? 0;
    const maxBytes = this.limits.maxBytes ?? MAX_BYTES;
    if (bytes > maxBytes) await this.drop(kept);
    for (const p of all) {
      count++;
      bytes += p.meta!.size;
      if (count > (this.limits.maxCount ?? MAX_COUNT) || bytes > maxBytes) await this.drop(p.name);
    }
  }

  /** Every partial: its name and what its .json says (undefined: bytes without a sound record). */
  private async list(): Promise<{ name: string; meta?: Meta }[]> {
    let files: string[];
    try {
      files = await this.fs.readdir(this.dir);
    } catch (err) {
      if (errno(err) === 'ENOENT') return [];
      throw diskError(err, `listing ${this.dir}`);
    }
    const names = new Set(files.map(f => f.replace(/\.(part|json)$/, '')).filter(n => /^[0-9a-f]{40}$/.test(n)));
    return Promise.all([...names].map(async name => ({ name, meta: await this.readMeta(name) })));
  }

  private part(name: string): string {
    return join(this.dir, `${name}.part`);
  }

  private metaPath(name: string): string {
    return join(this.dir, `${name}.json`);
  }

  private async readMeta(name: string): Promise<Meta | undefined> {
    try {
      const meta = JSON.parse((await this.fs.readFile(this.metaPath(name))).toString('utf8')) as Partial<Meta>;
      const sound = typeof meta.path === 'string' && typeof meta.validator === 'string' && meta.validator !== '' && Number.isSafeInteger(meta.size) && typeof meta.time === 'number';
      return sound ? (meta as Meta) : undefined;
    } catch {
      return undefined; // missing or torn: the bytes belong to no version
    }
  }

  private async writeMeta(name: string, meta: Meta): Promise<void> {
    const temp = `${this.metaPath(name)}.tmp`;
    await this.fs.writeFile(temp, JSON.stringify(meta));
    await this.fs.rename(temp, this.metaPath(name));
    await fsyncDir(this.fs, this.dir);
  }

  private async drop(name: string): Promise<void> {
    await this.fs.rm(this.metaPath(name), { force: true });
    await this.fs.rm(this.part(name), { force: true });
  }
}

/** The chunks, telling how many bytes passed so far (what a cut download keeps). */
async function* countingInto(chunks: AsyncIterable<Uint8Array>, passed: (bytes: number) => void): AsyncGenerator<Uint8Array> {
  let n = 0;
  for await (const chunk of chunks) {
    yield chunk;
    n += chunk.byteLength;
    passed(n);
  }
}
