/**
 * Informers: a local, always-current copy of one kind, kept by list-then-watch, with handlers
 * told of every change and listers that read the copy without asking the API.
 *
 * Contract:
 * - `start()` lists the kind (in pages, from one snapshot), then watches from the list's
 *   resourceVersion; it resolves once the first list is in the cache (`synced`).
 * - Handlers run synchronously, in the order of the API's events, after the cache has been
 *   changed: a handler reading the lister sees the change it is told of. Handlers should only
 *   enqueue keys; a handler that throws is reported and the others still run.
 * - A watch that ends is resumed from the last resourceVersion seen (bookmarks included). A
 *   watch the API answers with 410 Gone (the revision was compacted) is replaced by a fresh
 *   list; objects that vanished meanwhile are reported to `delete` with their last known state.
 * - Every `resyncMs` (when set) each cached object is reported to `update` with old === new, so
 *   controllers re-check state that an event alone would not reveal.
 * - Cached objects may be shared with the API server's own cache (in-process transport): they
 *   are read-only; copy with `structuredClone` before changing one.
 */
import type { ResourceClient } from './client.ts';
import { isApiError } from './errors.ts';
import { selectorMatches } from './labels.ts';
import { objectKey, type KubeObject } from './object.ts';
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import type { WatchEventMessage } from './transport.ts';

/** What an informer tells its handlers. */
export interface InformerHandler<T> {
  add?(object: T): void;
  update?(old: T, object: T): void;
  /** The last state the informer knew (which may predate the deletion by some events). */
  delete?(object: T): void;
}

/** Maps an object to the values it is indexed under. */
export type IndexFunction<T> = (object: T) => string[];

/** Options of {@link Informer}. */
export interface InformerOptions<T> {
  /** Watch one namespace only. Default: all. */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Re-deliver every object to `update` this often. Default 0: never. */
  resyncMs?: number;
  /** Extra indexes, by name. `namespace` is always there. */
  indexers?: Record<string, IndexFunction<T>>;
  /** Page size of lists. Default 500. */
  pageSize?: number;
  /** Told of list/watch failures (they are retried). Default: stderr. */
  onError?: (error: unknown) => void;
  /**
   * Maps each listed or watched object before it is cached and handed to handlers, as
   * client-go's `SetTransform`: keep only the fields you read, so a cache of 100,000 objects
   * stays small. It must keep `metadata.name`, `namespace` and `resourceVersion`, and must not
   * change the object it is given (it may be shared).
   */
  transform?: (object: T) => T;
}

/** Reads an informer's cache. */
export interface Lister<T> {
  /** One object by namespace and name (namespace undefined for cluster-scoped kinds). */
  get(namespace: string | undefined, name: string): T | undefined;
  /** Every object, or those of one namespace, optionally matching a label selector. */
  list(namespace?: string, selector?: LabelSelector): T[];
  /** Objects whose index `index` holds `value`. */
  byIndex(index: string, value: string): T[];
}

const namespaceIndex = 'namespace';

/** See the file header. */
export class Informer<T extends KubeObject> implements Lister<T> {
  readonly #client: ResourceClient<T>;
  readonly #options: InformerOptions<T>;
  readonly #items = new Map<string, T>();
  readonly #indexers = new Map<string, IndexFunction<T>>();
  readonly #indexes = new Map<string, Map<string, Set<string>>>();
  readonly #handlers: InformerHandler<T>[] = [];
  #resourceVersion = '';
  #stopWatch: (() => void) | undefined;
  #resync: NodeJS.Timeout | undefined;
  #retry: NodeJS.Timeout | undefined;
  #stopped = false;
  #synced = false;
  #started: Promise<void> | undefined;
  /** Consecutive failures, for the retry back-off. */
  #failures = 0;

