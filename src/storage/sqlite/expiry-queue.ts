/**
 * Keys with a TTL, soonest expiry first (a binary min-heap). Entries are never updated in
 * place: a key rewritten later simply has an entry whose revision no longer matches, which the
 * sweeper skips.
 */

/** One key's expiry, valid only while the key's mod revision is still `revision`. */
export interface Expiry {
  /** ms since the epoch. */
  at: number;
  key: string;
  revision: number;
}

/** A min-heap of expiries. */
export class ExpiryQueue {
  readonly #heap: Expiry[] = [];

  /** Number of entries, stale ones included. */
  get size(): number {
    return this.#heap.length;
  }

  /** The soonest entry. */
  peek(): Expiry | undefined {
    return this.#heap[0];
  }

  push(expiry: Expiry): void {
    const heap = this.#heap;
    heap.push(expiry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >>> 1;
      if (heap[parent]!.at <= expiry.at) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = expiry;
  }

  /** Removes and returns the soonest entry. */
  pop(): Expiry | undefined {
    const heap = this.#heap;
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined || heap.length === 0) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && heap[right]!.at < heap[left]!.at ? right : left;
      if (heap[child]!.at >= last.at) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = last;
    return top;
  }
}
