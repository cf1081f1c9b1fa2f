/**
 * The DaemonSet controller, after upstream's `daemon_controller.go` and `update.go`.
 *
 * Each sync of a set:
 * - finds (or creates) the ControllerRevision of its current template; its hash is the
 *   `controller-revision-hash` label of up-to-date pods;
 * - for every node, decides whether the node should run the pod (see `node-fit.ts`): a node that
 *   should and has none gets one; a node that should not (labels, affinity, taints) loses its
 *   pods; failed pods are deleted (with a per-node back-off) so they come back; extra pods on
 *   one node are pruned, oldest kept; pods pinned to nodes that no longer exist are deleted;
 * - new pods carry the default daemon tolerations and a required node affinity on the node's
 *   `metadata.name`, so the scheduler places them there;
 * - `RollingUpdate` replaces old pods: without surge it deletes as many available old pods as
 *   `maxUnavailable` allows (unavailable ones at once) and the loop above recreates them; with
 *   `maxSurge` it first starts new pods next to old ones and deletes an old pod once its new
 *   one is available. `OnDelete` waits for the user;
 * - status (desired, current, ready, available, updated, misscheduled, unavailable) is written,
 *   `observedGeneration` only once the controller's own creations and deletions are seen;
 * - the revision history is trimmed to `revisionHistoryLimit`, keeping revisions pods still run.
 * Pods are created with `generateName`, so "expectations" keep a stale cache from creating twice.
 */
import type { ControllerRevision, DaemonSet, DaemonSetStatus } from 'kubernetes-types/apps/v1.js';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import {
  byControllerUid,
  controllerOf,
  controllerRef,
  controllerUidIndex,
  Expectations,
  isApiError,
  kinds,
  objectKey,
  processQueue,
  selectorMatches,
  splitKey,
  WorkQueue,
  type Client,
  type EventRecorder,
  type Informer,
} from '../../client/index.ts';
import { canonicalJson, History, podRevisionLabel, podTemplateHash, templatePatch } from '../history/index.ts';
import type { Controller, ControllerContext } from '../manager.ts';
import { isPodAvailable, isPodReady } from '../pod-util.ts';
import { nodeShouldRunDaemonPod, pinnedAffinity, targetNodeName, withDaemonTolerations } from './node-fit.ts';

/** Options of {@link DaemonSetController}. */
export interface DaemonSetControllerOptions {
  /** Concurrent syncs. Default 5. */
  workers?: number;
  /** The clock. Default `() => new Date()`. */
  now?: () => Date;
  /** First delay before a failed daemon pod on one node is deleted again. Default 1 s. */
  failedPodBackoffMs?: number;
  /** Longest such delay. Default 15 minutes. */
  maxFailedPodBackoffMs?: number;
}

const maxBatch = 500;

/** Thrown (and retried) when a sync could not do everything; names what failed. */
class DaemonSetSyncError extends Error {
  override readonly name = 'DaemonSetSyncError';
  readonly code = 'DaemonSetSync';
}

/** See the file header. */
export class DaemonSetController implements Controller {
  readonly #client: Client;
  readonly #recorder: EventRecorder;
  readonly #sets: Informer<DaemonSet>;
  readonly #pods: Informer<Pod>;
  readonly #nodes: Informer<Node>;
  readonly #revisions: Informer<ControllerRevision>;
  readonly #history: History;
  readonly #queue = new WorkQueue();
  readonly #expectations = new Expectations();
  readonly #workers: number;
  readonly #now: () => Date;
  readonly #backoffBase: number;
  readonly #backoffMax: number;
  /** Failed-pod back-off per `<set key>/<node>`: current delay and when it was last used. */
  readonly #backoff = new Map<string, { delay: number; at: number }>();
  readonly #running: Promise<void>[] = [];

