/**
 * A work queue of keys with client-go's guarantees, in small:
 * - a key waiting in the queue is held once, however often it is added (de-duplication);
 * - a key is never processed by two workers at once: added while being processed, it is queued
 *   again when processing ends;
 * - failed keys come back after a per-key exponential back-off (5 ms doubling to 1000 s);
 * - after `shutDown()`, `get()` resolves undefined once the queue is drained.
 */

/** Options of {@link WorkQueue}. */
export interface WorkQueueOptions {
  /** First retry delay in ms (default 5). */
  baseDelayMs?: number;
  /** Longest retry delay in ms (default 1,000,000). */
  maxDelayMs?: number;
}

/** See the file header. */
export class WorkQueue {
  readonly #queue: string[] = [];
  readonly #queued = new Set<string>();
  readonly #processing = new Set<string>();
  readonly #dirty = new Set<string>();
  readonly #failures = new Map<string, number>();
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #waiters: ((key: string | undefined) => void)[] = [];
  readonly #base: number;
  readonly #max: number;
  #shuttingDown = false;

  constructor(options: WorkQueueOptions = {}) {
    this.#base = options.baseDelayMs ?? 5;
    this.#max = options.maxDelayMs ?? 1_000_000;
  }

  /** Queues a key (no-op when it is already waiting). */
  add(key: string): void {
    if (this.#shuttingDown) return;
    if (this.#processing.has(key)) {
      this.#dirty.add(key);
      return;
    }
    if (this.#queued.has(key)) return;
    const waiter = this.#waiters.shift();
    if (waiter) {
      this.#processing.add(key);
      waiter(key);
      return;
    }
    this.#queued.add(key);
    this.#queue.push(key);
  }

  /** Queues a key after `ms`. */
  addAfter(key: string, ms: number): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      this.add(key);
    }, ms);
    this.#timers.add(timer);
  }

  /** Queues a key after its back-off, which doubles with each call until `forget`. */
  addRateLimited(key: string): void {
    const failures = this.#failures.get(key) ?? 0;
    this.#failures.set(key, failures + 1);
    this.addAfter(key, Math.min(this.#base * 2 ** failures, this.#max));
  }

  /** Clears a key's back-off (after it succeeded). */
  forget(key: string): void {
    this.#failures.delete(key);
  }

  /** The next key to process; undefined once shut down and drained. Call `done` after. */
  get(): Promise<string | undefined> {
    const key = this.#queue.shift();
    if (key !== undefined) {
      this.#queued.delete(key);
      this.#processing.add(key);
      return Promise.resolve(key);
    }
    if (this.#shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Marks a key's processing finished; re-queues it if it was added meanwhile. */
  done(key: string): void {
    this.#processing.delete(key);
    if (this.#dirty.delete(key)) this.add(key);
  }

  /** Stops accepting keys; waiting `get()` calls resolve undefined. */
  shutDown(): void {
    this.#shuttingDown = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    for (const waiter of this.#waiters.splice(0)) waiter(undefined);
  }

  /** Keys waiting (not counting those being processed or delayed). */
  get length(): number {
    return this.#queue.length;
  }
}

/** Options of {@link processQueue}. */
export interface ProcessQueueOptions {
  /** When `sync` asks for another look, the key comes back after this many ms. Default 1,000. */
  recheckMs?: number;
  /** Told of a failed sync; the key is retried with back-off. */
  onError?: (key: string, error: unknown) => void;
}

/**
 * A controller's worker loop, client-go style: takes keys from `queue` until it shuts down and
 * runs `sync(key)` for each. A sync that resolves `true` wants another look after `recheckMs`
 * (work still in progress elsewhere); one that throws is retried with the key's back-off; one
 * that resolves otherwise is done, and the key's back-off is forgotten.
 */
export async function processQueue(
  queue: WorkQueue,
  sync: (key: string) => Promise<boolean | void>,
  options: ProcessQueueOptions = {},
): Promise<void> {
  for (;;) {
    const key = await queue.get();
    if (key === undefined) return;
    try {
      const again = await sync(key);
      queue.forget(key);
      if (again === true) queue.addAfter(key, options.recheckMs ?? 1000);
    } catch (error) {
      options.onError?.(key, error);
      queue.addRateLimited(key);
    } finally {
      queue.done(key);
    }
  }
}
