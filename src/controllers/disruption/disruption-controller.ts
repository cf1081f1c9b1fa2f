/**
 * The disruption controller: keeps every PodDisruptionBudget's status, which the
 * `pods/eviction` subresource spends. As upstream's:
 * - expectedPods is the scale of the selected pods' controllers (a ReplicaSet owned by a
 *   Deployment counts as the Deployment), or, for an integer `minAvailable`, the number of
 *   selected pods;
 * - desiredHealthy comes from `minAvailable` or `expectedPods - maxUnavailable`, percentages
 *   of expectedPods rounded up;
 * - currentHealthy counts ready pods that are neither being deleted nor recently evicted
 *   (in `disruptedPods` for less than two minutes);
 * - disruptionsAllowed = currentHealthy - desiredHealthy, never below 0, and 0 without
 *   expected pods; the DisruptionAllowed condition says SufficientPods or InsufficientPods;
 * - a budget that cannot be computed allows nothing (condition reason SyncFailed).
 */
import type { Deployment, ReplicaSet, StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { Condition } from 'kubernetes-types/meta/v1.js';
import type { PodDisruptionBudget, PodDisruptionBudgetStatus } from 'kubernetes-types/policy/v1.js';
import {
  controllerOf,
  isApiError,
  kinds,
  objectKey,
  processQueue,
  selectorMatches,
  selectorToString,
  splitKey,
  WorkQueue,
  type EventRecorder,
  type Informer,
  type ResourceClient,
} from '../../client/index.ts';
import type { Controller, ControllerContext, ControllerDescriptor } from '../manager.ts';
import { isPodReady, timestamp } from '../pod-util.ts';

/** How long an evicted pod may take to be deleted before it counts again (upstream's DeletionTimeout). */
export const deletionTimeoutMs = 2 * 60 * 1000;

/** Options of {@link DisruptionController}. */
export interface DisruptionControllerOptions {
  /** The clock. Default `() => new Date()`. */
  now?: () => Date;
  /** How long an evicted pod stays in `disruptedPods`. Default {@link deletionTimeoutMs}. */
  deletionTimeoutMs?: number;
}

/** See the file header. */
export class DisruptionController implements Controller {
  readonly #budgets: Informer<PodDisruptionBudget>;
  readonly #pods: Informer<Pod>;
  readonly #replicaSets: Informer<ReplicaSet>;
  readonly #deployments: Informer<Deployment>;
  readonly #statefulSets: Informer<StatefulSet>;
  readonly #api: ResourceClient<PodDisruptionBudget>;
  readonly #recorder: EventRecorder;
  readonly #queue = new WorkQueue();
  readonly #workers: number;
  readonly #now: () => Date;
  readonly #timeoutMs: number;

  constructor(context: ControllerContext, options: DisruptionControllerOptions = {}) {
    this.#budgets = context.informers.informer(kinds.podDisruptionBudgets);
    this.#pods = context.informers.informer(kinds.pods);
    this.#replicaSets = context.informers.informer(kinds.replicaSets);
    this.#deployments = context.informers.informer(kinds.deployments);
    this.#statefulSets = context.informers.informer(kinds.statefulSets);
    this.#api = context.client.resource(kinds.podDisruptionBudgets);
    this.#recorder = context.recorder('controllermanager');
    this.#workers = context.settings.workers;
    this.#now = options.now ?? (() => new Date());
    this.#timeoutMs = options.deletionTimeoutMs ?? deletionTimeoutMs;
  }

  start(): void {
    const enqueue = (budget: PodDisruptionBudget) => this.#queue.add(objectKey(budget));
    this.#budgets.addHandler({ add: enqueue, update: (_, b) => enqueue(b), delete: enqueue });
    this.#pods.addHandler({
      add: (pod) => this.#enqueuePod(pod),
      update: (old, pod) => {
        this.#enqueuePod(pod);
        if (old !== pod && JSON.stringify(old.metadata?.labels) !== JSON.stringify(pod.metadata?.labels)) this.#enqueuePod(old);
      },
      delete: (pod) => this.#enqueuePod(pod),
    });
    // A controller's scale is the budget's expectedPods: a scale change re-counts its budgets.
    const scaled = (old: { spec?: { replicas?: number } }, object: { metadata?: { namespace?: string }; spec?: { replicas?: number } }) => {
      if (old.spec?.replicas === object.spec?.replicas) return;
      for (const budget of this.#budgets.list(object.metadata?.namespace ?? '')) enqueue(budget);
    };
    this.#replicaSets.addHandler({ update: scaled });
    this.#deployments.addHandler({ update: scaled });
    this.#statefulSets.addHandler({ update: scaled });
    for (let i = 0; i < this.#workers; i++) {
      void processQueue(this.#queue, (key) => this.#sync(key), {
        onError: (key, error) => console.error(`skiff: disruption-controller: budget "${key}":`, error instanceof Error ? error.message : error),
      });
    }
  }

  stop(): void {
    this.#queue.shutDown();
  }

  /** Queues the budget covering the pod (the first by name when several do, as upstream). */
  #enqueuePod(pod: Pod): void {
    const budgets = this.#budgets
      .list(pod.metadata?.namespace ?? '')
      .filter((b) => selectorMatches(b.spec?.selector, pod.metadata?.labels))
      .sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
    if (budgets.length === 0) return;
    if (budgets.length > 1) {
      this.#recorder.event(pod, 'Warning', 'MultiplePodDisruptionBudgets', `Pod "${pod.metadata?.namespace}"/"${pod.metadata?.name}" matches multiple PodDisruptionBudgets.  Chose "${budgets[0]!.metadata?.name}" arbitrarily.`);
    }
    this.#queue.add(objectKey(budgets[0]!));
  }

  async #sync(key: string): Promise<void> {
    const { namespace = '', name } = splitKey(key);
    const budget = this.#budgets.get(namespace, name);
    if (!budget) return;
    try {
      await this.#trySync(budget);
    } catch (error) {
      // A stale cache (409) is just retried; anything else leaves a budget that allows nothing.
      if (isApiError(error, 409)) throw error;
      await this.#failSafe(budget, error);
      throw error;
    }
  }

  async #trySync(budget: PodDisruptionBudget): Promise<void> {
    const namespace = budget.metadata?.namespace ?? '';
    // policy/v1: an empty selector selects every pod of the namespace.
    const pods = this.#pods.list(namespace, budget.spec?.selector ?? {});
    if (pods.length === 0) this.#recorder.event(budget, 'Normal', 'NoPods', 'No matching pods found');
    const { expectedCount, desiredHealthy, unmanagedPods } = this.#expectedPodCount(budget, pods);
    if (unmanagedPods.length > 0) {
      this.#recorder.event(
        budget,
        'Warning',
        'UnmanagedPods',
        `Pods selected by this PodDisruptionBudget (selector: ${selectorText(budget)}) were found to be unmanaged. As a result, the status of the PDB cannot be calculated correctly, which may result in undefined behavior. To account for these pods please set ".spec.minAvailable" field of the PDB to an integer value.`,
      );
    }
    const now = this.#now();
    const { disrupted, recheckAt } = this.#disruptedPods(budget, pods, now);
    let currentHealthy = 0;
    for (const pod of pods) {
      if (pod.metadata?.deletionTimestamp) continue;
      const since = disrupted[pod.metadata?.name ?? ''];
      if (since !== undefined && Date.parse(since) + this.#timeoutMs > now.getTime()) continue;
      if (isPodReady(pod)) currentHealthy++;
    }
    await this.#updateStatus(budget, { currentHealthy, desiredHealthy, expectedPods: expectedCount, disruptedPods: disrupted });
    if (recheckAt !== undefined) this.#queue.addAfter(objectKey(budget), Math.max(0, recheckAt - now.getTime()) + 1);
  }

  /** expectedPods and desiredHealthy (upstream's getExpectedPodCount). */
  #expectedPodCount(budget: PodDisruptionBudget, pods: Pod[]): { expectedCount: number; desiredHealthy: number; unmanagedPods: string[] } {
    const spec = budget.spec ?? {};
    if (spec.maxUnavailable !== undefined && spec.maxUnavailable !== null) {
      const { expected, unmanaged } = this.#expectedScale(pods);
      const maxUnavailable = scaledValue(spec.maxUnavailable, expected);
      return { expectedCount: expected, desiredHealthy: Math.max(0, expected - maxUnavailable), unmanagedPods: unmanaged };
    }
    if (spec.minAvailable !== undefined && spec.minAvailable !== null) {
      if (typeof spec.minAvailable === 'number') return { expectedCount: pods.length, desiredHealthy: spec.minAvailable, unmanagedPods: [] };
      const { expected, unmanaged } = this.#expectedScale(pods);
      return { expectedCount: expected, desiredHealthy: scaledValue(spec.minAvailable, expected), unmanagedPods: unmanaged };
    }
    return { expectedCount: 0, desiredHealthy: 0, unmanagedPods: [] };
  }

  /**
   * The sum of the scales of the pods' controllers, each counted once (two ReplicaSets of one
   * Deployment count as the Deployment, once).
   */
  #expectedScale(pods: Pod[]): { expected: number; unmanaged: string[] } {
    const scales = new Map<string, number>();
    const unmanaged: string[] = [];
    for (const pod of pods) {
      const ref = controllerOf(pod);
      if (!ref) {
        unmanaged.push(pod.metadata?.name ?? '');
        continue;
      }
      if (scales.has(ref.uid)) continue;
      const found = this.#controllerScale(ref.kind, ref.name, ref.uid, pod.metadata?.namespace ?? '');
      if (!found) throw new Error(`found no controllers for pod "${pod.metadata?.name}"`);
      scales.set(found.uid, found.scale);
    }
    let expected = 0;
    for (const scale of scales.values()) expected += scale;
    return { expected, unmanaged };
  }

  /** The controller (and its scale) that a pod's controllerRef leads to. */
  #controllerScale(kind: string, name: string, uid: string, namespace: string): { uid: string; scale: number } | undefined {
    if (kind === 'ReplicaSet') {
      const rs = this.#replicaSets.get(namespace, name);
      if (!rs || rs.metadata?.uid !== uid) return undefined;
      const owner = controllerOf(rs);
      if (owner?.kind === 'Deployment') {
        const deployment = this.#deployments.get(namespace, owner.name);
        if (!deployment || deployment.metadata?.uid !== owner.uid) return undefined;
        return { uid: owner.uid, scale: deployment.spec?.replicas ?? 1 };
      }
      return { uid, scale: rs.spec?.replicas ?? 1 };
    }
    if (kind === 'StatefulSet') {
      const set = this.#statefulSets.get(namespace, name);
      if (!set || set.metadata?.uid !== uid) return undefined;
      return { uid, scale: set.spec?.replicas ?? 1 };
    }
    if (kind === 'Deployment') {
      const deployment = this.#deployments.get(namespace, name);
      if (!deployment || deployment.metadata?.uid !== uid) return undefined;
      return { uid, scale: deployment.spec?.replicas ?? 1 };
    }
    return undefined;
  }

  /**
   * The `disruptedPods` still pending: pods evicted less than the timeout ago and not yet
   * being deleted. Also when the earliest of them expires, to look again then.
   */
  #disruptedPods(budget: PodDisruptionBudget, pods: Pod[], now: Date): { disrupted: Record<string, string>; recheckAt: number | undefined } {
    const recorded = budget.status?.disruptedPods ?? {};
    const disrupted: Record<string, string> = {};
    let recheckAt: number | undefined;
    for (const pod of pods) {
      if (pod.metadata?.deletionTimestamp) continue;
      const since = recorded[pod.metadata?.name ?? ''];
      if (since === undefined) continue;
      const expires = Date.parse(since) + this.#timeoutMs;
      if (expires < now.getTime()) {
        this.#recorder.event(pod, 'Warning', 'NotDeleted', `Pod was expected by PDB ${budget.metadata?.namespace}/${budget.metadata?.name} to be deleted but it wasn't`);
        continue;
      }
      disrupted[pod.metadata!.name!] = since;
      if (recheckAt === undefined || expires < recheckAt) recheckAt = expires;
    }
    return { disrupted, recheckAt };
  }

  async #updateStatus(
    budget: PodDisruptionBudget,
    counts: { currentHealthy: number; desiredHealthy: number; expectedPods: number; disruptedPods: Record<string, string> },
  ): Promise<void> {
    let disruptionsAllowed = counts.currentHealthy - counts.desiredHealthy;
    if (counts.expectedPods <= 0 || disruptionsAllowed <= 0) disruptionsAllowed = 0;
    const generation = budget.metadata?.generation ?? 0;
    const old = budget.status ?? ({} as PodDisruptionBudgetStatus);
    const condition = allowedCondition(disruptionsAllowed > 0, generation);
    if (
      old.currentHealthy === counts.currentHealthy &&
      old.desiredHealthy === counts.desiredHealthy &&
      old.expectedPods === counts.expectedPods &&
      old.disruptionsAllowed === disruptionsAllowed &&
      sameMap(old.disruptedPods, counts.disruptedPods) &&
      old.observedGeneration === generation &&
      conditionUpToDate(old.conditions, condition)
    ) {
      return;
    }
    const next = structuredClone(budget);
    next.status = {
      currentHealthy: counts.currentHealthy,
      desiredHealthy: counts.desiredHealthy,
      expectedPods: counts.expectedPods,
      disruptionsAllowed,
      observedGeneration: generation,
      conditions: setCondition(old.conditions, condition, this.#now()),
    };
    if (Object.keys(counts.disruptedPods).length > 0) next.status.disruptedPods = counts.disruptedPods;
    await this.#api.updateStatus(next);
  }

  /** A budget whose status cannot be computed allows no disruption. */
  async #failSafe(budget: PodDisruptionBudget, error: unknown): Promise<void> {
    this.#recorder.event(budget, 'Warning', 'CalculateExpectedPodCountFailed', `Failed to calculate the number of expected pods: ${error instanceof Error ? error.message : String(error)}`);
    const next = structuredClone(budget);
    const status = (next.status ??= {} as PodDisruptionBudgetStatus);
    status.disruptionsAllowed = 0;
    status.conditions = setCondition(
      status.conditions,
      {
        type: 'DisruptionAllowed',
        status: 'False',
        reason: 'SyncFailed',
        message: error instanceof Error ? error.message : String(error),
        observedGeneration: status.observedGeneration ?? 0,
        lastTransitionTime: '',
      },
      this.#now(),
    );
    try {
      await this.#api.updateStatus(next);
    } catch {
      // The sync is retried anyway.
    }
  }
}

