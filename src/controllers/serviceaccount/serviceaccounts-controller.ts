/**
 * The ServiceAccounts controller: every active namespace has a `default` ServiceAccount; one
 * deleted is made again. A namespace being deleted gets none (the API refuses creates in it).
 */
import type { Namespace, ServiceAccount } from 'kubernetes-types/core/v1.js';
import { isApiError, kinds, processQueue, WorkQueue, type Informer, type ResourceClient } from '../../client/index.ts';
import type { Controller, ControllerContext, ControllerDescriptor } from '../manager.ts';

/** Options of {@link ServiceAccountsController}. */
export interface ServiceAccountsControllerOptions {
  /** The accounts every namespace gets. Default `['default']`. */
  accounts?: string[];
}

/** See the file header. */
export class ServiceAccountsController implements Controller {
  readonly #namespaces: Informer<Namespace>;
  readonly #accounts: Informer<ServiceAccount>;
  readonly #api: ResourceClient<ServiceAccount>;
  readonly #queue = new WorkQueue();
  readonly #names: string[];
  readonly #workers: number;

  constructor(context: ControllerContext, options: ServiceAccountsControllerOptions = {}) {
    this.#namespaces = context.informers.informer(kinds.namespaces);
    this.#accounts = context.informers.informer(kinds.serviceAccounts);
    this.#api = context.client.resource(kinds.serviceAccounts);
    this.#names = options.accounts ?? ['default'];
    this.#workers = context.settings.workers;
  }

  start(): void {
    const enqueue = (ns: Namespace) => this.#queue.add(ns.metadata?.name ?? '');
    this.#namespaces.addHandler({ add: enqueue, update: (_, ns) => enqueue(ns) });
    this.#accounts.addHandler({
      delete: (account) => {
        if (this.#names.includes(account.metadata?.name ?? '')) this.#queue.add(account.metadata?.namespace ?? '');
      },
    });
    for (let i = 0; i < this.#workers; i++) {
      void processQueue(this.#queue, (name) => this.#sync(name), {
        onError: (name, error) => console.error(`skiff: serviceaccount-controller: namespace "${name}":`, error instanceof Error ? error.message : error),
      });
    }
  }

  stop(): void {
    this.#queue.shutDown();
  }

  async #sync(namespace: string): Promise<void> {
    const ns = this.#namespaces.get(undefined, namespace);
    if (!ns || ns.metadata?.deletionTimestamp || (ns.status?.phase && ns.status.phase !== 'Active')) return;
    for (const name of this.#names) {
      if (this.#accounts.get(namespace, name)) continue;
      try {
        await this.#api.create({ metadata: { name, namespace } }, { namespace });
      } catch (error) {
        // Already there (the cache was behind), or the namespace started terminating.
        if (isApiError(error, 409)) continue;
        if (isApiError(error) && error.code === 403 && /terminat/i.test(error.message)) return;
        throw error;
      }
    }
  }
}

/** The `serviceaccount-controller` descriptor. */
export const serviceAccountsControllerDescriptor: ControllerDescriptor = {
  name: 'serviceaccount-controller',
  create: (context) => new ServiceAccountsController(context),
};
