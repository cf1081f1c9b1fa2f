/**
 * Group commit: writes submitted while a transaction is being committed are queued and go into
 * the next transaction together, so one fsync acknowledges many writes.
 *
 * A batch may settle later than its COMMIT: when {@link CommitBatch} returns a promise (the
 * store waits for its log to reach the disk), the batch's writers are answered when it
 * resolves, and no other batch starts before then — writes arriving meanwhile make the next
 * batch larger, and the event loop stays free for other work while the disk works.
 *
 * The queue is flushed from `setImmediate`, i.e. after the microtasks and I/O callbacks of the
 * current turn: every writer that was woken by the previous commit (its promise resolved) has
 * had the chance to submit its next write by then. With N concurrent writers a batch therefore
 * holds about N writes, and the commit rate is bounded by fsync latency, not by the write rate.
 */

/** Extra event-loop turns a batch may wait for more writes while the store is busy. */
const BATCH_WAIT_TURNS = 2;
/** A commit this recent (ms) means the store is under continuous write load. */
const BUSY_WINDOW_MS = 1;

/** Commits a batch in one transaction; returns one outcome per op (an Error fails that op
 * alone), or a promise of them when the batch settles later, or throws (rejects) to fail the
 * whole batch. The transaction itself must run synchronously, before it returns: nothing else
 * may run between its start and its COMMIT. */
export type CommitBatch<Op, Result> = (ops: readonly Op[]) => Array<Result | Error> | Promise<Array<Result | Error>>;

interface Pending<Op, Result> {
  op: Op;
  resolve: (result: Result) => void;
  reject: (error: Error) => void;
}

/** Options of {@link GroupCommit}. */
export interface GroupCommitOptions {
  /** Most ops in one transaction, so that a flood of writes cannot stall the event loop for
   * long in one commit. Default 10,000. */
  maxBatch?: number;
}

/** A queue of writes flushed in batches through a {@link CommitBatch}. Results must not be
 * Error instances (an Error outcome rejects the op). */
export class GroupCommit<Op, Result> {
  readonly #commit: CommitBatch<Op, Result>;
  readonly #maxBatch: number;
  #pending: Array<Pending<Op, Result>> = [];
  #scheduled = false;
  /** A batch has committed and waits to settle: no other starts before. */
  #settling = false;
  #drained: Array<() => void> = [];
  /** When the last batch was committed (performance.now()). */
  #lastCommit = -Infinity;
  /** Event-loop turns this batch has already waited for company. */
  #waited = 0;

  constructor(commit: CommitBatch<Op, Result>, options: GroupCommitOptions = {}) {
    this.#commit = commit;
    this.#maxBatch = options.maxBatch ?? 10_000;
  }

  /** Queues `op`; resolves with its outcome once its transaction has committed. */
  submit(op: Op): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      this.#pending.push({ op, resolve, reject });
      this.#schedule();
    });
  }

  /** Resolves once every op submitted so far has been committed and settled (or failed). */
  drain(): Promise<void> {
    if (this.#pending.length === 0 && !this.#settling) return Promise.resolve();
    return new Promise((resolve) => this.#drained.push(resolve));
  }

  #schedule(): void {
    if (this.#scheduled || this.#settling) return;
    this.#scheduled = true;
    setImmediate(this.#flush);
  }

  readonly #flush = (): void => {
    // Under continuous load (the previous commit was a moment ago), give the requests already
    // in flight a couple more turns of the event loop to reach the queue: bigger batches mean
    // fewer commits for the same writes. A lone writer never waits.
    if (this.#waited < BATCH_WAIT_TURNS && performance.now() - this.#lastCommit < BUSY_WINDOW_MS && this.#pending.length < this.#maxBatch) {
      this.#waited++;
      setImmediate(this.#flush);
      return;
    }
    this.#waited = 0;
    this.#scheduled = false;
    let batch: Array<Pending<Op, Result>>;
    if (this.#pending.length <= this.#maxBatch) {
      batch = this.#pending;
      this.#pending = [];
    } else {
      batch = this.#pending.splice(0, this.#maxBatch);
    }
    let outcomes: Array<Result | Error> | Promise<Array<Result | Error>>;
    try {
      outcomes = this.#commit(batch.map((p) => p.op));
    } catch (error) {
      this.#fail(batch, error as Error);
      return;
    }
    if (Array.isArray(outcomes)) {
      this.#settle(batch, outcomes);
      return;
    }
    this.#settling = true;
    outcomes.then(
      (settled) => {
        this.#settling = false;
        this.#settle(batch, settled);
      },
      (error: unknown) => {
        this.#settling = false;
        this.#fail(batch, error as Error);
      },
    );
  };

  #fail(batch: Array<Pending<Op, Result>>, error: Error): void {
    for (const p of batch) p.reject(error);
    if (this.#pending.length > 0) this.#schedule();
    this.#notifyDrained();
  }

  #settle(batch: Array<Pending<Op, Result>>, outcomes: Array<Result | Error>): void {
    this.#lastCommit = performance.now();
    if (this.#pending.length > 0) this.#schedule();
    for (let i = 0; i < batch.length; i++) {
      const outcome = outcomes[i]!;
      if (outcome instanceof Error) batch[i]!.reject(outcome);
      else batch[i]!.resolve(outcome);
    }
    this.#notifyDrained();
  }

  #notifyDrained(): void {
    if (this.#pending.length > 0 || this.#settling || this.#drained.length === 0) return;
    const waiters = this.#drained;
    this.#drained = [];
    for (const resolve of waiters) resolve();
  }
}
