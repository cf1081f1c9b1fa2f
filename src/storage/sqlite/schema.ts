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

/**
 * Opens (creating if needed) the database file with the pragmas the durability contract needs,
 * and takes the file's lock for this process.
 */
export function openDatabase(path: string): DatabaseSync {
  const db = new DatabaseSync(path);
  try {
    // EXCLUSIVE before WAL: the lock is held for the connection's life, so a second server on
    // the same data dir fails at start instead of interleaving revisions with this one (and the
    // in-memory index could not see its writes anyway); WAL then needs no shared memory either.
    db.exec('PRAGMA locking_mode = EXCLUSIVE');
    db.exec('PRAGMA journal_mode = WAL');
    // FULL: every COMMIT fsyncs the WAL, so an acknowledged write survives power loss.
    db.exec('PRAGMA synchronous = FULL');
    // Checkpoint every ~16 MiB of WAL instead of 4 MiB: fewer, larger sequential copies.
    db.exec('PRAGMA wal_autocheckpoint = 4000');
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
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}
