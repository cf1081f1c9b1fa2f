/**
 * The watch cache: one store watch for the whole registry, fanned out to any number of API
 * watchers, and an in-memory copy of every object that serves lists without touching the store.
 *
 * Contract:
 * - The cache tracks the store's global revision: `revision` is the revision of the newest
 *   event it has applied (or of its initial list). Every object it holds is as of `revision`.
 * - Per resource (a storage prefix such as `/registry/core/pods/`) it keeps a window of recent
 *   events. A watch from revision N is served when the window holds every event after N;
 *   older N is answered with {@link CompactedWindowError} (the API turns it into 410 Expired).
 * - Watchers receive events in revision order, each at most once. A watcher that stops reading
 *   is the transport's business: the cache never blocks on a watcher.
 * - Objects handed out are shared and must be treated as immutable.
 */
import { ShardedMap } from '../client/index.ts';
import type { Backend, Watch, WatchEvent } from '../storage/index.ts';
import type { KubeObject, ObjectMeta } from './resource.ts';

/**
 * An object as cached: its stored JSON and revision. The JSON the API sends (with
 * `metadata.resourceVersion`) and the decoded object are made on demand, once.
 *
 * Why the decoded object is not kept from the start: a cached ConfigMap as a tree is some 25
 * heap objects (its managedFields alone are a dozen), where its JSON is one string. Most cached
 * objects are only ever sent, never looked into; and every write leaves the tree it replaces as
 * garbage in the old generation, which the full collections then mark and compact — the pauses
 * that made the tail of write latency under load.
 */
export class CachedObject {
  readonly key: string;
  readonly revision: number;
  /** The stored value (no resourceVersion), until the JSON is made from it. */
  #stored: string | undefined;
  #json: string | undefined;
  #object: KubeObject | undefined;
  constructor(key: string, stored: string, revision: number) {
    this.key = key;
    this.#stored = stored;
    this.revision = revision;
  }

  /** The object's JSON, made once and shared by every response that sends it. */
  get json(): string {
    if (this.#json === undefined) {
      this.#json = withResourceVersion(this.#stored!, String(this.revision));
      this.#stored = undefined;
    }
    return this.#json;
  }

