/**
 * The StatefulSet controller, after upstream's `stateful_set.go` and `stateful_set_control.go`.
 *
 * Each sync of a set: adopt orphan revisions and pods, find (or create) the current and update
 * ControllerRevisions, then walk the ordinals:
 * - every wanted ordinal without a pod gets one (claims from `volumeClaimTemplates` first), made
 *   from the current revision below the partition and from the update revision at or above it;
 *   failed and succeeded pods are deleted so they come back under the same name;
 * - `OrderedReady` stops at the first pod that is not yet Running, Ready and available (so pod
 *   N+1 is never created before pod N is Ready), `Parallel` creates them all at once;
 * - pods past the wanted range are deleted from the highest ordinal down, one at a time under
 *   `OrderedReady`;
 * - `RollingUpdate` then deletes the highest-ordinal pod (at or above the partition) that is not
 *   at the update revision, once every pod above it is available; it comes back at the update
 *   revision. `OnDelete` leaves replacement to the user.
 * Status (replica counts, revisions, collisionCount, observedGeneration) is written when it
 * changed, and the revision history is trimmed to `revisionHistoryLimit`, keeping every
 * revision a pod still runs.
 *
 * Pod names are unique per ordinal, so a stale cache can at worst try to create a pod that
 * exists (409, ignored): no expectations are needed, as upstream.
 */
