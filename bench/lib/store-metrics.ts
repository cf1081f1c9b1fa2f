/**
 * The embedded store's own figures, read from the server's `/metrics` before and after a phase:
 * how many log syncs (fdatasync of SQLite's write-ahead log) it made, how many writes shared
 * each, and how long they took — what every write's answer waited for besides the work.
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

/** Reads the store's counters, or undefined when the server reports none (an etcd store). */
export async function readStore(api: ApiClient): Promise<StoreReading | undefined> {
  const { status, body } = await api.request('GET', '/metrics');
  if (status !== 200) return undefined;
  const reading: StoreReading = { commits: NaN, writes: NaN, bounds: [], counts: [], sum: NaN };
  for (const line of body.split('\n')) {
    const space = line.lastIndexOf(' ');
    const name = line.slice(0, space);
    const value = Number(line.slice(space + 1));
    const bucket = /^skiff_storage_wal_fsync_duration_seconds_bucket\{le="([\d.]+)"\}$/.exec(name);
    if (bucket) {
      reading.bounds.push(Number(bucket[1]));
      reading.counts.push(value);
    } else if (name === `${FAMILY}_sum`) reading.sum = value;
    else if (name === 'skiff_storage_commits_total') reading.commits = value;
    else if (name === 'skiff_storage_writes_total') reading.writes = value;
  }
  return reading.bounds.length > 0 && Number.isFinite(reading.commits) ? reading : undefined;
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