  constructor(context: ControllerContext, options: DaemonSetControllerOptions = {}) {
    this.#client = context.client;
    this.#recorder = context.recorder('daemonset-controller');
    this.#workers = options.workers ?? context.settings.workers;
    this.#now = options.now ?? (() => new Date());
    this.#backoffBase = options.failedPodBackoffMs ?? 1000;
    this.#backoffMax = options.maxFailedPodBackoffMs ?? 15 * 60_000;
    this.#sets = context.informers.informer(kinds.daemonSets);
    this.#pods = context.informers.informer(kinds.pods, { [controllerUidIndex]: byControllerUid });
    this.#nodes = context.informers.informer(kinds.nodes);
    this.#revisions = context.informers.informer(kinds.controllerRevisions, { [controllerUidIndex]: byControllerUid });
    this.#history = new History(this.#client, this.#revisions);

    const enqueue = (ds: DaemonSet) => this.#queue.add(objectKey(ds));
    this.#sets.addHandler({
      add: enqueue,
      update: (_old, ds) => enqueue(ds),
      delete: (ds) => {
        this.#expectations.delete(objectKey(ds));
        enqueue(ds);
      },
    });
    this.#pods.addHandler({
      add: (pod) => {
        const key = this.#ownerKey(pod);
        if (!key) return this.#enqueueAdopters(pod);
        if (pod.metadata?.deletionTimestamp) this.#expectations.deletionObserved(key);
        else this.#expectations.creationObserved(key);
        this.#queue.add(key);
      },
      update: (old, pod) => {
        if (old.metadata?.resourceVersion === pod.metadata?.resourceVersion) return;
        const key = this.#ownerKey(pod);
        const oldKey = this.#ownerKey(old);
        if (oldKey && oldKey !== key) this.#queue.add(oldKey);
        if (!key) return this.#enqueueAdopters(pod);
        // A pod being deleted counts as deleted, as upstream's: its replacement may be planned.
        if (pod.metadata?.deletionTimestamp && !old.metadata?.deletionTimestamp) this.#expectations.deletionObserved(key);
        this.#queue.add(key);
        const minReady = this.#sets.get(pod.metadata?.namespace, controllerOf(pod)!.name)?.spec?.minReadySeconds ?? 0;
        if (minReady > 0 && !isPodReady(old) && isPodReady(pod)) this.#queue.addAfter(key, minReady * 1000 + 100);
      },
      delete: (pod) => {
        const key = this.#ownerKey(pod);
        if (!key) return;
        if (!pod.metadata?.deletionTimestamp) this.#expectations.deletionObserved(key);
        this.#queue.add(key);
      },
    });
    this.#nodes.addHandler({
      add: (node) => {
        for (const ds of this.#sets.list()) if (nodeShouldRunDaemonPod(node, ds).shouldRun) enqueue(ds);
      },
      update: (old, node) => {
        if (!nodeChangeMatters(old, node)) return;
        for (const ds of this.#sets.list()) {
          const a = nodeShouldRunDaemonPod(old, ds);
          const b = nodeShouldRunDaemonPod(node, ds);
          if (a.shouldRun !== b.shouldRun || a.shouldContinueRunning !== b.shouldContinueRunning) enqueue(ds);
        }
      },
      delete: () => {
        for (const ds of this.#sets.list()) enqueue(ds);
      },
    });
    const revisionChanged = (r: ControllerRevision) => {
      const key = this.#ownerKey(r);
      if (key) this.#queue.add(key);
    };
    this.#revisions.addHandler({ add: revisionChanged, update: (_old, r) => revisionChanged(r), delete: revisionChanged });
  }

  start(): void {
    for (let i = 0; i < this.#workers; i++) {
      this.#running.push(
        processQueue(this.#queue, (key) => this.#sync(key), {
          onError: (key, error) => console.error(`skiff: daemonset-controller: syncing "${key}":`, error instanceof Error ? error.message : error),
        }),
      );
    }
  }

  async stop(): Promise<void> {
    this.#queue.shutDown();
    await Promise.all(this.#running);
    await this.#recorder.flush();
  }

  /** The key of the DaemonSet controlling `object`, if it exists with that uid. */
  #ownerKey(object: Pod | ControllerRevision): string | undefined {
    const ref = controllerOf(object);
    if (ref?.kind !== 'DaemonSet') return undefined;
    const ds = this.#sets.get(object.metadata?.namespace, ref.name);
    return ds && ds.metadata?.uid === ref.uid ? objectKey(ds) : undefined;
  }

  #enqueueAdopters(pod: Pod): void {
    if (pod.metadata?.deletionTimestamp) return;
    for (const ds of this.#sets.list(pod.metadata?.namespace ?? '')) {
      if (selectorMatches(ds.spec?.selector, pod.metadata?.labels)) this.#queue.add(objectKey(ds));
    }
  }

  async #sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const cached = this.#sets.get(namespace, name);
    if (!cached) {
      this.#expectations.delete(key);
      return;
    }
    const ds = structuredClone(cached);
    if (ds.metadata?.deletionTimestamp) return;
    const nodes = this.#nodes.list();
    const { current, old } = await this.#constructHistory(ds);
    const hash = current.metadata?.labels?.[podRevisionLabel] ?? '';

    if (!this.#expectations.satisfied(key)) {
      await this.#writeStatus(ds, nodes, hash, false);
      return;
    }
    let failure: unknown;
    try {
      await this.#manage(ds, nodes, hash);
      if (this.#expectations.satisfied(key) && ds.spec?.updateStrategy?.type !== 'OnDelete') await this.#rollingUpdate(ds, nodes, hash);
      await this.#cleanupHistory(ds, old);
    } catch (error) {
      failure = error;
    }
    await this.#writeStatus(ds, nodes, hash, true);
    if (failure) throw failure;
  }

  // ---- pods ----

  /** The set's pods by the node they are on or pinned to, after adoption and release. */
  async #podsByNode(ds: DaemonSet): Promise<Map<string, Pod[]>> {
    const uid = ds.metadata?.uid ?? '';
    const selector = ds.spec?.selector;
    const pods: Pod[] = [];
    for (const pod of this.#pods.byIndex(controllerUidIndex, uid)) {
      if (selectorMatches(selector, pod.metadata?.labels)) pods.push(pod);
      else if (!pod.metadata?.deletionTimestamp) await this.#patchOwners(pod, [{ $patch: 'delete', uid }]);
    }
    for (const pod of this.#pods.list(ds.metadata?.namespace ?? '', selector)) {
      if (controllerOf(pod) || pod.metadata?.deletionTimestamp) continue;
      const adopted = await this.#patchOwners(pod, [controllerRef(ds, 'apps/v1', 'DaemonSet')]);
      if (adopted) pods.push(adopted);
    }
    const byNode = new Map<string, Pod[]>();
    for (const pod of pods) {
      const phase = pod.status?.phase;
      // A finished pod on its way out is of no interest any more.
      if (pod.metadata?.deletionTimestamp && (phase === 'Succeeded' || phase === 'Failed')) continue;
      const node = targetNodeName(pod);
      if (node === undefined) continue;
      let list = byNode.get(node);
      if (!list) byNode.set(node, (list = []));
      list.push(pod);
    }
    return byNode;
  }

  async #patchOwners(pod: Pod, refs: unknown[]): Promise<Pod | undefined> {
    const meta = pod.metadata ?? {};
    try {
      return await this.#client.resource(kinds.pods).patch(meta.namespace, meta.name ?? '', { metadata: { ownerReferences: refs, uid: meta.uid } }, { type: 'strategic' });
    } catch (error) {
      if (isApiError(error, 404) || isApiError(error, 409) || isApiError(error, 422)) return undefined;
      throw error;
    }
  }

  /** Creates and deletes pods so each eligible node runs one (upstream's `manage`). */
  async #manage(ds: DaemonSet, nodes: Node[], hash: string): Promise<void> {
    const byNode = await this.#podsByNode(ds);
    const create: string[] = [];
    const remove: Pod[] = [];
    const known = new Set<string>();
    for (const node of nodes) {
      known.add(node.metadata?.name ?? '');
      const plan = this.#podsShouldBeOnNode(ds, node, byNode.get(node.metadata?.name ?? ''), hash);
      create.push(...plan.create);
      remove.push(...plan.remove);
    }
    // Pods of nodes that are gone: nobody else will ever run or remove them.
    for (const [node, pods] of byNode) if (!known.has(node)) for (const pod of pods) if (!pod.metadata?.deletionTimestamp) remove.push(pod);
    await this.#syncNodes(ds, remove, create, hash, known);
  }

  #podsShouldBeOnNode(ds: DaemonSet, node: Node, pods: Pod[] | undefined, hash: string): { create: string[]; remove: Pod[] } {
    const name = node.metadata?.name ?? '';
    const { shouldRun, shouldContinueRunning } = nodeShouldRunDaemonPod(node, ds);
    const create: string[] = [];
    const remove: Pod[] = [];
    if (shouldRun && !pods?.length) return { create: [name], remove };
    if (!shouldContinueRunning) {
      for (const pod of pods ?? []) if (!pod.metadata?.deletionTimestamp) remove.push(pod);
      return { create, remove };
    }
    const running: Pod[] = [];
    for (const pod of pods ?? []) {
      if (pod.metadata?.deletionTimestamp) continue;
      if (pod.status?.phase === 'Failed') {
        const backoffKey = `${objectKey(ds)}/${name}`;
        const now = this.#now().getTime();
        const entry = this.#backoff.get(backoffKey);
        if (entry && now - entry.at < entry.delay) {
          this.#queue.addAfter(objectKey(ds), entry.delay - (now - entry.at));
          continue;
        }
        const delay = !entry || now - entry.at > 2 * this.#backoffMax ? this.#backoffBase : Math.min(entry.delay * 2, this.#backoffMax);
        this.#backoff.set(backoffKey, { delay, at: now });
        this.#recorder.event(ds, 'Warning', 'FailedDaemonPod', `Found failed daemon pod ${pod.metadata?.namespace}/${pod.metadata?.name} on node ${name}, will try to kill it`);
        remove.push(pod);
      } else if (pod.status?.phase === 'Succeeded') {
        remove.push(pod);
      } else {
        running.push(pod);
      }
    }
    const surge = allowsSurge(ds);
    if (running.length <= 1) {
      // Under surge, a node whose only pods were removed needs a new one now.
      if (surge && running.length === 0 && shouldRun) create.push(name);
      return { create, remove };
    }
    running.sort(byScheduledThenAge);
    if (!surge) {
      remove.push(...running.slice(1));
      return { create, remove };
    }
    // With surge, an old and a new pod may share a node while the new one becomes available.
    let oldestNew: Pod | undefined;
    let oldestOld: Pod | undefined;
    for (const pod of running) {
      const isNew = pod.metadata?.labels?.[podRevisionLabel] === hash;
      if (isNew && !oldestNew) oldestNew = pod;
      else if (!isNew && !oldestOld) oldestOld = pod;
      else remove.push(pod);
    }
    if (oldestNew && oldestOld && (!isPodReady(oldestOld) || isPodAvailable(oldestNew, ds.spec?.minReadySeconds ?? 0, this.#now()))) remove.push(oldestOld);
    return { create, remove };
  }

  /** Deletes `remove` and creates a pod for each node of `create`, with expectations (upstream's `syncNodes`). */
  async #syncNodes(ds: DaemonSet, remove: Pod[], create: string[], hash: string, knownNodes: ReadonlySet<string>): Promise<void> {
    if (remove.length === 0 && create.length === 0) return;
    const key = objectKey(ds);
    this.#expectations.expect(key, create.length, remove.length);
    const errors: string[] = [];
    const template = withDaemonTolerations(ds.spec?.template?.spec ?? { containers: [] });
    const tmeta = ds.spec?.template?.metadata ?? {};
    const podsApi = this.#client.resource(kinds.pods);

    const createOne = async (node: string) => {
      const pod: Pod = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          generateName: `${ds.metadata?.name}-`,
          namespace: ds.metadata?.namespace ?? '',
          labels: { ...tmeta.labels, [podRevisionLabel]: hash },
          ...(tmeta.annotations ? { annotations: { ...tmeta.annotations } } : {}),
          ...(tmeta.finalizers ? { finalizers: [...tmeta.finalizers] } : {}),
          ownerReferences: [controllerRef(ds, 'apps/v1', 'DaemonSet')],
        },
        spec: { ...structuredClone(template), affinity: pinnedAffinity(template.affinity, node) },
      };
      try {
        const created = await podsApi.create(pod);
        this.#recorder.event(ds, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata?.name}`);
      } catch (error) {
        // Nothing will arrive for this one.
        this.#expectations.creationObserved(key);
        if (isApiError(error, 403) && error.reason === 'Forbidden' && /being terminated/.test(error.message)) return;
        const message = error instanceof Error ? error.message : String(error);
        this.#recorder.event(ds, 'Warning', 'FailedCreate', `Error creating: ${message}`);
        throw error;
      }
    };
    // Slow start: batches of 1, 2, 4 … so a broken template fails once, not once per node.
    let next = 0;
    for (let size = Math.min(1, create.length); size > 0; size = Math.min(2 * size, create.length - next, maxBatch)) {
      const batch = create.slice(next, next + size);
      next += size;
      const results = await Promise.allSettled(batch.map(createOne));
      const failed = results.filter((r) => r.status === 'rejected');
      if (failed.length > 0) {
        for (let skipped = create.length - next; skipped > 0; skipped--) this.#expectations.creationObserved(key);
        errors.push(...failed.map((r) => String((r as PromiseRejectedResult).reason?.message ?? r)));
        break;
      }
    }

    await Promise.all(
      remove.map(async (pod) => {
        const meta = pod.metadata ?? {};
        const node = pod.spec?.nodeName;
        try {
          // A pod bound to a node that is gone has no kubelet to finish it: it goes at once, as the pod GC does.
          const options = node && !knownNodes.has(node) ? { gracePeriodSeconds: 0 } : {};
          await podsApi.delete(meta.namespace, meta.name ?? '', { ...options, preconditions: { uid: meta.uid ?? '' } });
          this.#recorder.event(ds, 'Normal', 'SuccessfulDelete', `Deleted pod: ${meta.name}`);
        } catch (error) {
          this.#expectations.deletionObserved(key);
          if (isApiError(error, 404) || isApiError(error, 409)) return;
          const message = error instanceof Error ? error.message : String(error);
          this.#recorder.event(ds, 'Warning', 'FailedDelete', `Error deleting: ${message}`);
          errors.push(message);
        }
      }),
    );
    if (errors.length > 0) throw new DaemonSetSyncError(errors.join('; '));
  }

  // ---- rolling update ----

  async #rollingUpdate(ds: DaemonSet, nodes: Node[], hash: string): Promise<void> {
    const byNode = await this.#podsByNode(ds);
    const now = this.#now();
    const minReady = ds.spec?.minReadySeconds ?? 0;
    const available = (pod: Pod) => isPodAvailable(pod, minReady, now);
    let desired = 0;
    for (const node of nodes) {
      if (!nodeShouldRunDaemonPod(node, ds).shouldRun) continue;
      desired++;
      if (!byNode.has(node.metadata?.name ?? '')) byNode.set(node.metadata?.name ?? '', []);
    }
    const rolling = ds.spec?.updateStrategy?.rollingUpdate;
    let maxUnavailable = scaledValue(rolling?.maxUnavailable ?? 1, desired);
    const maxSurge = scaledValue(rolling?.maxSurge ?? 0, desired);
    if (desired > 0 && maxUnavailable === 0 && maxSurge === 0) maxUnavailable = 1;
    const nodeByName = new Map(nodes.map((n) => [n.metadata?.name ?? '', n]));

    if (maxSurge === 0) {
      let unavailable = 0;
      const replace: Pod[] = [];
      const candidates: Pod[] = [];
      for (const pods of byNode.values()) {
        const found = updatedAndOld(pods, hash);
        if (!found) {
          unavailable++;
          continue;
        }
        const { updated, old } = found;
        if ((!old && !updated) || (old && updated)) unavailable++;
        else if (updated) {
          if (!available(updated)) unavailable++;
        } else if (!available(old!)) {
          replace.push(old!);
          unavailable++;
        } else if (unavailable < maxUnavailable) candidates.push(old!);
      }
      const room = Math.min(Math.max(0, maxUnavailable - unavailable), candidates.length);
      await this.#syncNodes(ds, [...replace, ...candidates.slice(0, room)], [], hash, new Set(nodeByName.keys()));
      return;
    }

    const remove: Pod[] = [];
    const shouldNotRun: Pod[] = [];
    const candidateNodes: string[] = [];
    const allowedNodes: string[] = [];
    let surging = 0;
    let availableCount = 0;
    for (const [nodeName, pods] of byNode) {
      const found = updatedAndOld(pods, hash);
      if (!found) {
        surging++;
        continue;
      }
      const { updated, old } = found;
      if (old ? available(old) : updated && available(updated)) availableCount++;
      if (!old) continue;
      const node = nodeByName.get(nodeName);
      const fits = node ? nodeShouldRunDaemonPod(node, ds).shouldRun : false;
      if (!updated) {
        if (!available(old)) {
          if (!fits) remove.push(old);
          else allowedNodes.push(nodeName);
        } else if (!fits) shouldNotRun.push(old);
        else if (surging < maxSurge) candidateNodes.push(nodeName);
        continue;
      }
      if (!available(updated)) {
        surging++;
        continue;
      }
      remove.push(old);
    }
    // Old pods on nodes the set no longer fits go only while enough pods elsewhere are available.
    const deletable = Math.min(Math.max(0, availableCount - desired), shouldNotRun.length);
    remove.push(...shouldNotRun.slice(0, deletable));
    const room = Math.min(Math.max(0, maxSurge - surging), candidateNodes.length);
    await this.#syncNodes(ds, remove, [...allowedNodes, ...candidateNodes.slice(0, room)], hash, new Set(nodeByName.keys()));
  }

  // ---- history ----

  /** The revision of the current template (created or renumbered as needed) and the older ones. */
  async #constructHistory(ds: DaemonSet): Promise<{ current: ControllerRevision; old: ControllerRevision[] }> {
    const owner = { apiVersion: 'apps/v1', kind: 'DaemonSet', object: ds };
    let revisions = this.#history.list(ds, ds.spec?.selector);
    for (const r of this.#history.owned(ds)) if (!revisions.includes(r)) revisions.push(r);
    if (revisions.some((r) => !controllerOf(r))) revisions = await this.#history.adoptOrphans(owner, revisions);
    const data = canonicalJson(templatePatch(ds.spec?.template));
    const matching: ControllerRevision[] = [];
    const old: ControllerRevision[] = [];
    for (const r of revisions) (canonicalJson(r.data) === data ? matching : old).push(r);
    const next = Math.max(0, ...old.map((r) => r.revision)) + 1;
    if (matching.length === 0) return { current: await this.#snapshot(ds, next), old };
    matching.sort((a, b) => b.revision - a.revision);
    const current = matching[0]!;
    for (const duplicate of matching.slice(1)) {
      await this.#relabelPods(ds, duplicate, current);
      await this.#history.delete(duplicate);
    }
    return { current: current.revision < next ? await this.#history.renumber(current, next) : current, old };
  }

  /** Creates the revision of the current template; a name taken by other data bumps `collisionCount`. */
  async #snapshot(ds: DaemonSet, revision: number): Promise<ControllerRevision> {
    const hash = podTemplateHash(ds.spec?.template, ds.status?.collisionCount);
    const name = `${ds.metadata?.name}-${hash}`;
    const api = this.#client.resource(kinds.controllerRevisions);
    const body: ControllerRevision = {
      metadata: {
        name,
        namespace: ds.metadata?.namespace ?? '',
        labels: { ...ds.spec?.template?.metadata?.labels, [podRevisionLabel]: hash },
        ...(ds.metadata?.annotations ? { annotations: { ...ds.metadata.annotations } } : {}),
        ownerReferences: [controllerRef(ds, 'apps/v1', 'DaemonSet')],
      },
      data: templatePatch(ds.spec?.template) as ControllerRevision['data'],
      revision,
    };
    try {
      return await api.create(body);
    } catch (error) {
      if (!isApiError(error, 409)) throw error;
      const existing = await api.get(body.metadata!.namespace, name);
      if (canonicalJson(existing.data) === canonicalJson(body.data)) return existing;
      const fresh = await this.#client.resource(kinds.daemonSets).get(ds.metadata?.namespace, ds.metadata?.name ?? '');
      if ((fresh.status?.collisionCount ?? 0) !== (ds.status?.collisionCount ?? 0)) {
        throw new DaemonSetSyncError(`found a stale collision count of DaemonSet "${ds.metadata?.name}"; will retry until it is updated`);
      }
      await this.#client.resource(kinds.daemonSets).updateStatus({ ...fresh, status: { ...fresh.status!, collisionCount: (fresh.status?.collisionCount ?? 0) + 1 } });
      throw new DaemonSetSyncError(`hash collision on ControllerRevision "${name}": collisionCount of DaemonSet "${ds.metadata?.name}" bumped`);
    }
  }

  async #relabelPods(ds: DaemonSet, from: ControllerRevision, to: ControllerRevision): Promise<void> {
    const fromHash = from.metadata?.labels?.[podRevisionLabel];
    const toHash = to.metadata?.labels?.[podRevisionLabel];
    for (const pod of this.#pods.byIndex(controllerUidIndex, ds.metadata?.uid ?? '')) {
      if (pod.metadata?.labels?.[podRevisionLabel] !== fromHash) continue;
      await this.#client.resource(kinds.pods).patch(pod.metadata?.namespace, pod.metadata?.name ?? '', { metadata: { labels: { [podRevisionLabel]: toHash } } });
    }
  }

  /** Deletes the oldest revisions no pod runs, beyond `revisionHistoryLimit`. */
  async #cleanupHistory(ds: DaemonSet, old: ControllerRevision[]): Promise<void> {
    let toKill = old.length - (ds.spec?.revisionHistoryLimit ?? 10);
    if (toKill <= 0) return;
    const live = new Set<string>();
    for (const pod of this.#pods.byIndex(controllerUidIndex, ds.metadata?.uid ?? '')) {
      const hash = pod.metadata?.labels?.[podRevisionLabel];
      if (hash) live.add(hash);
    }
    for (const revision of [...old].sort((a, b) => a.revision - b.revision)) {
      if (toKill <= 0) break;
      if (live.has(revision.metadata?.labels?.[podRevisionLabel] ?? '')) continue;
      await this.#history.delete(revision);
      toKill--;
    }
  }

  // ---- status ----

  async #writeStatus(ds: DaemonSet, nodes: Node[], hash: string, observed: boolean): Promise<void> {
    const byNode = await this.#podsByNode(ds);
    const now = this.#now();
    const minReady = ds.spec?.minReadySeconds ?? 0;
    let desired = 0;
    let current = 0;
    let misscheduled = 0;
    let ready = 0;
    let available = 0;
    let updated = 0;
    for (const node of nodes) {
      const pods = byNode.get(node.metadata?.name ?? '') ?? [];
      if (!nodeShouldRunDaemonPod(node, ds).shouldRun) {
        if (pods.length > 0) misscheduled++;
        continue;
      }
      desired++;
      if (pods.length === 0) continue;
      current++;
      const pod = [...pods].sort(byScheduledThenAge)[0]!;
      if (isPodReady(pod)) {
        ready++;
        if (isPodAvailable(pod, minReady, now)) available++;
      }
      if (pod.metadata?.labels?.[podRevisionLabel] === hash) updated++;
    }
    const status: DaemonSetStatus = {
      ...ds.status,
      desiredNumberScheduled: desired,
      currentNumberScheduled: current,
      numberMisscheduled: misscheduled,
      numberReady: ready,
      numberAvailable: available,
      numberUnavailable: desired - available,
      updatedNumberScheduled: updated,
      observedGeneration: observed ? (ds.metadata?.generation ?? 0) : (ds.status?.observedGeneration ?? 0),
    };
    const fields = ['desiredNumberScheduled', 'currentNumberScheduled', 'numberMisscheduled', 'numberReady', 'numberAvailable', 'numberUnavailable', 'updatedNumberScheduled', 'observedGeneration'] as const;
    if (fields.some((f) => (status[f] ?? 0) !== (ds.status?.[f] ?? 0))) {
      const api = this.#client.resource(kinds.daemonSets);
      let target: DaemonSet = ds;
      for (let attempt = 0; ; attempt++) {
        try {
          await api.updateStatus({ ...target, status: { ...status, ...(target.status?.collisionCount !== undefined ? { collisionCount: target.status.collisionCount } : {}) } });
          break;
        } catch (error) {
          if (!isApiError(error, 409) || attempt >= 5) throw error;
          target = await api.get(ds.metadata?.namespace, ds.metadata?.name ?? '');
          if (target.metadata?.uid !== ds.metadata?.uid) return;
        }
      }
    }
    if (minReady > 0 && ready !== available) this.#queue.addAfter(objectKey(ds), minReady * 1000);
  }
}

