/**
 * The last few values found, each under a key, most recently used first (internal to
 * `apply/`): for what repeats from one write to the next — one kind's objects share shapes,
 * and their managedFields share field sets. Looking one up compares the probe with each key in
 * turn, allocating nothing.
 */
export class Recent<P, K, V> {
  readonly #entries: Array<{ key: K; value: V }> = [];
  readonly #size: number;
  readonly #matches: (probe: P, key: K) => boolean;

  /** Keeps at most `size` entries; `matches` says whether a probe finds a key. */
  constructor(size: number, matches: (probe: P, key: K) => boolean) {
    this.#size = size;
    this.#matches = matches;
  }

  /** The value of the first key `probe` matches (which then moves to the front), or undefined. */
  find(probe: P): V | undefined {
    const entries = this.#entries;
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!;
      if (!this.#matches(probe, entry.key)) continue;
      if (i > 0) {
        entries.splice(i, 1);
        entries.unshift(entry);
      }
      return entry.value;
    }
    return undefined;
  }

  /** Adds an entry at the front; the least recently used goes when there are too many. */
  add(key: K, value: V): void {
    this.#entries.unshift({ key, value });
    if (this.#entries.length > this.#size) this.#entries.pop();
  }
}
