/**
 * The embedded default backend: etcd semantics over one SQLite file.
 *
 * Built on Node 24's own `node:sqlite` (`DatabaseSync`) rather than better-sqlite3: the latter
 * is a native addon that must be compiled against Node 24's headers, which an offline machine
 * cannot download, while `node:sqlite` ships inside Node and is just as synchronous. Synchronous
 * is what the design wants: a batch of writes is applied and committed in one uninterrupted
 * step, so no other JavaScript can observe a half-applied batch, and reads never see
 * uncommitted rows.
 *
 * Layout, as in etcd: the file holds history keyed by revision, and an in-memory
 * {@link KeyIndex} knows which revision of which key is visible when. Writes go through
 * {@link GroupCommit} (one fsync per batch, waited for off this thread); committed events go to
 * {@link WatchHub}; the log is checkpointed off this thread by {@link Checkpointer}; TTLs are
 * enforced through {@link ExpiryQueue} and {@link ExpiryTimer}; compaction deletes obsolete
 * history in small transactions so writes keep flowing while it runs.
 */

import { closeSync, fdatasync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type {
  Backend,
  BackendStats,
  KeyValue,
  ListOptions,
  ListResult,
  ReadOptions,
  TxnResult,
  Watch,
  WatchOptions,
  WriteOptions,
} from '../backend.ts';
import {
  checkKey,
  expectedModRevision,
  listLimit,
  readRevision,
  ttlSeconds,
  watchStartRevision,
} from '../arguments.ts';
import { Histogram } from '../../client/index.ts';
import { CompactedError, FutureRevisionError, StorageError } from '../errors.ts';
import { listStart, prefixEnd } from '../key-range.ts';
import { applyBatch, type AppliedBatch, type WriteOp, type WriteOutcome } from './apply-batch.ts';
import { ExpiryQueue } from './expiry-queue.ts';
import { ExpiryTimer } from './expiry.ts';
import { Checkpointer } from './checkpointer.ts';
import { GroupCommit } from './group-commit.ts';
import { KeyIndex } from './key-index.ts';
import { Queries } from './queries.ts';
import { openDatabase, type OpenDatabase } from './schema.ts';
import { WatchHub } from './watch-hub.ts';

/** Revisions of history deleted per compaction transaction. */
const COMPACTION_CHUNK = 10_000;
/** Expired keys deleted per sweep. */
const EXPIRY_CHUNK = 1_000;

/**
 * Upper bounds (s) of the log-sync histogram: etcd's for its WAL fsync, 1 ms doubling to
 * 8.192 s, so dashboards and rules of thumb carry over (a healthy disk keeps the p99 under 10 ms).
 */
export const LOG_SYNC_BOUNDS: readonly number[] = Array.from({ length: 14 }, (_, i) => 0.001 * 2 ** i);

/** Options of {@link openSqliteBackend}. */
export interface SqliteBackendOptions {
  /** Wall clock for TTLs, in ms since the epoch. Default `Date.now`. */
  now?: () => number;
  /** Most writes in one transaction. Default 10,000. */
  maxBatch?: number;
  /**
   * Makes everything committed so far durable; a batch is answered, and becomes visible, only
   * once the call that started after its COMMIT resolved. Default: fdatasync of the log file on
   * libuv's thread pool.
   */
  syncLog?: () => Promise<void>;
}

function storageError(message: string, cause: unknown): StorageError {
  if (cause instanceof StorageError) return cause;
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new StorageError(`${message}: ${detail}`, { cause });
}

function checkValue(value: string): string {
  if (typeof value !== 'string') throw new TypeError(`value must be a string, got ${typeof value}`);
  return value;
}

class SqliteBackend implements Backend {
  readonly #path: string;
  readonly #open: OpenDatabase;
  readonly #db: DatabaseSync;
  readonly #checkpointer: Checkpointer;
  readonly #queries: Queries;
  readonly #now: () => number;
  readonly #index = new KeyIndex();
  readonly #expiries = new ExpiryQueue();
  readonly #commits: GroupCommit<WriteOp, WriteOutcome>;
  readonly #hub: WatchHub;
  readonly #expiryTimer: ExpiryTimer;
  #revision = 0;
  #compacted: number;
  #swept: number;
  #compaction: Promise<void> = Promise.resolve();
  #closing: Promise<void> | undefined;
  /** The log file, kept open for fdatasync. */
  readonly #logFd: number | undefined;
  readonly #syncLog: () => Promise<void>;
  /** Set when the log could not be made durable: what is on disk is unknown, so no more writes. */
  #broken: StorageError | undefined;
  /** How long each commit waited for its log sync (s). */
  readonly #syncs = new Histogram(LOG_SYNC_BOUNDS);
  /** Writes the commits carried. */
  #writeCount = 0;

  constructor(path: string, open: OpenDatabase, options: SqliteBackendOptions) {
    this.#path = path;
    this.#open = open;
    const db = (this.#db = open.db);
    this.#checkpointer = new Checkpointer(path, db);
    if (options.syncLog) {
      this.#syncLog = options.syncLog;
    } else {
      // The connection has the log open already (WAL mode opens it with the database).
      const fd = (this.#logFd = openSync(`${path}-wal`, 'r'));
      this.#syncLog = () => new Promise((resolve, reject) => fdatasync(fd, (error) => (error ? reject(error) : resolve())));
    }
    this.#queries = new Queries(db);
    this.#now = options.now ?? Date.now;
    this.#compacted = this.#queries.meta('compacted');
    this.#swept = this.#queries.meta('swept');
    this.#rebuildIndex();
    this.#commits = new GroupCommit((ops) => this.#commit(ops), { maxBatch: options.maxBatch });
    this.#hub = new WatchHub({
      revision: () => this.#revision,
      compacted: () => this.#compacted,
      history: (prefix, from, to, limit) => this.#queries.history(prefix, from, to, limit),
      row: (revision) => this.#queries.row(revision),
    });
    this.#expiryTimer = new ExpiryTimer({ now: this.#now, sweep: () => this.#sweepExpired() });
    const next = this.#expiries.peek();
    if (next !== undefined) this.#expiryTimer.schedule(next.at);
    // A crash during compaction left obsolete rows behind; finish deleting them.
    if (this.#swept < this.#compacted) this.#startSweep();
  }

  async currentRevision(): Promise<number> {
    this.#checkOpen();
    return this.#revision;
  }

  async compactedRevision(): Promise<number> {
    this.#checkOpen();
    return this.#compacted;
  }

  async get(key: string, options?: ReadOptions): Promise<{ kv: KeyValue | undefined; revision: number }> {
    this.#checkOpen();
    checkKey(key);
    const revision = this.#readAt(readRevision(options));
    const rev =
      revision === 0 ? this.#index.head(key)?.modRevision : this.#index.visibleAt(key, revision);
    const kv = rev === undefined ? undefined : this.#read(() => this.#queries.row(rev));
    return { kv, revision: revision === 0 ? this.#revision : revision };
  }

  async list(prefix: string, options?: ListOptions): Promise<ListResult> {
    this.#checkOpen();
    const limit = listLimit(options);
    const revision = this.#readAt(readRevision(options));
    // One row more than asked tells whether more follow.
    const revs = this.#index.range(
      listStart(prefix, options?.startKey),
      prefixEnd(prefix),
      revision,
      limit === 0 ? -1 : limit + 1,
    );
    const more = limit > 0 && revs.length > limit;
    if (more) revs.pop();
    const kvs = this.#read(() => this.#queries.rows(revs));
    return { kvs, revision: revision === 0 ? this.#revision : revision, more };
  }

  async count(prefix: string): Promise<number> {
    this.#checkOpen();
    return this.#index.count(prefix, prefixEnd(prefix));
  }

  create(key: string, value: string, options?: WriteOptions): Promise<number> {
    return this.#submit(() => ({
      type: 'create',
      key: checkKey(key),
      value: checkValue(value),
      ttlSeconds: ttlSeconds(options),
    })) as Promise<number>;
  }

  update(key: string, value: string, expected: number, options?: WriteOptions): Promise<TxnResult> {
    return this.#submit(() => ({
      type: 'update',
      key: checkKey(key),
      value: checkValue(value),
      expected: expectedModRevision(expected, false),
      ttlSeconds: ttlSeconds(options),
    })) as Promise<TxnResult>;
  }

  delete(key: string, expected: number): Promise<TxnResult> {
    return this.#submit(() => ({
      type: 'delete',
      key: checkKey(key),
      expected: expectedModRevision(expected, true),
    })) as Promise<TxnResult>;
  }

  watch(prefix: string, options: WatchOptions): Watch {
    this.#checkOpen();
    watchStartRevision(options.startRevision);
    return this.#hub.watch(prefix, options);
  }

  async compact(revision: number): Promise<void> {
    this.#checkOpen();
    readRevision({ revision });
    if (revision > this.#revision) throw new FutureRevisionError(revision, this.#revision);
    if (revision > this.#compacted) {
      // Recorded durably before any row goes, with the current revision: the newest rows may be
      // among those deleted, and a crash mid-sweep resumes the sweep at the next open.
      this.#read(() => {
        this.#db.exec('BEGIN IMMEDIATE');
        this.#queries.setMeta('compacted', revision);
        this.#queries.setMeta('revision', this.#revision);
        this.#db.exec('COMMIT');
      });
      this.#compacted = revision;
      this.#index.compact(revision);
      this.#startSweep();
    }
    await this.#compaction;
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    // New calls fail from here on; writes already accepted still commit.
    await this.#expiryTimer.stop();
    await this.#commits.drain();
    await this.#compaction.catch(() => {});
    this.#hub.closeAll();
    // The checkpoint worker's connection goes first: closing the last one checkpoints the whole
    // log into the file and removes it.
    await this.#checkpointer.close();
    if (this.#logFd !== undefined) closeSync(this.#logFd);
    this.#open.close();
  }

  /** Replays the log into the key index and the TTL queue. */
  #rebuildIndex(): void {
    let newest = 0;
    for (const row of this.#queries.scan()) {
      if (row.deleted === 0) {
        this.#index.put(row.key, row.rev, row.create_rev, row.version);
        // Entries of rows superseded later are skipped by the sweeper (revision mismatch).
        if (row.expires_at !== null) {
          this.#expiries.push({ at: row.expires_at, key: row.key, revision: row.rev });
        }
      } else {
        this.#index.remove(row.key, row.rev);
      }
      newest = row.rev;
    }
    // Rows a crash kept from being swept are obsolete all the same.
    if (this.#compacted > 0) this.#index.compact(this.#compacted);
    // The log's newest row can be gone (a compacted tombstone), so meta's revision counts too.
    this.#revision = Math.max(newest, this.#queries.meta('revision'));
  }

  #checkOpen(): void {
    if (this.#closing) throw new StorageError(`sqlite backend ${this.#path} is closed`);
  }

  /** Validates a read revision; 0 means "the latest". */
  #readAt(requested: number): number {
    if (requested === 0 || requested === this.#revision) return 0;
    if (requested > this.#revision) throw new FutureRevisionError(requested, this.#revision);
    // Like etcd, the compacted revision itself is still readable: compaction keeps every row
    // that was live at it.
    if (requested < this.#compacted) throw new CompactedError(requested, this.#compacted);
    return requested;
  }

  #read<T>(query: () => T): T {
    try {
      return query();
    } catch (error) {
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
      throw storageError(`sqlite ${this.#path}`, error);
    }
  }

  async #submit(build: () => WriteOp): Promise<WriteOutcome> {
    this.#checkOpen();
    return this.#commits.submit(build());
  }

  /**
   * Runs one group-commit batch: apply and COMMIT, wait (off this thread) until the log is on
   * disk, then update memory and publish. The COMMIT itself does not fsync (synchronous=NORMAL,
   * see `schema.ts`): the thread would sit idle for the disk. Until the batch is durable its
   * rows are invisible — the key index does not point at them yet — and no other batch starts
   * (GroupCommit waits), so the next batch's preconditions see this one through the index.
   */
  #commit(ops: readonly WriteOp[]): Promise<Array<WriteOutcome | Error>> {
    if (this.#broken) throw this.#broken;
    // The checkpoint worker copies the log's tail while no commit lands (see `checkpointer.ts`).
    if (this.#checkpointer.tailWanted) return this.#checkpointer.copyTail().then(() => this.#commitNow(ops));
    return this.#commitNow(ops);
  }

  #commitNow(ops: readonly WriteOp[]): Promise<Array<WriteOutcome | Error>> {
    const db = this.#db;
    let applied: AppliedBatch;
    try {
      db.exec('BEGIN IMMEDIATE');
      applied = applyBatch(this.#index, this.#queries, ops, this.#revision, this.#now());
      db.exec('COMMIT');
    } catch (error) {
      // The whole batch failed (disk full, I/O error): nothing of it is on disk, and memory was
      // not touched yet, so the next batch reuses its revisions.
      if (db.isTransaction) {
        try {
          db.exec('ROLLBACK');
        } catch {
          // The connection is unusable; the commit error below is the one worth reporting.
        }
      }
      throw storageError(`sqlite commit to ${this.#path} failed`, error);
    }
    const syncStarted = performance.now();
    return this.#syncLog().then(
      () => {
        this.#syncs.observe((performance.now() - syncStarted) / 1000);
        this.#writeCount += applied.events.length;
        return this.#committed(applied);
      },
      (error: unknown) => {
        // The batch is in the log, but maybe not on disk, and memory does not know it: nothing
        // sound can be written after it.
        this.#broken = storageError(`sqlite ${this.#path}: the log could not be synced; writes are refused`, error);
        throw this.#broken;
      },
    );
  }

  stats(): BackendStats {
    return { logSyncSeconds: this.#syncs.read(), commits: this.#syncs.count, writes: this.#writeCount };
  }

  /** Makes a durable batch visible: revision, key index, TTLs, watchers. */
  #committed(applied: AppliedBatch): Array<WriteOutcome | Error> {
    this.#revision = applied.revision;
    this.#checkpointer.committed(applied.outcomes.length);
    for (const { type, kv } of applied.events) {
      if (type === 'put') this.#index.put(kv.key, kv.modRevision, kv.createRevision, kv.version);
      else this.#index.remove(kv.key, kv.modRevision);
    }
    if (applied.expiries.length > 0) {
      let soonest = Infinity;
      for (const expiry of applied.expiries) {
        this.#expiries.push(expiry);
        soonest = Math.min(soonest, expiry.at);
      }
      this.#expiryTimer.schedule(soonest);
    }
    if (applied.events.length > 0) {
      // Watchers hear of the batch after its writers have their answers: a large fan-out never
      // delays an acknowledgement. Batches are still published in commit order, and the hub
      // drops events a watcher has already replayed from the log.
      const { events, unread } = applied;
      setImmediate(() => this.#hub.publish(events, unread));
    }
    return applied.outcomes;
  }

  async #sweepExpired(): Promise<number | undefined> {
    if (this.#closing) return undefined;
    const now = this.#now();
    const due: Array<{ key: string; revision: number }> = [];
    while (due.length < EXPIRY_CHUNK) {
      const next = this.#expiries.peek();
      if (next === undefined || next.at > now) break;
      this.#expiries.pop();
      if (this.#index.head(next.key)?.modRevision === next.revision) due.push(next);
    }
    // Conditional on the mod revision: a key rewritten meanwhile keeps its new life.
    await Promise.allSettled(
      due.map((e) => this.#commits.submit({ type: 'delete', key: e.key, expected: e.revision })),
    );
    if (this.#closing) return undefined;
    if (due.length === EXPIRY_CHUNK) return now;
    return this.#expiries.peek()?.at;
  }

  #startSweep(): void {
    this.#compaction = this.#compaction.catch(() => {}).then(() => this.#sweepTo(this.#compacted));
  }

  async #sweepTo(target: number): Promise<void> {
    while (this.#swept < target && !this.#closing) {
      const from = this.#swept;
      const to = Math.min(from + COMPACTION_CHUNK, target);
      this.#read(() => {
        this.#db.exec('BEGIN IMMEDIATE');
        this.#queries.deleteObsolete(from, to);
        this.#queries.setMeta('swept', to);
        this.#db.exec('COMMIT');
      });
      this.#swept = to;
      this.#checkpointer.committed(to - from);
      // Let writes and reads run between chunks of a large compaction.
      if (to < target) await yieldToEventLoop();
    }
  }
}

/**
 * Opens the SQLite backend on `path` (created with its directory if missing). Reopening a file
 * resumes at the revision it had; only one process may have a file open at a time.
 */
export async function openSqliteBackend(
  path: string,
  options: SqliteBackendOptions = {},
): Promise<Backend> {
  let open: OpenDatabase | undefined;
  try {
    mkdirSync(dirname(path), { recursive: true });
    open = openDatabase(path);
    return new SqliteBackend(path, open, options);
  } catch (error) {
    // Release the file's lock, or a retry in this process could never open it.
    open?.close();
    throw storageError(`cannot open sqlite database ${path}`, error);
  }
}
