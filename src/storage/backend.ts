/**
 * The storage contract: a key-value store with etcd's semantics.
 *
 * Every backend (embedded SQLite, real etcd) implements {@link Backend}, and one conformance
 * suite (`conformance.ts`) runs unchanged against each of them.
 *
 * Model: one global, strictly increasing revision. Every successful write (create, update,
 * delete) gets the next revision; nothing else changes it. Each live key carries the revision
 * that created it (`createRevision`), the revision of its last change (`modRevision`), and a
 * `version` counting its changes since creation (1 after create). A deleted and re-created key
 * starts over with a new `createRevision` and version 1.
 *
 * Consistency: reads are linearizable with respect to writes made through the same backend
 * object: a write whose promise has resolved is visible to every read started afterwards.
 * Durability: a write's promise resolves only once the write is on disk (or, for etcd, committed
 * by the cluster); a process killed afterwards loses nothing acknowledged, and revisions never go
 * backwards across restarts.
 *
 * Errors: compare-and-swap failures are not errors — they come back as `succeeded: false` with
 * the key's current value. Reading below the compacted revision, or watching from a revision at
 * or below it, rejects with {@link CompactedError} (as in etcd, the compacted revision itself is
 * still readable: compaction keeps every value that was live at it, but may drop a delete event
 * at it); reading at a revision beyond the current one rejects with {@link FutureRevisionError};
 * creating a key that exists with {@link KeyExistsError}. Argument mistakes reject with
 * `TypeError`/`RangeError` (thrown, for `watch`). Anything else (disk, network, a closed backend)
 * rejects with a {@link StorageError} whose `cause` is the native error.
 *
 * Keys are strings compared byte-wise (UTF-8), as etcd does; values are strings (Skiff stores
 * JSON).
 */

import type { HistogramCounts } from '../client/index.ts';

/** One key's value at some revision. */
export interface KeyValue {
  key: string;
  value: string;
  /** Revision of the write that created this incarnation of the key. */
  createRevision: number;
  /** Revision of the last write to the key. For a delete event, the revision of the delete. */
  modRevision: number;
  /** Number of writes since creation: 1 after create. */
  version: number;
}

/** The outcome of a conditional write. */
export interface TxnResult {
  /** Whether the condition held and the write was made. */
  succeeded: boolean;
  /** The store's revision after the operation (the write's own revision when it succeeded). */
  revision: number;
  /**
   * On success: the key as written; for delete, the deleted value with `modRevision` set to the
   * delete's revision, exactly as the delete's watch event shows it.
   * On failure: the key's current value, or undefined when the key does not exist.
   */
  kv: KeyValue | undefined;
}

export interface WriteOptions {
  /**
   * Time to live in seconds. The key is deleted (an ordinary delete, seen by watchers) at some
   * point after it expires. Used for Events. Omit for keys that live until deleted.
   */
  ttlSeconds?: number;
}

export interface ReadOptions {
  /** Read as of this revision; 0 or omitted reads the latest. */
  revision?: number;
}

export interface ListOptions extends ReadOptions {
  /** Return at most this many keys; 0 or omitted means no limit. */
  limit?: number;
  /** Start at this key (inclusive) instead of at the prefix. Used for pagination. */
  startKey?: string;
}

export interface ListResult {
  /** Keys in ascending byte order. */
  kvs: KeyValue[];
  /** The revision the list was read at (the latest revision when none was asked for). */
  revision: number;
  /** True when `limit` cut the result short and more keys follow. */
  more: boolean;
}

export type WatchEventType = 'put' | 'delete';

export interface WatchEvent {
  type: WatchEventType;
  /** For put: the new value. For delete: the key with `modRevision` = the delete's revision and
   * the deleted value. */
  kv: KeyValue;
  /** The value before this event; undefined for a put that created the key. */
  prevKv: KeyValue | undefined;
}

