/**
 * WAL checkpoints off the API thread.
 *
 * Every commit appends to the write-ahead log; a checkpoint copies the log's pages back into the
 * database file and fsyncs it, after which the next commit starts the log over. SQLite's own
 * automatic checkpoint runs inside the commit that crosses its threshold, on the thread that
 * commits — Skiff's API thread — and copying ~16 MiB took 15–25 ms, a stall every couple of
 * seconds under load that every request in flight waited out. Here the committing connection
 * never checkpoints inside a commit; a second connection on a worker thread runs PASSIVE
 * checkpoints, which copy what is committed without ever blocking a writer, after every
 * {@link CHECKPOINT_WRITES} writes.
 *
 * The log starts over only when a commit begins while all of it is in the file. Commits that
 * land while the worker copies keep that from happening, however often it goes round; so after
 * the worker's copy of the bulk, {@link tailWanted} asks the committer to hold its next commit
 * while the worker copies the tail — only the pages committed meanwhile, a few milliseconds at
 * most — with {@link copyTail}. That commit then starts the log over. The committing thread
 * goes on with its other work while it waits.
 *
 * A worker thread costs memory an idle server should not pay, so it starts at the first
 * checkpoint and ends after {@link IDLE_MS} without one. If it cannot start (or dies), the
 * checkpoint runs on the calling thread instead, as SQLite's own would: the log never grows
 * without bound.
 */
import type { DatabaseSync } from 'node:sqlite';
import { Worker } from 'node:worker_threads';

/** Writes committed between two checkpoints: ~1–3 log pages each, a few MiB of log. */
export const CHECKPOINT_WRITES = 2000;
/** A worker with no checkpoint to run for this long ends. */
export const IDLE_MS = 60_000;

const WORKER_URL = new URL('./checkpoint-worker.ts', import.meta.url);

/** What a checkpoint reports: frames in the log, and how many of them are now in the file. */
export interface CheckpointResult {
  log: number;
  checkpointed: number;
}

/** Options of {@link Checkpointer}. */
export interface CheckpointerOptions {
  /** Writes between checkpoints. Default {@link CHECKPOINT_WRITES}. */
  writes?: number;
  /** Idle time before the worker ends, ms. Default {@link IDLE_MS}. */
  idleMs?: number;
}

/**
 * Checkpoints the WAL of the database at `path`, whose committing connection is `db` (opened
 * with automatic checkpoints off). Call {@link committed} after each commit.
 */
export class Checkpointer {
  readonly #path: string;
  readonly #db: DatabaseSync;
  readonly #writes: number;
  readonly #idleMs: number;
  #worker: Worker | undefined;
  #uncheckpointed = 0;
  /** The checkpoint in flight on the worker, if any. */
  #running: Promise<CheckpointResult> | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  #closed = false;
  #tailWanted = false;

  constructor(path: string, db: DatabaseSync, options: CheckpointerOptions = {}) {
    this.#path = path;
    this.#db = db;
    this.#writes = options.writes ?? CHECKPOINT_WRITES;
    this.#idleMs = options.idleMs ?? IDLE_MS;
  }

  /** Counts `writes` just committed; starts a checkpoint once enough have accumulated. */
  committed(writes: number): void {
    this.#uncheckpointed += writes;
    if (this.#uncheckpointed >= this.#writes && !this.#running && !this.#closed) void this.checkpoint();
  }

  /**
   * Checkpoints now (on the worker, or on this thread if the worker cannot run) and resolves
   * with the result; a checkpoint already in flight is shared.
   */
  checkpoint(): Promise<CheckpointResult> {
    if (this.#running) return this.#running;
    this.#uncheckpointed = 0;
    const running = this.#onWorker().then(
      (result) => {
        // What was committed while it copied is left: the tail, for copyTail.
        this.#tailWanted = !this.#closed;
        return result;
      },
    ).catch((error: unknown) => {
      if (!this.#closed) console.error('skiff: WAL checkpoint on a worker thread failed; checkpointing here:', error);
      void this.#stopWorker();
      return this.#here();
    });
    this.#running = running.finally(() => {
      this.#running = undefined;
      this.#armIdleTimer();
    });
    return this.#running;
  }

  /** Whether the committer should call {@link copyTail} before its next commit. */
  get tailWanted(): boolean {
    return this.#tailWanted && !this.#running;
  }

  /**
   * Copies what the last checkpoint left; the committer must not commit until this resolves,
   * so that its next commit finds the whole log in the file and starts it over.
   */
  async copyTail(): Promise<void> {
    this.#tailWanted = false;
    try {
      await this.checkpoint();
    } catch (error) {
      // Writes go on regardless; the log is copied at the next checkpoint.
      console.error('skiff: WAL checkpoint failed:', error);
    }
    this.#tailWanted = false;
  }

  /** Ends the worker (after its checkpoint in flight); later commits are not checkpointed here. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#idleTimer);
    await this.#running?.catch(() => {});
    await this.#stopWorker();
  }

  #here(): CheckpointResult {
    const row = this.#db.prepare('PRAGMA wal_checkpoint(PASSIVE)').get() as { log: number; checkpointed: number };
    return { log: row.log, checkpointed: row.checkpointed };
  }

  #onWorker(): Promise<CheckpointResult> {
    const worker = (this.#worker ??= this.#startWorker());
    return new Promise((resolve, reject) => {
      const onMessage = (message: { result?: CheckpointResult; error?: string }) => {
        cleanup();
        if (message.result) resolve(message.result);
        else reject(new Error(message.error ?? 'the checkpoint worker answered nothing'));
      };
      const onExit = (code: number) => {
        cleanup();
        reject(new Error(`the checkpoint worker exited with code ${code}`));
      };
      const onError = (error: Error) => {
        cleanup();
        reject(error);
      };
      const cleanup = () => {
        worker.off('message', onMessage);
        worker.off('exit', onExit);
        worker.off('error', onError);
      };
      worker.on('message', onMessage);
      worker.on('exit', onExit);
      worker.on('error', onError);
      worker.postMessage('checkpoint');
    });
  }

  #startWorker(): Worker {
    const worker = new Worker(WORKER_URL, { workerData: { path: this.#path } });
    // A checkpoint worker never keeps the process alive: close() or the idle timer ends it.
    worker.unref();
    return worker;
  }

  #armIdleTimer(): void {
    clearTimeout(this.#idleTimer);
    if (this.#closed || !this.#worker) return;
    this.#idleTimer = setTimeout(() => void this.#stopWorker(), this.#idleMs);
    this.#idleTimer.unref();
  }

  async #stopWorker(): Promise<void> {
    const worker = this.#worker;
    this.#worker = undefined;
    if (!worker) return;
    // Its connection closes with the thread; an ended connection leaves the log to this one.
    await worker.terminate();
  }
}
