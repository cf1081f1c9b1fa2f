/**
 * Recording core/v1 Events, as client-go's recorder does: one Event per distinct (object, type,
 * reason, message); a repeat within the cache's memory bumps `count` and `lastTimestamp` on the
 * existing Event instead of creating another, which is what `kubectl describe` shows as
 * "x5 over 2m". Recording never throws and never blocks the caller: events are best effort.
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
}

interface Seen {
  namespace: string;
  name: string;
  count: number;
}

/** See the file header. */
export class EventRecorder {
  readonly #client: Client;
  readonly #options: EventRecorderOptions;
  readonly #seen = new Map<string, Seen>();
  /** Writes in flight, so tests and shutdown can wait for them. */
  readonly #pending = new Set<Promise<void>>();

  constructor(client: Client, options: EventRecorderOptions) {
    this.#client = client;
    this.#options = options;
  }

  /** Records an event about `object`. */
  event(object: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const write = this.#write(object, type, reason, message).catch(() => undefined);
    this.#pending.add(write);
    void write.finally(() => this.#pending.delete(write));
  }

  /** Resolves when every event recorded so far has been written (or failed). */
  async flush(): Promise<void> {
    await Promise.all([...this.#pending]);
  }

  async #write(object: KubeObject, type: string, reason: string, message: string): Promise<void> {
    const meta = object.metadata ?? {};
    // Events about cluster-scoped objects (nodes) live in `default`, as upstream's.
    const namespace = meta.namespace || 'default';
    const key = `${meta.uid ?? ''}\u0000${object.kind ?? ''}\u0000${namespace}\u0000${meta.name ?? ''}\u0000${type}\u0000${reason}\u0000${message}`;
    const now = (this.#options.now ?? (() => new Date()))();
    const timestamp = now.toISOString().replace(/\.\d+Z$/, 'Z');
    const api = this.#client.resource(events);
    const seen = this.#seen.get(key);
    if (seen) {
      seen.count++;
      this.#seen.delete(key);
      this.#seen.set(key, seen);
      try {
        await api.patch(seen.namespace, seen.name, { count: seen.count, lastTimestamp: timestamp });
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
    const limit = this.#options.cacheSize ?? 4096;
    while (this.#seen.size > limit) this.#seen.delete(this.#seen.keys().next().value!);
  }
}
