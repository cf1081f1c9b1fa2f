/**
 * The SQLite schema: the history of every write, keyed by revision only, so each commit is a
 * sequential append (see `key-index.ts` for why no table is keyed by key).
 *
 * - `log` holds one small row per write: key, create revision, version, whether it is a delete
 *   tombstone, the revision of the row it superseded (`prev_rev`, null for a create) and the
 *   TTL expiry. Opening the store scans it to rebuild the key index; keeping values elsewhere
 *   keeps that scan short.
 * - `value` holds each put's value by revision. A tombstone has none: its value is the one of
 *   the row it superseded, which compaction always keeps as long as the tombstone.
 * - `meta` keeps `revision` (written at compaction, so revisions never go backwards even when
 *   compaction removed the newest rows), `compacted` (the compacted revision) and `swept` (how
 *   far compaction has deleted rows; a crash mid-compaction resumes from there).
 */

import { DatabaseSync } from 'node:sqlite';

/** Bumped when the schema changes incompatibly; stored in `PRAGMA user_version`. */
const SCHEMA_VERSION = 1;

const DDL = `
CREATE TABLE IF NOT EXISTS log (
  rev        INTEGER PRIMARY KEY,
  key        TEXT    NOT NULL,
  create_rev INTEGER NOT NULL,
  version    INTEGER NOT NULL,
  deleted    INTEGER NOT NULL,
  prev_rev   INTEGER,
  expires_at INTEGER
);
CREATE TABLE IF NOT EXISTS value (
  rev   INTEGER PRIMARY KEY,
  value TEXT    NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
  name  TEXT    PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
`;

/** An open database: the connection that commits, and the lock that makes it the only one. */
export interface OpenDatabase {
  db: DatabaseSync;
  /** Closes the connection, then releases the lock. */
  close(): void;
}

/**
 * Opens (creating if needed) the database file with the pragmas the durability contract needs,
 * after taking `<path>.lock` for this process: a second server on the same data dir fails at
 * start ("database is locked") instead of interleaving revisions with this one, whose in-memory
 * index could not see its writes anyway. The lock is a separate file because the database itself
 * must stay open to a second connection of this process — the checkpoint worker's
 * (`checkpointer.ts`). A lock held by a process that died goes with it.
 */
export function openDatabase(path: string): OpenDatabase {
  const lock = new DatabaseSync(`${path}.lock`);
  let db: DatabaseSync | undefined;
  try {
    // EXCLUSIVE mode keeps the write lock of the first transaction until the connection closes.
    lock.exec('PRAGMA locking_mode = EXCLUSIVE');
    lock.exec('BEGIN EXCLUSIVE');
    lock.exec('COMMIT');
    db = new DatabaseSync(path);
    db.exec('PRAGMA journal_mode = WAL');
    // NORMAL: a COMMIT does not fsync the WAL itself. The backend answers a write only after an
    // fdatasync of the WAL that started after its COMMIT, run off the API thread, so an
    // acknowledged write survives power loss all the same (see SqliteBackend#commit).
    db.exec('PRAGMA synchronous = NORMAL');
    // This connection never checkpoints inside a commit: the Checkpointer does, off this thread.
    db.exec('PRAGMA wal_autocheckpoint = 0');
    // When the log starts over, a file grown by a burst shrinks back to this.
    db.exec('PRAGMA journal_size_limit = 16777216');
    db.exec('BEGIN IMMEDIATE');
    const { user_version: version } = db.prepare('PRAGMA user_version').get() as {
      user_version: number;
    };
    if (version > SCHEMA_VERSION) {
      throw new Error(
        `database ${path} has schema version ${version}; this Skiff understands up to ${SCHEMA_VERSION}`,
      );
    }
    db.exec(DDL);
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
    db.exec('COMMIT');
    const open = db;
    return {
      db: open,
      close() {
        try {
          open.close();
        } finally {
          lock.close();
        }
      },
    };
  } catch (error) {
    db?.close();
    lock.close();
    throw error;
  }
}