import type { ControllerRevision, StatefulSet, StatefulSetStatus } from 'kubernetes-types/apps/v1.js';
import type { PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1.js';
import {
  byControllerUid,
  controllerOf,
  controllerRef,
  controllerUidIndex,
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
import { History, podRevisionLabel, sortRevisions, templateOf, templatePatch, equalRevision, nextRevision, type RevisionOwner } from '../history/index.ts';
import type { Controller, ControllerContext } from '../manager.ts';
import {
  claimOwnersFor,
  claimsFor,
  endOrdinal,
  identityMatches,
  inOrdinalRange,
  isCreated,
  isFinished,
  isMemberOf,
  isPending,
  isRunningAndAvailable,
  isRunningAndReady,
  isTerminating,
  isUnavailable,
  newStatefulPod,
  ordinalOf,
  podRevision,
  startOrdinal,
  storageMatches,
  withIdentity,
} from './stateful-pods.ts';

/** Options of {@link StatefulSetController}. */
export interface StatefulSetControllerOptions {
  /** Concurrent syncs. Default 5. */
  workers?: number;
  /** The clock (availability after `minReadySeconds`). Default `() => new Date()`. */
  now?: () => Date;
}


/** The largest number of pods created or deleted at once under `Parallel` (upstream's MaxBatchSize). */
const maxBatch = 500;

/** Thrown (and retried) when several pod operations of one sync failed; names the first. */
class SyncError extends Error {
  override readonly name = 'StatefulSetSyncError';
  readonly code = 'StatefulSetSync';
}

/** See the file header. */
export class StatefulSetController implements Controller {
  readonly #client: Client;
  readonly #recorder: EventRecorder;
  readonly #sets: Informer<StatefulSet>;
  readonly #pods: Informer<Pod>;
  readonly #revisions: Informer<ControllerRevision>;
  readonly #claims: Informer<PersistentVolumeClaim>;
  readonly #history: History;
  readonly #queue = new WorkQueue();
  readonly #workers: number;
  readonly #now: () => Date;
  readonly #running: Promise<void>[] = [];

  constructor(context: ControllerContext, options: StatefulSetControllerOptions = {}) {
    this.#client = context.client;
    this.#recorder = context.recorder('statefulset-controller');
    this.#workers = options.workers ?? context.settings.workers;
    this.#now = options.now ?? (() => new Date());
    this.#sets = context.informers.informer(kinds.statefulSets);
    this.#pods = context.informers.informer(kinds.pods, { [controllerUidIndex]: byControllerUid });
    this.#revisions = context.informers.informer(kinds.controllerRevisions, { [controllerUidIndex]: byControllerUid });
    this.#claims = context.informers.informer(kinds.persistentVolumeClaims);
    this.#history = new History(this.#client, this.#revisions);

    const enqueueSet = (set: StatefulSet) => this.#queue.add(objectKey(set));
    this.#sets.addHandler({ add: enqueueSet, update: (_old, set) => enqueueSet(set), delete: enqueueSet });
    this.#pods.addHandler({
      add: (pod) => this.#podChanged(pod),
      update: (old, pod) => {
        if (old.metadata?.resourceVersion === pod.metadata?.resourceVersion) return;
        const oldRef = controllerOf(old);
        if (oldRef && oldRef.uid !== controllerOf(pod)?.uid) this.#enqueueOwner(old);
        this.#podChanged(pod);
      },
      delete: (pod) => this.#enqueueOwner(pod),
    });
    this.#revisions.addHandler({ add: (r) => this.#enqueueOwner(r), delete: (r) => this.#enqueueOwner(r) });
  }

  start(): void {
    for (let i = 0; i < this.#workers; i++) {
      this.#running.push(
        processQueue(this.#queue, (key) => this.#sync(key), {
          onError: (key, error) => console.error(`skiff: statefulset-controller: syncing "${key}":`, error instanceof Error ? error.message : error),
        }),
      );
    }
  }

  async stop(): Promise<void> {
    this.#queue.shutDown();
    await Promise.all(this.#running);
    await this.#recorder.flush();
  }

  #podChanged(pod: Pod): void {
    if (controllerOf(pod)) {
      this.#enqueueOwner(pod);
      return;
    }
    // An orphan: every set that would adopt it takes a look.
    if (isTerminating(pod)) return;
    for (const set of this.#sets.list(pod.metadata?.namespace ?? '')) {
      if (isMemberOf(set, pod) && selectorMatches(set.spec?.selector, pod.metadata?.labels)) this.#queue.add(objectKey(set));
    }
  }

  #enqueueOwner(object: Pod | ControllerRevision): void {
    const ref = controllerOf(object);
    if (ref?.kind !== 'StatefulSet') return;
    const set = this.#sets.get(object.metadata?.namespace, ref.name);
    if (set && set.metadata?.uid === ref.uid) this.#queue.add(objectKey(set));
  }

  async #sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const cached = this.#sets.get(namespace, name);
    if (!cached) return;
    const set = structuredClone(cached);
    const owner: RevisionOwner = { apiVersion: 'apps/v1', kind: 'StatefulSet', object: set };

    let revisions = this.#history.list(set, set.spec?.selector);
    if (!set.metadata?.deletionTimestamp && revisions.some((r) => !controllerOf(r))) revisions = await this.#history.adoptOrphans(owner, revisions);
    const pods = await this.#claimPods(set);
    revisions = sortRevisions(revisions);

    const { current, update, collisionCount } = await this.#currentAndUpdate(owner, set, revisions);
    let status: StatefulSetStatus | undefined;
    let failure: unknown;
    try {
      status = await this.#update(set, current, update, collisionCount, pods);
    } catch (error) {
      failure = error;
      if (error instanceof PartialSync) status = error.status;
    }
    if (status) await this.#writeStatus(set, status);

    const live = new Set<string>([current.metadata!.name!, update.metadata!.name!]);
    for (const pod of pods) live.add(podRevision(pod));
    const all = sortRevisions([...revisions.filter((r) => r.metadata?.name !== update.metadata?.name), update]);
    await this.#history.truncate(all, live, set.spec?.revisionHistoryLimit ?? 10);

    if (failure) throw failure instanceof PartialSync ? failure.cause : failure;
    const minReady = set.spec?.minReadySeconds ?? 0;
    if (minReady > 0 && status && (status.availableReplicas ?? 0) !== (set.spec?.replicas ?? 1)) this.#queue.addAfter(key, minReady * 1000);
  }

  /** The set's pods: those it controls, after adopting orphans it selects and releasing pods it no longer selects. */
  async #claimPods(set: StatefulSet): Promise<Pod[]> {
    const uid = set.metadata?.uid ?? '';
    const namespace = set.metadata?.namespace ?? '';
    const selector = set.spec?.selector;
    const pods: Pod[] = [];
    for (const pod of this.#pods.byIndex(controllerUidIndex, uid)) {
      if (selectorMatches(selector, pod.metadata?.labels) && isMemberOf(set, pod)) {
        pods.push(pod);
        continue;
      }
      if (isTerminating(pod)) continue;
      await this.#patchOwners(pod, [{ $patch: 'delete', uid }]).catch(ignoreGone);
    }
    if (set.metadata?.deletionTimestamp) return pods;
    for (const pod of this.#pods.list(namespace, selector)) {
      if (controllerOf(pod) || isTerminating(pod) || !isMemberOf(set, pod)) continue;
      const adopted = await this.#patchOwners(pod, [controllerRef(set, 'apps/v1', 'StatefulSet')]).catch(ignoreGone);
      if (adopted) pods.push(adopted);
    }
    return pods;
  }

  #patchOwners(pod: Pod, refs: unknown[]): Promise<Pod> {
    const meta = pod.metadata ?? {};
    return this.#client.resource(kinds.pods).patch(meta.namespace, meta.name ?? '', { metadata: { ownerReferences: refs, uid: meta.uid } }, { type: 'strategic' });
  }

  /**
   * The current revision (what `status.currentRevision` names, or the update revision at first)
   * and the update revision (the set's template now): an equal revision is reused, renumbered
   * when it is not the newest (a rollback), or a new one is created.
   */
  async #currentAndUpdate(owner: RevisionOwner, set: StatefulSet, sorted: ControllerRevision[]) {
    const collision = { count: set.status?.collisionCount ?? 0 };
    const candidate = this.#history.newRevision(owner, set.spec?.template?.metadata?.labels, templatePatch(set.spec?.template), nextRevision(sorted), collision.count);
    const equal = sorted.filter((r) => equalRevision(r, candidate));
    let update: ControllerRevision;
    if (equal.length > 0 && sorted[sorted.length - 1] === equal[equal.length - 1]) update = equal[equal.length - 1]!;
    else if (equal.length > 0) update = await this.#history.renumber(equal[equal.length - 1]!, candidate.revision);
    else update = await this.#history.create(owner, candidate, collision);
    const current = sorted.find((r) => r.metadata?.name === set.status?.currentRevision) ?? update;
    return { current, update, collisionCount: collision.count };
  }

  /** The heart of the controller: see the file header. Returns the status to record. */
  async #update(set: StatefulSet, current: ControllerRevision, update: ControllerRevision, collisionCount: number, pods: Pod[]): Promise<StatefulSetStatus> {
    const now = this.#now();
    const minReady = set.spec?.minReadySeconds ?? 0;
    const currentTemplate = templateOf(current);
    const updateTemplate = templateOf(update);
    const status: StatefulSetStatus = {
      observedGeneration: set.metadata?.generation ?? 0,
      currentRevision: current.metadata!.name!,
      updateRevision: update.metadata!.name!,
      collisionCount,
      replicas: 0,
    };
    const count = (lists: Pod[][]) => countReplicas(status, minReady, now, current, update, lists);
    count([pods]);

    const start = startOrdinal(set);
    const end = endOrdinal(set);
    const replicas: Pod[] = [];
    const condemned: Pod[] = [];
    for (const pod of pods) {
      const ordinal = ordinalOf(pod);
      if (inOrdinalRange(pod, set)) replicas[ordinal - start] = pod;
      else if (ordinal >= 0) condemned.push(pod);
    }
    const strategy = set.spec?.updateStrategy;
    const partition = strategy?.type === 'RollingUpdate' ? (strategy.rollingUpdate?.partition ?? 0) : 0;
    for (let ordinal = start; ordinal <= end; ordinal++) {
      if (replicas[ordinal - start]) continue;
      // Below the partition, new pods keep the current revision; the rest take the update.
      const old = strategy?.type === 'RollingUpdate' && ordinal < start + partition;
      replicas[ordinal - start] = old ? newStatefulPod(set, currentTemplate, ordinal, current.metadata!.name!) : newStatefulPod(set, updateTemplate, ordinal, update.metadata!.name!);
    }
    condemned.sort((a, b) => ordinalOf(b) - ordinalOf(a));
    let firstUnavailable: Pod | undefined = replicas.find((p) => isUnavailable(p, minReady, now));
    for (let i = condemned.length - 1; i >= 0 && !firstUnavailable; i--) if (isUnavailable(condemned[i]!, minReady, now)) firstUnavailable = condemned[i];

    if (set.metadata?.deletionTimestamp) return status;
    const monotonic = set.spec?.podManagementPolicy !== 'Parallel';
    const finish = () => {
      count([replicas, condemned]);
      return status;
    };
    const guard = async (fn: () => Promise<boolean>) => {
      try {
        return await fn();
      } catch (error) {
        throw new PartialSync(finish(), error);
      }
    };

    if (await guard(() => runForAll(replicas, (pod) => this.#processReplica(set, pod, monotonic, now), monotonic))) return finish();
    if (await guard(() => runForAll(condemned, (pod) => this.#fixClaimOwners(set, pod).then(() => false), monotonic))) return finish();
    const processCondemned = async (pod: Pod): Promise<boolean> => {
      if (isTerminating(pod)) return monotonic;
      if (monotonic && pod !== firstUnavailable && (!isRunningAndReady(pod) || !isRunningAndAvailable(pod, minReady, now))) return true;
      await this.#deletePod(set, pod);
      return true;
    };
    if (await guard(() => runForAll(condemned, processCondemned, monotonic))) return finish();
    finish();

    if (strategy?.type === 'OnDelete') return status;
    // Destructive update: the highest ordinal not at the update revision goes first, and only
    // when every pod above it is available again.
    for (let target = replicas.length - 1; target >= partition; target--) {
      const pod = replicas[target]!;
      if (podRevision(pod) !== update.metadata!.name && !isTerminating(pod)) {
        await guard(() => this.#deletePod(set, pod).then(() => true));
        status.currentReplicas = (status.currentReplicas ?? 0) - 1;
        return status;
      }
      if (isUnavailable(pod, minReady, now)) return status;
    }
    return status;
  }

  /** One wanted ordinal; true when (in OrderedReady) nothing past it may happen yet. */
  async #processReplica(set: StatefulSet, pod: Pod, monotonic: boolean, now: Date): Promise<boolean> {
    // Failed and succeeded pods are replaced: delete now, create on a later sync once gone.
    if (isFinished(pod)) {
      if (!isTerminating(pod)) await this.#deletePod(set, pod);
      return true;
    }
    if (!isCreated(pod)) {
      const created = await this.#createPod(set, pod);
      if (monotonic || !created) return true;
      return false;
    }
    if (isPending(pod)) await this.#createClaims(set, pod);
    if (monotonic && (isTerminating(pod) || !isRunningAndReady(pod) || !isRunningAndAvailable(pod, set.spec?.minReadySeconds ?? 0, now))) return true;
    await this.#fixClaimOwners(set, pod);
    if (!identityMatches(set, pod) || !storageMatches(set, pod)) await this.#fixPod(set, pod);
    return false;
  }

  /** Creates the pod's claims, then the pod. False when the pod exists already (a stale cache). */
  async #createPod(set: StatefulSet, pod: Pod): Promise<boolean> {
    const name = pod.metadata?.name ?? '';
    try {
      await this.#createClaims(set, pod);
      await this.#client.resource(kinds.pods).create(pod);
    } catch (error) {
      if (isApiError(error, 409) && error.reason === 'AlreadyExists') {
        const existing = await this.#client.resource(kinds.pods).find(set.metadata?.namespace, name);
        if (existing && controllerOf(existing)?.uid === set.metadata?.uid) return false;
      }
      this.#podEvent('create', set, name, error);
      throw error;
    }
    this.#podEvent('create', set, name);
    return true;
  }

  async #deletePod(set: StatefulSet, pod: Pod): Promise<void> {
    const name = pod.metadata?.name ?? '';
    try {
      await this.#client.resource(kinds.pods).delete(pod.metadata?.namespace, name, { preconditions: { uid: pod.metadata?.uid ?? '' } });
    } catch (error) {
      if (isApiError(error, 404)) return;
      this.#podEvent('delete', set, name, error);
      throw error;
    }
    this.#podEvent('delete', set, name);
  }

  /** Restores a pod's identity labels and creates claims it is missing. */
  async #fixPod(set: StatefulSet, pod: Pod): Promise<void> {
    await this.#createClaims(set, pod);
    if (identityMatches(set, pod)) return;
    const name = pod.metadata?.name ?? '';
    try {
      await this.#client.resource(kinds.pods).update(withIdentity(set, pod));
    } catch (error) {
      if (isApiError(error, 409) || isApiError(error, 404)) return; // the next event brings the fresh pod
      this.#podEvent('update', set, name, error);
      throw error;
    }
    this.#podEvent('update', set, name);
  }

  /** Creates every claim of the pod that does not exist yet, owned as the retention policy says. */
  async #createClaims(set: StatefulSet, pod: Pod): Promise<void> {
    const errors: string[] = [];
    for (const claim of claimsFor(set, ordinalOf(pod)).values()) {
      const name = claim.metadata!.name!;
      if (this.#claims.get(claim.metadata!.namespace, name)) continue;
      if (set.spec?.persistentVolumeClaimRetentionPolicy?.whenDeleted === 'Delete') {
        claim.metadata!.ownerReferences = [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: set.metadata?.name ?? '', uid: set.metadata?.uid ?? '' }];
      }
      try {
        await this.#client.resource(kinds.persistentVolumeClaims).create(claim);
      } catch (error) {
        if (isApiError(error, 409)) continue;
        const message = error instanceof Error ? error.message : String(error);
        this.#recorder.event(set, 'Warning', 'FailedCreate', `create Claim ${name} for Pod ${pod.metadata?.name} in StatefulSet ${set.metadata?.name} failed error: ${message}`);
        errors.push(`failed to create PVC ${name}: ${message}`);
        continue;
      }
      this.#recorder.event(set, 'Normal', 'SuccessfulCreate', `create Claim ${name} Pod ${pod.metadata?.name} in StatefulSet ${set.metadata?.name} success`);
    }
    if (errors.length > 0) throw new SyncError(errors.join('; '));
  }

  /** Gives the pod's existing claims the owners the retention policy asks for. */
  async #fixClaimOwners(set: StatefulSet, pod: Pod): Promise<void> {
    const ordinal = ordinalOf(pod);
    if (ordinal < 0 || !pod.metadata?.uid) return;
    for (const wanted of claimsFor(set, ordinal).values()) {
      const claim = this.#claims.get(wanted.metadata!.namespace, wanted.metadata!.name!);
      if (!claim) continue;
      const owners = claimOwnersFor(set, pod, claim);
      if (!owners) continue;
      await this.#client
        .resource(kinds.persistentVolumeClaims)
        .patch(claim.metadata?.namespace, claim.metadata?.name ?? '', { metadata: { ownerReferences: owners, resourceVersion: claim.metadata?.resourceVersion } })
        .catch((error: unknown) => {
          if (!isApiError(error, 409) && !isApiError(error, 404)) throw error;
        });
    }
  }

  /** `create Pod web-0 in StatefulSet web successful`, or the failure, as upstream words them. */
  #podEvent(verb: 'create' | 'update' | 'delete', set: StatefulSet, pod: string, error?: unknown): void {
    const title = verb[0]!.toUpperCase() + verb.slice(1);
    if (error === undefined) this.#recorder.event(set, 'Normal', `Successful${title}`, `${verb} Pod ${pod} in StatefulSet ${set.metadata?.name} successful`);
    else this.#recorder.event(set, 'Warning', `Failed${title}`, `${verb} Pod ${pod} in StatefulSet ${set.metadata?.name} failed error: ${error instanceof Error ? error.message : String(error)}`);
  }

  /** Records `status` unless it says what the stored status says; completes a finished rolling update first. */
  async #writeStatus(set: StatefulSet, status: StatefulSetStatus): Promise<void> {
    if (set.spec?.updateStrategy?.type !== 'OnDelete' && status.updatedReplicas === status.replicas && status.readyReplicas === status.replicas) {
      status.currentReplicas = status.updatedReplicas;
      status.currentRevision = status.updateRevision;
    }
    if (sameStatus(set.status, status)) return;
    const api = this.#client.resource(kinds.statefulSets);
    let target = set;
    for (let attempt = 0; ; attempt++) {
      try {
        await api.updateStatus({ ...target, status: { ...target.status, ...status } });
        return;
      } catch (error) {
        if (!isApiError(error, 409) || attempt >= 5) throw error;
        target = await api.get(set.metadata?.namespace, set.metadata?.name ?? '');
        if (target.metadata?.uid !== set.metadata?.uid) return;
      }
    }
  }
}

