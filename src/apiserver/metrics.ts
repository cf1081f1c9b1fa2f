/**
 * Request metrics in Prometheus text format, named as upstream's so dashboards carry over:
 * `apiserver_request_total` and `apiserver_request_duration_seconds`, labelled by verb,
 * group, version, resource, subresource and code.
 */

// Upstream's request latency buckets (seconds).
const BUCKETS = [0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60];

/** Labels of one request. */
export interface RequestLabels {
  verb: string;
  group: string;
  version: string;
  resource: string;
  subresource: string;
}

interface Histogram {
  counts: number[];
  sum: number;
  count: number;
}

/** Collects request counts and latencies; renders them as Prometheus text. */
export class Metrics {
  readonly #requests = new Map<string, number>();
  readonly #durations = new Map<string, Histogram>();
  readonly #gauges = new Map<string, { help: string; read: () => number }>();

  /** Records one finished request. */
  observe(labels: RequestLabels, code: number, seconds: number): void {
    const base = `verb="${labels.verb}",group="${labels.group}",version="${labels.version}",resource="${labels.resource}",subresource="${labels.subresource}"`;
    const counterKey = `${base},code="${code}"`;
    this.#requests.set(counterKey, (this.#requests.get(counterKey) ?? 0) + 1);
    let h = this.#durations.get(base);
    if (!h) this.#durations.set(base, (h = { counts: BUCKETS.map(() => 0), sum: 0, count: 0 }));
    for (let i = 0; i < BUCKETS.length; i++) if (seconds <= BUCKETS[i]!) h.counts[i]!++;
    h.sum += seconds;
    h.count++;
  }

  /** Registers a gauge read at scrape time. */
  gauge(name: string, help: string, read: () => number): void {
    this.#gauges.set(name, { help, read });
  }

  /** The Prometheus text exposition. */
  render(): string {
    const lines: string[] = [];
    lines.push('# HELP apiserver_request_total Counter of apiserver requests broken out for each verb, group, version, resource, subresource and HTTP response code.');
    lines.push('# TYPE apiserver_request_total counter');
    for (const [labels, n] of this.#requests) lines.push(`apiserver_request_total{${labels}} ${n}`);
    lines.push('# HELP apiserver_request_duration_seconds Response latency distribution in seconds for each verb, group, version, resource and subresource.');
    lines.push('# TYPE apiserver_request_duration_seconds histogram');
    for (const [labels, h] of this.#durations) {
      BUCKETS.forEach((le, i) => lines.push(`apiserver_request_duration_seconds_bucket{${labels},le="${le}"} ${h.counts[i]}`));
      lines.push(`apiserver_request_duration_seconds_bucket{${labels},le="+Inf"} ${h.count}`);
      lines.push(`apiserver_request_duration_seconds_sum{${labels}} ${h.sum}`);
      lines.push(`apiserver_request_duration_seconds_count{${labels}} ${h.count}`);
    }
    for (const [name, g] of this.#gauges) {
      lines.push(`# HELP ${name} ${g.help}`, `# TYPE ${name} gauge`, `${name} ${g.read()}`);
    }
    const mem = process.memoryUsage();
    lines.push('# HELP process_resident_memory_bytes Resident memory size in bytes.', '# TYPE process_resident_memory_bytes gauge', `process_resident_memory_bytes ${mem.rss}`);
    return lines.join('\n') + '\n';
  }
}
