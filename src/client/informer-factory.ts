/**
 * Shared informers: every controller that follows pods reads one cache fed by one watch. Ask
 * the factory for a kind's informer before `start()`; informers asked for later start at once.
 */
import type { Client } from './client.ts';
import { Informer, type IndexFunction } from './informer.ts';
import type { KubeObject } from './object.ts';
import type { ResourceType } from './resources.ts';

/** Options of {@link InformerFactory}. */
export interface InformerFactoryOptions {
  /** Resync period of every informer, in ms. Default 0 (none). */
  resyncMs?: number;
  onError?: (error: unknown) => void;
}

/** See the file header. */
export class InformerFactory {
  readonly client: Client;
  readonly #options: InformerFactoryOptions;
  readonly #informers = new Map<ResourceType<KubeObject>, Informer<KubeObject>>();
  #started = false;

  constructor(client: Client, options: InformerFactoryOptions = {}) {
    this.client = client;
    this.#options = options;
  }

  /** The shared informer of a kind (all namespaces), with any extra indexes it should keep. */
  informer<T extends KubeObject>(type: ResourceType<T>, indexers: Record<string, IndexFunction<T>> = {}): Informer<T> {
    let informer = this.#informers.get(type as ResourceType<KubeObject>) as Informer<T> | undefined;
    if (!informer) {
      informer = new Informer(this.client.resource(type), {
        indexers,
        ...(this.#options.resyncMs ? { resyncMs: this.#options.resyncMs } : {}),
        ...(this.#options.onError ? { onError: this.#options.onError } : {}),
      });
      this.#informers.set(type as ResourceType<KubeObject>, informer as unknown as Informer<KubeObject>);
      if (this.#started) void informer.start();
      return informer;
    }
    // A second controller asking for an index the informer lacks: only possible before start.
    for (const [name, fn] of Object.entries(indexers)) if (!informer.hasIndex(name)) informer.addIndexer(name, fn);
    return informer;
  }

  /** Starts every informer asked for so far; resolves when all have synced. */
  async start(): Promise<void> {
    this.#started = true;
    await Promise.all([...this.#informers.values()].map((informer) => informer.start()));
  }

  /** Stops every informer. */
  stop(): void {
    for (const informer of this.#informers.values()) informer.stop();
  }
}
