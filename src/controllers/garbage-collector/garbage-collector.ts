/**
 * The garbage collector: ownerReferences drive deletion, as upstream's.
 *
 * - An object all of whose owners are gone is deleted (Background propagation, and the
 *   collection of orphans left by any earlier deletion).
 * - An owner deleted with `propagationPolicy: Foreground` carries the `foregroundDeletion`
 *   finalizer: its dependents are deleted, and once none that block it
 *   (`blockOwnerDeletion: true`) is left, the finalizer is removed and the owner goes.
 * - An owner deleted with `propagationPolicy: Orphan` carries the `orphan` finalizer: its
 *   dependents lose their reference to it, then the finalizer is removed.
 *
 * It learns the cluster's objects from watches on every listable resource (found through
 * discovery, so custom resources are included) and keeps a graph of owner → dependents by uid.
 * Before it deletes anything because an owner is missing, it asks the API whether the owner
 * really is gone, so a watch that lags behind can never cause a wrong deletion.
 */
import { processQueue, ShardedMap, WorkQueue, type Transport } from '../../client/index.ts';

interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

interface Metadata {
  name: string;
  namespace?: string;
  uid: string;
  resourceVersion?: string;
  deletionTimestamp?: string;
  finalizers?: string[];
  ownerReferences?: OwnerReference[];
}

interface ApiObject {
  apiVersion?: string;
  kind?: string;
  metadata: Metadata;
}

/**
 * What the graph keeps of an object: the metadata fields it reads (no managedFields, labels,
 * annotations or resourceVersion). The graph holds one per object of every kind, so each is
 * kept to one small object.
 */
function graphMetadata(object: ApiObject): Metadata {
  const m = object.metadata;
  return {
    name: m.name,
    ...(m.namespace !== undefined ? { namespace: m.namespace } : {}),
    uid: m.uid,
    ...(m.deletionTimestamp !== undefined ? { deletionTimestamp: m.deletionTimestamp } : {}),
    ...(m.finalizers !== undefined ? { finalizers: m.finalizers } : {}),
    ...(m.ownerReferences !== undefined ? { ownerReferences: m.ownerReferences } : {}),
  };
}

/** Where a kind lives in the API. */
interface ResourceInfo {
  /** `/api/v1` or `/apis/apps/v1`. */
  base: string;
  resource: string;
  namespaced: boolean;
}

/**
 * What the collector knows of one object: the metadata it reads, kept on the node itself (one
 * heap object per object of every kind, not two), updated in place as events arrive.
 */
interface Node extends Metadata {
  /** Where its kind lives (shared by every node of the kind): with the name, the API path. */
  info: ResourceInfo;
  /** uids of objects that name this one as owner; made for the first. */
  dependents: Set<string> | undefined;
}

/** A node for an object first seen, every field present (one shape for all nodes). */
function newNode(info: ResourceInfo, m: Metadata): Node {
  return {
    name: m.name,
    namespace: m.namespace,
    uid: m.uid,
    deletionTimestamp: m.deletionTimestamp,
    finalizers: m.finalizers,
    ownerReferences: m.ownerReferences,
    info,
    dependents: undefined,
  };
}

/** Brings a node's metadata up to date with an event's. */
function setMetadata(node: Node, m: Metadata): void {
  node.name = m.name;
  node.namespace = m.namespace;
  node.deletionTimestamp = m.deletionTimestamp;
  node.finalizers = m.finalizers;
  node.ownerReferences = m.ownerReferences;
}

/** The metadata fields of an object the graph follows beside its name, namespace and uid. */
const GRAPH_FIELDS = ['ownerReferences', 'finalizers', 'deletionTimestamp'] as const;

const ORPHAN = 'orphan';
const FOREGROUND = 'foregroundDeletion';

/** Options of {@link GarbageCollector}. */
export interface GarbageCollectorOptions {
  /** How long to wait before checking again on dependents still being deleted. Default 1 s. */
  recheckMs?: number;
  /** How often discovery is read again to watch new kinds (custom resources). Default 30 s. */
  resyncMs?: number;
}

