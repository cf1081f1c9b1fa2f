/**
 * What the server's `/metrics` says of a phase, read before and after it: the embedded store's
 * log syncs (fdatasync of SQLite's write-ahead log) — how many, how many writes shared each, how
 * long they took — and the API thread's garbage collections: the two things besides the work
 * itself that every write in flight waits for.
 */
import type { ApiClient } from './client.ts';

/** The store's counters at one moment. */
export interface StoreReading {
  commits: number;
  writes: number;
  /** Upper bounds (s) of the sync histogram, and the cumulative counts under each. */
  bounds: number[];
  counts: number[];
  sum: number;
}

/** The store's log syncs between two readings. */
export interface StoreSyncs {
  syncs: number;
  writesPerSync: number;
  meanMs: number;
  /** Bucket bounds (ms) the median and the 99th percentile fall under (Infinity: beyond the last). */
  p50Ms: number;
  p99Ms: number;
  /** Syncs over 16 ms. */
  over16Ms: number;
}

const FAMILY = 'skiff_storage_wal_fsync_duration_seconds';

/** Collections of one kind: how many, and their total time (s). */
export interface GcTotals {
  count: number;
  seconds: number;
}

/** The server's figures at one moment. */
export interface ServerReading {
  /** Undefined when the server reports none (an etcd store). */
  store: StoreReading | undefined;
  /** The API thread's collections by kind (`major`, `minor`, `incremental`, `weakcb`). */
  gc: Map<string, GcTotals>;
}

/** Reads the server's `/metrics`. */
export async function readServer(api: ApiClient): Promise<ServerReading> {
  const { status, body } = await api.request('GET', '/metrics');
  if (status !== 200) throw new Error(`/metrics answered ${status}`);
  const store: StoreReading = { commits: NaN, writes: NaN, bounds: [], counts: [], sum: NaN };
  const gc = new Map<string, GcTotals>();
  for (const line of body.split('\n')) {
    const space = line.lastIndexOf(' ');
    const name = line.slice(0, space);
    const value = Number(line.slice(space + 1));
    const bucket = /^skiff_storage_wal_fsync_duration_seconds_bucket\{le="([\d.]+)"\}$/.exec(name);
    const collections = /^nodejs_gc_duration_seconds_(sum|count)\{kind="(\w+)"\}$/.exec(name);
    if (bucket) {
      store.bounds.push(Number(bucket[1]));
      store.counts.push(value);
    } else if (collections) {
      const totals = gc.get(collections[2]!) ?? { count: 0, seconds: 0 };
      if (collections[1] === 'sum') totals.seconds = value;
      else totals.count = value;
      gc.set(collections[2]!, totals);
    } else if (name === `${FAMILY}_sum`) store.sum = value;
    else if (name === 'skiff_storage_commits_total') store.commits = value;
    else if (name === 'skiff_storage_writes_total') store.writes = value;
  }
  return { store: store.bounds.length > 0 && Number.isFinite(store.commits) ? store : undefined, gc };
}

/** The API thread's collections of `kind` between two readings. */
export function collectionsBetween(before: ServerReading, after: ServerReading, kind: string): GcTotals {
  const a = before.gc.get(kind) ?? { count: 0, seconds: 0 };
  const b = after.gc.get(kind) ?? { count: 0, seconds: 0 };
  return { count: b.count - a.count, seconds: b.seconds - a.seconds };
}

/** What happened between `before` and `after`. */
export function syncsBetween(before: StoreReading, after: StoreReading): StoreSyncs {
  const syncs = after.commits - before.commits;
  const under = after.counts.map((n, i) => n - before.counts[i]!);
  const bound = (q: number) => {
    const i = under.findIndex((n) => n >= q * syncs);
    return i < 0 ? Infinity : after.bounds[i]! * 1000;
  };
  const at16 = after.bounds.indexOf(0.016);
  return {
    syncs,
    writesPerSync: syncs > 0 ? (after.writes - before.writes) / syncs : 0,
    meanMs: syncs > 0 ? ((after.sum - before.sum) / syncs) * 1000 : 0,
    p50Ms: bound(0.5),
    p99Ms: bound(0.99),
    over16Ms: at16 < 0 ? NaN : syncs - under[at16]!,
  };
}
