/**
 * An ordered set of keys (UTF-8 byte order) for range scans of the in-memory key index: a list
 * of sorted chunks, so inserting a key moves at most one chunk's worth of entries instead of
 * half the set, and finding one is two binary searches.
 */

import { compareKeys, hasHighCodeUnit } from '../key-range.ts';

/** Chunks split in two above this many keys. */
const MAX_CHUNK = 512;

type Compare = (a: string, b: string) => number;

/** JavaScript's own string order (UTF-16 code units): UTF-8 order for most keys, and fast. */
const compareUnits: Compare = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

/** Index of the first element of `sorted` that is >= `key` (sorted.length if none). */
function lowerBound(sorted: readonly string[], key: string, compare: Compare): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (compare(sorted[middle]!, key) < 0) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** An ordered set of strings. */
export class SortedKeys {
  /** Non-empty sorted chunks, each entirely below the next. */
  readonly #chunks: string[][] = [];
  #size = 0;
  /**
   * Code-unit order until a key with a unit >= U+D800 shows up, then UTF-8 order for good. The
   * two orders agree on keys without such units, so the switch never reorders the set.
   */
  #compare: Compare = compareUnits;

  /** Number of keys. */
  get size(): number {
    return this.#size;
  }

  /** Adds `key`, which must not be present. */
  insert(key: string): void {
    this.#use(key);
    this.#size++;
    if (this.#chunks.length === 0) {
      this.#chunks.push([key]);
      return;
    }
    // Past the last chunk's end, the key joins the last chunk.
    const c = Math.min(this.#chunkFor(key), this.#chunks.length - 1);
    const chunk = this.#chunks[c]!;
    chunk.splice(lowerBound(chunk, key, this.#compare), 0, key);
    if (chunk.length > MAX_CHUNK) this.#chunks.splice(c + 1, 0, chunk.splice(MAX_CHUNK >>> 1));
  }

  /** Removes `key` if present. */
  delete(key: string): void {
    const c = this.#chunkFor(key);
    const chunk = this.#chunks[c];
    if (chunk === undefined) return;
    const i = lowerBound(chunk, key, this.#compare);
    if (chunk[i] !== key) return;
    chunk.splice(i, 1);
    this.#size--;
    if (chunk.length === 0) this.#chunks.splice(c, 1);
  }

  /**
   * Calls `visit` on each key in `[start, end)` (no upper bound when `end` is undefined) in
   * order, until it returns false.
   */
  forEachInRange(start: string, end: string | undefined, visit: (key: string) => boolean): void {
    this.#use(start);
    if (end !== undefined) this.#use(end);
    const compare = this.#compare;
    const first = this.#chunkFor(start);
    for (let c = first; c < this.#chunks.length; c++) {
      const chunk = this.#chunks[c]!;
      for (let i = c === first ? lowerBound(chunk, start, compare) : 0; i < chunk.length; i++) {
        const key = chunk[i]!;
        if (end !== undefined && compare(key, end) >= 0) return;
        if (!visit(key)) return;
      }
    }
  }

  /** Switches to the exact (slower) order once a key needs it. */
  #use(key: string): void {
    if (this.#compare === compareUnits && hasHighCodeUnit(key)) this.#compare = compareKeys;
  }

  /** Index of the first chunk whose last key is >= `key` (chunks.length if none). */
  #chunkFor(key: string): number {
    let low = 0;
    let high = this.#chunks.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const chunk = this.#chunks[middle]!;
      if (this.#compare(chunk[chunk.length - 1]!, key) < 0) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}