  constructor(client: ResourceClient<T>, options: InformerOptions<T> = {}) {
    this.#client = client;
    this.#options = options;
    this.#indexers.set(namespaceIndex, (object) => [object.metadata?.namespace ?? '']);
    for (const [name, fn] of Object.entries(options.indexers ?? {})) this.#indexers.set(name, fn);
    for (const name of this.#indexers.keys()) this.#indexes.set(name, new Map());
  }

  /** The kind this informer follows. */
  get type() {
    return this.#client.type;
  }

  /** Whether the first list has been loaded. */
  get synced(): boolean {
    return this.#synced;
  }

  /** The resourceVersion the cache is at. */
  get resourceVersion(): string {
    return this.#resourceVersion;
  }

  /**
   * Adds a handler. Added after the first sync, it is told of every cached object as `add`
   * first, as client-go does, so late handlers miss nothing.
   */
  addHandler(handler: InformerHandler<T>): void {
    this.#handlers.push(handler);
    if (this.#synced && handler.add) for (const object of this.#items.values()) handler.add(object);
  }

  /** Adds an index (before `start`). */
  addIndexer(name: string, fn: IndexFunction<T>): void {
    if (this.#started) throw new Error(`informer for ${this.#client.type.plural}: add index "${name}" before start`);
    this.#indexers.set(name, fn);
    this.#indexes.set(name, new Map());
  }

  /** Whether an index of that name exists. */
  hasIndex(name: string): boolean {
    return this.#indexers.has(name);
  }

  /** Lists, then watches; resolves once the cache holds the first list. Idempotent. */
  start(): Promise<void> {
    this.#started ??= this.#run();
    return this.#started;
  }

  /** Stops watching. The cache stays readable. */
  stop(): void {
    this.#stopped = true;
    this.#stopWatch?.();
    clearInterval(this.#resync);
    clearTimeout(this.#retry);
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.#items.get(namespace ? `${namespace}/${name}` : name);
  }

  list(namespace?: string, selector?: LabelSelector): T[] {
    const items = namespace === undefined ? [...this.#items.values()] : this.byIndex(namespaceIndex, namespace);
    return selector ? items.filter((item) => selectorMatches(selector, item.metadata?.labels)) : items;
  }

  byIndex(index: string, value: string): T[] {
    const keys = this.#indexes.get(index)?.get(value);
    if (!keys) return [];
    const out: T[] = [];
    for (const key of keys) out.push(this.#items.get(key)!);
    return out;
  }

  /** The number of cached objects. */
  get size(): number {
    return this.#items.size;
  }

  async #run(): Promise<void> {
    // The first list must succeed before start() resolves; later failures retry in the background.
    for (;;) {
      try {
        await this.#list();
        this.#failures = 0;
        break;
      } catch (error) {
        if (this.#stopped) return;
        this.#report(error);
        this.#failures++;
        await new Promise((r) => setTimeout(r, this.#backoff()));
      }
    }
    this.#synced = true;
    if (this.#options.resyncMs) {
      this.#resync = setInterval(() => {
        for (const object of this.#items.values()) this.#notify('update', object, object);
      }, this.#options.resyncMs);
      this.#resync.unref();
    }
    await this.#watch();
  }

  /** Loads the whole collection from one snapshot and reconciles the cache with it. */
  async #list(): Promise<void> {
    const seen = new Set<string>();
    const fresh: T[] = [];
    let token: string | undefined;
    let resourceVersion = '';
    do {
      const page = await this.#client.list({
        ...(this.#options.namespace ? { namespace: this.#options.namespace } : {}),
        ...(this.#options.labelSelector ? { labelSelector: this.#options.labelSelector } : {}),
        ...(this.#options.fieldSelector ? { fieldSelector: this.#options.fieldSelector } : {}),
        limit: this.#options.pageSize ?? 500,
        ...(token ? { continue: token } : {}),
      });
      for (const item of page.items) fresh.push(item);
      resourceVersion = page.metadata.resourceVersion ?? resourceVersion;
      token = page.metadata.continue || undefined;
    } while (token);
    if (this.#stopped) return;
    const kind = this.#client.type.kind;
    const apiVersion = this.#client.type.group === '' ? this.#client.type.version : `${this.#client.type.group}/${this.#client.type.version}`;
    for (const item of fresh) {
      // List items carry no kind; handlers of several kinds tell objects apart by it.
      const full = item.kind ? item : ({ apiVersion, kind, ...item } as T);
      const object = this.#options.transform ? this.#options.transform(full) : full;
      const key = objectKey(object);
      seen.add(key);
      const old = this.#items.get(key);
      if (old && old.metadata?.resourceVersion === object.metadata?.resourceVersion) continue;
      this.#put(key, object);
      if (old) this.#notify('update', old, object);
      else this.#notify('add', object);
    }
    for (const [key, old] of [...this.#items]) {
      if (seen.has(key)) continue;
      this.#remove(key);
      this.#notify('delete', old);
    }
    this.#resourceVersion = resourceVersion;
  }

  async #watch(): Promise<void> {
    if (this.#stopped) return;
    let gone = false;
    const startedAt = Date.now();
    try {
      this.#stopWatch = await this.#client.watch(
        {
          ...(this.#options.namespace ? { namespace: this.#options.namespace } : {}),
          ...(this.#options.labelSelector ? { labelSelector: this.#options.labelSelector } : {}),
          ...(this.#options.fieldSelector ? { fieldSelector: this.#options.fieldSelector } : {}),
          resourceVersion: this.#resourceVersion,
          allowWatchBookmarks: true,
        },
        (event) => {
          if (this.#stopped || gone) return;
          if (event.type === 'ERROR') {
            gone = true;
            this.#stopWatch?.();
            this.#restart((event.object as { code?: number }).code === 410);
            return;
          }
          this.#apply(event);
        },
        () => {
          if (this.#stopped || gone) return;
          gone = true;
          // A stream that ends at once (server going away) is retried with back-off; one that
          // ran a while is resumed at once.
          if (Date.now() - startedAt > 1000) this.#failures = 0;
          this.#restart(false);
        },
      );
    } catch (error) {
      if (this.#stopped) return;
      this.#report(error);
      this.#restart(isApiError(error, 410) || /\b410\b/.test(String(error)));
    }
  }

  /** Watches again after a back-off, re-listing first when the revision is gone. */
  #restart(relist: boolean): void {
    if (this.#stopped) return;
    clearTimeout(this.#retry);
    const delay = this.#failures === 0 ? 0 : this.#backoff();
    this.#failures++;
    this.#retry = setTimeout(() => {
      void (async () => {
        try {
          if (relist) await this.#list();
          await this.#watch();
        } catch (error) {
          this.#report(error);
          this.#restart(true);
        }
      })();
    }, delay);
  }

  #apply(event: WatchEventMessage<T>): void {
    const rv = event.object.metadata?.resourceVersion;
    if (rv) this.#resourceVersion = rv;
    if (event.type === 'BOOKMARK') return;
    const object = this.#options.transform ? this.#options.transform(event.object) : event.object;
    this.#failures = 0;
    const key = objectKey(object);
    const old = this.#items.get(key);
    if (event.type === 'DELETED') {
      if (!old) return;
      this.#remove(key);
      this.#notify('delete', object);
      return;
    }
    this.#put(key, object);
    if (old) this.#notify('update', old, object);
    else this.#notify('add', object);
  }

  #put(key: string, object: T): void {
    const old = this.#items.get(key);
    if (old) this.#unindex(key, old);
    this.#items.set(key, object);
    for (const [name, fn] of this.#indexers) {
      const index = this.#indexes.get(name)!;
      for (const value of fn(object)) {
        let keys = index.get(value);
        if (!keys) index.set(value, (keys = new Set()));
        keys.add(key);
      }
    }
  }

  #remove(key: string): void {
    const old = this.#items.get(key);
    if (!old) return;
    this.#unindex(key, old);
    this.#items.delete(key);
  }

  #unindex(key: string, object: T): void {
    for (const [name, fn] of this.#indexers) {
      const index = this.#indexes.get(name)!;
      for (const value of fn(object)) {
        const keys = index.get(value);
        if (!keys) continue;
        keys.delete(key);
        if (keys.size === 0) index.delete(value);
      }
    }
  }

  #notify(kind: 'add' | 'update' | 'delete', a: T, b?: T): void {
    for (const handler of this.#handlers) {
      try {
        if (kind === 'add') handler.add?.(a);
        else if (kind === 'update') handler.update?.(a, b!);
        else handler.delete?.(a);
      } catch (error) {
        this.#report(error);
      }
    }
  }

  #backoff(): number {
    return Math.min(100 * 2 ** Math.min(this.#failures, 8), 30_000);
  }

  #report(error: unknown): void {
    (this.#options.onError ?? ((e) => console.error(`skiff: informer ${this.#client.type.plural}:`, e instanceof Error ? e.message : e)))(error);
  }
}