/** See the file header. */
export class GarbageCollector {
  readonly #client: Transport;
  readonly #queue = new WorkQueue();
  /** Every object, by uid: one entry per object of every kind (see ShardedMap). */
  readonly #nodes = new ShardedMap<Node>();
  /** Dependents whose owners are not known yet, by owner uid. */
  readonly #waiting = new Map<string, Set<string>>();
  /** Resource info by `apiVersion/Kind`. */
  readonly #kinds = new Map<string, ResourceInfo>();
  /** Stop functions of the running watches, by resource path. */
  readonly #watches = new Map<string, () => void>();
  readonly #recheckMs: number;
  readonly #resyncMs: number;
  #resyncTimer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(client: Transport, options: GarbageCollectorOptions = {}) {
    this.#client = client;
    this.#recheckMs = options.recheckMs ?? 1000;
    this.#resyncMs = options.resyncMs ?? 30_000;
  }

  /** Discovers resources, starts watching them all, and starts working. */
  async start(): Promise<void> {
    await this.#resync();
    this.#resyncTimer = setInterval(() => void this.#resync().catch(() => undefined), this.#resyncMs);
    this.#resyncTimer.unref();
    void processQueue(this.#queue, (uid) => this.#sync(uid), {
      recheckMs: this.#recheckMs,
      onError: (uid, error) => {
        if (!this.#stopped) console.error(`skiff: garbage collector: ${uid}:`, error);
      },
    });
  }

  /** Stops watching and working. */
  stop(): void {
    this.#stopped = true;
    clearInterval(this.#resyncTimer);
    for (const stop of this.#watches.values()) stop();
    this.#watches.clear();
    this.#queue.shutDown();
  }

  /** Watches every kind discovery lists now, and stops watching kinds that went away. */
  async #resync(): Promise<void> {
    const resources = await this.#discover();
    this.#kinds.clear();
    for (const [key, info] of resources) this.#kinds.set(key, info);
    const wanted = new Map([...resources.values()].map((info) => [`${info.base}/${info.resource}`, info]));
    for (const [path, stop] of this.#watches) {
      if (!wanted.has(path)) {
        stop();
        this.#watches.delete(path);
      }
    }
    for (const [path, info] of wanted) if (!this.#watches.has(path)) await this.#watch(info);
  }

  async #discover(): Promise<Map<string, ResourceInfo>> {
    const out = new Map<string, ResourceInfo>();
    const bases = ['/api/v1'];
    const groups = await this.#client.request<{ groups: { versions: { groupVersion: string }[] }[] }>({ method: 'GET', path: '/apis' });
    for (const g of groups.body.groups) for (const v of g.versions) bases.push(`/apis/${v.groupVersion}`);
    for (const base of bases) {
      const list = await this.#client.request<{ groupVersion: string; resources: { name: string; kind: string; namespaced: boolean; verbs: string[] }[] }>({ method: 'GET', path: base });
      if (list.status !== 200) continue;
      for (const r of list.body.resources) {
        if (r.name.includes('/') || !r.verbs.includes('watch') || !r.verbs.includes('delete')) continue;
        out.set(`${list.body.groupVersion}/${r.kind}`, { base, resource: r.name, namespaced: r.namespaced });
      }
    }
    return out;
  }

  async #watch(info: ResourceInfo): Promise<void> {
    const path = `${info.base}/${info.resource}`;
    let cancelled = false;
    // Metadata only, as upstream's collector: the graph keeps no object's spec or data.
    const stop = await this.#client.watch<ApiObject>(
      { path, accept: 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1' },
      (event) => {
        if (event.type === 'ADDED' || event.type === 'MODIFIED') this.#upsert(info, graphMetadata(event.object));
        else if (event.type === 'DELETED') this.#remove(event.object);
      },
      () => {
        if (cancelled || this.#stopped) return;
        // The server ended the watch (timeout or restart): start again, which replays the
        // current objects as ADDED and so brings the graph up to date.
        this.#watches.delete(path);
        setTimeout(() => void this.#watch(info).catch(() => undefined), 1000);
      },
      // The collector reads nothing else an update can change (name and uid never do): the
      // updates of objects that have none of these, most of them, need not reach it.
      { onlyChangesTo: GRAPH_FIELDS },
    );
    this.#watches.set(path, () => {
      cancelled = true;
      stop();
    });
  }

  #pathOf(info: ResourceInfo, m: Metadata): string {
    return info.namespaced ? `${info.base}/namespaces/${m.namespace}/${info.resource}/${m.name}` : `${info.base}/${info.resource}/${m.name}`;
  }

  /** An object's API path. */
  #path(node: Node): string {
    return this.#pathOf(node.info, node);
  }

  #upsert(info: ResourceInfo, m: Metadata): void {
    const previous = this.#nodes.get(m.uid);
    let node: Node;
    if (previous) {
      for (const ref of previous.ownerReferences ?? []) {
        this.#nodes.get(ref.uid)?.dependents?.delete(m.uid);
        this.#waiting.get(ref.uid)?.delete(m.uid);
      }
      setMetadata(previous, m);
      node = previous;
    } else {
      node = newNode(info, m);
      this.#nodes.set(m.uid, node);
    }
    for (const ref of m.ownerReferences ?? []) {
      const owner = this.#nodes.get(ref.uid);
      if (owner) (owner.dependents ??= new Set()).add(m.uid);
      else {
        let set = this.#waiting.get(ref.uid);
        if (!set) this.#waiting.set(ref.uid, (set = new Set()));
        set.add(m.uid);
        // An owner never seen may be gone: check.
        this.#queue.add(m.uid);
      }
    }
    // Dependents seen before this owner now hang off it.
    const waiting = this.#waiting.get(m.uid);
    if (waiting) {
      for (const dep of waiting) (node.dependents ??= new Set()).add(dep);
      this.#waiting.delete(m.uid);
    }
    if (m.deletionTimestamp && (m.finalizers ?? []).some((f) => f === ORPHAN || f === FOREGROUND)) this.#queue.add(m.uid);
  }

  #remove(object: ApiObject): void {
    const m = object.metadata;
    const node = this.#nodes.get(m.uid);
    this.#nodes.delete(m.uid);
    for (const ref of m.ownerReferences ?? []) {
      const owner = this.#nodes.get(ref.uid);
      if (owner) {
        owner.dependents?.delete(m.uid);
        // A foreground owner may have been waiting for this dependent.
        if (owner.deletionTimestamp) this.#queue.add(owner.uid);
      }
      this.#waiting.get(ref.uid)?.delete(m.uid);
    }
    // Its dependents may now be orphans to collect.
    for (const dep of node?.dependents ?? []) {
      let set = this.#waiting.get(m.uid);
      if (!set) this.#waiting.set(m.uid, (set = new Set()));
      set.add(dep);
      this.#queue.add(dep);
    }
  }

  /** Returns true when the object needs another look later. */
  async #sync(uid: string): Promise<boolean> {
    const node = this.#nodes.get(uid);
    if (!node) return false;
    const m = node;
    const finalizers = m.finalizers ?? [];
    if (m.deletionTimestamp && finalizers.includes(ORPHAN)) return this.#orphanDependents(node);
    if (m.deletionTimestamp && finalizers.includes(FOREGROUND)) return this.#deleteDependentsFirst(node);
    return this.#collectIfOrphaned(node);
  }

  /** Deletes `node` if every owner it names is gone. */
  async #collectIfOrphaned(node: Node): Promise<boolean> {
    const refs = node.ownerReferences ?? [];
    if (refs.length === 0) return false;
    let foregroundOwner = false;
    for (const ref of refs) {
      const state = await this.#ownerState(node, ref);
      if (state === 'present') return false;
      if (state === 'foreground') foregroundOwner = true;
    }
    // Every owner is gone, or is itself waiting in foreground deletion for its dependents.
    const m = node;
    const response = await this.#client.request({
      method: 'DELETE',
      path: this.#path(node),
      body: {
        kind: 'DeleteOptions',
        apiVersion: 'v1',
        preconditions: { uid: m.uid },
        propagationPolicy: foregroundOwner ? 'Foreground' : 'Background',
      },
    });
    if (response.status >= 400 && response.status !== 404 && response.status !== 409) {
      throw new Error(`DELETE ${this.#path(node)}: ${response.status} ${JSON.stringify(response.body)}`);
    }
    return false;
  }

  /** Whether an owner exists, asking the API when the graph does not know it. */
  async #ownerState(node: Node, ref: OwnerReference): Promise<'present' | 'absent' | 'foreground'> {
    const known = this.#nodes.get(ref.uid);
    const owner = known ?? (await this.#lookup(node, ref))?.metadata;
    if (!owner || owner.uid !== ref.uid) return 'absent';
    if (owner.deletionTimestamp && (owner.finalizers ?? []).includes(FOREGROUND)) return 'foreground';
    return 'present';
  }

  async #lookup(node: Node, ref: OwnerReference): Promise<ApiObject | undefined> {
    let info = this.#kinds.get(`${ref.apiVersion}/${ref.kind}`);
    if (!info) {
      // A kind discovery has not shown us yet (a CRD created since the last resync): look again
      // before judging. A kind still unknown is an error to retry, never a reason to delete —
      // as upstream, whose collector requeues an item whose owner's kind it cannot map.
      await this.#resync();
      info = this.#kinds.get(`${ref.apiVersion}/${ref.kind}`);
      if (!info) throw new Error(`owner ${ref.kind} ${ref.name} (${ref.apiVersion}) of ${this.#path(node)}: the server does not serve that kind`);
    }
    const path = this.#pathOf(info, { name: ref.name, namespace: node.namespace, uid: ref.uid });
    const response = await this.#client.request<ApiObject>({ method: 'GET', path });
    if (response.status === 404) return undefined;
    if (response.status !== 200) throw new Error(`GET ${path}: ${response.status}`);
    return response.body;
  }

  /** Orphan propagation: drop the owner from each dependent, then release the owner. */
  async #orphanDependents(owner: Node): Promise<boolean> {
    for (const uid of [...(owner.dependents ?? [])]) {
      const dep = this.#nodes.get(uid);
      if (!dep) continue;
      await this.#update(this.#path(dep), (object) => {
        object.metadata.ownerReferences = (object.metadata.ownerReferences ?? []).filter((r) => r.uid !== owner.uid);
        if (object.metadata.ownerReferences.length === 0) delete object.metadata.ownerReferences;
      });
    }
    await this.#removeFinalizer(owner, ORPHAN);
    return false;
  }

  /** Foreground propagation: delete the dependents, release the owner once blockers are gone. */
  async #deleteDependentsFirst(owner: Node): Promise<boolean> {
    let blocking = 0;
    for (const uid of [...(owner.dependents ?? [])]) {
      const dep = this.#nodes.get(uid);
      if (!dep) continue;
      const ref = (dep.ownerReferences ?? []).find((r) => r.uid === owner.uid);
      if (ref?.blockOwnerDeletion) blocking++;
      if (!dep.deletionTimestamp) {
        const response = await this.#client.request({
          method: 'DELETE',
          path: this.#path(dep),
          body: { kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { uid }, propagationPolicy: 'Foreground' },
        });
        if (response.status >= 400 && response.status !== 404 && response.status !== 409) {
          throw new Error(`DELETE ${this.#path(dep)}: ${response.status} ${JSON.stringify(response.body)}`);
        }
      }
    }
    if (blocking > 0) return true;
    await this.#removeFinalizer(owner, FOREGROUND);
    return false;
  }

  async #removeFinalizer(node: Node, finalizer: string): Promise<void> {
    await this.#update(this.#path(node), (object) => {
      object.metadata.finalizers = (object.metadata.finalizers ?? []).filter((f) => f !== finalizer);
    });
  }

  /** Read-modify-write with the resourceVersion as precondition; retried on conflict. */
  async #update(path: string, change: (object: ApiObject) => void): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const got = await this.#client.request<ApiObject>({ method: 'GET', path });
      if (got.status === 404) return;
      const object = got.body;
      change(object);
      const put = await this.#client.request({ method: 'PUT', path, body: object });
      if (put.status === 409) continue;
      if (put.status >= 400 && put.status !== 404) throw new Error(`PUT ${path}: ${put.status} ${JSON.stringify(put.body)}`);
      return;
    }
    throw new Error(`PUT ${path}: too many conflicts`);
  }
}
