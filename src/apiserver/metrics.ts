/**
 * Metrics in Prometheus text format, named as upstream's so dashboards carry over: requests
 * (`apiserver_request_total` and `apiserver_request_duration_seconds`, labelled by verb, group,
 * version, resource, subresource and code), families read when scraped (gauges, counters,
 * histograms: the store's own figures), and the API thread's garbage collections as Node's
 * prom-client names them ({@link GcDurations}).
 */

import { constants as perfConstants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { Histogram, type HistogramCounts } from '../client/index.ts';

// Upstream's request latency buckets (seconds).
const BUCKETS = [0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60];

/** A histogram read at scrape time; `labels` (`kind="major"`) tell apart the series of one family. */
export interface HistogramReading extends HistogramCounts {
  labels?: string;
}

/** A metric family whose value is read when scraped. */
type Family =
  | { type: 'gauge' | 'counter'; help: string; read: () => number }
  | { type: 'histogram'; help: string; read: () => HistogramReading | readonly HistogramReading[] };

/** Labels of one request. */
export interface RequestLabels {
  verb: string;
  group: string;
  version: string;
  resource: string;
  subresource: string;
}

/** One series: the requests of one verb on one resource, by code, and their latencies. */
interface Series {
  /** The series' labels as they are rendered. */
  labels: string;
  codes: Map<number, number>;
  latency: Histogram;
}

/** Series by verb, group, version, resource and subresource, one map level each: a request
 * finds its series by looking up the strings it has, without making a key of them. */
type Level<T> = Map<string, T>;

/** Collects request counts and latencies; renders them as Prometheus text. */
export class Metrics {
  readonly #series: Level<Level<Level<Level<Level<Series>>>>> = new Map();
  readonly #families = new Map<string, Family>();

  /** Records one finished request. */
  observe(labels: RequestLabels, code: number, seconds: number): void {
    const series = this.#find(labels);
    series.codes.set(code, (series.codes.get(code) ?? 0) + 1);
    series.latency.observe(seconds);
  }

  #find({ verb, group, version, resource, subresource }: RequestLabels): Series {
    const groups = child(this.#series, verb);
    const versions = child(groups, group);
    const resources = child(versions, version);
    const subresources = child(resources, resource);
    let series = subresources.get(subresource);
    if (!series) {
      const labels = `verb="${verb}",group="${group}",version="${version}",resource="${resource}",subresource="${subresource}"`;
      subresources.set(subresource, (series = { labels, codes: new Map(), latency: new Histogram(BUCKETS) }));
    }
    return series;
  }

  *#all(): Generator<Series> {
    for (const groups of this.#series.values()) {
      for (const versions of groups.values()) {
        for (const resources of versions.values()) {
          for (const subresources of resources.values()) yield* subresources.values();
        }
      }
    }
  }

  /** Registers a gauge read at scrape time. */
  gauge(name: string, help: string, read: () => number): void {
    this.#families.set(name, { type: 'gauge', help, read });
  }

  /** Registers a counter (a total that only grows) read at scrape time. */
  counter(name: string, help: string, read: () => number): void {
    this.#families.set(name, { type: 'counter', help, read });
  }

  /** Registers a histogram (or one series of it per label set) read at scrape time. */
  histogram(name: string, help: string, read: () => HistogramReading | readonly HistogramReading[]): void {
    this.#families.set(name, { type: 'histogram', help, read });
  }

  /** The Prometheus text exposition. */
  render(): string {
    const lines: string[] = [];
    lines.push('# HELP apiserver_request_total Counter of apiserver requests broken out for each verb, group, version, resource, subresource and HTTP response code.');
    lines.push('# TYPE apiserver_request_total counter');
    for (const { labels, codes } of this.#all()) {
      for (const [code, n] of codes) lines.push(`apiserver_request_total{${labels},code="${code}"} ${n}`);
    }
    lines.push('# HELP apiserver_request_duration_seconds Response latency distribution in seconds for each verb, group, version, resource and subresource.');
    lines.push('# TYPE apiserver_request_duration_seconds histogram');
    for (const { labels, latency } of this.#all()) histogramLines(lines, 'apiserver_request_duration_seconds', { labels, ...latency.read() });
    for (const [name, family] of this.#families) {
      lines.push(`# HELP ${name} ${family.help}`, `# TYPE ${name} ${family.type}`);
      if (family.type !== 'histogram') {
        lines.push(`${name} ${family.read()}`);
        continue;
      }
      const read = family.read();
      for (const series of 'bounds' in read ? [read] : read) histogramLines(lines, name, series);
    }
    const mem = process.memoryUsage();
    lines.push('# HELP process_resident_memory_bytes Resident memory size in bytes.', '# TYPE process_resident_memory_bytes gauge', `process_resident_memory_bytes ${mem.rss}`);
    return lines.join('\n') + '\n';
  }
}

/** Appends one series of histogram `name` in the text format. */
function histogramLines(lines: string[], name: string, { labels, bounds, counts, sum, count }: HistogramReading): void {
  const before = labels ? `${labels},` : '';
  const only = labels ? `{${labels}}` : '';
  bounds.forEach((le, i) => lines.push(`${name}_bucket{${before}le="${le}"} ${counts[i]}`));
  lines.push(`${name}_bucket{${before}le="+Inf"} ${count}`, `${name}_sum${only} ${sum}`, `${name}_count${only} ${count}`);
}

/** prom-client's buckets for `nodejs_gc_duration_seconds`, so its dashboards carry over. */
export const GC_BUCKETS: readonly number[] = [0.001, 0.01, 0.1, 1, 2, 5];

const GC_KINDS = new Map<number, string>([
  [perfConstants.NODE_PERFORMANCE_GC_MINOR, 'minor'],
  [perfConstants.NODE_PERFORMANCE_GC_MAJOR, 'major'],
  [perfConstants.NODE_PERFORMANCE_GC_INCREMENTAL, 'incremental'],
  [perfConstants.NODE_PERFORMANCE_GC_WEAKCB, 'weakcb'],
]);

/**
 * The garbage collections of this thread's heap (the API thread's: the store, the watch cache)
 * by kind, as prom-client's `nodejs_gc_duration_seconds`: each pause holds up every request in
 * flight, so they are what to look at next to slow answers.
 */
export class GcDurations {
  readonly #kinds = new Map<string, Histogram>();
  #observer: PerformanceObserver | undefined;

  /** Starts counting (again). */
  start(): void {
    if (this.#observer) return;
    this.#observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        const kind = GC_KINDS.get((entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ?? -1);
        if (kind !== undefined) this.record(kind, entry.duration / 1000);
      }
    });
    this.#observer.observe({ entryTypes: ['gc'] });
  }

  stop(): void {
    this.#observer?.disconnect();
    this.#observer = undefined;
  }

  /** Counts one collection of `kind` that took `seconds`. */
  record(kind: string, seconds: number): void {
    let histogram = this.#kinds.get(kind);
    if (!histogram) this.#kinds.set(kind, (histogram = new Histogram(GC_BUCKETS)));
    histogram.observe(seconds);
  }

  /** One series per kind seen so far. */
  readings(): HistogramReading[] {
    return [...this.#kinds].map(([kind, histogram]) => ({ labels: `kind="${kind}"`, ...histogram.read() }));
  }
}

/** The map under `key` in `level`, made when missing. */
function child<T>(level: Level<Level<T>>, key: string): Level<T> {
  let next = level.get(key);
  if (!next) level.set(key, (next = new Map()));
  return next;
}
