// Big test files written and hashed in slices, never held whole: varied bytes from a seed, so two seeds
// give two different files of the same size (a version changed on the server).
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, openSync, writeSync } from 'node:fs';

export const MB = 1024 * 1024;

/** Writes `size` bytes (a multiple of 4) of a pattern of `seed` to `path`. */
export function writePatternFile(path: string, size: number, seed = 0): void {
  const fd = openSync(path, 'w');
  try {
    const slice = Buffer.alloc(4 * MB);
    for (let at = 0, i = 0; at < size; at += slice.length, i++) {
      for (let j = 0; j < slice.length; j += 4) slice.writeUInt32LE((i * 2654435761 + j * 40503 + seed * 97) >>> 0, j);
      writeSync(fd, slice, 0, Math.min(slice.length, size - at));
    }
  } finally {
    closeSync(fd);
  }
}

/** The SHA-256 (hex) of a file, read as a stream. */
export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Where the disk store keeps the blob of `hash`, for a cache folder and share id. */
export function blobPath(cacheFolder: string, shareId: string, hash: string): string {
  return `${cacheFolder}/${shareId}/blobs/${hash.slice(0, 2)}/${hash}`;
}
