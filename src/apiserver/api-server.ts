/**
 * The API server as one component: the watch cache over the store, the object store, the
 * handler, and the HTTP(S) listener, started in that order and stopped in reverse.
 */
import type { Backend } from '../storage/index.ts';
import { LocalTransport, type ApiRequest, type ApiResponse } from '../client/index.ts';
import { ApiHandler } from './handler.ts';
import { builtinKinds, nameValidatorFor, reviewKinds, systemPriorityClasses } from './kinds/index.ts';
import { listenScaling } from './front-end.ts';
import { listen, splitTarget, type Listener, type ListenOptions, type UpgradeRequest } from './listener.ts';
import { PodStreams, refuseUpgrade, type KubeletClientCertificate } from './streams/index.ts';
import { parseResourcePath } from './request-info.ts';
import { StatusError } from './errors.ts';
import type { Duplex } from 'node:stream';
import type { Node, Pod, ServiceAccount } from 'kubernetes-types/core/v1.js';
import { GcDurations, Metrics } from './metrics.ts';
import { ObjectStore } from './object-store.ts';
import { ResourceRegistry } from './registry.ts';
import type { KubeObject } from './resource.ts';
import { Compactor } from './compactor.ts';
import { builtinPrune, builtinTypeErrors, builtinUnknownFields } from './openapi.ts';
import { CrdController } from './crd-controller.ts';
import { forbidden } from './errors.ts';
import { reviewerFor } from './reviews.ts';
import { ServiceAllocator } from './service-allocator.ts';
import { everything, WatchCache } from './watch-cache.ts';

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
  /** The client certificate shown to kubelets for logs, exec, attach and port-forward. */
  kubeletClient?: KubeletClientCertificate;
  /**
   * Handlers of paths outside the Kubernetes API, by exact path (the server's join endpoints:
   * `/cacerts`, `/v1-skiff/...`). They see every method and answer it themselves.
   */
  pathHandlers?: Record<string, (request: ApiRequest) => Promise<ApiResponse>>;
}

/** Namespaces every cluster has from the start, as upstream's system namespaces controller. */
const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

/** The Kubernetes API over a {@link Backend}. */
export class ApiServer {
  readonly registry: ResourceRegistry;
  readonly metrics = new Metrics();
  readonly #gc = new GcDurations();
  readonly #options: ApiServerOptions;
  readonly #cache: WatchCache;
  readonly #store: ObjectStore;
  readonly #services: ServiceAllocator;
  #handler: ApiHandler | undefined;
  #listener: Listener | undefined;
  #ready = false;
  readonly #compactor: Compactor;
  #crds: CrdController | undefined;
  #streams: PodStreams | undefined;
  /** Requests of the server's own making, through the same handler as everyone's. */
  readonly #local = new LocalTransport((request) => this.handle(request));

