// w6 big file (issue 14): one 1 GB file (256 MB with --quick) through the shaped link — keeping it
// available offline (streamed into the blob store, hashed on the way: peak added RSS and time) beside
// `rclone copy` of the same file; a download cut at half (the link's connections dropped once the cache
// holds half the file), then resumed (Range + If-Range: the bytes transferred again); an offline change
// of the file replayed on reconnect (streamed from the blob store: peak added RSS and time) beside
// `rclone copyto` uploading the same bytes. (Named `w6` as the issue does; another branch may add a W6 of its own.)
import { createHash } from 'node:crypto';
import { createReadStream, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { MB, writePatternFile } from '../test/support/bigFile';
import { chownForServer, fresh, measure, openShare, removeDir, tempDir, variant, type BenchContext, type Sample, type Target, type Variant } from './harness';
import { rcloneCopy, runRclone } from './w2Pin';

export interface W6Spec {
  readonly bytes: number;
}

export function w6Spec(quick: boolean): W6Spec {
  return { bytes: quick ? 256 * MB : 1024 * MB };
}

const FOLDER = '/w6';
const FILE = '/w6/big.bin';

export function writeW6(root: string, spec: W6Spec): void {
  mkdirSync(join(root, 'w6'), { recursive: true });
  writePatternFile(join(root, 'w6', 'big.bin'), spec.bytes, 6);
}

/** A full garbage collection (the bench runs without --expose-gc: the flag is set at run time). */
function collectGarbage(): void {
  if (!global.gc) setFlagsFromString('--expose-gc');
  (global.gc ?? (runInNewContext('gc') as () => void))();
}

/** Runs `fn` sampling the process's RSS every 10 ms: its peak above the RSS before (after a collection), MB. */
async function peakRss<T>(fn: () => Promise<T>): Promise<{ value: T; addedMb: number }> {
  collectGarbage();
  const base = process.memoryUsage().rss;
  let peak = base;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
  try {
    const value = await fn();
    return { value, addedMb: Math.round((Math.max(peak, process.memoryUsage().rss) - base) / MB) };
  } finally {
    clearInterval(timer);
  }
}

export async function runW6(ctx: BenchContext, t: Target, spec: W6Spec): Promise<Variant[]> {
  const s: Record<string, Sample[]> = { pin: [], rclone: [], resume: [], upload: [], rcloneUp: [] };
  for (let run = 0; run < ctx.runs; run++) {
    ctx.log(`w6 ${t.name} run ${run + 1}/${ctx.runs}`);
    // ours: Keep Available Offline of the folder, empty cache
    const cacheDir = tempDir(ctx, 'w6-cache-');
    await fresh(t);
    s.pin.push(
      await measure(t, async () => {
        const o = await openShare(t, cacheDir);
        try {
          const { value: r, addedMb } = await peakRss(() => o.share.pin(FOLDER));
          if (r.failed.length || r.bytesDone !== spec.bytes) throw new Error(`w6 pin: ${r.bytesDone} bytes, ${r.failed.length} failed (${r.failed[0]?.error})`);
          return { bytes: r.bytesDone, peakRssMb: addedMb };
        } finally {
          await o.dispose();
        }
      }),
    );
    // an offline change of the pinned file, replayed on reconnect (streamed from the blob store)
    s.upload.push(await offlineChange(t, cacheDir, spec, run));
    removeDir(cacheDir);
    // rclone copy of the same file through the same link
    const dest = tempDir(ctx, 'w6-rclone-');
    await fresh(t);
    s.rclone.push(
      await measure(t, async () => {
        await rcloneCopy(t, FOLDER, dest);
        const size = statSync(join(dest, 'big.bin')).size;
        if (size !== spec.bytes) throw new Error(`w6 rclone: ${size} bytes`);
        return { bytes: size };
      }),
    );
    // rclone uploading the same bytes (what the offline change sends), beside ours
    await fresh(t);
    s.rcloneUp.push(await measure(t, async () => void (await runRclone(t, ['copyto', join(dest, 'big.bin'), `:webdav:${FOLDER}/up.bin`]))));
    rmSync(join(t.root, 'w6', 'up.bin'), { force: true });
    removeDir(dest);
    // a download cut at half (the link's connections dropped), then resumed
    s.resume.push(await cutAndResume(ctx, t, spec));
  }
  const size = `${Math.round(spec.bytes / MB)} MB`;
  return [
    variant(ctx, 'ours pin', `ours: Keep Available Offline of one ${size} file (streamed into the blob store, hashed on the way); extra: peak added RSS, MB`, s.pin, 1),
    variant(ctx, 'rclone copy', `rclone copy of the same ${size} file to a local folder`, s.rclone, 1),
    variant(ctx, 'ours resume', `ours: the pin again after a download cut at half (Range + If-Range); extra: bytes transferred again, % of the file`, s.resume, 1),
    variant(ctx, 'ours upload', `ours: an offline change of the ${size} file replayed on reconnect, streamed from the blob store (If-Match, proof of landing); extra: peak added RSS, MB`, s.upload, 1),
    variant(ctx, 'rclone upload', `rclone copyto of the same ${size} from a local file`, s.rcloneUp, 1),
  ];
}

/** Opens the cache holding the pinned file, changes it offline, and measures the replay of going online. */
async function offlineChange(t: Target, cacheDir: string, spec: W6Spec, run: number): Promise<Sample> {
  const o = await openShare(t, cacheDir);
  try {
    await o.share.readDirectory(FOLDER);
    await o.share.goOffline();
    // VS Code hands a save's bytes whole: they are written before the measurement
    let data: Uint8Array | undefined = new Uint8Array(spec.bytes);
    for (let i = 0; i < data.byteLength; i += 4096) data[i] = (i / 4096 + run) & 0xff;
    const hash = createHash('sha256').update(data).digest('hex');
    await o.share.writeFile(FILE, data, { create: false, overwrite: true });
    data = undefined;
    await fresh(t);
    const sample = await measure(t, async () => {
      const { value: online, addedMb } = await peakRss(() => o.share.goOnline());
      if (!online || (await o.share.pendingChanges()).length) throw new Error('w6 upload: the change did not land');
      return { bytes: spec.bytes, peakRssMb: addedMb };
    });
    const onServer = createHash('sha256');
    for await (const chunk of createReadStream(join(t.root, 'w6', 'big.bin'))) onServer.update(chunk as Buffer);
    if (onServer.digest('hex') !== hash) throw new Error('w6 upload: the server does not have the bytes written');
    // the server's file back as it was, for the next run's pin
    writePatternFile(join(t.root, 'w6', 'big.bin'), spec.bytes, 6);
    chownForServer(t, join(t.root, 'w6'));
    return sample;
  } finally {
    await o.dispose();
  }
}

/** Bytes the cache holds of the download in progress (the disk store's partial), 0 when none. */
function partialBytes(cacheDir: string): number {
  const dir = join(cacheDir, 'share', 'partials');
  try {
    return readdirSync(dir).filter(f => f.endsWith('.part')).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
  } catch {
    return 0;
  }
}

/** Pins with the link's connections dropped once half the file has arrived, goes online again, and measures the resumed pin. */
async function cutAndResume(ctx: BenchContext, t: Target, spec: W6Spec): Promise<Sample> {
  const cacheDir = tempDir(ctx, 'w6-resume-');
  const o = await openShare(t, cacheDir);
  try {
    await o.share.readDirectory(FOLDER);
    await fresh(t);
    const watch = setInterval(() => {
      if (partialBytes(cacheDir) >= spec.bytes / 2) t.proxy.dropAll();
    }, 5);
    let cut;
    try {
      cut = await o.share.pin(FOLDER).catch((err: Error) => ({ failed: [{ error: err.message }] }));
    } finally {
      clearInterval(watch);
    }
    if (!cut.failed.length) throw new Error('w6 resume: the cut did not fail the download');
    if (!(await o.share.goOnline())) throw new Error('w6 resume: not online again');
    await fresh(t);
    return await measure(t, async () => {
      const r = await o.share.pin(FOLDER);
      if (r.failed.length) throw new Error(`w6 resume: ${r.failed[0].error}`);
      const again = t.proxy.counts.bytesDown;
      return { bytesAgainPct: Math.round((again / spec.bytes) * 1000) / 10 };
    });
  } finally {
    await o.dispose();
    removeDir(cacheDir);
  }
}
