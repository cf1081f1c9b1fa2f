/**
 * TTL expiry: one timer, armed for the earliest expiry the store knows of. When it fires, the
 * driver deletes the expired keys through ordinary conditional deletes (so watchers see delete
 * events and a key rewritten in the meantime is left alone), then re-arms for the next expiry.
 */

/** Longest delay `setTimeout` accepts. */
const MAX_DELAY_MS = 2 ** 31 - 1;

/** Options of {@link ExpiryTimer}. */
export interface ExpiryTimerOptions {
  /** Wall clock in ms since the epoch. */
  now: () => number;
  /** Deletes what has expired by now; resolves with the next expiry time, if any. */
  sweep: () => Promise<number | undefined>;
}

/** Arms a timer for the earliest known expiry and sweeps when it fires. */
export class ExpiryTimer {
  readonly #now: () => number;
  readonly #sweep: () => Promise<number | undefined>;
  #timer: NodeJS.Timeout | undefined;
  #due = Infinity;
  #sweeping: Promise<void> | undefined;
  /** Earliest expiry scheduled while a sweep was running. */
  #deferred = Infinity;
  #stopped = false;

  constructor(options: ExpiryTimerOptions) {
    this.#now = options.now;
    this.#sweep = options.sweep;
  }

  /** Makes sure a sweep runs at or soon after `at` (ms since the epoch). */
  schedule(at: number): void {
    if (this.#stopped || at >= this.#due) return;
    // A running sweep re-arms the timer when it ends; remember this expiry for that moment.
    if (this.#sweeping) {
      this.#deferred = Math.min(this.#deferred, at);
      return;
    }
    clearTimeout(this.#timer);
    this.#due = at;
    const delay = Math.min(Math.max(0, at - this.#now()), MAX_DELAY_MS);
    this.#timer = setTimeout(() => this.#fire(), delay);
    // Expiry alone must not keep a process alive.
    this.#timer.unref();
  }

  /** Stops the timer and waits for a running sweep. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#sweeping;
  }

  #fire(): void {
    this.#timer = undefined;
    this.#due = Infinity;
    this.#sweeping = this.#sweep()
      .catch(() => this.#now() + 1000) // A failed sweep (disk trouble) is retried in a second.
      .then((next) => {
        this.#sweeping = undefined;
        const at = Math.min(next ?? Infinity, this.#deferred);
        this.#deferred = Infinity;
        if (at !== Infinity) this.schedule(at);
      });
  }
}
