/**
 * A Map of string keys split over {@link SHARDS} Maps by a hash of the key's last characters.
 *
 * V8 grows a Map by rehashing every entry into a table twice the size, in one step: at 131,072
 * entries that step took ~8 ms here, on the thread that adds the next key, and every request in
 * flight waits it out. The maps that hold one entry per stored object (the store's key index,
 * the API server's watch cache, the garbage collector's graph) grow through such steps while
 * objects are being created. Split, each step rehashes a sixteenth, and the shards take their
 * steps at different times.
 *
 * The last characters of a key are what tells keys apart (the name, or a uid's last digits),
 * and reading two of them costs next to nothing. Iteration visits the shards one after
 * another: not in insertion order.
 */

/** Number of shards. */
export const SHARDS = 16;

export class ShardedMap<V> {
  readonly #shards: Map<string, V>[] = Array.from({ length: SHARDS }, () => new Map<string, V>());

  #shard(key: string): Map<string, V> {
    const n = key.length;
    const hash = n === 0 ? 0 : key.charCodeAt(n - 1) * 31 + (n > 1 ? key.charCodeAt(n - 2) * 7 : 0) + n;
    return this.#shards[hash & (SHARDS - 1)]!;
  }

  get(key: string): V | undefined {
    return this.#shard(key).get(key);
  }

  has(key: string): boolean {
    return this.#shard(key).has(key);
  }

  set(key: string, value: V): this {
    this.#shard(key).set(key, value);
    return this;
  }

  delete(key: string): boolean {
    return this.#shard(key).delete(key);
  }

  get size(): number {
    let size = 0;
    for (const shard of this.#shards) size += shard.size;
    return size;
  }

  /** Calls `visit` for every entry; entries may be deleted meanwhile. */
  forEach(visit: (value: V, key: string) => void): void {
    for (const shard of this.#shards) shard.forEach(visit);
  }

  *[Symbol.iterator](): IterableIterator<[string, V]> {
    for (const shard of this.#shards) yield* shard;
  }
}