  /** The decoded object, made once and shared: treat it as immutable ({@link copy} for one to change). */
  get object(): KubeObject {
    return (this.#object ??= this.copy());
  }

  /**
   * A decoded copy of its own for the caller to change. Decoded from the stored text when the
   * JSON with its resourceVersion was not made yet (the version is then set on the copy): an
   * update reads the object it replaces, which is then never sent.
   */
  copy(): KubeObject {
    if (this.#json !== undefined) return JSON.parse(this.#json) as KubeObject;
    const object = JSON.parse(this.#stored!) as KubeObject;
    (object.metadata ??= {}).resourceVersion = String(this.revision);
    return object;
  }

  /**
   * The `metadata` alone without its `managedFields`, decoded apart from the rest of the object:
   * what in-process metadata-only watchers (the garbage collector's) take. No controller reads
   * managedFields, and they are most of the metadata's text, so they are cut out before
   * decoding. Read from the stored text when the JSON with its resourceVersion was not made
   * yet (the version is then set on the result): a write's answer makes its own, and most
   * cached objects are never sent. A new object each time: such a watcher keeps what it needs.
   */
  get metadataWithoutManagedFields(): ObjectMeta {
    const text = this.#object ? undefined : (this.#json ?? this.#stored!);
    const start = text === undefined ? -1 : topLevelObjectStart(text, 'metadata');
    if (text === undefined || start < 0) {
      const { managedFields: _drop, ...rest } = this.object.metadata ?? {};
      return rest;
    }
    const list = memberStart(text, 'managedFields', '[', start);
    let metadata: ObjectMeta;
    if (list < 0) {
      metadata = JSON.parse(text.slice(start, objectEnd(text, start) + 1)) as ObjectMeta;
    } else {
      // Out go the key, its list and one comma beside them. The list is usually the last
      // member, and then the metadata ends right after it.
      let from = list - '"managedFields":'.length;
      let to = objectEnd(text, list) + 1;
      const end = text.charCodeAt(to) === 125 ? to : objectEnd(text, start);
      if (text.charCodeAt(to) === 44) to++;
      else if (text.charCodeAt(from - 1) === 44) from--;
      metadata = JSON.parse(text.slice(start, from) + text.slice(to, end + 1)) as ObjectMeta;
    }
    if (text !== this.#json) metadata.resourceVersion = String(this.revision);
    return metadata;
  }

  /**
   * The metadata's `name`, `namespace` (when it has one), `uid` and `resourceVersion` alone,
   * read from the text without decoding the rest: for an in-process watcher that reads nothing
   * else of an object that has none of the fields it follows (see `WatchHints.onlyChangesTo`).
   * Undefined when the text does not allow it (then decode, as {@link metadataWithoutManagedFields}).
   */
  get identity(): ObjectMeta | undefined {
    const text = this.#json ?? this.#stored!;
    const start = topLevelObjectStart(text, 'metadata');
    if (start < 0) return undefined;
    const { name, namespace, uid } = identityMembers(text, start);
    if (name === undefined || uid === undefined) return undefined;
    return namespace === undefined
      ? { name, uid, resourceVersion: String(this.revision) }
      : { name, namespace, uid, resourceVersion: String(this.revision) };
  }

  #mentionsOf: RegExp | undefined;
  #mentions = false;

  /**
   * Whether the object's JSON matches `members`, a pattern of member names (`"name":`) found
   * anywhere in it — in its data too: a false yes is possible, never a false no. The answer for
   * the last pattern asked is kept: a watcher asks about each version twice, as the new one and
   * then as the one replaced.
   */
  mentions(members: RegExp): boolean {
    if (this.#mentionsOf !== members) {
      this.#mentions = members.test(this.#json ?? this.#stored!);
      this.#mentionsOf = members;
    }
    return this.#mentions;
  }

  #lines: Map<string, Buffer> | undefined;

  /** The watch event line `{"type":…,"object":…}\n` as bytes, made once per event type and
   * shared by every watcher it is sent to. */
  line(type: string): Buffer {
    this.#lines ??= new Map();
    let line = this.#lines.get(type);
    if (!line) this.#lines.set(type, (line = Buffer.from(`{"type":"${type}","object":${this.json}}\n`)));
    return line;
  }
}

/**
 * A stored object's JSON with `"resourceVersion":"<rv>"` put first into its top-level
 * `metadata` — what decoding, setting the field and encoding again would give, without doing
 * either, when the text allows: no other `resourceVersion` key anywhere (an Event's
 * involvedObject has one) and a `metadata` object at the top level. Otherwise it does both.
 */
export function withResourceVersion(stored: string, rv: string): string {
  const at = stored.includes('"resourceVersion"') ? -1 : topLevelObjectStart(stored, 'metadata');
  if (at < 0) {
    const object = JSON.parse(stored) as KubeObject;
    (object.metadata ??= {}).resourceVersion = rv;
    return JSON.stringify(object);
  }
  const empty = stored.charCodeAt(at + 1) === 125; // '}'
  // Joined, not concatenated: V8 keeps a concatenation as a tree of pieces (slices of `stored`
  // among them), ~8 heap objects the cache would hold for every object it keeps; a join is one
  // flat string.
  return [stored.slice(0, at + 1), '"resourceVersion":', JSON.stringify(rv), empty ? '' : ',', stored.slice(at + 1)].join('');
}

/** The index of the `"` that closes the JSON string opening at `start`. */
function stringEnd(json: string, start: number): number {
  let i = start + 1;
  for (; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (c === 92) i++;
    else if (c === 34) break;
  }
  return i;
}

/** The index of the `}` that closes the object opened at `start` in the JSON text `json`. */
function objectEnd(json: string, start: number): number {
  let depth = 0;
  for (let i = start; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (c === 34) {
      i = stringEnd(json, i);
    } else if (c === 123 || c === 91) {
      depth++;
    } else if ((c === 125 || c === 93) && --depth === 0) {
      return i;
    }
  }
  return json.length - 1;
}

/**
 * The index of the `{` that opens the value of `name` among the top-level keys of the JSON
 * object text `json` (compact, as JSON.stringify writes it), or -1.
 */
function topLevelObjectStart(json: string, name: string): number {
  return memberStart(json, name, '{', 0);
}

/**
 * The string values of the members `name`, `namespace` and `uid` of the object that opens at
 * `from` in the compact JSON text `json`, in one pass that stops once it has all three.
 */
function identityMembers(json: string, from: number): { name?: string; namespace?: string; uid?: string } {
  const found: { name?: string; namespace?: string; uid?: string } = {};
  let wanted = 3;
  let depth = 0;
  for (let i = from; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (c === 34) {
      const end = stringEnd(json, i);
      // A key of the object itself (a string followed by `:`) whose value is a string.
      if (depth === 1 && json.charCodeAt(end + 1) === 58 && json.charCodeAt(end + 2) === 34) {
        const key = end - i <= 10 ? json.slice(i + 1, end) : ''; // the three names are short
        const valueEnd = stringEnd(json, end + 2);
        if ((key === 'name' || key === 'namespace' || key === 'uid') && found[key] === undefined) {
          // Decoded, not sliced: V8 makes a slice of 13 characters or more a view that keeps the
          // whole text alive, and a watcher keeps these (the garbage collector's graph, for every
          // object) long after the cache has let this version go.
          found[key] = JSON.parse(json.slice(end + 2, valueEnd + 1)) as string;
          if (--wanted === 0) return found;
        }
        i = valueEnd;
      } else {
        i = end;
      }
    } else if (c === 123 || c === 91) {
      depth++;
    } else if ((c === 125 || c === 93) && --depth === 0) {
      break;
    }
  }
  return found;
}

/**
 * The index of the `open` (`{` or `[`) that opens the value of member `name` of the object that
 * opens at `from` in the compact JSON text `json`, or -1 when it has no such member (or its
 * value is of another kind).
 */
function memberStart(json: string, name: string, open: '{' | '[', from: number): number {
  const wanted = `"${name}":${open}`;
  let depth = 0;
  for (let i = from; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (c === 34) {
      // A string: at depth 1 right after `{` or `,` it is a key; skip to its end.
      if (depth === 1 && json.startsWith(wanted, i) && (json.charCodeAt(i - 1) === 123 || json.charCodeAt(i - 1) === 44)) return i + wanted.length - 1;
      i = stringEnd(json, i);
    } else if (c === 123 || c === 91) {
      depth++;
    } else if ((c === 125 || c === 93) && --depth === 0) {
      return -1;
    }
  }
  return -1;
}

export type CacheEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** One change to one object. For DELETED, `object` is the last state, at the delete's revision. */
export interface CacheEvent {
  type: CacheEventType;
  object: CachedObject;
  /** The state before the event; undefined for ADDED. */
  previous: CachedObject | undefined;
  revision: number;
}

/** Decides whether a watcher or list wants an object. */
export type ObjectFilter = (object: KubeObject) => boolean;

/** The filter that wants every object: with it no cached object is decoded to be asked. */
export const everything: ObjectFilter = () => true;

function matches(filter: ObjectFilter, cached: CachedObject): boolean {
  return filter === everything || filter(cached.object);
}

/** Receives a watcher's events. */
export interface CacheWatcherSink {
  /** One event, already translated for the watcher's filter (a MODIFIED that leaves the filter
   * arrives as DELETED, one that enters it as ADDED). */
  event(type: CacheEventType, object: CachedObject): void;
  /** The cache can no longer serve this watcher (it lost the store); no events follow. */
  end(error: Error): void;
  /**
   * An in-process consumer whose handlers do work of their own (the controllers' informers):
   * it hears of new events on a later turn of the event loop, after the answers and the
   * events bound for the network of this turn have left.
   */
  deferred?: boolean;
  /** True when a MODIFIED from `previous` to `next` is of no interest to this watcher: it is
   * not delivered (see `WatchHints.onlyChangesTo`). */
  uninteresting?: (previous: CachedObject, next: CachedObject) => boolean;
}

/** A watch asked for history the cache no longer holds. */
export class CompactedWindowError extends Error {
  override name = 'CompactedWindowError';
  readonly requested: number;
  readonly oldest: number;
  constructor(requested: number, oldest: number) {
    super(`too old resource version: ${requested} (${oldest})`);
    this.requested = requested;
    this.oldest = oldest;
  }
}

/** The cache did not reach a revision in time. */
export class RevisionTimeoutError extends Error {
  override name = 'RevisionTimeoutError';
  readonly requested: number;
  constructor(requested: number) {
    super(`Too large resource version: ${requested}, current: unknown`);
    this.requested = requested;
  }
}

interface Watcher {
  prefix: string;
  filter: ObjectFilter;
  sink: CacheWatcherSink;
  /** Deferred deliveries queued for this watcher (see `CacheWatcherSink.deferred`). */
  queued?: CacheEvent[];
}

/** Per-resource state: the live objects and the window of recent events. */
class Bucket {
  readonly objects = new ShardedMap<CachedObject>();
  readonly events: CacheEvent[] = [];
  /** Every event of this bucket with revision > windowStart is in `events`. */
  windowStart: number;
  readonly watchers = new Set<Watcher>();
  constructor(windowStart: number) {
    this.windowStart = windowStart;
  }
}

export interface WatchCacheOptions {
  /** Events kept per resource for watches that resume from a revision. Default 10,000. */
  windowSize?: number;
}

/** See the file header for the contract. */
export class WatchCache {
  readonly #backend: Backend;
  readonly #prefix: string;
  readonly #windowSize: number;
  readonly #buckets = new Map<string, Bucket>();
  readonly #waiters = new Set<{ revision: number; resolve: () => void }>();
  /** Deferred watchers with events queued, drained on the next turn. */
  readonly #deferred = new Set<{ watcher: Watcher; bucket: Bucket }>();
  #revision = 0;
  #startRevision = 0;
  #watch: Watch | undefined;
  #failed: Error | undefined;

  constructor(backend: Backend, prefix: string, options: WatchCacheOptions = {}) {
    this.#backend = backend;
    this.#prefix = prefix;
    this.#windowSize = options.windowSize ?? 10_000;
  }

  /** The revision of the newest event applied. */
  get revision(): number {
    return this.#revision;
  }

  /** Loads every object, then follows the store. Resolves once the cache is usable. */
  async start(): Promise<void> {
    const { kvs, revision } = await this.#backend.list(this.#prefix);
    this.#revision = this.#startRevision = revision;
    for (const kv of kvs) {
      const bucket = this.#bucket(bucketOf(kv.key));
      bucket.objects.set(kv.key, new CachedObject(kv.key, kv.value, kv.modRevision));
    }
    this.#watch = this.#backend.watch(this.#prefix, {
      startRevision: revision + 1,
      // The cache holds every object: what an update replaced is in it already.
      prevKv: false,
      onEvents: (events) => this.#apply(events),
      onError: (error) => {
        // The store watch broke (e.g. etcd compacted past us while disconnected). Every API
        // watcher is ended so clients re-list; the server's health turns unready.
        this.#failed = error;
        for (const bucket of this.#buckets.values()) {
          for (const watcher of bucket.watchers) watcher.sink.end(error);
          bucket.watchers.clear();
        }
      },
    });
  }

  /** Why the cache stopped following the store, if it did. */
  get failure(): Error | undefined {
    return this.#failed;
  }

  /** Stops following the store. */
  stop(): void {
    this.#watch?.cancel();
    this.#watch = undefined;
  }

  /**
   * Waits until the cache has applied every event up to `revision`. Rejects with
   * RevisionTimeoutError after `timeoutMs` (default 3 s, as upstream).
   */
  async waitForRevision(revision: number, timeoutMs = 3000): Promise<void> {
    if (this.#revision >= revision) return;
    await new Promise<void>((resolve, reject) => {
      const waiter = { revision, resolve: () => (clearTimeout(timer), resolve()) };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new RevisionTimeoutError(revision));
      }, timeoutMs);
      this.#waiters.add(waiter);
    });
  }

