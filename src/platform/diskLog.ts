// The disk store's log format: one committed batch per line, `<JSON>\t<crc32 of the JSON, 8 hex>\n`;
// a line counts only when whole and its checksum matches, so a torn or damaged tail is found and cut off;
// and how a batch's tables and meta values apply to what is held.
import type { CacheEntry } from '../cache/cacheEntry';
import type { IndexBatch, StoredRecord } from '../cache/shareStore';
import type { NormalizedExtras } from './storeBatch';

const CRC_TABLE = (() => {
  const table = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
})();

/** CRC-32 (IEEE), as zlib computes it; ours because zlib.crc32 is newer than VS Code's Node. */
export function crc32(buf: Uint8Array, start = 0, end = buf.length): number {
  let c = -1;
  for (let i = start; i < end; i++) c = CRC_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

export interface LogBatch {
  readonly d: readonly string[];
  readonly p: readonly CacheEntry[];
  readonly t?: Readonly<Record<string, { readonly d?: readonly number[]; readonly p?: readonly StoredRecord[] }>>;
  readonly m?: Readonly<Record<string, unknown>>;
}

export function encodeLogLine(batch: IndexBatch, extras: NormalizedExtras): Buffer {
  const line: { -readonly [K in keyof LogBatch]: LogBatch[K] } = { d: batch.delete, p: batch.put };
  if (Object.keys(extras.tables).length > 0) {
    line.t = Object.fromEntries(Object.entries(extras.tables).map(([name, change]) => [name, { d: change.delete, p: change.put }]));
  }
  if (Object.keys(extras.meta).length > 0) line.m = extras.meta;
  const json = Buffer.from(JSON.stringify(line), 'utf8');
  const tail = Buffer.from(`\t${crc32(json).toString(16).padStart(8, '0')}\n`, 'latin1');
  return Buffer.concat([json, tail]);
}

export interface LogScan {
  /** Bytes from the start that hold whole, intact lines. */
  readonly validBytes: number;
  readonly count: number;
}

/** Walks the intact lines of a log (JSON never contains a raw tab or newline), stopping at the first bad one. */
export function scanLog(buf: Buffer, onBatch?: (json: string) => void): LogScan {
  let pos = 0;
  let count = 0;
  while (pos < buf.length) {
    const nl = buf.indexOf(10, pos);
    if (nl < 0) break; // torn: the crash came in the middle of the append
    const tab = nl - 9;
    if (tab < pos || buf[tab] !== 9) break;
    const sum = buf.toString('latin1', tab + 1, nl);
    if (!/^[0-9a-f]{8}$/.test(sum) || parseInt(sum, 16) !== crc32(buf, pos, tab)) break;
    onBatch?.(buf.toString('utf8', pos, tab));
    count++;
    pos = nl + 1;
  }
  return { validBytes: pos, count };
}

/** The tables and meta values as committed; records and values are the store's own (never handed out). */
export interface Extras {
  readonly tables: Map<string, Map<number, StoredRecord>>;
  readonly meta: Map<string, unknown>;
}


export function applyExtras(extras: Extras, tables: LogBatch['t'], meta: LogBatch['m']): void {
  for (const [name, change] of Object.entries(tables ?? {})) {
    let table = extras.tables.get(name);
    if (!table) extras.tables.set(name, (table = new Map()));
    for (const id of change.d ?? []) table.delete(id);
    for (const record of change.p ?? []) table.set(record.id, record);
    if (table.size === 0) extras.tables.delete(name);
  }
  for (const [key, value] of Object.entries(meta ?? {})) {
    if (value === null) extras.meta.delete(key);
    else extras.meta.set(key, value);
  }
}
