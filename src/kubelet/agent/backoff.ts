/**
 * Per-key exponential back-off as upstream's `flowcontrol.Backoff`, used for CrashLoopBackOff
 * (10 s doubling to 5 min) and ImagePullBackOff. An entry is forgotten when its last update is
 * older than twice the maximum (10 min): a container that ran that long starts over at 10 s.
 */

/** Options of {@link Backoff}. */
export interface BackoffOptions {
  /** First delay, ms (default 10 s). */
  initialMs?: number;
  /** Longest delay, ms (default 5 min). */
  maxMs?: number;
  /** The clock, ms since the epoch. */
  now?: () => number;
}

interface Entry {
  backoffMs: number;
  lastUpdate: number;
}

/** See the file header. */
export class Backoff {
  readonly #initial: number;
  readonly #max: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry>();

  constructor(options: BackoffOptions = {}) {
    this.#initial = options.initialMs ?? 10_000;
    this.#max = options.maxMs ?? 300_000;
    this.#now = options.now ?? Date.now;
  }

  #expired(eventTime: number, lastUpdate: number): boolean {
    return eventTime - lastUpdate > 2 * this.#max;
  }

  /** Records one more failure: the delay doubles (or starts at the initial delay). Returns the new delay. */
  next(key: string, eventTime: number = this.#now()): number {
    const entry = this.#entries.get(key);
    if (!entry || this.#expired(eventTime, entry.lastUpdate)) {
      this.#entries.set(key, { backoffMs: this.#initial, lastUpdate: eventTime });
      return this.#initial;
    }
    entry.backoffMs = Math.min(entry.backoffMs * 2, this.#max);
    entry.lastUpdate = eventTime;
    return entry.backoffMs;
  }

  /**
   * Whether `eventTime` (the last container's finish) is still within the key's delay, as
   * upstream's `IsInBackOffSince`; returns the ms left, or 0.
   */
  remainingSince(key: string, eventTime: number): number {
    const entry = this.#entries.get(key);
    if (!entry || this.#expired(eventTime, entry.lastUpdate)) return 0;
    const left = entry.backoffMs - (this.#now() - eventTime);
    return left > 0 ? left : 0;
  }

  /** The current delay of a key (0 when none). */
  delay(key: string): number {
    return this.#entries.get(key)?.backoffMs ?? 0;
  }

  /** Forgets a key (the pod went away). */
  reset(key: string): void {
    this.#entries.delete(key);
  }

  /** Forgets every key starting with `prefix`. */
  resetPrefix(prefix: string): void {
    for (const key of this.#entries.keys()) if (key.startsWith(prefix)) this.#entries.delete(key);
  }
}
