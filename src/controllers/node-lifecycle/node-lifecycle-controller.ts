/**
 * The node lifecycle controller, as upstream's: it watches node heartbeats (the Ready
 * condition's `lastHeartbeatTime` and the node's Lease in `kube-node-lease`) and
 * - marks a node silent for longer than the grace period as Unknown (every kubelet condition,
 *   reason `NodeStatusUnknown`), and its pods not Ready;
 * - taints nodes from their conditions: `not-ready` / `unreachable` / pressure taints with
 *   NoSchedule at once, and `not-ready` / `unreachable` with NoExecute (with `timeAdded`) at a
 *   limited rate per zone, lifted the moment the node is Ready again;
 * - taints cordoned nodes (`spec.unschedulable`) `node.kubernetes.io/unschedulable:NoSchedule`.
 *
 * Heartbeats are judged by when this controller *saw* them change, on its own clock, as
 * upstream does, so clock skew between nodes and the control plane does not matter. When every
 * node of every zone is not Ready the controller assumes the fault is its own (the control
 * plane lost the network) and taints nothing for NoExecute, removing such taints, as upstream's
 * "master disruption mode".
 */
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Node, NodeCondition, Pod, Taint } from 'kubernetes-types/core/v1.js';
import { isApiError, kinds, processQueue, WorkQueue, type EventRecorder, type Informer, type ResourceClient } from '../../client/index.ts';
import type { Controller, ControllerContext, ControllerDescriptor } from '../manager.ts';
import { timestamp, withCondition } from '../pod-util.ts';
import { MANAGED_NO_EXECUTE, MANAGED_NO_SCHEDULE, noExecuteKey, noScheduleKeys, nodeCondition } from './taints.ts';

/** Index of pods by `spec.nodeName` (shared informer). */
export const PODS_BY_NODE_INDEX = 'node-lifecycle/node';

/** Options of {@link NodeLifecycleController}. */
export interface NodeLifecycleControllerOptions {
  /** A node that never posted status is given this long (`--node-startup-grace-period`, 1 min). */
  startupGracePeriodMs?: number;
  /** NoExecute taints added per second in a healthy zone (`--node-eviction-rate`, 0.1). */
  evictionRate?: number;
  /** The same in a partially disrupted large zone (`--secondary-node-eviction-rate`, 0.01). */
  secondaryEvictionRate?: number;
  /** Share of not-Ready nodes that makes a zone partially disrupted (0.55). */
  unhealthyZoneThreshold?: number;
  /** Zones of at most this many nodes stop NoExecute tainting when partially disrupted (50). */
  largeClusterThreshold?: number;
  /** The clock (ms). */
  now?: () => number;
}

interface Health {
  uid: string;
  /** When this controller last saw the heartbeat move. */
  probeTimestamp: number;
  readyHeartbeat?: string;
  leaseRenew?: string;
}

type ZoneState = 'Normal' | 'PartialDisruption' | 'FullDisruption';

/** A token bucket with a burst of one, as upstream's eviction limiter. */
class RateLimiter {
  #tokens = 1;
  #last: number;
  readonly #now: () => number;
  qps: number;

  constructor(qps: number, now: () => number) {
    this.qps = qps;
    this.#now = now;
    this.#last = now();
  }

  /** Takes a token; otherwise says how many ms until one is there (Infinity at 0 qps). */
  take(): number {
    const now = this.#now();
    this.#tokens = Math.min(1, this.#tokens + ((now - this.#last) / 1000) * this.qps);
    this.#last = now;
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return 0;
    }
    return this.qps > 0 ? ((1 - this.#tokens) / this.qps) * 1000 : Infinity;
  }
}

/** See the file header. */
export class NodeLifecycleController implements Controller {
  readonly #nodes: Informer<Node>;
  readonly #leases: Informer<Lease>;
  readonly #pods: Informer<Pod>;
  readonly #nodeApi: ResourceClient<Node>;
  readonly #podApi: ResourceClient<Pod>;
  readonly #recorder: EventRecorder;
  readonly #queue = new WorkQueue();
  readonly #health = new Map<string, Health>();
  readonly #limiters = new Map<string, RateLimiter>();
  readonly #zoneStates = new Map<string, ZoneState>();
  readonly #graceMs: number;
  readonly #periodMs: number;
  readonly #workers: number;
  readonly #options: Required<Omit<NodeLifecycleControllerOptions, 'now'>>;
  readonly #now: () => number;
  #masterDisruption = false;
  #ticker: NodeJS.Timeout | undefined;

