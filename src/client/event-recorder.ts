/**
 * Recording core/v1 Events, as client-go's recorder (its `EventCorrelator`) does:
 * - one Event per distinct (object, type, reason, message); a repeat bumps `count` and
 *   `lastTimestamp` on the existing Event instead of creating another, which is what
 *   `kubectl describe` shows as "x5 over 2m";
 * - similar events — same object, type and reason, ten or more different messages within ten
 *   minutes — are folded into one whose message starts "(combined from similar events): ";
 * - a spam filter lets each source send a burst of 25 events about one object, then one per
 *   five minutes (a 10,000-replica ReplicaSet does not write 10,000 `SuccessfulCreate` events).
 * Recording never throws and never blocks the caller: events are best effort. With `delayMs`,
 * writes also wait for a pause in recording (see the option), so that they do not compete with
 * the work the events describe, and then go out one at a time.
 */
import type { Event } from 'kubernetes-types/core/v1.js';
import type { Client } from './client.ts';
import type { KubeObject } from './object.ts';
import { resourceType } from './resources.ts';

const events = resourceType<Event>('', 'v1', 'Event', 'events', true);

/** Options of {@link EventRecorder}. */
export interface EventRecorderOptions {
  /** `source.component` and `reportingComponent`: `default-scheduler`, `replicaset-controller`. */
  component: string;
  /** `source.host` / `reportingInstance`, when the reporter is a node. */
  host?: string;
  /** Distinct events remembered for aggregation. Default 4,096. */
  cacheSize?: number;
  /** The clock. Default `() => new Date()`. */
  now?: () => Date;
  /**
   * Hold writes until no event was recorded for this long, and at most ten times as long;
   * `flush()` writes at once. Timestamps are those of recording. Default 0: write at once.
   */
  delayMs?: number;
}

/** Writes held back by `delayMs` wait for this, opened after the pause. */
interface Gate {
  promise: Promise<void>;
  open(): void;
  since: number;
}

interface Seen {
  namespace: string;
  name: string;
  count: number;
}

/** Upstream's defaults (client-go `tools/record/events_cache.go`). */
const SPAM_BURST = 25;
const SPAM_REFILL_PER_MS = 1 / 300_000;
const AGGREGATE_MAX_EVENTS = 10;
const AGGREGATE_INTERVAL_MS = 600_000;

/** See the file header. */
export class EventRecorder {
  readonly #client: Client;
  readonly #options: EventRecorderOptions;
  readonly #seen = new Map<string, Seen>();
  /** Token buckets per source and object. */
  readonly #spam = new Map<string, { tokens: number; at: number }>();
  /** Distinct messages per source, object, type and reason, within the aggregation interval. */
  readonly #similar = new Map<string, { messages: Set<string>; since: number }>();
  /** Writes per event key run one after another, so a repeat patches what the first created. */
  readonly #chains = new Map<string, Promise<void>>();
  /** Writes in flight, so tests and shutdown can wait for them. */
  readonly #pending = new Set<Promise<void>>();
  #gate: Gate | undefined;
  #gateTimer: NodeJS.Timeout | undefined;
  /** The last held write: the next one starts after it. */
  #heldTail: Promise<void> = Promise.resolve();

  constructor(client: Client, options: EventRecorderOptions) {
    this.#client = client;
    this.#options = options;
  }