  /** Live objects under a resource prefix (and optionally a narrower key prefix), key-ordered. */
  list(resourcePrefix: string, keyPrefix: string, filter: ObjectFilter): CachedObject[] {
    const bucket = this.#buckets.get(resourcePrefix);
    if (!bucket) return [];
    const out: CachedObject[] = [];
    bucket.objects.forEach((cached, key) => {
      if (key.startsWith(keyPrefix) && matches(filter, cached)) out.push(cached);
    });
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** One live object by key. */
  get(key: string): CachedObject | undefined {
    return this.#buckets.get(bucketOf(key))?.objects.get(key);
  }

  /**
   * Starts a watch on a resource. With `fromRevision` undefined, the watcher first receives
   * every live matching object as ADDED (initial state), then changes. With a revision, it
   * receives every change after it. `keyPrefix` narrows to a namespace or one object.
   * Returns the stop function.
   */
  watch(
    resourcePrefix: string,
    keyPrefix: string,
    fromRevision: number | undefined,
    filter: ObjectFilter,
    sink: CacheWatcherSink,
  ): () => void {
    const bucket = this.#bucket(resourcePrefix);
    const watcher: Watcher = { prefix: keyPrefix, filter, sink };
    if (fromRevision === undefined) {
      for (const cached of this.list(resourcePrefix, keyPrefix, filter)) sink.event('ADDED', cached);
    } else {
      if (fromRevision < bucket.windowStart) {
        throw new CompactedWindowError(fromRevision, bucket.windowStart + 1);
      }
      for (const event of bucket.events) {
        if (event.revision > fromRevision) deliver(watcher, event);
      }
    }
    bucket.watchers.add(watcher);
    return () => bucket.watchers.delete(watcher);
  }

  /** Number of API watchers attached (for metrics and tests of fan-out). */
  watcherCount(): number {
    let n = 0;
    for (const bucket of this.#buckets.values()) n += bucket.watchers.size;
    return n;
  }

  readonly #drainDeferred = (): void => {
    const due = [...this.#deferred];
    this.#deferred.clear();
    for (const { watcher, bucket } of due) {
      const events = watcher.queued ?? [];
      watcher.queued = undefined;
      for (const event of events) {
        // A watcher stopped meanwhile hears nothing more.
        if (!bucket.watchers.has(watcher)) break;
        deliver(watcher, event);
      }
    }
  };

  #bucket(prefix: string): Bucket {
    let bucket = this.#buckets.get(prefix);
    if (!bucket) {
      // A resource first seen now has had no events since the cache started, so its window
      // reaches back to the cache's start.
      this.#buckets.set(prefix, (bucket = new Bucket(this.#startRevision)));
    }
    return bucket;
  }

  #apply(events: WatchEvent[]): void {
    for (const change of events) {
      const key = change.kv.key;
      const bucket = this.#bucket(bucketOf(key));
      const previous = bucket.objects.get(key);
      let event: CacheEvent;
      if (change.type === 'put') {
        const cached = new CachedObject(key, change.kv.value, change.kv.modRevision);
        bucket.objects.set(key, cached);
        event = { type: previous ? 'MODIFIED' : 'ADDED', object: cached, previous, revision: change.kv.modRevision };
      } else {
        bucket.objects.delete(key);
        const last = new CachedObject(key, change.kv.value, change.kv.modRevision);
        event = { type: 'DELETED', object: last, previous, revision: change.kv.modRevision };
      }
      bucket.events.push(event);
      if (bucket.events.length > this.#windowSize) {
        // Drop the oldest half at once so the window moves in amortised O(1).
        const dropped = bucket.events.splice(0, bucket.events.length - Math.floor(this.#windowSize / 2));
        bucket.windowStart = dropped[dropped.length - 1]!.revision;
      }
      for (const watcher of bucket.watchers) {
        if (!key.startsWith(watcher.prefix)) continue;
        if (event.type === 'MODIFIED' && watcher.filter === everything && watcher.sink.uninteresting?.(previous!, event.object)) continue;
        if (!watcher.sink.deferred) deliver(watcher, event);
        else if ((watcher.queued ??= []).push(event) === 1) {
          if (this.#deferred.size === 0) setImmediate(this.#drainDeferred);
          this.#deferred.add({ watcher, bucket });
        }
      }
      this.#revision = Math.max(this.#revision, change.kv.modRevision);
    }
    for (const waiter of this.#waiters) {
      if (this.#revision >= waiter.revision) {
        this.#waiters.delete(waiter);
        waiter.resolve();
      }
    }
  }
}

/** Sends one event to one watcher, translated for its filter as upstream's cacher does. */
function deliver(watcher: Watcher, event: CacheEvent): void {
  const { filter, sink } = watcher;
  switch (event.type) {
    case 'ADDED':
      if (matches(filter, event.object)) sink.event('ADDED', event.object);
      return;
    case 'DELETED':
      if (matches(filter, event.object)) sink.event('DELETED', event.object);
      return;
    case 'MODIFIED': {
      const now = matches(filter, event.object);
      const before = event.previous !== undefined && matches(filter, event.previous);
      if (now && before) {
        if (!sink.uninteresting?.(event.previous!, event.object)) sink.event('MODIFIED', event.object);
      } else if (now) sink.event('ADDED', event.object);
      else if (before) sink.event('DELETED', event.object);
      return;
    }
  }
}

/** `/registry/apps/deployments/ns/name` → `/registry/apps/deployments/`. */
export function bucketOf(key: string): string {
  // Keys are /registry/<group>/<resource>/...: the bucket ends after the fourth slash.
  let slashes = 0;
  for (let i = 0; i < key.length; i++) {
    if (key.charCodeAt(i) === 47 && ++slashes === 4) return key.slice(0, i + 1);
  }
  return key;
}
