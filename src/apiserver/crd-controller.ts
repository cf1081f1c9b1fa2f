/**
 * Serves custom resources: follows CustomResourceDefinitions and keeps the registry in step —
 * a new CRD's resource is served as soon as the cache sees it, with the `NamesAccepted` and
 * `Established` conditions set; a deleted CRD first has all its objects deleted (the
 * `customresourcecleanup.apiextensions.k8s.io` finalizer), then stops being served.
 *
 * It lives in the API server because the registry is the API server's own state (upstream's
 * apiextensions-apiserver runs in the same process for the same reason). Its writes still go
 * through the API handler, with its validation.
 */
import { resourceDefsFromCrd } from './crd/index.ts';
import type { ResourceRegistry } from './registry.ts';
import type { KubeObject, ResourceDef } from './resource.ts';
import { type CachedObject, type CacheEventType, everything, type WatchCache } from './watch-cache.ts';
import { processQueue, WorkQueue, type Transport } from '../client/index.ts';

const PREFIX = '/registry/apiextensions.k8s.io/customresourcedefinitions/';
const CLEANUP = 'customresourcecleanup.apiextensions.k8s.io';
const CRD_PATH = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';

interface Crd extends KubeObject {
  metadata: { name: string; uid: string; deletionTimestamp?: string; finalizers?: string[]; resourceVersion?: string };
  spec: { group: string; names: { plural: string; kind: string }; scope: string; versions: { name: string; served: boolean; storage: boolean }[] };
  status?: { conditions?: { type: string; status: string }[]; acceptedNames?: unknown; storedVersions?: string[] };
}

/** See the file header. */
export class CrdController {
  readonly #cache: WatchCache;
  readonly #registry: ResourceRegistry;
  readonly #client: Transport;
  readonly #queue = new WorkQueue();
  /** What each CRD (by name) currently serves. */
  readonly #served = new Map<string, ResourceDef[]>();
  #stopWatch: (() => void) | undefined;

  constructor(cache: WatchCache, registry: ResourceRegistry, client: Transport) {
    this.#cache = cache;
    this.#registry = registry;
    this.#client = client;
  }