  /** Records an event about `object`. */
  event(object: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const now = (this.#options.now ?? (() => new Date()))();
    const meta = object.metadata ?? {};
    const source = `${this.#options.component}\u0000${this.#options.host ?? ''}`;
    const objectKey = `${source}\u0000${object.kind ?? ''}\u0000${meta.namespace ?? ''}\u0000${meta.name ?? ''}\u0000${meta.uid ?? ''}\u0000${object.apiVersion ?? ''}`;
    if (!this.#takeToken(objectKey, now.getTime())) return;
    const similarKey = `${objectKey}\u0000${type}\u0000${reason}`;
    let key = `${similarKey}\u0000${message}`;
    const similar = this.#similar.get(similarKey);
    if (!similar || now.getTime() - similar.since > AGGREGATE_INTERVAL_MS) {
      this.#similar.set(similarKey, { messages: new Set([message]), since: now.getTime() });
    } else {
      similar.messages.add(message);
      if (similar.messages.size >= AGGREGATE_MAX_EVENTS) {
        // From the tenth distinct message on, one Event stands for them all.
        key = similarKey;
        message = `(combined from similar events): ${message}`;
      }
    }
    this.#trim(this.#similar);
    const held = this.#hold();
    // Held events go out one at a time, in the order they were recorded, as client-go's event
    // broadcaster writes them from one goroutine: a long hold ends in a trickle, not a flood.
    const previous = held ? this.#heldTail : (this.#chains.get(key) ?? Promise.resolve());
    const write = previous.then(() => held).then(() => this.#write(key, object, type, reason, message, now)).catch(() => undefined);
    if (held) this.#heldTail = write;
    this.#chains.set(key, write);
    this.#pending.add(write);
    void write.finally(() => {
      this.#pending.delete(write);
      if (this.#chains.get(key) === write) this.#chains.delete(key);
    });
  }

  /** The spam filter: one token per event from a bucket of 25 per object, refilled every 5 min. */
  #takeToken(key: string, at: number): boolean {
    let bucket = this.#spam.get(key);
    if (!bucket) {
      bucket = { tokens: SPAM_BURST, at };
      this.#spam.set(key, bucket);
      this.#trim(this.#spam);
    }
    bucket.tokens = Math.min(SPAM_BURST, bucket.tokens + (at - bucket.at) * SPAM_REFILL_PER_MS);
    bucket.at = at;
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** Keeps a cache within `cacheSize` entries, dropping the oldest. */
  #trim(map: Map<string, unknown>): void {
    const limit = this.#options.cacheSize ?? 4096;
    while (map.size > limit) map.delete(map.keys().next().value!);
  }

  /** What a write waits for under `delayMs`: each event pushes the gate's opening back. */
  #hold(): Promise<void> | undefined {
    const delay = this.#options.delayMs ?? 0;
    if (delay <= 0) return undefined;
    const now = performance.now();
    if (!this.#gate) {
      let open!: () => void;
      const promise = new Promise<void>((resolve) => (open = resolve));
      this.#gate = { promise, open, since: now };
    }
    const gate = this.#gate;
    clearTimeout(this.#gateTimer);
    this.#gateTimer = setTimeout(() => this.#openGate(), Math.max(0, Math.min(delay, gate.since + 10 * delay - now)));
    return gate.promise;
  }

  #openGate(): void {
    clearTimeout(this.#gateTimer);
    this.#gate?.open();
    this.#gate = undefined;
  }

  /** Resolves when every event recorded so far has been written (or failed); held ones go at once. */
  async flush(): Promise<void> {
    this.#openGate();
    await Promise.all([...this.#pending]);
  }

  async #write(key: string, object: KubeObject, type: string, reason: string, message: string, now: Date): Promise<void> {
    const meta = object.metadata ?? {};
    // Events about cluster-scoped objects (nodes) live in `default`, as upstream's.
    const namespace = meta.namespace || 'default';
    const timestamp = now.toISOString().replace(/\.\d+Z$/, 'Z');
    const api = this.#client.resource(events);
    const seen = this.#seen.get(key);
    if (seen) {
      seen.count++;
      this.#seen.delete(key);
      this.#seen.set(key, seen);
      try {
        await api.patch(seen.namespace, seen.name, { count: seen.count, lastTimestamp: timestamp, message });
        return;
      } catch {
        // The event expired (TTL) or was deleted: create a fresh one below.
      }
    }
    const name = `${meta.name ?? 'unknown'}.${(BigInt(now.getTime()) * 1_000_000n + BigInt(Math.floor(Math.random() * 1_000_000))).toString(16)}`;
    const body: Event = {
      metadata: { name, namespace },
      involvedObject: {
        ...(object.apiVersion ? { apiVersion: object.apiVersion } : {}),
        ...(object.kind ? { kind: object.kind } : {}),
        ...(meta.name ? { name: meta.name } : {}),
        ...(meta.namespace ? { namespace: meta.namespace } : {}),
        ...(meta.uid ? { uid: meta.uid } : {}),
        ...(meta.resourceVersion ? { resourceVersion: meta.resourceVersion } : {}),
      },
      reason,
      message,
      type,
      count: 1,
      firstTimestamp: timestamp,
      lastTimestamp: timestamp,
      source: { component: this.#options.component, ...(this.#options.host ? { host: this.#options.host } : {}) },
      reportingComponent: this.#options.component,
      reportingInstance: this.#options.host ?? this.#options.component,
    };
    await api.create(body, { namespace });
    this.#seen.set(key, { namespace, name, count: 1 });
    this.#trim(this.#seen);
  }
}