/** A sync that failed part way, with the status it had reached (still recorded, as upstream). */
class PartialSync extends Error {
  override readonly name = 'StatefulSetPartialSync';
  readonly status: StatefulSetStatus;
  constructor(status: StatefulSetStatus, cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.status = status;
  }
}

/**
 * Runs `fn` over `pods`. In order, stopping at the first that says stop, when `monotonic`;
 * otherwise all of them, in batches that double from 1 to 500 (upstream's slow start), stopping
 * at the first batch with a failure. Resolves true when the caller must stop.
 */
async function runForAll(pods: Pod[], fn: (pod: Pod) => Promise<boolean>, monotonic: boolean): Promise<boolean> {
  if (monotonic) {
    for (const pod of pods) if (await fn(pod)) return true;
    return false;
  }
  let next = 0;
  for (let size = Math.min(1, pods.length); size > 0; size = Math.min(2 * size, pods.length - next, maxBatch)) {
    const results = await Promise.allSettled(pods.slice(next, next + size).map(fn));
    next += size;
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  }
  return false;
}

/** Sets the replica counts of `status` from the pods of `lists`. */
function countReplicas(status: StatefulSetStatus, minReady: number, now: Date, current: ControllerRevision, update: ControllerRevision, lists: Pod[][]): void {
  let replicas = 0;
  let ready = 0;
  let available = 0;
  let currentReplicas = 0;
  let updated = 0;
  for (const list of lists) {
    for (const pod of list) {
      if (!pod || !isCreated(pod)) continue;
      replicas++;
      if (isRunningAndReady(pod)) {
        ready++;
        if (isRunningAndAvailable(pod, minReady, now)) available++;
      }
      if (isTerminating(pod)) continue;
      const revision = pod.metadata?.labels?.[podRevisionLabel];
      if (revision === current.metadata?.name) currentReplicas++;
      if (revision === update.metadata?.name) updated++;
    }
  }
  Object.assign(status, { replicas, readyReplicas: ready, availableReplicas: available, currentReplicas, updatedReplicas: updated });
}

function sameStatus(old: StatefulSetStatus | undefined, next: StatefulSetStatus): boolean {
  const fields = ['observedGeneration', 'replicas', 'readyReplicas', 'availableReplicas', 'currentReplicas', 'updatedReplicas', 'currentRevision', 'updateRevision', 'collisionCount'] as const;
  return fields.every((f) => (old?.[f] ?? 0) === (next[f] ?? 0));
}

function ignoreGone(error: unknown): undefined {
  if (isApiError(error, 404) || isApiError(error, 409) || isApiError(error, 422)) return undefined;
  throw error;
}
