/**
 * The Deployment controller, as upstream's `deployment_controller.go` with `sync.go`,
 * `rolling.go`, `recreate.go` and `progress.go`: a Deployment owns one ReplicaSet per pod
 * template (`<deployment>-<pod-template-hash>`) and moves pods from the old ones to the new one.
 *
 * Each sync, in upstream's order:
 * 1. claim the ReplicaSets (adopt matching orphans, release those that stopped matching);
 * 2. a Deployment being deleted only has its status updated (the garbage collector removes the
 *    ReplicaSets through their ownerReferences);
 * 3. record Paused/Resumed in the Progressing condition; a paused Deployment only scales;
 * 4. a change of `spec.replicas` during a rollout is spread over the ReplicaSets in proportion
 *    (`getProportion`), without moving the rollout on;
 * 5. otherwise roll out: RollingUpdate grows the new ReplicaSet up to maxSurge above the desired
 *    count and shrinks old ones while at least `replicas - maxUnavailable` pods stay available;
 *    Recreate scales every old ReplicaSet to zero, waits for their pods to be gone, then scales
 *    the new one up;
 * 6. status (counts, Available, Progressing with the progress deadline), old ReplicaSets beyond
 *    revisionHistoryLimit deleted once the rollout is complete.
 *
 * Revisions live in the `deployment.kubernetes.io/revision` annotation of each ReplicaSet and
 * the Deployment; `kubectl rollout undo` patches the old template back into the Deployment,
 * which makes the old ReplicaSet the new one again with the next revision number.
 */
