/**
 * Observations counted by bucket, as a Prometheus histogram exposes them: for each upper bound
 * (ascending), how many observations were at most it, plus their number and sum. Each
 * observation costs one search for its bucket and one increment; the cumulative counts are made
 * when read.
 */
/** A histogram as read: `counts[i]` observations were at most `bounds[i]` (cumulative), out of
 * `count` in all, whose values add up to `sum`. */
export interface HistogramCounts {
  bounds: readonly number[];
  counts: readonly number[];
  sum: number;
  count: number;
}

export class Histogram {
  readonly bounds: readonly number[];
  /** Observations within each bound and above the one before; the last slot: above all. */
  readonly #within: number[];
  #sum = 0;
  #count = 0;

  constructor(bounds: readonly number[]) {
    this.bounds = bounds;
    this.#within = new Array<number>(bounds.length + 1).fill(0);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    this.#within[i]!++;
    this.#sum += value;
    this.#count++;
  }

  get count(): number {
    return this.#count;
  }

  /** The counts at most each bound (cumulative), the number of observations and their sum. */
  read(): HistogramCounts {
    let below = 0;
    const counts = this.bounds.map((_, i) => (below += this.#within[i]!));
    return { bounds: this.bounds, counts, sum: this.#sum, count: this.#count };
  }
}
