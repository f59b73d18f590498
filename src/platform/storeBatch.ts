// What both share store backends check and normalize in a batch's tables and meta before they commit
// it, so that they accept, reject and give back the same things.
import type { IndexBatch, StoredRecord } from '../cache/shareStore';

const TABLE_NAME = /^[a-z][a-z0-9-]*$/;

/** Throws when `table` is not a valid table name (`[a-z][a-z0-9-]*`). */
export function checkTableName(table: string): void {
  if (typeof table !== 'string' || !TABLE_NAME.test(table)) {
    throw new Error(`cache store: invalid table name ${JSON.stringify(table)} (a table name is [a-z][a-z0-9-]*)`);
  }
}

/** A table's changes with the records as plain JSON (copies: the caller may go on mutating its objects). */
export interface NormalizedTableChange {
  readonly put: StoredRecord[];
  readonly delete: number[];
}

export interface NormalizedExtras {
  /** Only tables with changes. */
  readonly tables: Record<string, NormalizedTableChange>;
  /** JSON values, or null to remove the key. */
  readonly meta: Record<string, unknown>;
  readonly changes: number;
}

function checkId(id: unknown, table: string): number {
  if (typeof id !== 'number' || !Number.isFinite(id)) {
    throw new Error(`cache store: table ${table}: a record id must be a finite number, not ${JSON.stringify(id) ?? String(id)}`);
  }
  return id === 0 ? 0 : id; // -0 and 0 are the same record
}

/**
 * Validates the batch's tables and meta and returns them as JSON copies. Throws (changing nothing) on an
 * invalid table name, a record without a finite numeric id, a meta value of undefined, or a value JSON
 * cannot hold (a cycle, a BigInt).
 */
export function normalizeExtras(batch: IndexBatch): NormalizedExtras {
  const tables: Record<string, NormalizedTableChange> = {};
  let changes = 0;
  for (const [table, change] of Object.entries(batch.tables ?? {})) {
    checkTableName(table);
    const del = (change?.delete ?? []).map(id => checkId(id, table));
    const put = (change?.put ?? []).map(record => {
      if (typeof record !== 'object' || record === null || Array.isArray(record)) {
        throw new Error(`cache store: table ${table}: a record must be a JSON object`);
      }
      const copy = JSON.parse(JSON.stringify(record)) as { id: unknown };
      copy.id = checkId(record.id, table);
      return copy as StoredRecord;
    });
    if (put.length + del.length === 0) continue;
    tables[table] = { put, delete: del };
    changes += put.length + del.length;
  }
  const meta: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(batch.meta ?? {})) {
    if (value === undefined) throw new Error(`cache store: meta ${JSON.stringify(key)}: undefined is not a value (null removes the key)`);
    const json = JSON.stringify(value);
    if (json === undefined) throw new Error(`cache store: meta ${JSON.stringify(key)}: the value is not JSON`);
    Object.defineProperty(meta, key, { value: JSON.parse(json), enumerable: true, writable: true, configurable: true });
    changes++;
  }
  return { tables, meta, changes };
}

/** Numeric ascending order of record ids. */
export const byId = (a: StoredRecord, b: StoredRecord) => a.id - b.id;