export interface WatchOptions {
  /**
   * Deliver every event with revision >= startRevision (history first, then live events).
   * Must be > 0 (RangeError otherwise). Rejected with CompactedError (through `onError`) when
   * startRevision is at or below the compacted revision. A start beyond the current revision is
   * not an error: the watch waits for it, as etcd's does.
   */
  startRevision: number;
  /**
   * Receives events in revision order, never twice, with no gaps. Events of one revision arrive
   * in one call; a call may carry several revisions. Called synchronously from the backend's
   * delivery loop: do not block, and treat the events as read-only (they may be shared between
   * watchers). If it throws, the watch ends with that error through `onError`.
   */
  onEvents: (events: WatchEvent[]) => void;
  /**
   * Whether events must carry `prevKv` (default true). A watcher that keeps its own copy of what
   * it watches (the API server's watch cache) says false, and spares the store reading the
   * value each update replaced; its events may then come without `prevKv`, as etcd's do
   * without `prev_kv`.
   */
  prevKv?: boolean;
  /** Called at most once when the watch ends because of an error; no events follow it. */
  onError: (error: Error) => void;
}

/** What a backend reports of its own work, for the server's `/metrics`. */
export interface BackendStats {
  /** Seconds each commit waited for its log to reach the disk: what a write's answer waits
   * for besides the work, as etcd's `etcd_disk_wal_fsync_duration_seconds`. */
  logSyncSeconds: HistogramCounts;
  /** Transactions committed, each made durable by one log sync. */
  commits: number;
  /** Writes those transactions carried (over `commits`: the writes that shared a sync). */
  writes: number;
}

/** A running watch. */
export interface Watch {
  /** Stops delivery. Idempotent; no events are delivered after it returns. */
  cancel(): void;
}

/** A key-value store with etcd semantics. See this file's header for the contract. */
export interface Backend {
  /** The latest revision. A new empty store starts at 0 (SQLite) or 1 (etcd); its first write
   * gets the next one. */
  currentRevision(): Promise<number>;

  /** The revision at or below which history has been compacted away (0 when never). On etcd,
   * which does not report it directly, this costs a binary search of ~log2(revision) reads. */
  compactedRevision(): Promise<number>;

  /** One key, or undefined; `revision` is the revision read at. */
  get(key: string, options?: ReadOptions): Promise<{ kv: KeyValue | undefined; revision: number }>;

  /** Keys starting with `prefix`, in order. */
  list(prefix: string, options?: ListOptions): Promise<ListResult>;

  /** Number of live keys starting with `prefix` at the latest revision. */
  count(prefix: string): Promise<number>;

  /** Creates a key that must not exist; rejects with KeyExistsError when it does. Returns the
   * new revision. */
  create(key: string, value: string, options?: WriteOptions): Promise<number>;

  /** Writes `value` only if the key's modRevision equals `expectedModRevision`, which must be
   * > 0 (RangeError otherwise: use `create` for new keys). Without `ttlSeconds` the key no
   * longer expires, even if it was created with a TTL (etcd's put without a lease). */
  update(
    key: string,
    value: string,
    expectedModRevision: number,
    options?: WriteOptions,
  ): Promise<TxnResult>;

  /**
   * Deletes the key if its modRevision equals `expectedModRevision`, or unconditionally when
   * `expectedModRevision` is 0. Deleting a missing key is `succeeded: false`, `kv: undefined`.
   */
  delete(key: string, expectedModRevision: number): Promise<TxnResult>;

  /** Watches keys starting with `prefix`. */
  watch(prefix: string, options: WatchOptions): Watch;

  /** Drops history below `revision` (what was live at it stays readable). Idempotent for
   * revisions at or below the compacted one; FutureRevisionError beyond the current one. */
  compact(revision: number): Promise<void>;

  /** The store's own figures, when the driver keeps any: the embedded SQLite store does; an
   * etcd cluster reports its own on its `/metrics`. */
  stats?(): BackendStats;

  /** Ends all watches (with no error) and releases the store; writes already accepted still
   * complete. Idempotent. Every other call rejects afterwards. */
  close(): Promise<void>;
}
