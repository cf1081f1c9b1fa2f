/**
 * The ReplicaSet controller, as upstream's `replica_set.go`: keeps `spec.replicas` pods of the
 * template alive for each ReplicaSet.
 *
 * - Pods are created from the template (generateName `<rs>-`, the ReplicaSet as controller
 *   owner) in slow-start batches of 1, 2, 4, …: a batch that fails stops the round, so a quota or
 *   a bad template costs one failed request rather than hundreds.
 * - Expectations keep a cache that has not yet seen the pods just created (or deleted) from
 *   acting twice: until the informer reports them, the ReplicaSet only has its status updated.
 * - Orphan pods that match the selector are adopted (controller reference added by patch); owned
 *   pods that no longer match are released.
 * - Scale-down deletes the pods that cost least to lose first (`pod-ranking.ts`).
 * - Status: replicas, fullyLabeledReplicas, readyReplicas, availableReplicas (ready for
 *   minReadySeconds), observedGeneration, and a `ReplicaFailure` condition while creating or
 *   deleting fails. With minReadySeconds, the ReplicaSet is looked at again when its next pod
 *   becomes available, since no event announces that moment.
 */
import type { ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import {
  ApiError,
  byControllerUid,
  controllerOf,
  controllerUidIndex,
  controllerRef,
  Expectations,
  isApiError,
  kinds,
  objectKey,
  orphanIndex,
  orphansByNamespace,
  processQueue,
  selectorIsEmpty,
  selectorMatches,
  splitKey,
  WorkQueue,
  type Client,
  type EventRecorder,
  type Informer,
} from '../../client/index.ts';
import type { Controller, ControllerContext, ControllerDescriptor } from '../manager.ts';
import { isPodActive, isPodAvailable, isPodReady, podCondition, timestamp, withCondition } from '../pod-util.ts';
import { sortForDeletion } from './pod-ranking.ts';

/** The index of pods and ReplicaSets by the uid of their controller. */

/** Options of {@link ReplicaSetController}. */
export interface ReplicaSetControllerOptions {
  /** Most pods created or deleted in one sync (upstream's `burstReplicas`). Default 500. */
  burstReplicas?: number;
  /** The clock. Default `() => new Date()`. */
  now?: () => Date;
}

/** See the file header. */
export class ReplicaSetController implements Controller {
  readonly #client: Client;
  readonly #recorder: EventRecorder;
  readonly #replicaSets: Informer<ReplicaSet>;
  readonly #pods: Informer<Pod>;
  readonly #queue = new WorkQueue();
  readonly #expectations = new Expectations();
  /** Pods each ReplicaSet asked to delete and has not yet seen go (upstream's UID tracking). */
  readonly #deleting = new Map<string, Set<string>>();
  readonly #workers: number;
  readonly #burst: number;
  readonly #now: () => Date;

  constructor(context: ControllerContext, options: ReplicaSetControllerOptions = {}) {
    this.#client = context.client;
    this.#recorder = context.recorder('replicaset-controller');
    this.#workers = context.settings.workers;
    this.#burst = options.burstReplicas ?? 500;
    this.#now = options.now ?? (() => new Date());
    this.#replicaSets = context.informers.informer(kinds.replicaSets, { [controllerUidIndex]: byControllerUid });
    this.#pods = context.informers.informer(kinds.pods, { [controllerUidIndex]: byControllerUid, [orphanIndex]: orphansByNamespace });
    this.#replicaSets.addHandler({
      add: (rs) => this.#queue.add(objectKey(rs)),
      update: (_old, rs) => this.#queue.add(objectKey(rs)),
      delete: (rs) => this.#queue.add(objectKey(rs)),
    });
    this.#pods.addHandler({
      add: (pod) => this.#podAdded(pod),
      update: (old, pod) => this.#podUpdated(old, pod),
      delete: (pod) => this.#podDeleted(pod),
    });
  }

  start(): void {
    for (let i = 0; i < this.#workers; i++) {
      void processQueue(this.#queue, (key) => this.#sync(key), {
        onError: (key, error) => {
          if (!isApiError(error, 409)) console.error(`skiff: replicaset-controller: syncing "${key}":`, error instanceof Error ? error.message : error);
        },
      });
    }
  }

  stop(): void {
    this.#queue.shutDown();
  }

  // --- event handlers: they only enqueue, and count what expectations wait for ------------

  #owner(pod: Pod, ref: OwnerReference | undefined = controllerOf(pod)): ReplicaSet | undefined {
    if (!ref || ref.kind !== 'ReplicaSet' || !ref.apiVersion?.startsWith('apps/')) return undefined;
    const rs = this.#replicaSets.get(pod.metadata?.namespace, ref.name);
    return rs && rs.metadata?.uid === ref.uid ? rs : undefined;
  }

  /** Every ReplicaSet whose selector matches an orphan pod: one of them may adopt it. */
  #enqueueMatching(pod: Pod): void {
    for (const rs of this.#replicaSets.list(pod.metadata?.namespace ?? '')) {
      if (!selectorIsEmpty(rs.spec?.selector) && selectorMatches(rs.spec?.selector, pod.metadata?.labels)) this.#queue.add(objectKey(rs));
    }
  }

  #podAdded(pod: Pod): void {
    if (pod.metadata?.deletionTimestamp) {
      // Restarted with a pod already being deleted: count it as gone, so nobody waits for it.
      this.#podDeleted(pod);
      return;
    }
    const ref = controllerOf(pod);
    if (ref) {
      const rs = this.#owner(pod, ref);
      if (!rs) return;
      const key = objectKey(rs);
      this.#expectations.creationObserved(key);
      this.#queue.add(key);
      return;
    }
    this.#enqueueMatching(pod);
  }

  #podUpdated(old: Pod, pod: Pod): void {
    if (old.metadata?.resourceVersion === pod.metadata?.resourceVersion) return;
    const labelsChanged = JSON.stringify(old.metadata?.labels ?? {}) !== JSON.stringify(pod.metadata?.labels ?? {});
    if (pod.metadata?.deletionTimestamp) {
      // A graceful deletion shows as an update first; the ReplicaSet can count it gone now.
      this.#podDeleted(pod);
      if (labelsChanged) this.#podDeleted(old);
      return;
    }
    const oldRef = controllerOf(old);
    const ref = controllerOf(pod);
    const refChanged = oldRef?.uid !== ref?.uid;
    if (refChanged && oldRef) {
      const previous = this.#owner(old, oldRef);
      if (previous) this.#queue.add(objectKey(previous));
    }
    if (ref) {
      const rs = this.#owner(pod, ref);
      if (rs) this.#queue.add(objectKey(rs));
      return;
    }
    if (labelsChanged || refChanged) this.#enqueueMatching(pod);
  }

  #podDeleted(pod: Pod): void {
    const rs = this.#owner(pod);
    if (!rs) return;
    const key = objectKey(rs);
    this.#deletionObserved(key, objectKey(pod));
    this.#queue.add(key);
  }

  /** Counts a deletion once per pod, however many times it is reported. */
  #deletionObserved(key: string, podKey: string): void {
    const pending = this.#deleting.get(key);
    if (!pending?.delete(podKey)) return;
    if (pending.size === 0) this.#deleting.delete(key);
    this.#expectations.deletionObserved(key);
  }

  // --- sync ---------------------------------------------------------------------------------

  async #sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const rs = this.#replicaSets.get(namespace, name);
    if (!rs) {
      this.#expectations.delete(key);
      this.#deleting.delete(key);
      return;
    }
    const needsSync = this.#expectations.satisfied(key);
    // Only its own pods and the namespace's orphans can be claimed: with many ReplicaSets in one
    // namespace, a sync costs what this one owns, not what the namespace holds.
    const uid = rs.metadata?.uid ?? '';
    const active = [...this.#pods.byIndex(controllerUidIndex, uid), ...this.#pods.byIndex(orphanIndex, namespace ?? '')].filter(isPodActive);
    const pods = await this.#claimPods(rs, active);
    let failure: unknown;
    let diff = 0;
    if (needsSync && !rs.metadata?.deletionTimestamp) {
      diff = pods.length - (rs.spec?.replicas ?? 1);
      try {
        await this.#manageReplicas(key, rs, pods, diff);
      } catch (error) {
        failure = error;
      }
    }
    const updated = await this.#updateStatus(rs, pods, failure, diff);
    if (failure) throw failure;
    this.#requeueForAvailability(key, updated ?? rs, pods);
  }

  /**
   * Upstream's `ControllerRefManager.ClaimPods`: the active pods this ReplicaSet controls after
   * adopting matching orphans and releasing owned pods that stopped matching.
   */
  async #claimPods(rs: ReplicaSet, pods: Pod[]): Promise<Pod[]> {
    const uid = rs.metadata?.uid;
    const selector = rs.spec?.selector;
    const deleting = !!rs.metadata?.deletionTimestamp;
    const claimed: Pod[] = [];
    let mayAdopt: boolean | undefined;
    for (const pod of pods) {
      const ref = controllerOf(pod);
      const matches = !selectorIsEmpty(selector) && selectorMatches(selector, pod.metadata?.labels);
      if (ref) {
        if (ref.uid !== uid) continue;
        if (matches) claimed.push(pod);
        else if (!deleting) await this.#release(rs, pod);
        continue;
      }
      if (deleting || !matches || pod.metadata?.deletionTimestamp) continue;
      // Adopt only if the ReplicaSet, read fresh, is still the same object and not going away:
      // a cache that lags a delete and re-create must not hand pods to a dead owner.
      mayAdopt ??= await this.#canAdopt(rs);
      if (!mayAdopt) continue;
      const adopted = await this.#adopt(rs, pod);
      if (adopted) claimed.push(adopted);
    }
    return claimed;
  }

  async #canAdopt(rs: ReplicaSet): Promise<boolean> {
    const fresh = await this.#client.resource(kinds.replicaSets).find(rs.metadata?.namespace, rs.metadata?.name ?? '');
    return !!fresh && fresh.metadata?.uid === rs.metadata?.uid && !fresh.metadata?.deletionTimestamp;
  }

  async #adopt(rs: ReplicaSet, pod: Pod): Promise<Pod | undefined> {
    const patch = { metadata: { ownerReferences: [controllerRef(rs, 'apps/v1', 'ReplicaSet')], uid: pod.metadata?.uid } };
    try {
      return await this.#client.resource(kinds.pods).patch(pod.metadata?.namespace, pod.metadata?.name ?? '', patch, { type: 'strategic' });
    } catch (error) {
      // Gone, or changed under us (uid precondition): the next sync decides again.
      if (isApiError(error, 404) || isApiError(error, 409) || isApiError(error, 422)) return undefined;
      throw error;
    }
  }

  async #release(rs: ReplicaSet, pod: Pod): Promise<void> {
    const patch = { metadata: { ownerReferences: [{ $patch: 'delete', uid: rs.metadata?.uid }], uid: pod.metadata?.uid } };
    try {
      await this.#client.resource(kinds.pods).patch(pod.metadata?.namespace, pod.metadata?.name ?? '', patch, { type: 'strategic' });
    } catch (error) {
      if (isApiError(error, 404) || isApiError(error, 409) || isApiError(error, 422)) return;
      throw error;
    }
  }

  async #manageReplicas(key: string, rs: ReplicaSet, pods: Pod[], diff: number): Promise<void> {
    if (diff < 0) {
      const count = Math.min(-diff, this.#burst);
      this.#expectations.expect(key, count, 0);
      const { created, error } = await slowStartBatch(count, 1, () => this.#createPod(rs));
      // Pods never created will never be observed: stop waiting for them.
      for (let i = created; i < count; i++) this.#expectations.creationObserved(key);
      if (error) throw error;
      return;
    }
    if (diff > 0) {
      const count = Math.min(diff, this.#burst);
      const doomed = sortForDeletion(pods, this.#relatedPods(rs)).slice(0, count);
      this.#deleting.set(key, new Set(doomed.map(objectKey)));
      this.#expectations.expect(key, 0, doomed.length);
      const results = await Promise.allSettled(doomed.map((pod) => this.#deletePod(key, rs, pod)));
      const failed = results.find((r) => r.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
    }
  }

  /**
   * The pods of the ReplicaSet's whole family (every ReplicaSet with the same controller): how
   * crowded a node is counts the pods of all of them.
   */
  #relatedPods(rs: ReplicaSet): Pod[] {
    const owner = controllerOf(rs);
    const family = owner?.uid ? this.#replicaSets.byIndex(controllerUidIndex, owner.uid) : [rs];
    return family.flatMap((member) => this.#pods.byIndex(controllerUidIndex, member.metadata?.uid ?? ''));
  }

  async #createPod(rs: ReplicaSet): Promise<void> {
    const template = rs.spec?.template ?? {};
    const name = rs.metadata?.name ?? '';
    const pod: Pod = {
      metadata: {
        generateName: `${name}-`,
        namespace: rs.metadata?.namespace,
        ...(template.metadata?.labels ? { labels: { ...template.metadata.labels } } : {}),
        ...(template.metadata?.annotations ? { annotations: { ...template.metadata.annotations } } : {}),
        ...(template.metadata?.finalizers ? { finalizers: [...template.metadata.finalizers] } : {}),
        ownerReferences: [controllerRef(rs, 'apps/v1', 'ReplicaSet')],
      },
      spec: structuredClone(template.spec ?? { containers: [] }),
    };
    try {
      const created = await this.#client.resource(kinds.pods).create(pod);
      this.#recorder.event(rs, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata?.name}`);
    } catch (error) {
      // A namespace being deleted refuses every create; nothing to report, nothing to retry.
      if (isApiError(error, 403) && /being terminated/.test(error.status.message ?? '')) throw new NamespaceTerminating();
      this.#recorder.event(rs, 'Warning', 'FailedCreate', `Error creating: ${apiMessage(error)}`);
      throw error;
    }
  }

  async #deletePod(key: string, rs: ReplicaSet, pod: Pod): Promise<void> {
    try {
      await this.#client.resource(kinds.pods).delete(pod.metadata?.namespace, pod.metadata?.name ?? '', { preconditions: { uid: pod.metadata?.uid ?? '' } });
      this.#recorder.event(rs, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata?.name}`);
    } catch (error) {
      // Nothing will be observed for a delete that did not happen (or already had).
      this.#deletionObserved(key, objectKey(pod));
      if (isApiError(error, 404)) return;
      this.#recorder.event(rs, 'Warning', 'FailedDelete', `Error deleting: ${apiMessage(error)}`);
      throw error;
    }
  }

  // --- status ---------------------------------------------------------------------------------

  async #updateStatus(rs: ReplicaSet, pods: Pod[], failure: unknown, diff: number): Promise<ReplicaSet | undefined> {
    const now = this.#now();
    const templateLabels = rs.spec?.template?.metadata?.labels ?? {};
    const minReady = rs.spec?.minReadySeconds ?? 0;
    let fullyLabeled = 0;
    let ready = 0;
    let available = 0;
    for (const pod of pods) {
      const labels = pod.metadata?.labels ?? {};
      if (Object.entries(templateLabels).every(([k, v]) => labels[k] === v)) fullyLabeled++;
      if (isPodReady(pod)) ready++;
      if (isPodAvailable(pod, minReady, now)) available++;
    }
    const old: NonNullable<ReplicaSet['status']> = rs.status ?? { replicas: 0 };
    let conditions = old.conditions ?? [];
    const failed = conditions.find((c) => c.type === 'ReplicaFailure');
    if (failure && !(failure instanceof NamespaceTerminating) && !failed) {
      conditions = withCondition(conditions, {
        type: 'ReplicaFailure',
        status: 'True',
        reason: diff < 0 ? 'FailedCreate' : 'FailedDelete',
        message: apiMessage(failure),
        lastTransitionTime: timestamp(now),
      });
    } else if (!failure && failed) {
      conditions = conditions.filter((c) => c.type !== 'ReplicaFailure');
    }
    // Zero counts are left out, as upstream's JSON (omitempty) does.
    const status: NonNullable<ReplicaSet['status']> = {
      replicas: pods.length,
      ...(fullyLabeled ? { fullyLabeledReplicas: fullyLabeled } : {}),
      ...(ready ? { readyReplicas: ready } : {}),
      ...(available ? { availableReplicas: available } : {}),
      ...(rs.metadata?.generation ? { observedGeneration: rs.metadata.generation } : {}),
      ...(conditions.length ? { conditions } : {}),
    };
    if (sameStatus(old, status)) return undefined;
    const api = this.#client.resource(kinds.replicaSets);
    try {
      return await api.updateStatus({ ...rs, status });
    } catch (error) {
      if (isApiError(error, 404)) return undefined;
      if (!isApiError(error, 409)) throw error;
      // One retry on a fresh copy, as upstream's `updateReplicaSetStatus`.
      const fresh = await api.get(rs.metadata?.namespace, rs.metadata?.name ?? '');
      return await api.updateStatus({ ...fresh, status });
    }
  }

  /** With minReadySeconds, nothing announces that a ready pod became available: look again then. */
  #requeueForAvailability(key: string, rs: ReplicaSet, pods: Pod[]): void {
    const minReady = rs.spec?.minReadySeconds ?? 0;
    if (minReady <= 0) return;
    const now = this.#now().getTime();
    let soonest = Infinity;
    for (const pod of pods) {
      const since = podCondition(pod, 'Ready');
      if (since?.status !== 'True' || !since.lastTransitionTime) continue;
      const at = Date.parse(since.lastTransitionTime) + minReady * 1000;
      if (at > now) soonest = Math.min(soonest, at);
    }
    if (soonest !== Infinity) this.#queue.addAfter(key, soonest - now + 10);
  }
}

/** A create refused because the namespace is being deleted. */
class NamespaceTerminating extends Error {
  override readonly name = 'NamespaceTerminating';
}

/**
 * Runs `fn` `count` times in batches of 1, 2, 4, … (upstream's `slowStartBatch`), stopping after
 * the first batch with a failure. Resolves how many calls succeeded and the first error.
 */
export async function slowStartBatch(count: number, initial: number, fn: () => Promise<void>): Promise<{ created: number; error: unknown }> {
  let remaining = count;
  let created = 0;
  for (let batch = Math.min(remaining, initial); batch > 0; batch = Math.min(2 * batch, remaining)) {
    const results = await Promise.allSettled(Array.from({ length: batch }, () => fn()));
    const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    created += batch - failures.length;
    if (failures.length) {
      const real = failures.find((f) => !(f.reason instanceof NamespaceTerminating));
      return { created, error: real ? real.reason : undefined };
    }
    remaining -= batch;
  }
  return { created, error: undefined };
}

/** The API's own message of an error (what upstream's `err.Error()` prints). */
function apiMessage(error: unknown): string {
  if (error instanceof ApiError) return error.status.message ?? error.message;
  return error instanceof Error ? error.message : String(error);
}

function sameStatus(a: NonNullable<ReplicaSet['status']>, b: NonNullable<ReplicaSet['status']>): boolean {
  return (
    (a.replicas ?? 0) === (b.replicas ?? 0) &&
    (a.fullyLabeledReplicas ?? 0) === (b.fullyLabeledReplicas ?? 0) &&
    (a.readyReplicas ?? 0) === (b.readyReplicas ?? 0) &&
    (a.availableReplicas ?? 0) === (b.availableReplicas ?? 0) &&
    (a.observedGeneration ?? 0) === (b.observedGeneration ?? 0) &&
    JSON.stringify(a.conditions ?? []) === JSON.stringify(b.conditions ?? [])
  );
}

/** Registers the controller under upstream's name. */
export const replicaSetControllerDescriptor: ControllerDescriptor = {
  name: 'replicaset-controller',
  create: (context) => new ReplicaSetController(context),
};
