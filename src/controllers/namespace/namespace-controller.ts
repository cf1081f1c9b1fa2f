/**
 * The namespace controller: when a namespace is being deleted, it deletes everything in it,
 * waits until nothing is left, then removes the namespace's `kubernetes` finalizer, which lets
 * the namespace itself go. As upstream's, it finds "everything" through discovery, so custom
 * resources are included without knowing of them.
 */
import { processQueue, WorkQueue, type Transport } from '../../client/index.ts';

interface NamespaceObject {
  metadata: { name: string; deletionTimestamp?: string };
  spec?: { finalizers?: string[] };
}

interface ResourceList {
  groupVersion: string;
  resources: { name: string; namespaced: boolean; verbs: string[] }[];
}

/** Options of {@link NamespaceController}. */
export interface NamespaceControllerOptions {
  /** How long to wait before checking again on content still being deleted. Default 1 s. */
  recheckMs?: number;
}

/** See the file header. */
export class NamespaceController {
  readonly #client: Transport;
  readonly #queue = new WorkQueue();
  readonly #recheckMs: number;
  #stopWatch: (() => void) | undefined;
  #stopped = false;

  constructor(client: Transport, options: NamespaceControllerOptions = {}) {
    this.#client = client;
    this.#recheckMs = options.recheckMs ?? 1000;
  }

  /** Starts watching namespaces and working the queue. */
  async start(): Promise<void> {
    await this.#watch();
    void processQueue(this.#queue, (name) => this.#sync(name), {
      recheckMs: this.#recheckMs,
      onError: (name, error) => console.error(`skiff: namespace controller: deleting namespace "${name}":`, error),
    });
  }

  /** Stops the controller. */
  stop(): void {
    this.#stopped = true;
    this.#stopWatch?.();
    this.#queue.shutDown();
  }

  async #watch(): Promise<void> {
    // The watch starts with every namespace as ADDED, so one left half-deleted by a previous
    // run is picked up again.
    this.#stopWatch = await this.#client.watch<NamespaceObject>(
      { path: '/api/v1/namespaces' },
      (event) => {
        if ((event.type === 'ADDED' || event.type === 'MODIFIED') && event.object.metadata.deletionTimestamp) {
          this.#queue.add(event.object.metadata.name);
        }
      },
      () => {
        if (!this.#stopped) setTimeout(() => void this.#watch().catch(() => undefined), 1000);
      },
    );
  }

  /** Returns true when the namespace needs another look (its contents are still going). */
  async #sync(name: string): Promise<boolean> {
    const got = await this.#client.request<NamespaceObject>({ method: 'GET', path: `/api/v1/namespaces/${name}` });
    if (got.status === 404) return false;
    const ns = got.body;
    if (!ns.metadata.deletionTimestamp) return false;
    if (!(ns.spec?.finalizers ?? []).includes('kubernetes')) return false;
    let remaining = 0;
    for (const path of await this.#namespacedCollections(name)) {
      const deleted = await this.#client.request({ method: 'DELETE', path });
      if (deleted.status >= 400 && deleted.status !== 404 && deleted.status !== 405) {
        throw new Error(`DELETE ${path}: ${deleted.status} ${JSON.stringify(deleted.body)}`);
      }
      const left = await this.#client.request<{ items?: unknown[] }>({ method: 'GET', path });
      remaining += left.body.items?.length ?? 0;
    }
    if (remaining > 0) return true;
    const finalizers = (ns.spec?.finalizers ?? []).filter((f) => f !== 'kubernetes');
    const finalized = await this.#client.request({
      method: 'PUT',
      path: `/api/v1/namespaces/${name}/finalize`,
      body: { ...ns, spec: { ...ns.spec, finalizers } },
    });
    if (finalized.status >= 400 && finalized.status !== 404) {
      throw new Error(`finalize: ${finalized.status} ${JSON.stringify(finalized.body)}`);
    }
    return false;
  }

  /** Paths of every namespaced, deletable collection in the namespace, from discovery. */
  async #namespacedCollections(namespace: string): Promise<string[]> {
    const groupVersions = ['/api/v1'];
    const groups = await this.#client.request<{ groups: { versions: { groupVersion: string }[] }[] }>({ method: 'GET', path: '/apis' });
    for (const group of groups.body.groups) for (const v of group.versions) groupVersions.push(`/apis/${v.groupVersion}`);
    const paths: string[] = [];
    for (const gv of groupVersions) {
      const list = await this.#client.request<ResourceList>({ method: 'GET', path: gv });
      if (list.status !== 200) continue;
      for (const r of list.body.resources) {
        if (!r.namespaced || r.name.includes('/') || !r.verbs.includes('deletecollection')) continue;
        paths.push(`${gv}/namespaces/${namespace}/${r.name}`);
      }
    }
    return paths;
  }
}
