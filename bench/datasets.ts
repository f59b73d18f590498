// Deterministic data sets: the same seed gives the same names, sizes and bytes on every machine.
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** mulberry32: a small, fast, seeded PRNG. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` pseudo-random bytes from `seed` (incompressible, like most real content on the wire). */
export function bytes(seed: number, n: number): Buffer {
  const buf = Buffer.allocUnsafe(n);
  const rnd = prng(seed);
  let i = 0;
  for (; i + 4 <= n; i += 4) buf.writeUInt32LE((rnd() * 4294967296) >>> 0, i);
  for (; i < n; i++) buf[i] = (rnd() * 256) | 0;
  return buf;
}

export interface TreeSpec {
  /** Folder under the served root, e.g. `w1`. */
  readonly name: string;
  readonly folders: number;
  readonly filesPerFolder: number;
  readonly minBytes: number;
  readonly maxBytes: number;
  /** When set, sizes are scaled so the tree holds exactly this many bytes. */
  readonly totalBytes?: number;
  readonly seed: number;
}

export interface TreeFile {
  readonly path: string; // share path, e.g. /w1/d03/f0042.bin
  readonly size: number;
}

export interface Tree {
  readonly spec: TreeSpec;
  readonly folders: string[];
  readonly files: TreeFile[];
  readonly bytes: number;
}

/** Plans a tree: folder dNN with files fNNNN.bin, sizes log-uniform in [min, max] (as real trees are). */
export function planTree(spec: TreeSpec): Tree {
  const rnd = prng(spec.seed);
  const folders: string[] = [];
  const files: TreeFile[] = [];
  const lo = Math.log(spec.minBytes);
  const hi = Math.log(spec.maxBytes);
  const sizes: number[] = [];
  for (let d = 0; d < spec.folders; d++) for (let f = 0; f < spec.filesPerFolder; f++) sizes.push(Math.round(Math.exp(lo + (hi - lo) * rnd())));
  if (spec.totalBytes) {
    const sum = sizes.reduce((a, b) => a + b, 0);
    let acc = 0;
    for (let i = 0; i < sizes.length; i++) {
      sizes[i] = i === sizes.length - 1 ? spec.totalBytes - acc : Math.max(1, Math.round((sizes[i] * spec.totalBytes) / sum));
      acc += sizes[i];
    }
  }
  let k = 0;
  for (let d = 0; d < spec.folders; d++) {
    const folder = `/${spec.name}/d${String(d).padStart(3, '0')}`;
    folders.push(folder);
    for (let f = 0; f < spec.filesPerFolder; f++) files.push({ path: `${folder}/f${String(f).padStart(4, '0')}.bin`, size: sizes[k++] });
  }
  return { spec, folders, files, bytes: files.reduce((a, f) => a + f.size, 0) };
}

/** A fixed time in the past: Apache gives weak etags for files changed within the last second. */
export const DATASET_MTIME = new Date('2024-01-01T00:00:00Z');

/** Writes the tree below `root` (the folder the servers serve). */
export function writeTree(root: string, tree: Tree): void {
  let i = 0;
  for (const folder of tree.folders) mkdirSync(join(root, folder), { recursive: true });
  for (const f of tree.files) {
    const p = join(root, f.path);
    writeFileSync(p, bytes(tree.spec.seed * 100_003 + i++, f.size));
    utimesSync(p, DATASET_MTIME, DATASET_MTIME);
  }
}
