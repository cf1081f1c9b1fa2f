/**
 * The typed client: one {@link ResourceClient} per kind over any {@link Transport}, remote
 * (HTTPS) or in-process. Every method that the API answers with 400 or above throws an
 * {@link ApiError} carrying the server's Status.
 */
import { ApiError } from './errors.ts';
import type { KubeList, KubeObject } from './object.ts';
import { apiVersionOf, collectionPath, objectPath, type ResourceType } from './resources.ts';
import type { ClientRequest, Transport, WatchEventMessage } from './transport.ts';

/** Options of list calls. */
export interface ListOptions {
  /** Omit for all namespaces (or for a cluster-scoped kind). */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
}

/** Options of watch calls. */
export interface WatchOptions extends Omit<ListOptions, 'limit' | 'continue'> {
  allowWatchBookmarks?: boolean;
  timeoutSeconds?: number;
}

/** Options of writes. */
export interface WriteOptions {
  /** Names the field manager in `managedFields` (default: the transport's user agent). */
  fieldManager?: string;
  dryRun?: boolean;
}

/** Options of {@link ResourceClient.patch}. */
export interface PatchOptions extends WriteOptions {
  /** Default `merge`. */
  type?: 'merge' | 'json' | 'strategic' | 'apply';
  subresource?: string;
  /** Server-side apply: take fields from other managers. */
  force?: boolean;
}

/** Options of {@link ResourceClient.delete}. */
export interface DeleteOptions {
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
}

const patchTypes = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
} as const;

/** Requests for one kind. */
export class ResourceClient<T extends KubeObject> {
  readonly type: ResourceType<T>;
  readonly #transport: Transport;

  constructor(transport: Transport, type: ResourceType<T>) {
    this.#transport = transport;
    this.type = type;
  }

  /** Reads one object. */
  get(namespace: string | undefined, name: string): Promise<T> {
    return this.#call({ method: 'GET', path: objectPath(this.type, namespace, name) });
  }

  /** Reads one object, or undefined when it does not exist. */
  async find(namespace: string | undefined, name: string): Promise<T | undefined> {
    try {
      return await this.get(namespace, name);
    } catch (error) {
      if (error instanceof ApiError && error.code === 404) return undefined;
      throw error;
    }
  }

  /** One page of a list. */
  list(options: ListOptions = {}): Promise<KubeList<T>> {
    const query: Record<string, string> = {};
    if (options.labelSelector) query.labelSelector = options.labelSelector;
    if (options.fieldSelector) query.fieldSelector = options.fieldSelector;
    if (options.limit) query.limit = String(options.limit);
    if (options.continue) query.continue = options.continue;
    if (options.resourceVersion !== undefined) query.resourceVersion = options.resourceVersion;
    return this.#call({ method: 'GET', path: collectionPath(this.type, options.namespace), query });
  }

  /** Creates an object (in `namespace`, or the object's own). */
  create(object: T, options: WriteOptions & { namespace?: string } = {}): Promise<T> {
    const namespace = options.namespace ?? object.metadata?.namespace;
    const body = { apiVersion: apiVersionOf(this.type), kind: this.type.kind, ...object };
    return this.#call({ method: 'POST', path: collectionPath(this.type, namespace), body, query: writeQuery(options) });
  }

  /** Replaces an object; its `metadata.resourceVersion`, when set, is a precondition (409 if stale). */
  update(object: T, options: WriteOptions & { subresource?: string } = {}): Promise<T> {
    const meta = object.metadata ?? {};
    const body = { apiVersion: apiVersionOf(this.type), kind: this.type.kind, ...object };
    return this.#call({ method: 'PUT', path: objectPath(this.type, meta.namespace, meta.name ?? '', options.subresource), body, query: writeQuery(options) });
  }

  /** Replaces an object's status (the `status` subresource). */
  updateStatus(object: T, options: WriteOptions = {}): Promise<T> {
    return this.update(object, { ...options, subresource: 'status' });
  }

  /** Patches an object (merge patch unless `type` says otherwise). */
  patch(namespace: string | undefined, name: string, patch: unknown, options: PatchOptions = {}): Promise<T> {
    const query = writeQuery(options);
    if (options.force) query.force = 'true';
    if (options.type === 'apply' && !options.fieldManager) throw new TypeError('server-side apply needs a fieldManager');
    return this.#call({
      method: 'PATCH',
      path: objectPath(this.type, namespace, name, options.subresource),
      body: patch,
      contentType: patchTypes[options.type ?? 'merge'],
      query,
    });
  }

  /** Deletes an object; resolves with what the API answered (the object, or a Status). */
  delete(namespace: string | undefined, name: string, options: DeleteOptions = {}): Promise<unknown> {
    const body: Record<string, unknown> = { apiVersion: 'v1', kind: 'DeleteOptions' };
    if (options.propagationPolicy) body.propagationPolicy = options.propagationPolicy;
    if (options.gracePeriodSeconds !== undefined) body.gracePeriodSeconds = options.gracePeriodSeconds;
    if (options.preconditions) body.preconditions = options.preconditions;
    if (options.dryRun) body.dryRun = ['All'];
    return this.#call({ method: 'DELETE', path: objectPath(this.type, namespace, name), body });
  }

  /** POSTs to a subresource: `binding`, `eviction`. */
  createSubresource(namespace: string | undefined, name: string, subresource: string, body: unknown): Promise<unknown> {
    return this.#call({ method: 'POST', path: objectPath(this.type, namespace, name, subresource), body });
  }

  /**
   * Watches the collection. Events arrive in order; `onEnd` is called once when the stream
   * ends (server timeout, restart): the caller re-watches from the last resourceVersion it saw.
   */
  watch(options: WatchOptions, onEvent: (event: WatchEventMessage<T>) => void, onEnd: () => void): Promise<() => void> {
    const query: Record<string, string> = {};
    if (options.labelSelector) query.labelSelector = options.labelSelector;
    if (options.fieldSelector) query.fieldSelector = options.fieldSelector;
    if (options.resourceVersion !== undefined) query.resourceVersion = options.resourceVersion;
    if (options.allowWatchBookmarks) query.allowWatchBookmarks = 'true';
    if (options.timeoutSeconds !== undefined) query.timeoutSeconds = String(options.timeoutSeconds);
    return this.#transport.watch<T>({ path: collectionPath(this.type, options.namespace), query }, onEvent, onEnd);
  }

  async #call<R>(request: ClientRequest): Promise<R> {
    const response = await this.#transport.request<R>(request);
    if (response.status >= 400) throw new ApiError(request.method, request.path, response.status, response.body);
    return response.body;
  }
}

/** A client for every kind over one transport. */
export class Client {
  readonly transport: Transport;
  readonly #clients = new Map<ResourceType<KubeObject>, ResourceClient<KubeObject>>();

  constructor(transport: Transport) {
    this.transport = transport;
  }

  /** The client of one kind (one instance per type). */
  resource<T extends KubeObject>(type: ResourceType<T>): ResourceClient<T> {
    let client = this.#clients.get(type as ResourceType<KubeObject>);
    if (!client) {
      client = new ResourceClient(this.transport, type as ResourceType<KubeObject>);
      this.#clients.set(type as ResourceType<KubeObject>, client);
    }
    return client as unknown as ResourceClient<T>;
  }
}

function writeQuery(options: WriteOptions): Record<string, string> {
  const query: Record<string, string> = {};
  if (options.fieldManager) query.fieldManager = options.fieldManager;
  if (options.dryRun) query.dryRun = 'All';
  return query;
}
