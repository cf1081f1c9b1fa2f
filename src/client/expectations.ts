/**
 * Controller "expectations", as upstream's `ControllerExpectations`: a controller that has just
 * asked for N pods to be created must not act on a cache that has not seen them yet, or it
 * would create them again. It records what it expects; the informer's handlers count the
 * arrivals; `satisfied` says when the cache has caught up. A record older than five minutes is
 * treated as satisfied, so a lost event cannot wedge a controller forever.
 */

interface Record {
  add: number;
  del: number;
  at: number;
}

/** Options of {@link Expectations}. */
export interface ExpectationsOptions {
  /** After this many ms a record no longer holds the controller back. Default 5 minutes. */
  ttlMs?: number;
  /** The clock, in ms. Default `Date.now`. */
  now?: () => number;
}

/** See the file header. Keys are the controller's keys (`namespace/name` of the owner). */
export class Expectations {
  readonly #records = new Map<string, Record>();
  readonly #ttl: number;
  readonly #now: () => number;

  constructor(options: ExpectationsOptions = {}) {
    this.#ttl = options.ttlMs ?? 5 * 60_000;
    this.#now = options.now ?? Date.now;
  }

  /** Replaces the record: `adds` creations and `dels` deletions are on their way. */
  expect(key: string, adds: number, dels: number): void {
    this.#records.set(key, { add: adds, del: dels, at: this.#now() });
  }

  /** An object the controller created was seen by the informer. */
  creationObserved(key: string): void {
    const record = this.#records.get(key);
    if (record) record.add--;
  }

  /** An object the controller deleted was seen going (or a create failed: nothing will arrive). */
  deletionObserved(key: string): void {
    const record = this.#records.get(key);
    if (record) record.del--;
  }

  /** Whether the controller may act on its cache for `key`. */
  satisfied(key: string): boolean {
    const record = this.#records.get(key);
    if (!record) return true;
    if (record.add <= 0 && record.del <= 0) return true;
    return this.#now() - record.at > this.#ttl;
  }

  /** Drops the record (the owner is gone). */
  delete(key: string): void {
    this.#records.delete(key);
  }
}
