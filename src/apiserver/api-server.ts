/**
 * The API server as one component: the watch cache over the store, the object store, the
 * handler, and the HTTP(S) listener, started in that order and stopped in reverse.
 */
import type { Backend } from '../storage/index.ts';
import type { ApiRequest, ApiResponse } from '../client/index.ts';
import { ApiHandler } from './handler.ts';
import { builtinKinds, nameValidatorFor, reviewKinds, systemPriorityClasses } from './kinds/index.ts';
import { listen, type Listener, type ListenOptions } from './listener.ts';
import { Metrics } from './metrics.ts';
import { decode, ObjectStore } from './object-store.ts';
import { ResourceRegistry } from './registry.ts';
import { Compactor } from './compactor.ts';
import { CrdController } from './crd-controller.ts';
import { forbidden } from './errors.ts';
import { reviewerFor } from './reviews.ts';
import { ServiceAllocator } from './service-allocator.ts';
import { WatchCache } from './watch-cache.ts';

/** Options of {@link ApiServer}. */
export interface ApiServerOptions {
  backend: Backend;
  listen: ListenOptions;
  /** Service ClusterIP range. Default `10.43.0.0/16`. */
  serviceCidr?: string;
  /** The clock. Default: the system clock. */
  now?: () => Date;
  /** Watches without a timeout end after this many seconds or up to twice it. Default 1800. */
  minRequestTimeoutSeconds?: number;
  /** How long Events live after their last update (upstream's `--event-ttl`). Default 1 h. */
  eventTtlSeconds?: number;
  /** Time between compactions of the store's history. Default 5 minutes. */
  compactionIntervalMs?: number;
}

/** Namespaces every cluster has from the start, as upstream's system namespaces controller. */
const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

/** The Kubernetes API over a {@link Backend}. */
export class ApiServer {
  readonly registry: ResourceRegistry;
  readonly metrics = new Metrics();
  readonly #options: ApiServerOptions;
  readonly #cache: WatchCache;
  readonly #store: ObjectStore;
  readonly #services: ServiceAllocator;
  #handler: ApiHandler | undefined;
  #listener: Listener | undefined;
  #ready = false;
  readonly #compactor: Compactor;
  #crds: CrdController | undefined;

  constructor(options: ApiServerOptions) {
    this.#options = options;
    const ttl = options.eventTtlSeconds;
    this.registry = new ResourceRegistry([
      ...builtinKinds.map((def) => (def.ttlSeconds && ttl ? { ...def, ttlSeconds: ttl } : def)),
      ...reviewKinds.map((def) => ({ ...def, review: reviewerFor(def.kind) })),
    ]);
    this.#cache = new WatchCache(options.backend, '/registry/', { decode });
    this.#compactor = new Compactor(options.backend);
    this.#services = new ServiceAllocator({
      serviceCidr: options.serviceCidr ?? '10.43.0.0/16',
      services: () => this.#cache.list('/registry/core/services/', '/registry/core/services/', () => true).map((c) => c.object),
    });
    this.#store = new ObjectStore(options.backend, this.#cache, {
      ...(options.now ? { now: options.now } : {}),
      nameErrors: nameValidatorFor,
      beforeCreate: (def, object) =>
        def.group === '' && def.plural === 'services' ? this.#services.allocate(object) : undefined,
      beforeDelete: (def, object) => {
        const name = object.metadata?.name;
        if (def.group === 'scheduling.k8s.io' && systemPriorityClasses.some((pc) => pc.metadata?.name === name)) {
          throw forbidden('this is a system priority class and cannot be deleted', { name, group: def.group, kind: def.plural });
        }
      },
    });
    this.metrics.gauge('apiserver_watch_cache_watchers', 'Number of API watchers served by the watch cache.', () =>
      this.#cache.watcherCount(),
    );
  }

  /** Loads the cache, makes sure the system namespaces exist, and starts listening. */
  async start(): Promise<void> {
    await this.#cache.start();
    const address = () => {
      const a = this.#listener?.address;
      return a ? `${a.address}:${a.port}` : `${this.#options.listen.host}:${this.#options.listen.port}`;
    };
    this.#handler = new ApiHandler({
      registry: this.registry,
      store: this.#store,
      cache: this.#cache,
      metrics: this.metrics,
      get serverAddress() {
        return address();
      },
      ready: () => this.#ready && this.#cache.failure === undefined,
      ...(this.#options.now ? { now: this.#options.now } : {}),
      ...(this.#options.minRequestTimeoutSeconds ? { minRequestTimeoutSeconds: this.#options.minRequestTimeoutSeconds } : {}),
    });
    await this.#bootstrap();
    this.#crds = new CrdController(this.#cache, this.registry, (request) => this.handle(request));
    this.#crds.start();
    this.#compactor.start(this.#options.compactionIntervalMs, (error) => console.error('skiff: compaction failed:', error));
    this.#listener = await listen(this.#options.listen, (request) => this.handle(request));
    this.#ready = true;
  }

  /** Serves one request in-process (no network), as the listener does for remote clients. */
  handle(request: ApiRequest): Promise<ApiResponse> {
    if (!this.#handler) throw new Error('the API server is not started');
    return this.#handler.handle(request);
  }

  /** The address the listener is bound to. */
  get address(): { host: string; port: number } {
    const a = this.#listener?.address;
    if (!a) throw new Error('the API server is not listening');
    return { host: a.address, port: a.port };
  }

  /** Stops listening and following the store. */
  async stop(): Promise<void> {
    this.#ready = false;
    this.#compactor.stop();
    this.#crds?.stop();
    await this.#listener?.close();
    this.#cache.stop();
  }

  async #bootstrap(): Promise<void> {
    for (const name of SYSTEM_NAMESPACES) {
      const response = await this.handle({
        method: 'POST',
        path: '/api/v1/namespaces',
        query: new URLSearchParams(),
        accept: undefined,
        contentType: 'application/json',
        body: Buffer.from(JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } })),
      });
      if (response.status !== 201 && response.status !== 409) {
        throw new Error(`cannot create namespace ${name}: ${response.body}`);
      }
    }
    // The system priority classes exist in every cluster.
    for (const pc of systemPriorityClasses) {
      const created = await this.handle({
        method: 'POST',
        path: '/apis/scheduling.k8s.io/v1/priorityclasses',
        query: new URLSearchParams(),
        accept: undefined,
        contentType: 'application/json',
        body: Buffer.from(JSON.stringify(pc)),
      });
      if (created.status !== 201 && created.status !== 409) throw new Error(`cannot create priority class: ${String(created.body)}`);
    }
    // The `kubernetes` Service names the API inside the cluster, at the range's first address.
    const existing = await this.handle({
      method: 'GET',
      path: '/api/v1/namespaces/default/services/kubernetes',
      query: new URLSearchParams(),
      accept: undefined,
      contentType: undefined,
      body: undefined,
    });
    if (existing.status === 200) return;
    const service = await this.handle({
      method: 'POST',
      path: '/api/v1/namespaces/default/services',
      query: new URLSearchParams(),
      accept: undefined,
      contentType: 'application/json',
      body: Buffer.from(
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'Service',
          metadata: { name: 'kubernetes', labels: { component: 'apiserver', provider: 'kubernetes' } },
          spec: {
            type: 'ClusterIP',
            clusterIP: this.#services.firstIp,
            ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: this.#options.listen.port || 6443 }],
            sessionAffinity: 'None',
          },
        }),
      ),
    });
    if (service.status !== 201 && service.status !== 409) {
      throw new Error(`cannot create the kubernetes service: ${service.body}`);
    }
  }
}