  /** Serves every CRD already stored, then follows changes. */
  start(): void {
    this.#stopWatch = this.#cache.watch(PREFIX, PREFIX, undefined, everything, {
      event: (type: CacheEventType, cached: CachedObject) => this.#observe(type, cached.object as Crd),
      end: () => undefined,
    });
    void processQueue(this.#queue, (name) => this.#sync(name), {
      recheckMs: 500,
      onError: (name, error) => console.error(`skiff: CRD controller: ${name}:`, error),
    });
  }

  /** Stops following CRDs (what is served stays served). */
  stop(): void {
    this.#stopWatch?.();
    this.#queue.shutDown();
  }

  #observe(type: CacheEventType, crd: Crd): void {
    if (type === 'DELETED') {
      this.#unserve(crd.metadata.name);
      return;
    }
    // Serve right away (synchronously with the cache) so that a client that created the CRD
    // and then the first object is served without racing a worker.
    this.#serve(crd);
    this.#queue.add(crd.metadata.name);
  }

  #serve(crd: Crd): void {
    let defs: ResourceDef[];
    try {
      defs = resourceDefsFromCrd(crd as never);
    } catch (error) {
      console.error(`skiff: cannot serve CRD ${crd.metadata.name}:`, error);
      return;
    }
    this.#unserve(crd.metadata.name);
    // Discovery lists a group's versions in registration order, and clients prefer the first.
    defs.sort((a, b) => compareKubeVersions(a.version, b.version));
    for (const def of defs) {
      if (this.#registry.lookup(def.group, def.version, def.plural)) {
        // A built-in or another CRD already serves this path: upstream refuses the names.
        continue;
      }
      this.#registry.add(def);
    }
    this.#served.set(crd.metadata.name, defs.filter((d) => this.#registry.lookup(d.group, d.version, d.plural) === d));
  }

  #unserve(name: string): void {
    for (const def of this.#served.get(name) ?? []) this.#registry.remove(def.group, def.version, def.plural);
    this.#served.delete(name);
  }

  /** Returns true when the CRD needs another look (its objects are still being deleted). */
  async #sync(name: string): Promise<boolean> {
    const got = await this.#request('GET', `${CRD_PATH}/${name}`);
    if (got.status === 404) return false;
    const crd = got.body as Crd;
    const finalizers = crd.metadata.finalizers ?? [];
    if (crd.metadata.deletionTimestamp) {
      if (!finalizers.includes(CLEANUP)) return false;
      const remaining = await this.#deleteObjects(crd);
      if (remaining > 0) return true;
      crd.metadata.finalizers = finalizers.filter((f) => f !== CLEANUP);
      await this.#request('PUT', `${CRD_PATH}/${name}`, crd);
      return false;
    }
    if (!finalizers.includes(CLEANUP)) {
      crd.metadata.finalizers = [...finalizers, CLEANUP];
      const put = await this.#request('PUT', `${CRD_PATH}/${name}`, crd);
      if (put.status !== 200) return put.status === 409;
      return true; // the status comes on the next pass, with the new resourceVersion
    }
    const conditions = crd.status?.conditions ?? [];
    const established = conditions.some((c) => c.type === 'Established' && c.status === 'True');
    const storage = crd.spec.versions.find((v) => v.storage)?.name;
    const stored = crd.status?.storedVersions ?? [];
    if (established && storage && stored.includes(storage)) return false;
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const condition = (type: string, reason: string, message: string) => ({ type, status: 'True', lastTransitionTime: now, reason, message });
    crd.status = {
      ...crd.status,
      acceptedNames: crd.spec.names,
      conditions: [
        condition('NamesAccepted', 'NoConflicts', 'no conflicts found'),
        condition('Established', 'InitialNamesAccepted', 'the initial names have been accepted'),
      ],
      storedVersions: storage && !stored.includes(storage) ? [...stored, storage] : stored,
    };
    const put = await this.#request('PUT', `${CRD_PATH}/${name}/status`, crd);
    return put.status === 409;
  }

  /** Deletes every object of the CRD's resource; returns how many were still there. */
  async #deleteObjects(crd: Crd): Promise<number> {
    const storage = crd.spec.versions.find((v) => v.storage)?.name ?? crd.spec.versions[0]?.name;
    const path = `/apis/${crd.spec.group}/${storage}/${crd.spec.names.plural}`;
    const list = await this.#request('GET', path);
    const items = (list.body as { items?: KubeObject[] }).items ?? [];
    for (const item of items) {
      const ns = item.metadata?.namespace;
      const itemPath = ns ? `/apis/${crd.spec.group}/${storage}/namespaces/${ns}/${crd.spec.names.plural}/${item.metadata!.name}` : `${path}/${item.metadata!.name}`;
      await this.#request('DELETE', itemPath);
    }
    return items.length;
  }

  #request(method: 'GET' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
    return this.#client.request({ method, path, ...(body === undefined ? {} : { body }) });
  }
}

/**
 * Upstream's kube-aware version order: GA before beta before alpha, higher numbers first within
 * each (`v10`, `v2`, `v1`, `v11beta2`, `v10beta3`, `v3beta1`, `v12alpha1`), then anything else
 * alphabetically.
 */
export function compareKubeVersions(a: string, b: string): number {
  const rank = (v: string): [number, number, number, string] => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    if (!m) return [3, 0, 0, v];
    const stage = m[2] === undefined ? 0 : m[2] === 'beta' ? 1 : 2;
    return [stage, -Number(m[1]), -Number(m[3] ?? 0), v];
  };
  const [x, y] = [rank(a), rank(b)];
  for (let i = 0; i < 4; i++) {
    if (x[i]! < y[i]!) return -1;
    if (x[i]! > y[i]!) return 1;
  }
  return 0;
}
