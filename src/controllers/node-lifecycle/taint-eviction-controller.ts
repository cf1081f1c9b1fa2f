/**
 * The taint eviction controller (upstream's taint manager): a pod on a node with a NoExecute
 * taint it does not tolerate is deleted at once; one that tolerates every such taint for a
 * limited `tolerationSeconds` is deleted when that time has passed since the taint was added
 * (`timeAdded`; when a taint has none, since this controller first saw it); a toleration without
 * `tolerationSeconds` keeps the pod forever. Before deleting, the pod gets the
 * `DisruptionTarget` condition (`DeletionByTaintManager`) and an event `TaintManagerEviction`
 * ("Marking for deletion Pod ns/name"); a planned eviction that no longer applies is cancelled
 * with "Cancelling deletion of Pod ns/name".
 */
import type { Node, Pod, Taint } from 'kubernetes-types/core/v1.js';
import { isApiError, kinds, processQueue, tolerates, WorkQueue, type EventRecorder, type Informer, type ResourceClient } from '../../client/index.ts';
import type { Controller, ControllerContext, ControllerDescriptor } from '../manager.ts';
import { timestamp } from '../pod-util.ts';
import { PODS_BY_NODE_INDEX } from './node-lifecycle-controller.ts';

/** Options of {@link TaintEvictionController}. */
export interface TaintEvictionControllerOptions {
  /** The clock (ms). */
  now?: () => number;
}

/** See the file header. */
export class TaintEvictionController implements Controller {
  readonly #nodes: Informer<Node>;
  readonly #pods: Informer<Pod>;
  readonly #api: ResourceClient<Pod>;
  readonly #recorder: EventRecorder;
  readonly #queue = new WorkQueue();
  readonly #workers: number;
  readonly #now: () => number;
  /** Pods with an eviction planned (for the cancel event). */
  readonly #planned = new Set<string>();
  /** When taints without `timeAdded` were first seen: `node\0key\0effect` → ms. */
  readonly #firstSeen = new Map<string, number>();

  constructor(context: ControllerContext, options: TaintEvictionControllerOptions = {}) {
    this.#nodes = context.informers.informer(kinds.nodes);
    this.#pods = context.informers.informer(kinds.pods, { [PODS_BY_NODE_INDEX]: (pod) => [pod.spec?.nodeName ?? ''] });
    this.#api = context.client.resource(kinds.pods);
    this.#recorder = context.recorder('taint-eviction-controller');
    this.#workers = context.settings.workers;
    this.#now = options.now ?? Date.now;
  }

  start(): void {
    const enqueuePod = (pod: Pod) => {
      if (pod.spec?.nodeName) this.#queue.add(`${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`);
    };
    const nodeChanged = (old: Node | undefined, node: Node) => {
      if (old && JSON.stringify(noExecute(old)) === JSON.stringify(noExecute(node))) return;
      for (const pod of this.#pods.byIndex(PODS_BY_NODE_INDEX, node.metadata?.name ?? '')) enqueuePod(pod);
    };
    this.#nodes.addHandler({ add: (node) => nodeChanged(undefined, node), update: nodeChanged });
    this.#pods.addHandler({
      add: enqueuePod,
      update: (old, pod) => {
        if (old.spec?.nodeName !== pod.spec?.nodeName || JSON.stringify(old.spec?.tolerations) !== JSON.stringify(pod.spec?.tolerations)) enqueuePod(pod);
      },
      delete: (pod) => this.#planned.delete(`${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`),
    });
    for (let i = 0; i < this.#workers; i++) {
      void processQueue(this.#queue, (key) => this.#sync(key), {
        onError: (key, error) => console.error(`skiff: taint-eviction-controller: pod "${key}":`, error instanceof Error ? error.message : error),
      });
    }
  }

  stop(): void {
    this.#queue.shutDown();
  }

  async #sync(key: string): Promise<void> {
    const slash = key.indexOf('/');
    const pod = this.#pods.get(key.slice(0, slash), key.slice(slash + 1));
    if (!pod || pod.metadata?.deletionTimestamp) {
      this.#planned.delete(key);
      return;
    }
    const node = this.#nodes.get(undefined, pod.spec?.nodeName ?? '');
    const taints = node ? noExecute(node) : [];
    const deadline = this.#deadline(node?.metadata?.name ?? '', pod, taints);
    if (deadline === undefined) {
      if (this.#planned.delete(key)) this.#recorder.event(pod, 'Normal', 'TaintManagerEviction', `Cancelling deletion of Pod ${key}`);
      return;
    }
    const wait = deadline - this.#now();
    if (wait > 0) {
      this.#planned.add(key);
      this.#queue.addAfter(key, wait);
      return;
    }
    await this.#evict(pod, key);
  }

  /** When the pod must go (ms), or undefined when it may stay. */
  #deadline(nodeName: string, pod: Pod, taints: Taint[]): number | undefined {
    let deadline: number | undefined;
    const now = this.#now();
    for (const taint of taints) {
      const matching = (pod.spec?.tolerations ?? []).filter((t) => tolerates(t, taint));
      if (matching.length === 0) return now;
      // As upstream, tolerations without tolerationSeconds are left out; the shortest limited one
      // wins; when none is limited the pod stays for good.
      const limits = matching.map((t) => t.tolerationSeconds).filter((s): s is number => typeof s === 'number');
      if (limits.length === 0) continue;
      const seconds = Math.max(0, Math.min(...limits));
      const added = this.#addedAt(nodeName, taint, now);
      const at = added + seconds * 1000;
      deadline = deadline === undefined ? at : Math.min(deadline, at);
    }
    return deadline;
  }

  #addedAt(nodeName: string, taint: Taint, now: number): number {
    const parsed = taint.timeAdded ? Date.parse(taint.timeAdded) : NaN;
    // A taint added "in the future" (clock skew) counts from now.
    if (Number.isFinite(parsed)) return Math.min(parsed, now);
    const id = `${nodeName}\u0000${taint.key}\u0000${taint.effect}`;
    let seen = this.#firstSeen.get(id);
    if (seen === undefined) this.#firstSeen.set(id, (seen = now));
    return seen;
  }

  async #evict(pod: Pod, key: string): Promise<void> {
    const meta = pod.metadata!;
    this.#recorder.event(pod, 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${key}`);
    try {
      await this.#api.patch(
        meta.namespace,
        meta.name!,
        {
          status: {
            conditions: [
              { type: 'DisruptionTarget', status: 'True', reason: 'DeletionByTaintManager', message: 'Taint manager: deleting due to NoExecute taint', lastTransitionTime: timestamp(new Date(this.#now())) },
            ],
          },
        },
        { type: 'strategic', subresource: 'status' },
      );
      await this.#api.delete(meta.namespace, meta.name!, { preconditions: { uid: meta.uid! } });
    } catch (error) {
      // Gone already, or a new pod of that name: nothing to evict.
      if (!isApiError(error, 404) && !isApiError(error, 409)) throw error;
    }
    this.#planned.delete(key);
  }
}

function noExecute(node: Node): Taint[] {
  return (node.spec?.taints ?? []).filter((t) => t.effect === 'NoExecute');
}

/** The `taint-eviction-controller` descriptor. */
export const taintEvictionControllerDescriptor: ControllerDescriptor = {
  name: 'taint-eviction-controller',
  create: (context) => new TaintEvictionController(context),
};
