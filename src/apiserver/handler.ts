/**
 * The API's request handler: routes a request to discovery or to a resource, runs the verb on
 * the object store, and renders the answer (object, list, Table, event stream or Status).
 * It knows nothing of HTTP; see `src/client/api-request.ts`.
 */
import type { ApiRequest, ApiResponse } from '../client/index.ts';
import {
  keepTimesOfNoop,
  managerOptions,
  managerOrUserAgent,
  recordUpdate,
  schemaForKind,
  serverSideApply,
  type ApplyOptions,
  type FieldSchema,
} from './apply/index.ts';
import { decodeObject, parseDocument, prepareBody, text as bodyText } from './body.ts';
import * as discovery from './discovery.ts';
import {
  badRequest,
  invalid,
  methodNotAllowed,
  StatusError,
  toStatus,
  type Status,
} from './errors.ts';
import type { Metrics } from './metrics.ts';
import { bodyFormat, negotiate, type Rendering } from './negotiate.ts';
import { answerJson, rfc3339, writtenJson, type DeleteOptions, type ObjectStore, type Subresource, type WriteOptions } from './object-store.ts';
import { meta } from './object-meta.ts';
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch, PatchError, patchMetaFor } from './patch/index.ts';
import type { ResourceRegistry } from './registry.ts';
import { parseResourcePath, type ResourceRequest } from './request-info.ts';
import { groupVersion, type KubeObject, type ResourceDef } from './resource.ts';
import { convertOut, converts } from './conversion.ts';
import { bind } from './binding.ts';
import { evict } from './eviction.ts';
import { duplicateFields } from './duplicate-fields.ts';
import { buildFilter } from './filter.ts';
import { partialMetadata, toTable, type IncludeObject } from './table.ts';
import { watchStream, type WatchDeps } from './watch-stream.ts';
import { CachedObject, type WatchCache } from './watch-cache.ts';
import { openapiV2, openapiV3GroupVersion, openapiV3Root } from './openapi.ts';
import type { PodStreams } from './streams/index.ts';

/** What the handler needs from the rest of the server. */
export interface HandlerDeps {
  registry: ResourceRegistry;
  store: ObjectStore;
  cache: WatchCache;
  metrics: Metrics;
  /** `host:port` the API is reached at (for `/api`). */
  serverAddress: string;
  /** Whether the server is ready (for `/readyz`). */
  ready: () => boolean;
  now?: () => Date;
  /** See {@link WatchDeps.minRequestTimeoutSeconds}. */
  minRequestTimeoutSeconds?: number;
  /** Serves `pods/log` (and knows exec, attach and port-forward need an upgrade). */
  streams?: PodStreams;
}

const JSON_TYPE = 'application/json';

/** Serves API requests. See the file header. */
export class ApiHandler {
  readonly #deps: HandlerDeps;
  readonly #now: () => Date;

  constructor(deps: HandlerDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? (() => new Date());
  }

