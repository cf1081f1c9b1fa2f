/**
 * The scheduler: informers feed the cache (nodes and placed pods) and the queue (pods without a
 * node whose `schedulerName` is ours); one loop pops the most important pod, runs a scheduling
 * cycle synchronously over the cache, assumes the pod on the chosen node and binds it through
 * `pods/binding` without waiting (the binding cycle runs concurrently, as upstream's). A pod
 * that fits nowhere gets a `FailedScheduling` event and a `PodScheduled=False` condition worded
 * as upstream's, may preempt lower-priority pods, and waits in the queue for a cluster event
 * that could change the verdict.
 */
import type { Namespace, Node, Pod } from 'kubernetes-types/core/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import type { PriorityClass } from 'kubernetes-types/scheduling/v1.js';
import { ApiError, EventRecorder, InformerFactory, kinds, type Client, type Informer } from '../client/index.ts';
import { SchedulerCache } from './cache.ts';
import { defaultProfile } from './default-profile.ts';
import { BindError } from './errors.ts';
import { fitErrorMessage, Framework, type ClusterEvent, type Diagnosis, type Profile, type Snapshot } from './framework.ts';
import { PodInfo } from './pod-info.ts';
import { Preemptor } from './preemption.ts';
import { SchedulingQueue, type QueuedPod } from './queue.ts';

/** Options of {@link Scheduler}. */
export interface SchedulerOptions {
  client: Client;
  /** Informers to share; default: the scheduler's own. */
  informers?: InformerFactory;
  /** Pods naming another scheduler are left alone. Default `default-scheduler`. */
  schedulerName?: string;
  /** upstream's `percentageOfNodesToScore`; default 0 (adaptive). */
  percentageOfNodesToScore?: number;
  /** Back-off of a pod that failed: initial 1 s, doubling to at most 10 s. */
  podInitialBackoffMs?: number;
  podMaxBackoffMs?: number;
  /** An unschedulable pod is retried at least this often without any event. Default 5 min. */
  podMaxInUnschedulableMs?: number;
  /** Bindings in flight at once before the loop waits. Default 256. */
  maxInFlightBindings?: number;
  /** Plugins and weights. Default: upstream's defaults. */
  profile?: Profile;
  /** Whether to preempt lower-priority pods. Default true. */
  preemption?: boolean;
  random?: () => number;
  now?: () => number;
  /** Told of unexpected errors. Default: stderr. */
  log?: (line: string) => void;
}

/** Counters, for benchmarks and tests. */
export interface SchedulerStats {
  scheduled: number;
  unschedulable: number;
  bindErrors: number;
  /** performance.now() of the first and the latest successful binding. */
  firstBindAt: number;
  lastBindAt: number;
}

const terminal = (pod: Pod) => pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
/** Pods with scheduling gates wait outside the queue until the gates are removed (upstream's SchedulingGates). */
const gated = (pod: Pod) => (pod.spec?.schedulingGates?.length ?? 0) > 0;

/** See the file header. */
export class Scheduler {
  readonly stats: SchedulerStats = { scheduled: 0, unschedulable: 0, bindErrors: 0, firstBindAt: 0, lastBindAt: 0 };
  readonly #client: Client;
  readonly #options: SchedulerOptions;
  readonly #name: string;
  readonly #informers: InformerFactory;
  readonly #ownInformers: boolean;
  readonly #pods: Informer<Pod>;
  readonly #nodes: Informer<Node>;
  readonly #namespaces: Informer<Namespace>;
  readonly #priorityClasses: Informer<PriorityClass>;
  readonly #pdbs: Informer<PodDisruptionBudget>;
  readonly #cache = new SchedulerCache();
  readonly #queue: SchedulingQueue;
  readonly #framework: Framework;
  readonly #preemptor: Preemptor;
  readonly #recorder: EventRecorder;
  readonly #snapshot: Snapshot;
  readonly #log: (line: string) => void;
  /** Pending pods by the node preemption nominated them to. */
  readonly #nominated = new Map<string, PodInfo[]>();
  readonly #nominatedOf = new Map<string, { node: string; pod: PodInfo }>();
  #inFlight = 0;
  #bindSlot: (() => void) | undefined;
  #stopped = false;
  #loop: Promise<void> | undefined;