/** Whether a node change can change where daemon pods belong (not a heartbeat). */
function nodeChangeMatters(old: Node, node: Node): boolean {
  if (canonicalJson(old.metadata?.labels ?? {}) !== canonicalJson(node.metadata?.labels ?? {})) return true;
  if (canonicalJson(old.spec ?? {}) !== canonicalJson(node.spec ?? {})) return true;
  const conditions = (n: Node) => canonicalJson((n.status?.conditions ?? []).map((c) => [c.type, c.status]));
  return conditions(old) !== conditions(node);
}

/** Whether the update strategy lets an old and a new pod share a node. */
function allowsSurge(ds: DaemonSet): boolean {
  const rolling = ds.spec?.updateStrategy;
  if (rolling?.type !== 'RollingUpdate') return false;
  const surge = rolling.rollingUpdate?.maxSurge;
  return surge !== undefined && surge !== 0 && surge !== '0%' && surge !== '0';
}

/** An int-or-percent of `total`, percentages rounded up (as upstream for both fields). */
function scaledValue(value: number | string, total: number): number {
  if (typeof value === 'number') return value;
  const match = /^(\d+)%$/.exec(value);
  if (!match) return Number(value) || 0;
  return Math.ceil((Number(match[1]) * total) / 100);
}

/** At most one up-to-date and one old live pod on a node; undefined when there are more. */
function updatedAndOld(pods: Pod[], hash: string): { updated?: Pod; old?: Pod } | undefined {
  let updated: Pod | undefined;
  let old: Pod | undefined;
  for (const pod of pods) {
    if (pod.metadata?.deletionTimestamp) continue;
    if (pod.metadata?.labels?.[podRevisionLabel] === hash) {
      if (updated) return undefined;
      updated = pod;
    } else {
      if (old) return undefined;
      old = pod;
    }
  }
  return { ...(updated ? { updated } : {}), ...(old ? { old } : {}) };
}

/** Bound pods first, then oldest first, then by name (upstream's `podByCreationTimestampAndPhase`). */
function byScheduledThenAge(a: Pod, b: Pod): number {
  const sa = !!a.spec?.nodeName;
  const sb = !!b.spec?.nodeName;
  if (sa !== sb) return sa ? -1 : 1;
  const ta = a.metadata?.creationTimestamp ?? '';
  const tb = b.metadata?.creationTimestamp ?? '';
  if (ta !== tb) return ta < tb ? -1 : 1;
  return (a.metadata?.name ?? '') < (b.metadata?.name ?? '') ? -1 : 1;
}