  /** Serves one request. Never throws: failures become Status responses. */
  async handle(request: ApiRequest): Promise<ApiResponse> {
    const started = performance.now();
    const info = parseResourcePath(request.path);
    let response: ApiResponse;
    try {
      response = info ? await this.#resource(request, info) : this.#nonResource(request);
    } catch (error) {
      response = statusResponse(toStatus(error));
      if (!(error instanceof StatusError)) {
        console.error(`skiff: ${request.method} ${request.path}: unexpected error:`, error);
      }
    }
    if (info) {
      this.#deps.metrics.observe(
        {
          verb: verbOf(request, info),
          group: info.group,
          version: info.version,
          resource: info.resource,
          subresource: info.subresource ?? '',
        },
        response.status,
        (performance.now() - started) / 1000,
      );
    }
    return response;
  }

  #nonResource(request: ApiRequest): ApiResponse {
    const { registry, serverAddress } = this.#deps;
    if (request.method !== 'GET' && request.method !== 'HEAD') throw methodNotAllowed();
    const path = request.path.length > 1 && request.path.endsWith('/') ? request.path.slice(0, -1) : request.path;
    const parts = path.split('/').slice(1);
    if (path === '/healthz' || path === '/livez' || path.startsWith('/livez/') || path.startsWith('/healthz/')) {
      return text(200, 'ok');
    }
    if (path === '/readyz' || path.startsWith('/readyz/')) {
      return this.#deps.ready() ? text(200, 'ok') : text(500, '[-]informer-sync failed: not ready\nreadyz check failed');
    }
    if (path === '/version') return json(200, discovery.versionInfo());
    if (path === '/metrics') return { status: 200, contentType: 'text/plain; version=0.0.4', body: this.#deps.metrics.render() };
    if (path === '/api' || path === '/apis') {
      const aggregated = discovery.aggregatedVersion(request.accept);
      if (aggregated) {
        const doc = discovery.aggregatedDiscovery(registry, path === '/api' ? 'core' : 'apis', aggregated);
        return { status: 200, contentType: discovery.aggregatedContentType(aggregated), body: JSON.stringify(doc) };
      }
      return json(200, path === '/api' ? discovery.coreVersions(serverAddress) : discovery.groupList(registry));
    }
    if (parts[0] === 'api' && parts.length === 2) {
      const doc = discovery.resourceList(registry, parts[1]!);
      if (doc) return json(200, doc);
    }
    if (parts[0] === 'apis' && parts.length === 2) {
      const doc = discovery.group(registry, parts[1]!);
      if (doc) return json(200, doc);
    }
    if (parts[0] === 'apis' && parts.length === 3) {
      const doc = discovery.resourceList(registry, `${parts[1]}/${parts[2]}`);
      if (doc) return json(200, doc);
    }
    if (path === '/openapi/v2') {
      const doc = openapiV2(registry, (request.accept ?? '').includes('protobuf'));
      return { status: 200, contentType: doc.contentType, body: doc.body };
    }
    if (path === '/openapi/v3') return json(200, openapiV3Root(registry));
    if (parts[0] === 'openapi' && parts[1] === 'v3' && parts.length >= 4) {
      const doc = openapiV3GroupVersion(registry, parts.slice(2).join('/'));
      if (doc) return { status: 200, contentType: JSON_TYPE, body: doc };
    }
    throw notFoundPath();
  }

  async #resource(request: ApiRequest, info: ResourceRequest): Promise<ApiResponse> {
    if (request.body) await prepareBody(request.contentType);
    const { registry } = this.#deps;
    const def = registry.lookup(info.group, info.version, info.resource);
    if (!def) throw notFoundPath();
    if (!def.namespaced && info.namespace !== undefined) throw notFoundPath();
    if (def.namespaced && info.namespace === undefined && info.name !== undefined) throw notFoundPath();
    const rendering = negotiate(request.accept);
    if (!rendering) {
      throw new StatusError(406, 'NotAcceptable', `only the following media types are accepted: application/json, application/yaml, application/json;as=Table;v=v1;g=meta.k8s.io`);
    }
    const name = info.name;
    const method = request.method;
    if (def.review) {
      if (method !== 'POST' || name !== undefined) throw methodNotAllowed();
      return this.#review(request, def, info.namespace);
    }
    if (info.subresource !== undefined) {
      if (name === undefined) throw notFoundPath();
      return this.#subresource(request, def, info, name, rendering);
    }
    if (name === undefined) {
      const watching = info.legacyWatch || isTrue(request.query.get('watch'));
      if (method === 'GET' && watching) return this.#watch(request, def, info.namespace, undefined, rendering);
      if (method === 'GET') return this.#list(request, def, info.namespace, rendering);
      if (method === 'POST') return this.#create(request, def, info.namespace, rendering);
      if (method === 'DELETE') return this.#deleteCollection(request, def, info.namespace, rendering);
      throw methodNotAllowed();
    }
    switch (method) {
      case 'GET':
        if (info.legacyWatch || isTrue(request.query.get('watch'))) {
          return this.#watch(request, def, info.namespace, name, rendering);
        }
        if (rendering.as === 'object') {
          // The cached or stored text answers as it is, with its resourceVersion put in: no
          // decoding and encoding it again (a third of a GET's time on the API thread), and no
          // store read when the cache has caught up.
          const found = await this.#deps.store.readLatest(def, info.namespace, name);
          return { status: 200, contentType: JSON_TYPE, body: answerJson(def, found) };
        }
        return this.#render(200, def, await this.#deps.store.get(def, info.namespace, name), rendering);
      case 'PUT': {
        const body = decodeObject(request.body, request.contentType) as KubeObject;
        const warnings = fieldWarnings(request, def, body);
        const updated = await this.#deps.store.update(def, info.namespace, name, body, '', this.#recording(request, def, '', 'UpdateOptions'));
        return withWarnings(this.#render(200, def, updated, rendering), warnings);
      }
      case 'PATCH':
        if (bodyFormat(request.contentType) === 'apply-patch') return this.#apply(request, def, info.namespace, name, '', rendering);
        return this.#render(200, def, await this.#patch(request, def, info.namespace, name, ''), rendering);
      case 'DELETE': {
        const { object } = await this.#deps.store.delete(def, info.namespace, name, { ...deleteOptions(request), ...writeOptions(request) });
        return this.#render(200, def, object, rendering);
      }
      default:
        throw methodNotAllowed();
    }
  }

  async #subresource(
    request: ApiRequest,
    def: ResourceDef,
    info: ResourceRequest,
    name: string,
    rendering: Rendering,
  ): Promise<ApiResponse> {
    const { store } = this.#deps;
    const sub = info.subresource!;
    const method = request.method;
    if (sub === 'status' && def.subresources.status) {
      if (method === 'GET') return this.#render(200, def, await store.get(def, info.namespace, name), rendering);
      if (method === 'PUT') {
        const body = decodeObject(request.body, request.contentType) as KubeObject;
        return this.#render(200, def, await store.update(def, info.namespace, name, body, 'status', this.#recording(request, def, 'status', 'UpdateOptions')), rendering);
      }
      if (method === 'PATCH' && bodyFormat(request.contentType) === 'apply-patch') return this.#apply(request, def, info.namespace, name, 'status', rendering);
      if (method === 'PATCH') return this.#render(200, def, await this.#patch(request, def, info.namespace, name, 'status'), rendering);
      throw methodNotAllowed();
    }
    if (sub === 'eviction' && def.group === '' && def.plural === 'pods') {
      if (method !== 'POST') throw methodNotAllowed();
      const body = decodeObject(request.body, request.contentType) as KubeObject;
      await evict(store, this.#deps.registry, def, info.namespace!, name, body, this.#now);
      return json(201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
    }
    if (sub === 'binding' && def.group === '' && def.plural === 'pods') {
      if (method !== 'POST') throw methodNotAllowed();
      const body = decodeObject(request.body, request.contentType) as KubeObject;
      await bind(store, def, info.namespace!, name, body, this.#now);
      return json(201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
    }
    if (def.group === '' && def.plural === 'pods' && (sub === 'log' || sub === 'exec' || sub === 'attach' || sub === 'portforward') && this.#deps.streams) {
      if (sub === 'log') {
        if (method !== 'GET') throw methodNotAllowed();
        return this.#deps.streams.logs(request, info.namespace!, name);
      }
      if (method !== 'GET' && method !== 'POST') throw methodNotAllowed();
      throw badRequest('Upgrade request required');
    }
    if (sub === 'proxy' && def.group === '' && def.plural === 'nodes' && this.#deps.streams) {
      return this.#deps.streams.nodeProxy(request, name, info.subpath ?? '');
    }
    if (sub === 'finalize' && def.group === '' && def.plural === 'namespaces') {
      if (method !== 'PUT') throw methodNotAllowed();
      const body = decodeObject(request.body, request.contentType) as KubeObject;
      return this.#render(200, def, await store.update(def, undefined, name, body, 'finalize', this.#recording(request, def, 'finalize', 'UpdateOptions')), rendering);
    }
    const scale = def.subresources.scale;
    if (sub === 'scale' && scale) {
      const toScale = (object: KubeObject) => ({
        kind: 'Scale',
        apiVersion: 'autoscaling/v1',
        metadata: {
          name: object.metadata?.name,
          ...(def.namespaced ? { namespace: object.metadata?.namespace } : {}),
          uid: object.metadata?.uid,
          resourceVersion: object.metadata?.resourceVersion,
          creationTimestamp: object.metadata?.creationTimestamp,
        },
        spec: { replicas: scale.specReplicas(object) },
        status: { replicas: scale.statusReplicas(object), selector: scale.selector(object) },
      });
      if (method === 'GET') return json(200, toScale(await store.get(def, info.namespace, name)));
      if (method !== 'PUT' && method !== 'PATCH') throw methodNotAllowed();
      const patchOf = method === 'PATCH' ? this.#patchFunction(request, { group: 'autoscaling', version: 'v1', kind: 'Scale' }) : undefined;
      const body = method === 'PUT' ? decodeObject(request.body, request.contentType) : undefined;
      const updated = await store.modify(def, info.namespace, name, '', (current) => {
        const desired = (patchOf ? patchOf(toScale(current)) : body) as { spec?: { replicas?: unknown }; metadata?: { resourceVersion?: string } };
        const replicas = desired?.spec?.replicas ?? 0;
        if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
          throw new StatusError(422, 'Invalid', `Scale.autoscaling "${name}" is invalid: spec.replicas: Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`, {
            name,
            group: 'autoscaling',
            kind: 'Scale',
            causes: [{ reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`, field: 'spec.replicas' }],
          });
        }
        const next = scale.setSpecReplicas(current, replicas);
        const rv = desired?.metadata?.resourceVersion;
        if (rv) meta(next).resourceVersion = rv;
        return next;
      }, this.#recording(request, def, 'scale', method === 'PATCH' ? 'PatchOptions' : 'UpdateOptions'));
      return json(200, toScale(updated));
    }
    throw notFoundPath();
  }

  async #create(request: ApiRequest, def: ResourceDef, namespace: string | undefined, rendering: Rendering): Promise<ApiResponse> {
    if (def.namespaced && namespace === undefined) throw notFoundPath();
    const body = decodeObject(request.body, request.contentType) as KubeObject;
    const warnings = fieldWarnings(request, def, body);
    const created = await this.#deps.store.create(def, namespace, body, this.#recording(request, def, '', 'CreateOptions'));
    return withWarnings(this.#render(201, def, created, rendering), warnings);
  }

  /** A create-only review: validated, answered with its status, never stored. */
  #review(request: ApiRequest, def: ResourceDef, namespace: string | undefined): ApiResponse {
    const body = decodeObject(request.body, request.contentType) as KubeObject;
    if (body.kind !== undefined && body.kind !== def.kind) {
      throw badRequest(`the kind in the data (${String(body.kind)}) does not match the expected kind (${def.kind})`);
    }
    if (def.namespaced) meta(body).namespace = namespace;
    const errors = def.validate?.(body, undefined) ?? [];
    if (errors.length > 0) throw invalid(def.kind, def.group, body.metadata?.name ?? '', errors);
    return json(201, def.review!({ ...body, apiVersion: groupVersion(def), kind: def.kind }));
  }

  #patchFunction(request: ApiRequest, def: Pick<ResourceDef, 'group' | 'version' | 'kind'>): (current: unknown) => unknown {
    const format = bodyFormat(request.contentType);
    if (format === 'merge-patch') {
      const patch = parseDocument(request.body, 'json', 'patch');
      return (current) => applyMergePatch(current, patch);
    }
    if (format === 'json-patch') {
      const operations = parseDocument(request.body, 'json', 'patch');
      if (!Array.isArray(operations)) throw badRequest('a JSON patch must be an array of operations');
      return (current) => applyJsonPatch(current, operations);
    }
    if (format === 'strategic-merge-patch') {
      const meta = patchMetaFor(def.group, def.version, def.kind);
      // Custom resources have no patch strategies: upstream refuses strategic patches for them.
      if (!meta) {
        throw new StatusError(415, 'UnsupportedMediaType', 'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml');
      }
      const patch = parseDocument(request.body, 'json', 'patch');
      return (current) => applyStrategicMergePatch(current, patch, meta);
    }
    if (format === 'apply-patch') {
      throw new StatusError(415, 'UnsupportedMediaType', 'server-side apply of the scale subresource is not supported; apply the object');
    }
    throw new StatusError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json`);
  }

  async #patch(request: ApiRequest, def: ResourceDef, namespace: string | undefined, name: string, subresource: Subresource): Promise<KubeObject> {
    const patch = this.#patchFunction(request, def);
    return this.#deps.store.modify(def, namespace, name, subresource, (current) => {
      let next: unknown;
      try {
        next = patch(current);
      } catch (error) {
        if (error instanceof PatchError) {
          // A patch that is not well-formed is the client's syntax error (400); one that is
          // well-formed but does not fit the object is unprocessable (422), as upstream.
          if (error.code === 'PATCH_MALFORMED') throw badRequest(error.message);
          // Upstream answers with a cause and no kind, which kubectl prints as
          // `The request is invalid: * patch: <why>`.
          throw new StatusError(422, 'Invalid', error.message, {
            causes: [{ reason: 'FieldValueInvalid', message: error.message, field: 'patch' }],
          });
        }
        throw error;
      }
      if (typeof next !== 'object' || next === null || Array.isArray(next)) {
        throw badRequest('the patch did not produce an object');
      }
      return next as KubeObject;
    }, this.#recording(request, def, subresource, 'PatchOptions'));
  }

  /**
   * Server-side apply of the object or its status. Applying to an object that does not exist
   * creates it (201), as upstream; a subresource cannot be created that way.
   */
  async #apply(
    request: ApiRequest,
    def: ResourceDef,
    namespace: string | undefined,
    name: string,
    subresource: '' | 'status',
    rendering: Rendering,
  ): Promise<ApiResponse> {
    const { fieldManager, force } = managerOptions(request.query, 'PatchOptions', true);
    const config = parseDocument(request.body, 'apply-patch', 'patch');
    if (typeof config !== 'object' || config === null || Array.isArray(config)) {
      const got = config === null ? 'null' : Array.isArray(config) ? 'array' : typeof config;
      throw badRequest(`error decoding YAML: json: cannot unmarshal ${got} into Go value of type map[string]interface {}`);
    }
    const options: ApplyOptions = {
      manager: fieldManager,
      force,
      now: rfc3339(this.#now()),
      schema: this.#fieldSchema(def),
      apiVersion: groupVersion(def),
      kind: def.kind,
      subresource,
      statusSubresource: def.subresources.status === true,
    };
    let managedFields: unknown[] | undefined;
    const applyTo = (current: KubeObject | undefined): KubeObject => {
      const next = serverSideApply(current, config as KubeObject, options) as KubeObject;
      managedFields = next.metadata?.managedFields;
      return next;
    };
    const write: WriteOptions = {
      ...writeOptions(request),
      // The store rebuilds a status write around the stored metadata: what the apply recorded
      // is put back, and a write that changed nothing keeps its times (and resourceVersion).
      manageFields: (current, next) => {
        if (managedFields) meta(next).managedFields = managedFields;
        else delete meta(next).managedFields;
        if (current) keepTimesOfNoop(current, next);
      },
    };
    for (let attempt = 0; ; attempt++) {
      try {
        return this.#render(200, def, await this.#deps.store.modify(def, namespace, name, subresource, applyTo, write), rendering);
      } catch (error) {
        if (!(error instanceof StatusError && error.code === 404) || subresource !== '' || attempt > 2) throw error;
      }
      const created = applyTo(undefined);
      if (meta(created).name !== name) {
        throw badRequest(`the name of the object (${meta(created).name ?? ''}) does not match the name on the URL (${name})`);
      }
      try {
        return this.#render(201, def, await this.#deps.store.create(def, namespace, created, write), rendering);
      } catch (error) {
        // Another writer created it meanwhile: apply to theirs.
        if (!(error instanceof StatusError && error.reason === 'AlreadyExists') || attempt > 2) throw error;
      }
    }
  }

  /**
   * The options of an ordinary write (create, update, non-apply patch) of the object or of a
   * subresource: dry run, and an `Update` record of its fields for its field manager.
   */
  #recording(request: ApiRequest, def: ResourceDef, subresource: string, kind: 'CreateOptions' | 'UpdateOptions' | 'PatchOptions'): WriteOptions {
    const { fieldManager } = managerOptions(request.query, kind, false);
    // ApiRequest carries no User-Agent, so a client that names no manager is recorded as
    // upstream records one without a User-Agent: `unknown`.
    const manager = managerOrUserAgent(fieldManager, request.userAgent);
    const fields = { manager, apiVersion: groupVersion(def), subresource, schema: this.#fieldSchema(def) };
    return {
      ...writeOptions(request),
      manageFields: (current, next) => recordUpdate(current, next, { ...fields, now: rfc3339(this.#now()) }),
    };
  }

  /** The list semantics server-side apply needs: built-in, or from the kind's CRD. */
  #fieldSchema(def: ResourceDef): FieldSchema {
    return schemaForKind(def, (crd) => this.#deps.cache.get(`/registry/apiextensions.k8s.io/customresourcedefinitions/${crd}`)?.object);
  }

  async #list(request: ApiRequest, def: ResourceDef, namespace: string | undefined, rendering: Rendering): Promise<ApiResponse> {
    const q = request.query;
    const limit = Number(q.get('limit') ?? '0');
    if (!Number.isInteger(limit) || limit < 0) throw badRequest(`invalid limit: ${q.get('limit')}`);
    const page = await this.#deps.store.list(def, namespace, {
      filter: buildFilter(def, q.get('labelSelector') ?? '', q.get('fieldSelector') ?? ''),
      limit,
      continueToken: q.get('continue') ?? '',
      resourceVersion: q.get('resourceVersion') ?? '',
    });
    const listMeta: Record<string, unknown> = { resourceVersion: String(page.revision) };
    if (page.continueToken) listMeta.continue = page.continueToken;
    if (rendering.as === 'Table') {
      const objects = page.items.map(objectOf);
      return json(200, toTable(def, objects, listMeta, { includeObject: includeObject(q), noHeaders: false, version: rendering.version, now: this.#now() }));
    }
    if (rendering.as === 'PartialObjectMetadata') {
      return json(200, {
        kind: 'PartialObjectMetadataList',
        apiVersion: `meta.k8s.io/${rendering.version}`,
        metadata: listMeta,
        items: page.items.map((item) => partialMetadata(objectOf(item), rendering.version)),
      });
    }
    // Cached objects already carry their JSON: the list is assembled without re-serializing.
    const items = converts(def)
      ? page.items.map((item) => JSON.stringify(convertOut(def, objectOf(item))))
      : page.items.map((item) => (isCached(item) ? item.json : JSON.stringify(item)));
    const body = `{"kind":"${def.kind}List","apiVersion":"${groupVersion(def)}","metadata":${JSON.stringify(listMeta)},"items":[${items.join(',')}]}`;
    return { status: 200, contentType: JSON_TYPE, body };
  }

  async #deleteCollection(request: ApiRequest, def: ResourceDef, namespace: string | undefined, rendering: Rendering): Promise<ApiResponse> {
    const q = request.query;
    const page = await this.#deps.store.list(def, namespace, {
      filter: buildFilter(def, q.get('labelSelector') ?? '', q.get('fieldSelector') ?? ''),
      limit: 0,
      continueToken: '',
      resourceVersion: '',
    });
    const options = { ...deleteOptions(request), ...writeOptions(request) };
    const deleted: KubeObject[] = [];
    for (const item of page.items) {
      const object = objectOf(item);
      try {
        const result = await this.#deps.store.delete(def, object.metadata?.namespace, object.metadata!.name!, options);
        deleted.push(convertOut(def, result.object));
      } catch (error) {
        // Gone meanwhile: that is what was asked for.
        if (!(error instanceof StatusError && error.code === 404)) throw error;
      }
    }
    if (rendering.as === 'object') {
      return json(200, { kind: `${def.kind}List`, apiVersion: groupVersion(def), metadata: {}, items: deleted });
    }
    return json(200, toTable(def, deleted, {}, { includeObject: includeObject(q), noHeaders: false, version: 'v1', now: this.#now() }));
  }

  #watch(request: ApiRequest, def: ResourceDef, namespace: string | undefined, name: string | undefined, rendering: Rendering): Promise<ApiResponse> {
    return watchStream(request, def, namespace, name, rendering, {
      cache: this.#deps.cache,
      store: this.#deps.store,
      currentRevision: () => this.#deps.store.currentRevision(),
      now: this.#now,
      ...(this.#deps.minRequestTimeoutSeconds ? { minRequestTimeoutSeconds: this.#deps.minRequestTimeoutSeconds } : {}),
    });
  }

  #render(status: number, def: ResourceDef, stored: KubeObject, rendering: Rendering): ApiResponse {
    const object = convertOut(def, stored);
    if (rendering.as === 'Table') {
      return json(status, toTable(def, [object], { resourceVersion: object.metadata?.resourceVersion ?? '' }, { includeObject: 'Metadata', noHeaders: false, version: rendering.version, now: this.#now() }));
    }
    if (rendering.as === 'PartialObjectMetadata') return json(status, partialMetadata(object, rendering.version));
    // A write's own answer: the text it stored, not a second encoding (object-store.ts).
    const written = object === stored ? writtenJson(stored) : undefined;
    if (written !== undefined) return { status, contentType: JSON_TYPE, body: written };
    return json(status, object);
  }
}

function objectOf(item: CachedObject | KubeObject): KubeObject {
  return isCached(item) ? item.object : item;
}

function isCached(item: CachedObject | KubeObject): item is CachedObject {
  return item instanceof CachedObject;
}

function includeObject(q: URLSearchParams): IncludeObject {
  const v = q.get('includeObject');
  return v === 'None' || v === 'Object' ? v : 'Metadata';
}

function deleteOptions(request: ApiRequest): DeleteOptions {
  const options: DeleteOptions = {};
  if (request.body && request.body.length > 0) {
    const body = decodeObject(request.body, request.contentType) as DeleteOptions & { kind?: string };
    if (typeof body.gracePeriodSeconds === 'number') options.gracePeriodSeconds = body.gracePeriodSeconds;
    if (body.preconditions) options.preconditions = body.preconditions;
    if (typeof body.propagationPolicy === 'string') options.propagationPolicy = body.propagationPolicy;
    if (typeof body.orphanDependents === 'boolean') options.orphanDependents = body.orphanDependents;
    // kubectl sends `dryRun` for deletes in the DeleteOptions body rather than the query.
    const dryRun = (body as { dryRun?: unknown }).dryRun;
    if (Array.isArray(dryRun) && dryRun.length > 0) {
      if (dryRun.some((v) => v !== 'All')) throw badRequest(`Invalid dryRun value: ${dryRun.join(',')}; the only supported value is "All"`);
      options.dryRun = true;
    }
  }
  const grace = request.query.get('gracePeriodSeconds');
  if (grace !== null) {
    const n = Number(grace);
    if (!Number.isInteger(n)) throw badRequest(`invalid gracePeriodSeconds: ${grace}`);
    options.gracePeriodSeconds = n;
  }
  const policy = request.query.get('propagationPolicy');
  if (policy) options.propagationPolicy = policy;
  const orphan = request.query.get('orphanDependents');
  if (orphan !== null) options.orphanDependents = orphan === 'true';
  return options;
}

/**
 * Server-side field validation (`fieldValidation=Strict|Warn|Ignore`, default Warn): fields the
 * kind does not define, and keys a JSON body gives twice, are refused under Strict (400, as
 * upstream words it) and warned about under Warn. Returns the warnings.
 */
function fieldWarnings(request: ApiRequest, def: ResourceDef, body: KubeObject): string[] {
  const directive = request.query.get('fieldValidation') ?? 'Warn';
  if (directive !== 'Strict' && directive !== 'Warn' && directive !== 'Ignore') {
    throw badRequest(`fieldValidation must be one of "Ignore", "Warn" or "Strict", got "${directive}"`);
  }
  if (directive === 'Ignore') return [];
  const problems = (def.unknownFields?.(body) ?? []).map((path) => `unknown field "${path}"`);
  if (bodyFormat(request.contentType) === 'json' && request.body) {
    problems.push(...duplicateFields(bodyText(request.body), body).map((path) => `duplicate field "${path}"`));
  }
  if (problems.length > 0 && directive === 'Strict') {
    throw badRequest(`${def.kind} in version "${def.version}" cannot be handled as a ${def.kind}: strict decoding error: ${problems.join(', ')}`);
  }
  return problems;
}

function withWarnings(response: ApiResponse, warnings: string[]): ApiResponse {
  return warnings.length > 0 ? { ...response, warnings: [...(response.warnings ?? []), ...warnings] } : response;
}

/** `dryRun=All` (the only value upstream accepts); anything else is a 400. */
function writeOptions(request: ApiRequest): WriteOptions {
  const values = request.query.getAll('dryRun');
  if (values.length === 0) return {};
  if (values.some((v) => v !== 'All')) throw badRequest(`Invalid dryRun value: ${values.join(',')}; the only supported value is "All"`);
  return { dryRun: true };
}

function verbOf(request: ApiRequest, info: ResourceRequest): string {
  switch (request.method) {
    case 'GET':
      if (info.legacyWatch || isTrue(request.query.get('watch'))) return 'WATCH';
      return info.name === undefined ? 'LIST' : 'GET';
    case 'DELETE':
      return info.name === undefined ? 'DELETECOLLECTION' : 'DELETE';
    default:
      return request.method;
  }
}

function isTrue(value: string | null): boolean {
  return value === 'true' || value === '1';
}

/** Upstream's 404 for a path that addresses nothing. */
function notFoundPath(): StatusError {
  return new StatusError(404, 'NotFound', 'the server could not find the requested resource', {});
}

function statusResponse(status: Status): ApiResponse {
  return json(status.code, status);
}

function json(status: number, value: unknown): ApiResponse {
  return { status, contentType: JSON_TYPE, body: JSON.stringify(value) };
}

function text(status: number, body: string): ApiResponse {
  return { status, contentType: 'text/plain; charset=utf-8', body };
}