  constructor(options: ApiServerOptions) {
    this.#options = options;
    const ttl = options.eventTtlSeconds;
    this.registry = new ResourceRegistry([
      ...builtinKinds.map((def) => {
        const prune = builtinPrune(def.group, def.version, def.kind);
        return {
          ...def,
          ...(def.ttlSeconds && ttl ? { ttlSeconds: ttl } : {}),
          unknownFields: builtinUnknownFields(def.group, def.version, def.kind),
          typeErrors: builtinTypeErrors(def.group, def.version, def.kind),
          // Unknown fields never reach storage, whatever fieldValidation says (upstream decodes
          // into typed objects, which drops them).
          defaults: (object: KubeObject) => {
            prune(object);
            def.defaults?.(object);
          },
        };
      }),
      ...reviewKinds.map((def) => ({ ...def, review: reviewerFor(def.kind) })),
    ]);
    this.#cache = new WatchCache(options.backend, '/registry/');
    this.#compactor = new Compactor(options.backend);
    this.#services = new ServiceAllocator({
      serviceCidr: options.serviceCidr ?? '10.43.0.0/16',
      services: () => this.#cache.list('/registry/core/services/', '/registry/core/services/', everything).map((c) => c.object),
    });
    this.#store = new ObjectStore(options.backend, this.#cache, {
      ...(options.now ? { now: options.now } : {}),
      nameErrors: nameValidatorFor,
      beforeCreate: (def, object) => {
        if (def.group === '' && def.plural === 'services') return this.#services.allocate(object);
        if (def.group === '' && def.plural === 'pods') this.#serviceAccountPullSecrets(object);
        return undefined;
      },
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
    this.metrics.histogram('nodejs_gc_duration_seconds', "Garbage collection duration by kind, one of major, minor, incremental or weakcb: the API thread's heap.", () =>
      this.#gc.readings(),
    );
    const stats = options.backend.stats?.bind(options.backend);
    if (stats) {
      this.metrics.histogram(
        'skiff_storage_wal_fsync_duration_seconds',
        "The latency distribution of the fdatasync of the embedded store's write-ahead log, which every write's answer waits for.",
        () => stats().logSyncSeconds,
      );
      this.metrics.counter('skiff_storage_commits_total', 'Transactions the embedded store committed, each made durable by one log sync.', () => stats().commits);
      this.metrics.counter('skiff_storage_writes_total', 'Writes the embedded store committed; over the commits, the writes that shared one log sync.', () => stats().writes);
    }
  }

  /**
   * Upstream's ServiceAccount admission, its image part: a new pod that names no
   * `imagePullSecrets` gets those of its ServiceAccount (read from the watch cache, as upstream
   * reads its informer).
   */
  #serviceAccountPullSecrets(object: KubeObject): void {
    const spec = (object as Pod).spec;
    if (!spec || (spec.imagePullSecrets?.length ?? 0) > 0) return;
    const def = this.registry.lookup('', 'v1', 'serviceaccounts');
    if (!def) return;
    const key = this.#store.key(def, object.metadata?.namespace ?? 'default', spec.serviceAccountName || 'default');
    const secrets = (this.#cache.get(key)?.object as ServiceAccount | undefined)?.imagePullSecrets ?? [];
    if (secrets.length > 0) spec.imagePullSecrets = secrets.map((s) => ({ name: s.name ?? '' }));
  }

  /** Loads the cache, makes sure the system namespaces exist, and starts listening. */
  async start(): Promise<void> {
    this.#gc.start();
    await this.#cache.start();
    const address = () => {
      const a = this.#listener?.address;
      return a ? `${a.address}:${a.port}` : `${this.#options.listen.host}:${this.#options.listen.port}`;
    };
    const kind = (plural: string) => this.registry.lookup('', 'v1', plural)!;
    this.#streams = new PodStreams({
      getPod: async (namespace, name) => (await this.#store.get(kind('pods'), namespace, name)) as Pod,
      getNode: async (name) => (await this.#store.get(kind('nodes'), undefined, name)) as Node,
      ...(this.#options.kubeletClient ? { kubeletClient: this.#options.kubeletClient } : {}),
    });
    this.#handler = new ApiHandler({
      streams: this.#streams,
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
    this.#crds = new CrdController(this.#cache, this.registry, this.#local);
    this.#crds.start();
    this.#compactor.start(this.#options.compactionIntervalMs, (error) => console.error('skiff: compaction failed:', error));
    const serve = this.#options.listen.threads ? listenScaling : listen;
    this.#listener = await serve(this.#options.listen, (request) => this.handle(request), (request, socket, head) => this.#upgrade(request, socket, head));
    this.#ready = true;
  }

  /** Serves one request in-process (no network), as the listener does for remote clients. */
  handle(request: ApiRequest): Promise<ApiResponse> {
    if (!this.#handler) throw new Error('the API server is not started');
    const own = this.#options.pathHandlers && Object.hasOwn(this.#options.pathHandlers, request.path) ? this.#options.pathHandlers[request.path] : undefined;
    return own ? own(request) : this.#handler.handle(request);
  }

  /** An upgrade request: `pods/{name}/exec|attach|portforward`, anything else refused. */
  #upgrade(request: UpgradeRequest, socket: Duplex, head: Buffer): void {
    const info = parseResourcePath(splitTarget(request.url).path);
    const sub = info?.subresource;
    if (!info || !this.#streams || info.group !== '' || info.resource !== 'pods' || !info.namespace || !info.name || (sub !== 'exec' && sub !== 'attach' && sub !== 'portforward')) {
      refuseUpgrade(socket, new StatusError(404, 'NotFound', 'the server could not find the requested resource', {}));
      return;
    }
    void this.#streams.upgrade(request, socket, head, info.namespace, info.name, sub);
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
    this.#gc.stop();
  }

  /** Creates what every cluster has from the start; what exists already is left alone. */
  async #bootstrap(): Promise<void> {
    const ensure = async (path: string, object: KubeObject) => {
      const existing = await this.#local.request({ method: 'GET', path: `${path}/${object.metadata!.name}` });
      if (existing.status === 200) return;
      const created = await this.#local.request({ method: 'POST', path, body: object });
      if (created.status !== 201 && created.status !== 409) {
        throw new Error(`cannot create ${path}/${object.metadata!.name}: ${JSON.stringify(created.body)}`);
      }
    };
    for (const name of SYSTEM_NAMESPACES) {
      await ensure('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    }
    for (const pc of systemPriorityClasses) await ensure('/apis/scheduling.k8s.io/v1/priorityclasses', structuredClone(pc));
    // The `kubernetes` Service names the API inside the cluster, at the range's first address.
    await ensure('/api/v1/namespaces/default/services', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'kubernetes', labels: { component: 'apiserver', provider: 'kubernetes' } },
      spec: {
        type: 'ClusterIP',
        clusterIP: this.#services.firstIp,
        ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: this.#options.listen.port || 6443 }],
        sessionAffinity: 'None',
      },
    });
  }
}