  constructor(options: SchedulerOptions) {
    this.#client = options.client;
    this.#options = options;
    this.#name = options.schedulerName ?? 'default-scheduler';
    this.#log = options.log ?? ((line) => console.error(line));
    this.#ownInformers = !options.informers;
    this.#informers = options.informers ?? new InformerFactory(options.client);
    this.#pods = this.#informers.informer(kinds.pods);
    this.#nodes = this.#informers.informer(kinds.nodes);
    this.#namespaces = this.#informers.informer(kinds.namespaces);
    this.#priorityClasses = this.#informers.informer(kinds.priorityClasses);
    this.#pdbs = this.#informers.informer(kinds.podDisruptionBudgets);
    const profile = options.profile ?? defaultProfile();
    const pluginEvents = new Map<string, ReadonlySet<ClusterEvent>>();
    for (const p of [...profile.preFilter, ...profile.filter]) if (p.events) pluginEvents.set(p.name, new Set(p.events));
    this.#queue = new SchedulingQueue({
      ...(options.podInitialBackoffMs !== undefined ? { initialBackoffMs: options.podInitialBackoffMs } : {}),
      ...(options.podMaxBackoffMs !== undefined ? { maxBackoffMs: options.podMaxBackoffMs } : {}),
      ...(options.podMaxInUnschedulableMs !== undefined ? { maxUnschedulableMs: options.podMaxInUnschedulableMs } : {}),
      ...(options.now ? { now: options.now } : {}),
      pluginEvents,
      priorityOf: (pod) => this.#priorityOf(pod),
    });
    this.#framework = new Framework(profile, {
      percentageOfNodesToScore: options.percentageOfNodesToScore ?? 0,
      ...(options.random ? { random: options.random } : {}),
    });
    this.#snapshot = {
      nodes: this.#cache.nodes,
      get: (name) => this.#cache.get(name),
      namespaceLabels: (ns) => this.#namespaces.get(undefined, ns)?.metadata?.labels,
      totals: this.#cache.totals,
      nominatedPods: (node) => this.#nominated.get(node),
    };
    this.#recorder = new EventRecorder(options.client, { component: this.#name });
    this.#preemptor = new Preemptor({
      client: options.client,
      framework: this.#framework,
      snapshot: this.#snapshot,
      recorder: this.#recorder,
      pdbs: () => this.#pdbs.list(),
      log: this.#log,
    });
    this.#wire();
  }

  /** Syncs the informers (when they are the scheduler's own) and starts the loop. */
  async start(): Promise<void> {
    if (this.#ownInformers) await this.#informers.start();
    else await Promise.all([this.#pods, this.#nodes, this.#namespaces, this.#priorityClasses, this.#pdbs].map((i) => i.start()));
    this.#loop = this.#run();
  }

  /** Stops the loop (bindings in flight finish) and the scheduler's own informers. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#queue.close();
    this.#bindSlot?.();
    await this.#loop;
    if (this.#ownInformers) this.#informers.stop();
    await this.#recorder.flush();
  }

  #responsible(pod: Pod): boolean {
    return (pod.spec?.schedulerName || 'default-scheduler') === this.#name;
  }

  #priorityOf(pod: Pod): number {
    const spec = pod.spec;
    if (typeof spec?.priority === 'number') return spec.priority;
    // The API server resolves priority only for pods without a class; resolve the rest here.
    if (spec?.priorityClassName) return this.#priorityClasses.get(undefined, spec.priorityClassName)?.value ?? 0;
    return 0;
  }

  #podInfo(pod: Pod): PodInfo {
    return new PodInfo(pod, this.#priorityOf(pod));
  }

  #wire(): void {
    const key = (pod: Pod) => `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
    this.#pods.addHandler({ add: (pod) => this.#trackNomination(pod), update: (_old, pod) => this.#trackNomination(pod), delete: (pod) => this.#trackNomination(pod, true) });
    this.#pods.addHandler({
      add: (pod) => {
        const node = pod.spec?.nodeName;
        if (node) {
          if (terminal(pod)) return;
          this.#cache.setPod(this.#podInfo(pod), node);
          this.#queue.onEvent('AssignedPodAdd');
        } else if (this.#responsible(pod) && !pod.metadata?.deletionTimestamp && !terminal(pod) && !gated(pod)) {
          this.#queue.add(pod, key(pod));
        }
      },
      update: (old, pod) => {
        const node = pod.spec?.nodeName;
        if (node) {
          if (!old.spec?.nodeName) this.#queue.delete(key(pod));
          if (terminal(pod)) {
            if (this.#cache.nodeOf(pod.metadata?.uid ?? '') !== undefined) {
              this.#cache.removePod(pod.metadata?.uid ?? '');
              this.#queue.onEvent('AssignedPodDelete');
            }
            return;
          }
          if (old === pod) return;
          this.#cache.setPod(this.#podInfo(pod), node);
          if (!old.spec?.nodeName) this.#queue.onEvent('AssignedPodAdd');
          else if (!sameLabels(old, pod)) this.#queue.onEvent('AssignedPodUpdate');
        } else if (this.#responsible(pod)) {
          if (pod.metadata?.deletionTimestamp || terminal(pod) || gated(pod)) this.#queue.delete(key(pod));
          else if (specChanged(old, pod)) this.#queue.update(pod, key(pod));
        }
      },
      delete: (pod) => {
        if (pod.spec?.nodeName || this.#cache.nodeOf(pod.metadata?.uid ?? '') !== undefined) {
          this.#cache.removePod(pod.metadata?.uid ?? '');
          this.#queue.onEvent('AssignedPodDelete');
        }
        this.#queue.delete(key(pod));
      },
    });
    this.#nodes.addHandler({
      add: (node) => {
        this.#cache.addNode(node);
        this.#queue.onEvent('NodeAdd');
      },
      update: (old, node) => {
        this.#cache.addNode(node);
        if (old !== node && nodeSchedulingChanged(old, node)) this.#queue.onEvent('NodeUpdate');
      },
      delete: (node) => this.#cache.removeNode(node.metadata?.name ?? ''),
    });
    this.#namespaces.addHandler({
      update: (old, ns) => {
        if (old !== ns && JSON.stringify(old.metadata?.labels) !== JSON.stringify(ns.metadata?.labels)) this.#queue.onEvent('NamespaceChange');
      },
    });
  }

  /** Keeps the nominated-pods index in step with pods' `status.nominatedNodeName`. */
  #trackNomination(pod: Pod, deleted = false): void {
    const uid = pod.metadata?.uid ?? '';
    const want = deleted || pod.spec?.nodeName ? undefined : pod.status?.nominatedNodeName || undefined;
    const had = this.#nominatedOf.get(uid);
    if (had && had.node === want) return;
    if (had) {
      const list = this.#nominated.get(had.node)?.filter((p) => p.uid !== uid) ?? [];
      if (list.length) this.#nominated.set(had.node, list);
      else this.#nominated.delete(had.node);
      this.#nominatedOf.delete(uid);
    }
    if (want) {
      const info = this.#podInfo(pod);
      this.#nominated.set(want, [...(this.#nominated.get(want) ?? []), info]);
      this.#nominatedOf.set(uid, { node: want, pod: info });
    }
  }

  async #run(): Promise<void> {
    const limit = this.#options.maxInFlightBindings ?? 256;
    let slice = performance.now();
    while (!this.#stopped) {
      if (this.#inFlight >= limit) {
        await new Promise<void>((resolve) => (this.#bindSlot = resolve));
        continue;
      }
      const q = this.#queue.tryPop();
      if (!q) {
        await this.#queue.wait();
        slice = performance.now();
        continue;
      }
      try {
        this.#scheduleOne(q);
      } catch (error) {
        this.#log(`skiff: scheduler: ${q.key}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
        this.#queue.requeueWithBackoff(q);
      }
      // Let informers, bindings and the API server run between slices of scheduling work.
      if (performance.now() - slice > 8) {
        await new Promise((resolve) => setImmediate(resolve));
        slice = performance.now();
      }
    }
  }

  #scheduleOne(q: QueuedPod): void {
    const meta = q.pod.metadata ?? {};
    const current = this.#pods.get(meta.namespace, meta.name ?? '');
    if (!current || current.metadata?.uid !== meta.uid || current.spec?.nodeName || current.metadata?.deletionTimestamp || !this.#responsible(current)) {
      this.#queue.done(q);
      return;
    }
    const pod = this.#podInfo(current);
    const result = this.#framework.schedule(pod, this.#snapshot, current.status?.nominatedNodeName);
    if (result.node) {
      this.#cache.assume(pod, result.node.name);
      this.#inFlight++;
      void this.#bind(q, pod, result.node.name);
      return;
    }
    this.#unschedulable(q, pod, result.diagnosis);
  }

  #unschedulable(q: QueuedPod, pod: PodInfo, diagnosis: Diagnosis): void {
    this.stats.unschedulable++;
    let message: string;
    let nominated: string | undefined;
    if (diagnosis.numAllNodes === 0) {
      message = 'no nodes available to schedule pods';
    } else {
      let postFilter = '';
      if (this.#options.preemption !== false) {
        const outcome = this.#preemptor.preempt(pod, diagnosis);
        postFilter = outcome.message;
        nominated = outcome.nominatedNode;
      }
      message = fitErrorMessage(diagnosis, postFilter);
    }
    this.#recorder.event(pod.pod, 'Warning', 'FailedScheduling', message);
    void this.#setUnschedulable(pod.pod, message, nominated);
    this.#queue.addUnschedulable(q, diagnosis.rejectors);
  }

  /** Sets `PodScheduled=False` (reason `Unschedulable`) and `nominatedNodeName`, when they change. */
  async #setUnschedulable(pod: Pod, message: string, nominated: string | undefined): Promise<void> {
    const existing = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
    const nominatedChanged = nominated !== undefined && pod.status?.nominatedNodeName !== nominated;
    if (existing?.status === 'False' && existing.reason === 'Unschedulable' && existing.message === message && !nominatedChanged) return;
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const condition = {
      type: 'PodScheduled',
      status: 'False',
      reason: 'Unschedulable',
      message,
      lastProbeTime: null,
      lastTransitionTime: existing?.status === 'False' ? (existing.lastTransitionTime ?? now) : now,
    };
    const status: Record<string, unknown> = { conditions: [condition] };
    if (nominatedChanged) status.nominatedNodeName = nominated;
    // The resourceVersion makes the write conditional on the pod the attempt saw: a pod bound (or
    // otherwise changed) since then answers 409, and a stale "Unschedulable" never lands on it.
    const patch = { metadata: { resourceVersion: pod.metadata?.resourceVersion }, status };
    try {
      await this.#client.resource(kinds.pods).patch(pod.metadata?.namespace, pod.metadata?.name ?? '', patch, { type: 'strategic', subresource: 'status' });
    } catch (error) {
      if (error instanceof ApiError && error.code === 409) return;
      if (!(error instanceof ApiError && error.code === 404)) this.#log(`skiff: scheduler: cannot update the status of pod ${pod.metadata?.namespace}/${pod.metadata?.name}: ${(error as Error).message}`);
    }
  }

  async #bind(q: QueuedPod, pod: PodInfo, node: string): Promise<void> {
    const meta = pod.pod.metadata ?? {};
    try {
      await this.#client.resource(kinds.pods).createSubresource(meta.namespace, meta.name ?? '', 'binding', {
        apiVersion: 'v1',
        kind: 'Binding',
        metadata: { name: meta.name, namespace: meta.namespace, ...(meta.uid ? { uid: meta.uid } : {}) },
        target: { apiVersion: 'v1', kind: 'Node', name: node },
      });
      const at = performance.now();
      if (this.stats.scheduled++ === 0) this.stats.firstBindAt = at;
      this.stats.lastBindAt = at;
      this.#recorder.event(pod.pod, 'Normal', 'Scheduled', `Successfully assigned ${meta.namespace}/${meta.name} to ${node}`);
      this.#queue.done(q);
    } catch (error) {
      this.stats.bindErrors++;
      this.#cache.forget(pod.uid);
      if (error instanceof ApiError && (error.code === 404 || error.code === 409)) {
        // Deleted, or bound by someone else: the informer tells the rest.
        this.#queue.done(q);
      } else {
        this.#log(`skiff: scheduler: ${new BindError(`${meta.namespace}/${meta.name}`, node, error).message}`);
        this.#queue.requeueWithBackoff(q);
      }
    } finally {
      this.#inFlight--;
      const slot = this.#bindSlot;
      this.#bindSlot = undefined;
      slot?.();
    }
  }
}

function sameLabels(a: Pod, b: Pod): boolean {
  return JSON.stringify(a.metadata?.labels ?? {}) === JSON.stringify(b.metadata?.labels ?? {});
}

/** Whether a pending pod changed in a way that can change where it fits (not its status). */
function specChanged(a: Pod, b: Pod): boolean {
  if (a === b) return false;
  return JSON.stringify(a.spec) !== JSON.stringify(b.spec) || !sameLabels(a, b);
}

function nodeSchedulingChanged(a: Node, b: Node): boolean {
  return (
    JSON.stringify(a.metadata?.labels) !== JSON.stringify(b.metadata?.labels) ||
    JSON.stringify(a.spec) !== JSON.stringify(b.spec) ||
    JSON.stringify(a.status?.allocatable) !== JSON.stringify(b.status?.allocatable)
  );
}