import type { Deployment, DeploymentStatus, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import {
  ApiError,
  byControllerUid,
  controllerOf,
  controllerRef,
  controllerUidIndex,
  isApiError,
  kinds,
  objectKey,
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
import {
  byCreation,
  byRevision,
  bySizeNewer,
  bySizeOlder,
  calculateStatus,
  canonicalJson,
  computeHash,
  deploymentComplete,
  deploymentProgressing,
  deploymentTimedOut,
  equalIgnoreHash,
  filterActive,
  findActiveOrLatest,
  getCondition,
  getProportion,
  hasProgressDeadline,
  isSaturated,
  maxRevision,
  maxSurge,
  maxUnavailable,
  newCondition,
  newRSNewReplicas,
  podTemplateHashLabel,
  reasons,
  removeCondition,
  replicasAnnotationsNeedUpdate,
  revisionAnnotation,
  setCondition,
  setNewReplicaSetAnnotations,
  setReplicasAnnotations,
  specReplicas,
  actualReplicas,
  availableReplicas,
  desiredReplicasAnnotation,
} from './deployment-util.ts';


/** A Deployment's ReplicaSets: the one of its current template (if any) and the others. */
interface Found {
  newRS: ReplicaSet | undefined;
  oldRSs: ReplicaSet[];
}

/** Options of {@link DeploymentController}. */
export interface DeploymentControllerOptions {
  /** The clock. Default `() => new Date()`. */
  now?: () => Date;
}

/** See the file header. */
export class DeploymentController implements Controller {
  readonly #client: Client;
  readonly #recorder: EventRecorder;
  readonly #deployments: Informer<Deployment>;
  readonly #replicaSets: Informer<ReplicaSet>;
  readonly #pods: Informer<Pod>;
  readonly #queue = new WorkQueue();
  readonly #workers: number;
  readonly #now: () => Date;

  constructor(context: ControllerContext, options: DeploymentControllerOptions = {}) {
    this.#client = context.client;
    this.#recorder = context.recorder('deployment-controller');
    this.#workers = context.settings.workers;
    this.#now = options.now ?? (() => new Date());
    const byController = { [controllerUidIndex]: byControllerUid };
    this.#deployments = context.informers.informer(kinds.deployments);
    this.#replicaSets = context.informers.informer(kinds.replicaSets, byController);
    this.#pods = context.informers.informer(kinds.pods, byController);
    this.#deployments.addHandler({
      add: (d) => this.#queue.add(objectKey(d)),
      update: (_old, d) => this.#queue.add(objectKey(d)),
      delete: (d) => this.#queue.add(objectKey(d)),
    });
    this.#replicaSets.addHandler({
      add: (rs) => this.#replicaSetChanged(undefined, rs),
      update: (old, rs) => this.#replicaSetChanged(old, rs),
      delete: (rs) => {
        const d = this.#ownerOf(rs);
        if (d) this.#queue.add(objectKey(d));
      },
    });
    // Recreate waits for the old pods to be gone: their deletion is what lets it go on.
    this.#pods.addHandler({
      delete: (pod) => {
        const rsRef = controllerOf(pod);
        if (rsRef?.kind !== 'ReplicaSet') return;
        const rs = this.#replicaSets.get(pod.metadata?.namespace, rsRef.name);
        const d = rs && rs.metadata?.uid === rsRef.uid ? this.#ownerOf(rs) : undefined;
        if (d) this.#queue.add(objectKey(d));
      },
    });
  }

  start(): void {
    for (let i = 0; i < this.#workers; i++) {
      void processQueue(this.#queue, (key) => this.#sync(key), {
        onError: (key, error) => {
          if (!isApiError(error, 409)) console.error(`skiff: deployment-controller: syncing "${key}":`, error instanceof Error ? error.message : error);
        },
      });
    }
  }

  stop(): void {
    this.#queue.shutDown();
  }

  // --- event handlers -----------------------------------------------------------------------------

  #ownerOf(rs: ReplicaSet): Deployment | undefined {
    const ref = controllerOf(rs);
    if (!ref || ref.kind !== 'Deployment') return undefined;
    const d = this.#deployments.get(rs.metadata?.namespace, ref.name);
    return d && d.metadata?.uid === ref.uid ? d : undefined;
  }

  #replicaSetChanged(old: ReplicaSet | undefined, rs: ReplicaSet): void {
    if (old && old.metadata?.resourceVersion === rs.metadata?.resourceVersion) return;
    const oldRef = old ? controllerOf(old) : undefined;
    const ref = controllerOf(rs);
    if (old && oldRef && oldRef.uid !== ref?.uid) {
      const previous = this.#ownerOf(old);
      if (previous) this.#queue.add(objectKey(previous));
    }
    if (ref) {
      const d = this.#ownerOf(rs);
      if (d) this.#queue.add(objectKey(d));
      return;
    }
    // An orphan: every Deployment that could adopt it takes a look.
    for (const d of this.#deployments.list(rs.metadata?.namespace ?? '')) {
      if (!selectorIsEmpty(d.spec?.selector) && selectorMatches(d.spec?.selector, rs.metadata?.labels)) this.#queue.add(objectKey(d));
    }
  }

  // --- sync -----------------------------------------------------------------------------------------

  async #sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const cached = this.#deployments.get(namespace, name);
    if (!cached) return;
    const d = structuredClone(cached);
    if (selectorIsEmpty(d.spec?.selector)) {
      this.#recorder.event(d, 'Warning', 'SelectingAll', 'This deployment is selecting all pods. A non-empty selector is required.');
      if ((d.status?.observedGeneration ?? 0) < (d.metadata?.generation ?? 0)) {
        await this.#writeStatus(d, { ...d.status, observedGeneration: d.metadata?.generation ?? 0 });
      }
      return;
    }
    const rsList = await this.#claimReplicaSets(d);
    if (d.metadata?.deletionTimestamp) {
      const { newRS, oldRSs } = await this.#replicaSetsAndSyncRevision(d, rsList);
      await this.#syncDeploymentStatus(d, [...oldRSs, newRS], newRS);
      return;
    }
    await this.#checkPausedConditions(d);
    const found = await this.#replicaSetsAndSyncRevision(d, rsList);
    if (d.spec?.paused || this.#isScalingEvent(d, found)) {
      await this.#syncScale(d, found);
      return;
    }
    if (d.spec?.strategy?.type === 'Recreate') await this.#rolloutRecreate(key, d, found);
    else await this.#rolloutRolling(key, d, found);
  }

  /** Upstream's `ClaimReplicaSets`: what this Deployment controls after adoption and release. */
  async #claimReplicaSets(d: Deployment): Promise<ReplicaSet[]> {
    const uid = d.metadata?.uid;
    const selector = d.spec?.selector;
    const deleting = !!d.metadata?.deletionTimestamp;
    const api = this.#client.resource(kinds.replicaSets);
    const claimed: ReplicaSet[] = [];
    let mayAdopt: boolean | undefined;
    for (const rs of this.#replicaSets.list(d.metadata?.namespace ?? '')) {
      const ref = controllerOf(rs);
      const matches = selectorMatches(selector, rs.metadata?.labels);
      const patchOf = (ownerReferences: unknown[]) => ({ metadata: { ownerReferences, uid: rs.metadata?.uid } });
      if (ref) {
        if (ref.uid !== uid) continue;
        if (matches) claimed.push(rs);
        else if (!deleting) await ignoreGone(api.patch(rs.metadata?.namespace, rs.metadata?.name ?? '', patchOf([{ $patch: 'delete', uid }]), { type: 'strategic' }));
        continue;
      }
      if (deleting || !matches || rs.metadata?.deletionTimestamp) continue;
      // Adopt only for the Deployment as it is now, not a deleted one the cache still holds.
      mayAdopt ??= await this.#client
        .resource(kinds.deployments)
        .find(d.metadata?.namespace, d.metadata?.name ?? '')
        .then((fresh) => !!fresh && fresh.metadata?.uid === uid && !fresh.metadata?.deletionTimestamp);
      if (!mayAdopt) continue;
      const adopted = await ignoreGone(api.patch(rs.metadata?.namespace, rs.metadata?.name ?? '', patchOf([controllerRef(d, 'apps/v1', 'Deployment')]), { type: 'strategic' }));
      if (adopted) claimed.push(adopted);
    }
    return claimed;
  }

  /**
   * Upstream's `getAllReplicaSetsAndSyncRevision`: the new ReplicaSet (template equal to the
   * Deployment's; created later by the rollout when missing) with its revision raised above
   * every old one, and the old ones.
   */
  async #replicaSetsAndSyncRevision(d: Deployment, rsList: ReplicaSet[]): Promise<Found> {
    const sorted = [...rsList].sort(byCreation);
    const existing = sorted.find((rs) => equalIgnoreHash(rs.spec?.template, d.spec?.template));
    const oldRSs = sorted.filter((rs) => rs !== existing);
    const newRevision = String(maxRevision(oldRSs) + 1);
    return { newRS: existing && (await this.#syncExistingNewRS(d, existing, newRevision)), oldRSs };
  }

  async #syncExistingNewRS(d: Deployment, existing: ReplicaSet, newRevision: string): Promise<ReplicaSet> {
    const rs = structuredClone(existing);
    const annotationsChanged = setNewReplicaSetAnnotations(d, rs, newRevision, true);
    const minReady = d.spec?.minReadySeconds ?? 0;
    if (annotationsChanged || (rs.spec?.minReadySeconds ?? 0) !== minReady) {
      rs.spec = { ...rs.spec!, minReadySeconds: minReady };
      return await this.#client.resource(kinds.replicaSets).update(rs);
    }
    await this.#setDeploymentRevision(d, rs.metadata?.annotations?.[revisionAnnotation] ?? newRevision);
    // A Deployment that never recorded progress (it just gained a deadline) starts counting now.
    if (hasProgressDeadline(d) && !getCondition(d.status, 'Progressing')) {
      const status = structuredClone(d.status ?? {});
      setCondition(status, newCondition('Progressing', 'True', reasons.foundNewRS, `Found new replica set "${rs.metadata?.name}"`, this.#now()));
      await this.#writeStatus(d, status);
    }
    return rs;
  }

  async #createNewRS(d: Deployment, oldRSs: ReplicaSet[], newRevision: string): Promise<ReplicaSet> {
    const hash = computeHash(d.spec?.template, d.status?.collisionCount);
    const template = structuredClone(d.spec?.template ?? {});
    template.metadata = { ...template.metadata, labels: { ...template.metadata?.labels, [podTemplateHashLabel]: hash } };
    const selector = structuredClone(d.spec!.selector);
    selector.matchLabels = { ...selector.matchLabels, [podTemplateHashLabel]: hash };
    const name = `${d.metadata?.name}-${hash}`;
    const rs: ReplicaSet = {
      metadata: {
        name,
        namespace: d.metadata?.namespace,
        ownerReferences: [controllerRef(d, 'apps/v1', 'Deployment')],
        labels: { ...template.metadata.labels },
      },
      spec: { replicas: 0, minReadySeconds: d.spec?.minReadySeconds ?? 0, selector, template },
    };
    const replicas = newRSNewReplicas(d, [...oldRSs, rs], rs);
    rs.spec!.replicas = replicas;
    setNewReplicaSetAnnotations(d, rs, newRevision, false);
    let created: ReplicaSet;
    let alreadyExists = false;
    try {
      created = await this.#client.resource(kinds.replicaSets).create(rs);
    } catch (error) {
      if (isApiError(error, 409) && error.reason === 'AlreadyExists') {
        const found = await this.#client.resource(kinds.replicaSets).find(d.metadata?.namespace, name);
        if (found && controllerOf(found)?.uid === d.metadata?.uid && equalIgnoreHash(found.spec?.template, d.spec?.template)) {
          // Our own, from a sync whose cache had not seen it yet.
          created = found;
          alreadyExists = true;
        } else {
          // Another template hashes to this name: count the collision, so the next hash differs.
          const status = structuredClone(d.status ?? {});
          status.collisionCount = (status.collisionCount ?? 0) + 1;
          await this.#writeStatus(d, status);
          throw error;
        }
      } else if (isApiError(error, 403) && /being terminated/.test(error.status.message ?? '')) {
        throw error;
      } else {
        const message = `Failed to create new replica set "${name}": ${error instanceof ApiError ? (error.status.message ?? error.message) : String(error)}`;
        if (hasProgressDeadline(d)) {
          const status = structuredClone(d.status ?? {});
          setCondition(status, newCondition('Progressing', 'False', reasons.failedRSCreate, message, this.#now()));
          await this.#writeStatus(d, status).catch(() => undefined);
        }
        this.#recorder.event(d, 'Warning', reasons.failedRSCreate, message);
        throw error;
      }
    }
    if (!alreadyExists && replicas > 0) {
      this.#recorder.event(d, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${created.metadata?.name} from 0 to ${replicas}`);
    }
    await this.#setDeploymentRevision(d, newRevision);
    if (!alreadyExists && hasProgressDeadline(d)) {
      const status = structuredClone(d.status ?? {});
      setCondition(status, newCondition('Progressing', 'True', reasons.newRSCreated, `Created new replica set "${created.metadata?.name}"`, this.#now()));
      await this.#writeStatus(d, status);
    }
    return created;
  }

  /** Records the revision on the Deployment itself (an annotation, so a main-resource write). */
  async #setDeploymentRevision(d: Deployment, revision: string): Promise<void> {
    if (d.metadata?.annotations?.[revisionAnnotation] === revision) return;
    const body = structuredClone(d);
    body.metadata = { ...body.metadata, annotations: { ...body.metadata?.annotations, [revisionAnnotation]: revision } };
    const written = await this.#client.resource(kinds.deployments).update(body);
    d.metadata = { ...d.metadata, annotations: written.metadata?.annotations, resourceVersion: written.metadata?.resourceVersion };
  }

  /** Writes the status subresource; `d` takes the new status and resourceVersion. */
  async #writeStatus(d: Deployment, status: DeploymentStatus): Promise<void> {
    const written = await this.#client.resource(kinds.deployments).updateStatus({ ...d, status });
    d.status = status;
    d.metadata = { ...d.metadata, resourceVersion: written.metadata?.resourceVersion };
  }

  async #checkPausedConditions(d: Deployment): Promise<void> {
    if (!hasProgressDeadline(d)) return;
    const condition = getCondition(d.status, 'Progressing');
    // A reported timeout stays: pausing does not make up for lost progress.
    if (condition?.reason === reasons.timedOut) return;
    const pausedRecorded = condition?.reason === reasons.paused;
    const status = structuredClone(d.status ?? {});
    if (d.spec?.paused && !pausedRecorded) {
      setCondition(status, newCondition('Progressing', 'Unknown', reasons.paused, 'Deployment is paused', this.#now()));
    } else if (!d.spec?.paused && pausedRecorded) {
      setCondition(status, newCondition('Progressing', 'Unknown', reasons.resumed, 'Deployment is resumed', this.#now()));
    } else {
      return;
    }
    await this.#writeStatus(d, status);
  }

  /** A change of `spec.replicas` not yet carried to the active ReplicaSets' desired-replicas. */
  #isScalingEvent(d: Deployment, { newRS, oldRSs }: Found): boolean {
    for (const rs of filterActive([...oldRSs, newRS])) {
      const desired = rs.metadata?.annotations?.[desiredReplicasAnnotation];
      if (desired !== undefined && Number(desired) !== (d.spec?.replicas ?? 1)) return true;
    }
    return false;
  }

  /** Upstream's `sync`: scaling only (paused, or resized mid-rollout). */
  async #syncScale(d: Deployment, { newRS, oldRSs }: Found): Promise<void> {
    const scaled = await this.#scale(d, newRS, oldRSs);
    if (d.spec?.paused) await this.#cleanup(d, scaled.old);
    await this.#syncDeploymentStatus(d, [...scaled.old, scaled.new], scaled.new);
  }

  /** Upstream's `scale`, with proportional scaling; answers the ReplicaSets as now sized. */
  async #scale(d: Deployment, newRS: ReplicaSet | undefined, oldRSs: ReplicaSet[]): Promise<{ new: ReplicaSet | undefined; old: ReplicaSet[] }> {
    const replicas = d.spec?.replicas ?? 1;
    const latest = new Map<string, ReplicaSet>();
    const result = () => ({
      new: newRS && (latest.get(newRS.metadata?.name ?? '') ?? newRS),
      old: oldRSs.map((rs) => latest.get(rs.metadata?.name ?? '') ?? rs),
    });
    const only = findActiveOrLatest(newRS, oldRSs);
    if (only) {
      if ((only.spec?.replicas ?? 0) !== replicas) {
        const scaled = await this.#scaleAndRecord(only, replicas, d);
        latest.set(scaled.metadata?.name ?? '', scaled);
      }
      return result();
    }
    // The new ReplicaSet has everything: the old ones can go.
    if (isSaturated(d, newRS)) {
      for (const old of filterActive(oldRSs)) {
        const scaled = await this.#scaleAndRecord(old, 0, d);
        latest.set(scaled.metadata?.name ?? '', scaled);
      }
      return result();
    }
    if (d.spec?.strategy?.type === 'Recreate') return result();
    const active = filterActive([...oldRSs, newRS]);
    const allowed = replicas > 0 ? replicas + maxSurge(d) : 0;
    const toAdd = allowed - specReplicas(active);
    let operation = '';
    if (toAdd > 0) {
      active.sort(bySizeNewer);
      operation = 'up';
    } else if (toAdd < 0) {
      active.sort(bySizeOlder);
      operation = 'down';
    }
    const sizes = new Map<ReplicaSet, number>();
    let added = 0;
    for (const rs of active) {
      const proportion = toAdd !== 0 ? getProportion(rs, d, toAdd, added) : 0;
      sizes.set(rs, (rs.spec?.replicas ?? 0) + proportion);
      added += proportion;
    }
    for (const [i, rs] of active.entries()) {
      // Rounding leftovers go to (or come from) the largest ReplicaSet.
      if (i === 0 && toAdd !== 0) sizes.set(rs, Math.max(0, sizes.get(rs)! + toAdd - added));
      const scaled = await this.#scaleReplicaSet(rs, sizes.get(rs)!, d, operation);
      latest.set(scaled.metadata?.name ?? '', scaled);
    }
    return result();
  }

  async #scaleAndRecord(rs: ReplicaSet, size: number, d: Deployment): Promise<ReplicaSet> {
    const current = rs.spec?.replicas ?? 0;
    if (current === size) return rs;
    return this.#scaleReplicaSet(rs, size, d, size > current ? 'up' : 'down');
  }

  /** Resizes a ReplicaSet and stamps it with the Deployment's desired and max sizes. */
  async #scaleReplicaSet(rs: ReplicaSet, size: number, d: Deployment, operation: string): Promise<ReplicaSet> {
    const replicas = d.spec?.replicas ?? 1;
    const current = rs.spec?.replicas ?? 0;
    const resize = current !== size;
    if (!resize && !replicasAnnotationsNeedUpdate(rs, replicas, replicas + maxSurge(d))) return rs;
    const copy = structuredClone(rs);
    copy.spec = { ...copy.spec!, replicas: size };
    setReplicasAnnotations(copy, replicas, replicas + maxSurge(d));
    const written = await this.#client.resource(kinds.replicaSets).update(copy);
    if (resize) this.#recorder.event(d, 'Normal', 'ScalingReplicaSet', `Scaled ${operation} replica set ${rs.metadata?.name} from ${current} to ${size}`);
    return written;
  }

  // --- rolling update ---------------------------------------------------------------------------

  async #rolloutRolling(key: string, d: Deployment, found: Found): Promise<void> {
    const { oldRSs } = found;
    let current = found.newRS ?? (await this.#createNewRS(d, oldRSs, String(maxRevision(oldRSs) + 1)));
    const replicas = d.spec?.replicas ?? 1;
    // Scale up the new ReplicaSet as far as maxSurge allows.
    const size = current.spec?.replicas ?? 0;
    if (size !== replicas) {
      const target = size > replicas ? replicas : newRSNewReplicas(d, [...oldRSs, current], current);
      if (target !== size) {
        current = await this.#scaleReplicaSet(current, target, d, target > size ? 'up' : 'down');
        await this.#syncRolloutStatus(key, d, [...oldRSs, current], current);
        return;
      }
    }
    // Scale down old ReplicaSets as far as maxUnavailable allows.
    const { scaled, oldRSs: olds } = await this.#reconcileOld(d, oldRSs, current);
    if (scaled) {
      await this.#syncRolloutStatus(key, d, [...olds, current], current);
      return;
    }
    if (deploymentComplete(d, d.status ?? {})) await this.#cleanup(d, olds);
    await this.#syncRolloutStatus(key, d, [...olds, current], current);
  }

  /** Upstream's `reconcileOldReplicaSets`: unhealthy old pods first, then healthy ones. */
  async #reconcileOld(d: Deployment, oldRSs: ReplicaSet[], newRS: ReplicaSet): Promise<{ scaled: boolean; oldRSs: ReplicaSet[] }> {
    let olds = [...oldRSs];
    if (specReplicas(filterActive(olds)) === 0) return { scaled: false, oldRSs: olds };
    const replicas = d.spec?.replicas ?? 1;
    const minAvailable = replicas - maxUnavailable(d);
    const newUnavailable = (newRS.spec?.replicas ?? 0) - (newRS.status?.availableReplicas ?? 0);
    const maxScaledDown = specReplicas([...olds, newRS]) - minAvailable - newUnavailable;
    if (maxScaledDown <= 0) return { scaled: false, oldRSs: olds };
    const replace = (rs: ReplicaSet) => (olds = olds.map((o) => (o.metadata?.name === rs.metadata?.name ? rs : o)));
    // Old pods that are not available cost nothing to remove: they go first.
    let cleaned = 0;
    for (const rs of [...olds].sort(byCreation)) {
      if (cleaned >= maxScaledDown) break;
      const size = rs.spec?.replicas ?? 0;
      const available = rs.status?.availableReplicas ?? 0;
      if (size === 0 || size === available) continue;
      const count = Math.min(maxScaledDown - cleaned, size - available);
      replace(await this.#scaleReplicaSet(rs, size - count, d, 'down'));
      cleaned += count;
    }
    // Then available ones, while enough stay available.
    let scaledDown = 0;
    const availableNow = availableReplicas([...olds, newRS]);
    if (availableNow > minAvailable) {
      const total = availableNow - minAvailable;
      for (const rs of [...olds].sort(byCreation)) {
        if (scaledDown >= total) break;
        const size = rs.spec?.replicas ?? 0;
        if (size === 0) continue;
        const count = Math.min(size, total - scaledDown);
        replace(await this.#scaleReplicaSet(rs, size - count, d, 'down'));
        scaledDown += count;
      }
    }
    return { scaled: cleaned + scaledDown > 0, oldRSs: olds };
  }

  // --- recreate -----------------------------------------------------------------------------------

  async #rolloutRecreate(key: string, d: Deployment, found: Found): Promise<void> {
    let { newRS, oldRSs } = found;
    let scaledDown = false;
    oldRSs = await Promise.all(
      oldRSs.map(async (rs) => {
        if ((rs.spec?.replicas ?? 0) === 0) return rs;
        scaledDown = true;
        return this.#scaleReplicaSet(rs, 0, d, 'down');
      }),
    );
    if (scaledDown || this.#oldPodsRunning(newRS, oldRSs)) {
      await this.#syncRolloutStatus(key, d, [...oldRSs, newRS], newRS);
      return;
    }
    newRS ??= await this.#createNewRS(d, oldRSs, String(maxRevision(oldRSs) + 1));
    newRS = await this.#scaleAndRecord(newRS!, d.spec?.replicas ?? 1, d);
    if (deploymentComplete(d, d.status ?? {})) await this.#cleanup(d, oldRSs);
    await this.#syncRolloutStatus(key, d, [...oldRSs, newRS], newRS);
  }

  /** Whether any pod of an old ReplicaSet still exists in a phase that may run containers. */
  #oldPodsRunning(newRS: ReplicaSet | undefined, oldRSs: ReplicaSet[]): boolean {
    if (actualReplicas(oldRSs) > 0) return true;
    for (const rs of oldRSs) {
      if (rs.metadata?.uid === newRS?.metadata?.uid) continue;
      for (const pod of this.#pods.byIndex(controllerUidIndex, rs.metadata?.uid ?? '')) {
        const phase = pod.status?.phase;
        if (phase !== 'Failed' && phase !== 'Succeeded') return true;
      }
    }
    return false;
  }

  // --- history, status, progress -----------------------------------------------------------------

  /** Deletes old ReplicaSets beyond revisionHistoryLimit, lowest revision first, never one with pods. */
  async #cleanup(d: Deployment, oldRSs: ReplicaSet[]): Promise<void> {
    const limit = d.spec?.revisionHistoryLimit;
    if (limit === undefined) return;
    const cleanable = oldRSs.filter((rs) => !rs.metadata?.deletionTimestamp).sort(byRevision);
    const excess = cleanable.length - limit;
    for (let i = 0; i < excess; i++) {
      const rs = cleanable[i]!;
      if ((rs.status?.replicas ?? 0) !== 0 || (rs.spec?.replicas ?? 0) !== 0) continue;
      if ((rs.metadata?.generation ?? 0) > (rs.status?.observedGeneration ?? 0)) continue;
      await ignoreGone(this.#client.resource(kinds.replicaSets).delete(rs.metadata?.namespace, rs.metadata?.name ?? '', { preconditions: { uid: rs.metadata?.uid ?? '' } }));
    }
  }

  /** Status without the progress bookkeeping (paused, scaling, being deleted). */
  async #syncDeploymentStatus(d: Deployment, all: (ReplicaSet | undefined)[], newRS: ReplicaSet | undefined): Promise<void> {
    const status = calculateStatus(all, newRS, d, this.#now());
    if (canonicalJson(status) === canonicalJson(d.status ?? {})) return;
    await this.#writeStatus(d, status);
  }

  /** Upstream's `syncRolloutStatus`: status plus the Progressing condition and its deadline. */
  async #syncRolloutStatus(key: string, d: Deployment, all: (ReplicaSet | undefined)[], newRS: ReplicaSet | undefined): Promise<void> {
    const now = this.#now();
    const status = calculateStatus(all, newRS, d, now);
    if (!hasProgressDeadline(d)) removeCondition(status, 'Progressing');
    const current = getCondition(d.status, 'Progressing');
    const complete = status.replicas === status.updatedReplicas && current?.reason === reasons.newRSAvailable;
    if (hasProgressDeadline(d) && !complete) {
      const subject = newRS ? `ReplicaSet "${newRS.metadata?.name}"` : `Deployment "${d.metadata?.name}"`;
      if (deploymentComplete(d, status)) {
        setCondition(status, newCondition('Progressing', 'True', reasons.newRSAvailable, `${subject} has successfully progressed.`, now));
      } else if (deploymentProgressing(d, status)) {
        const condition = newCondition('Progressing', 'True', reasons.rsUpdated, `${subject} is progressing.`, now);
        // Progress restarts the deadline (lastUpdateTime) without a new transition.
        if (current?.status === 'True') condition.lastTransitionTime = current.lastTransitionTime;
        removeCondition(status, 'Progressing');
        setCondition(status, condition);
      } else if (deploymentTimedOut(d, status, now)) {
        setCondition(status, newCondition('Progressing', 'False', reasons.timedOut, `${subject} has timed out progressing.`, now));
      }
    }
    const failures = replicaFailures(all, newRS);
    if (failures) setCondition(status, failures);
    else removeCondition(status, 'ReplicaFailure');
    if (canonicalJson(status) === canonicalJson(d.status ?? {})) {
      this.#requeueStuck(key, d, status, now);
      return;
    }
    await this.#writeStatus(d, status);
  }

  /** Nothing announces a deadline passing: look again when it would. */
  #requeueStuck(key: string, d: Deployment, status: DeploymentStatus, now: Date): void {
    const condition = getCondition(status, 'Progressing');
    if (!hasProgressDeadline(d) || !condition) return;
    if (deploymentComplete(d, status) || condition.reason === reasons.timedOut) return;
    const due = Date.parse(condition.lastUpdateTime ?? '') + (d.spec?.progressDeadlineSeconds ?? 0) * 1000;
    if (!Number.isFinite(due)) return;
    this.#queue.addAfter(key, Math.max(due - now.getTime(), 0) + 100);
  }
}

/** The new ReplicaSet's ReplicaFailure condition, else an old one's, as a Deployment condition. */
function replicaFailures(all: (ReplicaSet | undefined)[], newRS: ReplicaSet | undefined) {
  for (const rs of [newRS, ...all]) {
    const c = rs?.status?.conditions?.find((x) => x.type === 'ReplicaFailure');
    if (c) {
      return {
        type: 'ReplicaFailure',
        status: c.status,
        lastUpdateTime: c.lastTransitionTime,
        lastTransitionTime: c.lastTransitionTime,
        ...(c.reason ? { reason: c.reason } : {}),
        ...(c.message ? { message: c.message } : {}),
      };
    }
  }
  return undefined;
}

/** Resolves undefined for an object that is gone or changed meanwhile; the next sync decides. */
async function ignoreGone<T>(promise: Promise<T>): Promise<T | undefined> {
  try {
    return await promise;
  } catch (error) {
    if (isApiError(error, 404) || isApiError(error, 409) || isApiError(error, 422)) return undefined;
    throw error;
  }
}

/** Registers the controller under upstream's name. */
export const deploymentControllerDescriptor: ControllerDescriptor = {
  name: 'deployment-controller',
  create: (context) => new DeploymentController(context),
};
