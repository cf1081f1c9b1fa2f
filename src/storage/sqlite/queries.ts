/**
 * Every SQL statement the driver runs, prepared once, with rows mapped to the Backend's shapes.
 * This is the driver's whole dialect: the rest of the driver never writes SQL. All lookups are
 * by revision (the primary key); key order lives in the in-memory index.
 */

import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { KeyValue, WatchEvent } from '../backend.ts';

interface KvRow {
  rev: number;
  key: string;
  create_rev: number;
  version: number;
  value: string;
}

interface HistoryRow {
  rev: number;
  key: string;
  create_rev: number;
  version: number;
  deleted: number;
  value: string | null;
  p_rev: number | null;
  p_create_rev: number;
  p_version: number;
  p_value: string;
}

/** A log row without its value, as the index rebuild reads it. */
export interface LogEntry {
  rev: number;
  key: string;
  create_rev: number;
  version: number;
  deleted: number;
  expires_at: number | null;
}

/** One write to append. */
export interface LogWrite {
  kv: KeyValue;
  deleted: boolean;
  prevRevision: number | null;
  expiresAt: number | null;
}

type MetaName = 'revision' | 'compacted' | 'swept';

function toKv(row: KvRow): KeyValue {
  return {
    key: row.key,
    value: row.value,
    createRevision: row.create_rev,
    modRevision: row.rev,
    version: row.version,
  };
}

/** The prepared statements of one database connection. */
export class Queries {
  readonly #row: StatementSync;
  readonly #rows: StatementSync;
  readonly #insertLog: StatementSync;
  readonly #insertValue: StatementSync;
  readonly #history: StatementSync;
  readonly #scan: StatementSync;
  readonly #maxRev: StatementSync;
  readonly #meta: StatementSync;
  readonly #setMeta: StatementSync;
  readonly #deleteSupersededValues: StatementSync;
  readonly #deleteSuperseded: StatementSync;
  readonly #deleteTombstones: StatementSync;

  constructor(db: DatabaseSync) {
    this.#row = db.prepare(
      `SELECT l.rev, l.key, l.create_rev, l.version, v.value
         FROM log l JOIN value v ON v.rev = l.rev WHERE l.rev = ?`,
    );
    // One statement for a whole list: each lookup crosses into SQLite once instead of a
    // thousand times (measured ~2x faster for 1,000 keys). json_each's `key` is the array
    // index, so the rows come back in the order asked.
    this.#rows = db.prepare(
      `SELECT l.rev, l.key, l.create_rev, l.version, v.value
         FROM json_each(?) j JOIN log l ON l.rev = j.value JOIN value v ON v.rev = l.rev
        ORDER BY j.key`,
    );
    this.#insertLog = db.prepare(
      `INSERT INTO log (rev, key, create_rev, version, deleted, prev_rev, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#insertValue = db.prepare('INSERT INTO value (rev, value) VALUES (?, ?)');
    // A tombstone has no value row: its value is the superseded row's (p_value).
    this.#history = db.prepare(
      `SELECT l.rev, l.key, l.create_rev, l.version, l.deleted, v.value,
              p.rev AS p_rev, p.create_rev AS p_create_rev, p.version AS p_version,
              pv.value AS p_value
         FROM log l
         LEFT JOIN value v ON v.rev = l.rev
         LEFT JOIN log p ON p.rev = l.prev_rev
         LEFT JOIN value pv ON pv.rev = l.prev_rev
        WHERE l.rev >= $from AND l.rev <= $to AND substr(l.key, 1, length($prefix)) = $prefix
        ORDER BY l.rev LIMIT $limit`,
    );
    this.#scan = db.prepare(
      'SELECT rev, key, create_rev, version, deleted, expires_at FROM log ORDER BY rev',
    );
    this.#maxRev = db.prepare('SELECT max(rev) AS rev FROM log');
    this.#meta = db.prepare('SELECT value FROM meta WHERE name = ?');
    this.#setMeta = db.prepare(
      `INSERT INTO meta (name, value) VALUES (?, ?)
       ON CONFLICT (name) DO UPDATE SET value = excluded.value`,
    );
    // Every superseded row is the prev_rev of exactly one later row (the update or delete that
    // replaced it), so the rows written in ($from, $to] name every row they made obsolete.
    const superseded = 'SELECT prev_rev FROM log WHERE rev > ? AND rev <= ? AND prev_rev IS NOT NULL';
    this.#deleteSupersededValues = db.prepare(`DELETE FROM value WHERE rev IN (${superseded})`);
    this.#deleteSuperseded = db.prepare(`DELETE FROM log WHERE rev IN (${superseded})`);
    this.#deleteTombstones = db.prepare('DELETE FROM log WHERE rev > ? AND rev <= ? AND deleted = 1');
  }

  /** The put written at `revision` (undefined for a tombstone or a compacted row). */
  row(revision: number): KeyValue | undefined {
    const row = this.#row.get(revision) as KvRow | undefined;
    return row && toKv(row);
  }

  /** The puts written at `revisions`, in that order. */
  rows(revisions: readonly number[]): KeyValue[] {
    if (revisions.length === 0) return [];
    return (this.#rows.all(JSON.stringify(revisions)) as unknown as KvRow[]).map(toKv);
  }

  /** Appends one write. A tombstone's `kv.value` is not stored (see the schema). */
  append(write: LogWrite): void {
    const { kv } = write;
    this.#insertLog.run(
      kv.modRevision,
      kv.key,
      kv.createRevision,
      kv.version,
      write.deleted ? 1 : 0,
      write.prevRevision,
      write.expiresAt,
    );
    if (!write.deleted) this.#insertValue.run(kv.modRevision, kv.value);
  }

  /** Up to `limit` events with revision in [`from`, `to`] on keys starting with `prefix`, oldest first. */
  history(prefix: string, from: number, to: number, limit: number): WatchEvent[] {
    const rows = this.#history.all({ prefix, from, to, limit }) as unknown as HistoryRow[];
    return rows.map((row) => {
      const prevKv =
        row.p_rev === null
          ? undefined
          : {
              key: row.key,
              value: row.p_value,
              createRevision: row.p_create_rev,
              modRevision: row.p_rev,
              version: row.p_version,
            };
      const kv: KeyValue = {
        key: row.key,
        value: row.value ?? prevKv?.value ?? '',
        createRevision: row.create_rev,
        modRevision: row.rev,
        version: row.version,
      };
      return { type: row.deleted === 0 ? 'put' : 'delete', kv, prevKv };
    });
  }

  /** Every log row in revision order, without values. */
  scan(): Iterable<LogEntry> {
    return this.#scan.iterate() as Iterable<LogEntry>;
  }

  /** The newest revision in the log (0 when empty). */
  maxLogRevision(): number {
    return (this.#maxRev.get() as { rev: number | null }).rev ?? 0;
  }

  /** A meta counter, 0 when unset. */
  meta(name: MetaName): number {
    const row = this.#meta.get(name) as { value: number } | undefined;
    return row?.value ?? 0;
  }

  setMeta(name: MetaName, value: number): void {
    this.#setMeta.run(name, value);
  }

  /** Deletes history made obsolete by writes in `(from, to]`: superseded rows and tombstones. */
  deleteObsolete(from: number, to: number): void {
    this.#deleteSupersededValues.run(from, to);
    this.#deleteSuperseded.run(from, to);
    this.#deleteTombstones.run(from, to);
  }
}