/** An int-or-percent of `total`, percentages rounded up (upstream's GetScaledValueFromIntOrPercent). */
function scaledValue(value: number | string, total: number): number {
  if (typeof value === 'number') return value;
  const match = /^([0-9]+)%$/.exec(value);
  if (!match) {
    if (/^[0-9]+$/.test(value)) return Number(value);
    throw new Error(`invalid value for IntOrString: invalid value "${value}"`);
  }
  return Math.ceil((Number(match[1]) * total) / 100);
}

function allowedCondition(allowed: boolean, generation: number): Condition {
  return {
    type: 'DisruptionAllowed',
    status: allowed ? 'True' : 'False',
    reason: allowed ? 'SufficientPods' : 'InsufficientPods',
    message: '',
    observedGeneration: generation,
    lastTransitionTime: '',
  };
}

function conditionUpToDate(conditions: Condition[] | undefined, want: Condition): boolean {
  const have = conditions?.find((c) => c.type === want.type);
  return !!have && have.status === want.status && have.reason === want.reason && (have.message ?? '') === want.message && have.observedGeneration === want.observedGeneration;
}

/** meta.SetStatusCondition: the transition time moves only when the status changes. */
function setCondition(conditions: Condition[] | undefined, condition: Condition, now: Date): Condition[] {
  const list = (conditions ?? []).map((c) => ({ ...c }));
  const at = list.findIndex((c) => c.type === condition.type);
  if (at < 0) return [...list, { ...condition, lastTransitionTime: timestamp(now) }];
  const old = list[at]!;
  list[at] = { ...condition, lastTransitionTime: old.status === condition.status && old.lastTransitionTime ? old.lastTransitionTime : timestamp(now) };
  return list;
}

function sameMap(a: Record<string, string> | undefined, b: Record<string, string>): boolean {
  const have = a ?? {};
  return Object.keys(have).length === Object.keys(b).length && Object.entries(b).every(([k, v]) => have[k] === v);
}

function selectorText(budget: PodDisruptionBudget): string {
  return budget.spec?.selector ? selectorToString(budget.spec.selector) : '';
}

/** The `disruption-controller` descriptor. */
export const disruptionControllerDescriptor: ControllerDescriptor = {
  name: 'disruption-controller',
  create: (context) => new DisruptionController(context),
};