  constructor(context: ControllerContext, options: NodeLifecycleControllerOptions = {}) {
    this.#nodes = context.informers.informer(kinds.nodes);
    this.#leases = context.informers.informer(kinds.leases);
    this.#pods = context.informers.informer(kinds.pods, { [PODS_BY_NODE_INDEX]: (pod) => [pod.spec?.nodeName ?? ''] });
    this.#nodeApi = context.client.resource(kinds.nodes);
    this.#podApi = context.client.resource(kinds.pods);
    this.#recorder = context.recorder('node-controller');
    this.#graceMs = context.settings.nodeMonitorGracePeriodMs;
    this.#periodMs = context.settings.nodeMonitorPeriodMs;
    this.#workers = context.settings.workers;
    this.#now = options.now ?? Date.now;
    this.#options = {
      startupGracePeriodMs: options.startupGracePeriodMs ?? 60_000,
      evictionRate: options.evictionRate ?? 0.1,
      secondaryEvictionRate: options.secondaryEvictionRate ?? 0.01,
      unhealthyZoneThreshold: options.unhealthyZoneThreshold ?? 0.55,
      largeClusterThreshold: options.largeClusterThreshold ?? 50,
    };
  }

  start(): void {
    const enqueue = (node: Node) => this.#queue.add(node.metadata?.name ?? '');
    this.#nodes.addHandler({
      add: enqueue,
      update: (_, node) => enqueue(node),
      delete: (node) => {
        this.#health.delete(node.metadata?.name ?? '');
      },
    });
    for (let i = 0; i < this.#workers; i++) {
      void processQueue(this.#queue, (name) => this.#sync(name), {
        onError: (name, error) => console.error(`skiff: node-lifecycle-controller: node "${name}":`, error instanceof Error ? error.message : error),
      });
    }
    this.#ticker = setInterval(() => this.#monitor(), this.#periodMs);
    this.#ticker.unref();
    this.#monitor();
  }

  stop(): void {
    clearInterval(this.#ticker);
    this.#queue.shutDown();
  }

  /** Every monitor period: zone states from the cache, then every node looked at. */
  #monitor(): void {
    const zones = new Map<string, { total: number; notReady: number }>();
    for (const node of this.#nodes.list()) {
      this.#observe(node);
      const zone = zoneOf(node);
      const counts = zones.get(zone) ?? { total: 0, notReady: 0 };
      counts.total++;
      if (nodeCondition(node, 'Ready')?.status !== 'True') counts.notReady++;
      zones.set(zone, counts);
    }
    this.#zoneStates.clear();
    for (const [zone, { total, notReady }] of zones) {
      const state: ZoneState =
        notReady === total && total > 0
          ? 'FullDisruption'
          : notReady > 2 && notReady / total >= this.#options.unhealthyZoneThreshold
            ? 'PartialDisruption'
            : 'Normal';
      this.#zoneStates.set(zone, state);
      const limiter = this.#limiter(zone);
      limiter.qps = state === 'PartialDisruption' ? (total > this.#options.largeClusterThreshold ? this.#options.secondaryEvictionRate : 0) : this.#options.evictionRate;
    }
    const allDisrupted = zones.size > 0 && [...this.#zoneStates.values()].every((s) => s === 'FullDisruption');
    if (allDisrupted !== this.#masterDisruption) {
      this.#masterDisruption = allDisrupted;
      console.error(
        allDisrupted
          ? 'skiff: node-lifecycle-controller: every node is not Ready; entering master disruption mode (no NoExecute taints)'
          : 'skiff: node-lifecycle-controller: some nodes are Ready again; leaving master disruption mode',
      );
    }
    for (const node of this.#nodes.list()) this.#queue.add(node.metadata?.name ?? '');
  }

  #limiter(zone: string): RateLimiter {
    let limiter = this.#limiters.get(zone);
    if (!limiter) this.#limiters.set(zone, (limiter = new RateLimiter(this.#options.evictionRate, this.#now)));
    return limiter;
  }

  /** Records when the node's heartbeat (status or Lease) was last seen to move. */
  #observe(node: Node): Health {
    const name = node.metadata?.name ?? '';
    const now = this.#now();
    const readyHeartbeat = nodeCondition(node, 'Ready')?.lastHeartbeatTime;
    const leaseRenew = this.#leases.get('kube-node-lease', name)?.spec?.renewTime;
    let health = this.#health.get(name);
    if (!health || health.uid !== node.metadata?.uid) {
      const created = Date.parse(node.metadata?.creationTimestamp ?? '');
      // A node first seen without any status counts from its creation (it may never post one).
      const probe = !readyHeartbeat && !leaseRenew && Number.isFinite(created) ? Math.min(created, now) : now;
      health = { uid: node.metadata?.uid ?? '', probeTimestamp: probe, ...(readyHeartbeat ? { readyHeartbeat } : {}), ...(leaseRenew ? { leaseRenew } : {}) };
      this.#health.set(name, health);
      return health;
    }
    if (readyHeartbeat !== health.readyHeartbeat || leaseRenew !== health.leaseRenew) {
      health.probeTimestamp = now;
      if (readyHeartbeat) health.readyHeartbeat = readyHeartbeat;
      if (leaseRenew) health.leaseRenew = leaseRenew;
    }
    return health;
  }

  async #sync(name: string): Promise<boolean | void> {
    let node = this.#nodes.get(undefined, name);
    if (!node) return;
    const health = this.#observe(node);
    const ready = nodeCondition(node, 'Ready');
    const grace = ready ? this.#graceMs : Math.max(this.#options.startupGracePeriodMs, this.#graceMs);
    const now = this.#now();
    if (now - health.probeTimestamp > grace && !allUnknown(node)) {
      node = await this.#markUnknown(node, now);
    }
    return this.#reconcileTaints(node);
  }

  /** Sets every kubelet condition to Unknown, and the node's pods to not Ready. */
  async #markUnknown(node: Node, now: number): Promise<Node> {
    const at = timestamp(new Date(now));
    const conditions: NodeCondition[] = [...(node.status?.conditions ?? [])];
    for (const type of ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure']) {
      const i = conditions.findIndex((c) => c.type === type);
      const old = i >= 0 ? conditions[i] : undefined;
      if (old?.status === 'Unknown') continue;
      const condition: NodeCondition = old
        ? { ...old, status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.', lastTransitionTime: at }
        : {
            type,
            status: 'Unknown',
            reason: 'NodeStatusNeverUpdated',
            message: 'Kubelet never posted node status.',
            lastHeartbeatTime: node.metadata?.creationTimestamp ?? at,
            lastTransitionTime: at,
          };
      if (i >= 0) conditions[i] = condition;
      else conditions.push(condition);
    }
    const next: Node = { ...structuredClone(node), status: { ...structuredClone(node.status), conditions } };
    const updated = await this.#nodeApi.updateStatus(next);
    const name = node.metadata?.name ?? '';
    this.#recorder.event(updated, 'Normal', 'NodeNotReady', `Node ${name} status is now: NodeNotReady`);
    await this.#markPodsNotReady(name, at);
    return updated;
  }

  /** Upstream's `MarkPodsNotReady`: a silent node's pods stop counting as ready endpoints. */
  async #markPodsNotReady(nodeName: string, at: string): Promise<void> {
    for (const pod of this.#pods.byIndex(PODS_BY_NODE_INDEX, nodeName)) {
      const ready = pod.status?.conditions?.find((c) => c.type === 'Ready');
      if (ready?.status !== 'True' || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') continue;
      const conditions = withCondition(pod.status?.conditions, { ...ready, status: 'False', lastTransitionTime: at });
      try {
        await this.#podApi.patch(pod.metadata?.namespace, pod.metadata?.name ?? '', { status: { conditions: conditions.filter((c) => c.type === 'Ready') } }, { type: 'strategic', subresource: 'status' });
      } catch (error) {
        if (!isApiError(error, 404)) throw error;
      }
    }
  }

  /** Makes the node's controller-owned taints match its conditions; true asks for another look. */
  async #reconcileTaints(node: Node): Promise<boolean | void> {
    const taints: Taint[] = node.spec?.taints ?? [];
    const wantNoSchedule = noScheduleKeys(node);
    const wantNoExecute = this.#masterDisruption ? undefined : noExecuteKey(node);
    const keep = taints.filter((t) => {
      if (t.effect === 'NoSchedule' && MANAGED_NO_SCHEDULE.has(t.key)) return wantNoSchedule.has(t.key);
      if (t.effect === 'NoExecute' && MANAGED_NO_EXECUTE.has(t.key)) return t.key === wantNoExecute;
      return true;
    });
    const add: Taint[] = [];
    for (const key of wantNoSchedule) {
      if (!keep.some((t) => t.key === key && t.effect === 'NoSchedule')) add.push({ key, effect: 'NoSchedule' });
    }
    let again = false;
    if (wantNoExecute && !keep.some((t) => t.key === wantNoExecute && t.effect === 'NoExecute')) {
      // Swapping not-ready for unreachable (or back) is not a new eviction: no token needed.
      const swapping = taints.some((t) => t.effect === 'NoExecute' && MANAGED_NO_EXECUTE.has(t.key));
      const wait = swapping ? 0 : this.#limiter(zoneOf(node)).take();
      if (wait === 0) add.push({ key: wantNoExecute, effect: 'NoExecute', timeAdded: timestamp(new Date(this.#now())) });
      else again = true;
    }
    if (add.length === 0 && keep.length === taints.length) return again;
    const all = [...keep, ...add];
    const spec = { ...structuredClone(node.spec) };
    if (all.length > 0) spec.taints = all;
    else delete spec.taints;
    const next: Node = { ...structuredClone(node), spec };
    await this.#nodeApi.update(next);
    return again;
  }
}

function allUnknown(node: Node): boolean {
  return ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'].every((type) => nodeCondition(node, type)?.status === 'Unknown');
}

/** Upstream's zone key: region and zone labels. */
function zoneOf(node: Node): string {
  const labels = node.metadata?.labels ?? {};
  return `${labels['topology.kubernetes.io/region'] ?? ''}:\u0000:${labels['topology.kubernetes.io/zone'] ?? ''}`;
}

/** The `node-lifecycle-controller` descriptor. */
export const nodeLifecycleControllerDescriptor: ControllerDescriptor = {
  name: 'node-lifecycle-controller',
  create: (context) => new NodeLifecycleController(context),
};
