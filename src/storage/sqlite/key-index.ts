/**
 * The in-memory MVCC index of the SQLite driver, the same idea as etcd's `treeIndex`: for each
 * key, the revisions of its rows still in the log; the log itself is keyed by revision only.
 *
 * Why in memory: every B-tree keyed by *key* that SQLite maintains costs a random page write per
 * write, and with writes spread over many keys a batch of 100 dirties ~100 pages per such tree.
 * Keeping the key order here makes each commit a sequential append (measured 2–3× the writes/s
 * of the table-plus-index layouts), at a memory cost of roughly 150–250 bytes per key, the same
 * trade etcd makes. The index is rebuilt from the log at open.
 */

import { ShardedMap } from '../../client/index.ts';
import { SortedKeys } from './sorted-keys.ts';

/** The newest row of a live key. */
export interface Head {
  modRevision: number;
  createRevision: number;
  version: number;
}

interface Entry {
  /**
   * Revisions of the key's rows in the log, ascending; a tombstone is stored negated. One row
   * (most keys: never updated, or compacted) is a number, not a list: a list is two more heap
   * objects per key, which V8's collector marks over and over.
   */
  revisions: number | number[];
  /** Of the newest row when it is live. */
  createRevision: number;
  version: number;
}

/** The entry's newest row (negative: a tombstone). */
function newest(revisions: number | readonly number[]): number {
  return typeof revisions === 'number' ? revisions : revisions[revisions.length - 1]!;
}

/** The entry's newest row with revision <= `revision` (negative: a tombstone), or undefined. */
function visible(revisions: number | readonly number[], revision: number): number | undefined {
  if (typeof revisions === 'number') return Math.abs(revisions) <= revision ? revisions : undefined;
  const i = visibleIndex(revisions, revision);
  return i < 0 ? undefined : revisions[i];
}

/** Index of the entry's newest row with revision <= `revision`, or -1. */
function visibleIndex(revisions: readonly number[], revision: number): number {
  let low = 0;
  let high = revisions.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (Math.abs(revisions[middle]!) <= revision) low = middle + 1;
    else high = middle;
  }
  return low - 1;
}

/** Adds a row (negative: a tombstone) to an entry. */
function add(entry: Entry, revision: number): void {
  if (typeof entry.revisions === 'number') entry.revisions = [entry.revisions, revision];
  else entry.revisions.push(revision);
}

/** Which keys exist at which revisions. */
export class KeyIndex {
  readonly #entries = new ShardedMap<Entry>();
  readonly #keys = new SortedKeys();

  /** The newest row of `key` if the key is live. */
  head(key: string): Head | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    const modRevision = newest(entry.revisions);
    if (modRevision < 0) return undefined;
    return { modRevision, createRevision: entry.createRevision, version: entry.version };
  }

  /** Whether `key` is live (like `head(key) !== undefined`, without allocating). */
  has(key: string): boolean {
    const revisions = this.#entries.get(key)?.revisions;
    return revisions !== undefined && newest(revisions) > 0;
  }

  /** The revision of the row of `key` visible at `revision`; undefined when absent then. */
  visibleAt(key: string, revision: number): number | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    const found = visible(entry.revisions, revision);
    return found !== undefined && found > 0 ? found : undefined;
  }

  /** Records a put of `key` at `revision`. Revisions must arrive in increasing order. */
  put(key: string, revision: number, createRevision: number, version: number): void {
    const entry = this.#entries.get(key);
    if (entry === undefined) {
      this.#entries.set(key, { revisions: revision, createRevision, version });
      this.#keys.insert(key);
      return;
    }
    add(entry, revision);
    entry.createRevision = createRevision;
    entry.version = version;
  }

  /** Records a delete of `key` at `revision`. */
  remove(key: string, revision: number): void {
    const entry = this.#entries.get(key);
    if (entry !== undefined) add(entry, -revision);
  }

  /**
   * Revisions of the rows visible at `revision` (0: latest) for keys in `[start, end)`, in key
   * order, at most `limit` of them (negative: no limit).
   */
  range(start: string, end: string | undefined, revision: number, limit: number): number[] {
    const found: number[] = [];
    this.#scan(start, end, revision, (rev) => {
      found.push(rev);
      return found.length !== limit;
    });
    return found;
  }

  /** Number of live keys in `[start, end)`. */
  count(start: string, end: string | undefined): number {
    let count = 0;
    this.#scan(start, end, 0, () => {
      count++;
      return true;
    });
    return count;
  }

  /**
   * Forgets rows made obsolete by compaction at `revision`: for each key, every row older than
   * the one visible at `revision`, and that one too if it is a tombstone. The same rule the log
   * compaction applies, so the index names exactly the rows the log keeps.
   */
  compact(revision: number): void {
    for (const [key, entry] of this.#entries) {
      const revisions = entry.revisions;
      if (typeof revisions === 'number') {
        // The one row goes only if it is a tombstone the compaction reaches.
        if (revisions < 0 && -revisions <= revision) {
          this.#entries.delete(key);
          this.#keys.delete(key);
        }
        continue;
      }
      let keep = visibleIndex(revisions, revision);
      if (keep < 0) continue;
      if (revisions[keep]! < 0) keep++;
      if (keep === 0) continue;
      revisions.splice(0, keep);
      if (revisions.length === 0) {
        this.#entries.delete(key);
        this.#keys.delete(key);
      } else if (revisions.length === 1) {
        entry.revisions = revisions[0]!;
      }
    }
  }

  #scan(
    start: string,
    end: string | undefined,
    revision: number,
    visit: (rev: number) => boolean,
  ): void {
    this.#keys.forEachInRange(start, end, (key) => {
      const revisions = this.#entries.get(key)!.revisions;
      const rev = revision === 0 ? newest(revisions) : (visible(revisions, revision) ?? -1);
      // Tombstones (negative) and keys created later (-1) are not visible.
      return rev < 0 || visit(rev);
    });
  }
}
