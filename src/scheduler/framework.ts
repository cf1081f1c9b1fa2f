/**
 * The scheduling framework: one interface per extension point, as kube-scheduler's
 * `framework/interface.go`. Plugins return a {@link Status} instead of throwing.
 *
 * Contract of a scheduling cycle (run by {@link Framework.schedule}, synchronously, over the
 * cache as its snapshot):
 * 1. every PreFilter runs; `Skip` turns that plugin's Filter off for this pod, a rejection fails
 *    the pod on every node (its reasons become the message's pre-filter part);
 * 2. nodes are filtered round-robin from where the last cycle stopped until enough feasible ones
 *    are found (`percentageOfNodesToScore`); per node, Filters run in order and the first
 *    rejection is that node's status;
 * 3. PreScore (`Skip` turns the plugin's Score off), Score per node, NormalizeScore to 0–100,
 *    times the plugin's weight, summed; the best node wins, ties broken at random.
 */
import type { ClusterTotals, NodeInfo } from './node-info.ts';
import type { NamespaceLabels, PodInfo } from './pod-info.ts';

/** The outcome codes of upstream's framework. */
export type StatusCode = 'Success' | 'Error' | 'Unschedulable' | 'UnschedulableAndUnresolvable' | 'Skip';

/** What a plugin answers. `reasons` are the phrases counted in `0/N nodes are available: …`. */
export interface Status {
  readonly code: StatusCode;
  readonly reasons: readonly string[];
  /** The plugin that answered (set by the framework). */
  plugin?: string;
}

/** The shared success status. */
export const success: Status = Object.freeze({ code: 'Success', reasons: Object.freeze([]) }) as Status;
/** The shared skip status. */
export const skip: Status = Object.freeze({ code: 'Skip', reasons: Object.freeze([]) }) as Status;

/** A rejection that another placement of pods could resolve (preemption may help). */
export function unschedulable(...reasons: string[]): Status {
  return { code: 'Unschedulable', reasons };
}

/** A rejection no preemption can resolve (labels, taints, names). */
export function unresolvable(...reasons: string[]): Status {
  return { code: 'UnschedulableAndUnresolvable', reasons };
}

/** Whether a status rejects the pod. */
export function isRejected(status: Status): boolean {
  return status.code === 'Unschedulable' || status.code === 'UnschedulableAndUnresolvable';
}

/** The highest score a plugin gives after normalization. */
export const maxNodeScore = 100;

/** Cluster changes that can make a rejected pod schedulable (upstream's ClusterEvent, coarsely). */
export type ClusterEvent = 'NodeAdd' | 'NodeUpdate' | 'AssignedPodAdd' | 'AssignedPodUpdate' | 'AssignedPodDelete' | 'NamespaceChange';

/** What plugins read: every node, plus a few lookups. Valid for one cycle. */
export interface Snapshot {
  readonly nodes: readonly NodeInfo[];
  get(name: string): NodeInfo | undefined;
  namespaceLabels: NamespaceLabels;
  /** Pods with any pod (anti-)affinity, and with required anti-affinity, on all nodes. */
  readonly totals: ClusterTotals;
  /** Pending pods nominated to a node by preemption (they hold room there), if any. */
  nominatedPods?(node: string): readonly PodInfo[] | undefined;
}

/** Per-cycle data plugins pass from PreFilter/PreScore to Filter/Score, keyed by plugin name. */
export type CycleState = Map<string, unknown>;

/** A plugin of any extension point. */
export interface Plugin {
  readonly name: string;
  /** Events after which a pod this plugin rejected is worth retrying. */
  readonly events?: readonly ClusterEvent[];
}

/** Runs once per pod before filtering; may skip its Filter or reject the pod outright. */
export interface PreFilterPlugin extends Plugin {
  preFilter(state: CycleState, pod: PodInfo, snapshot: Snapshot): Status;
}

/** Whether the pod can run on one node. Must not change anything. */
export interface FilterPlugin extends Plugin {
  filter(state: CycleState, pod: PodInfo, node: NodeInfo): Status;
}

/** Runs once per pod over the feasible nodes before scoring; `Skip` turns its Score off. */
export interface PreScorePlugin extends Plugin {
  preScore(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[], snapshot: Snapshot): Status;
}

/** Ranks one feasible node; `normalize` rescales the raw scores of all nodes to 0–100. */
export interface ScorePlugin extends Plugin {
  score(state: CycleState, pod: PodInfo, node: NodeInfo): number;
  normalize?(state: CycleState, pod: PodInfo, scores: Float64Array): void;
}

/** Filter-time checks with a pod removed or added, for preemption (upstream's PreFilterExtensions). */
export interface PreFilterExtensions {
  /** Recomputes PreFilter state as if `victim` (on `node`) were gone. */
  removePod?(state: CycleState, pod: PodInfo, victim: PodInfo, node: NodeInfo): void;
  addPod?(state: CycleState, pod: PodInfo, victim: PodInfo, node: NodeInfo): void;
}

/** Plugins by extension point, with score weights. */
export interface Profile {
  preFilter: PreFilterPlugin[];
  filter: FilterPlugin[];
  preScore: PreScorePlugin[];
  score: { plugin: ScorePlugin; weight: number }[];
}

/** The result of one cycle. */
export type ScheduleResult =
  | { node: NodeInfo; evaluated: number; feasible: number }
  | { node: undefined; diagnosis: Diagnosis };

/** Why a pod fits nowhere (upstream's `Diagnosis`). */
export interface Diagnosis {
  numAllNodes: number;
  /** Status of every node that rejected the pod, by name. */
  statuses: Map<string, Status>;
  /** Set when a PreFilter rejected the pod on every node. */
  preFilterMessage: string;
  /** Plugins that rejected the pod somewhere. */
  rejectors: Set<string>;
  /** Cycle state (for preemption). */
  state: CycleState;
}

/** Options of {@link Framework}. */
export interface FrameworkOptions {
  /** Upstream's `percentageOfNodesToScore`; 0 = adaptive (50% − nodes/125, at least 5%). */
  percentageOfNodesToScore?: number;
  /** Random source for tie breaking. Default Math.random. */
  random?: () => number;
}

/** How many feasible nodes to look for among `all`, as upstream's `numFeasibleNodesToFind`. */
export function numFeasibleNodesToFind(all: number, percentage: number): number {
  if (all < 100) return all;
  let p = percentage;
  if (p <= 0) p = Math.max(5, 50 - Math.trunc(all / 125));
  const n = Math.trunc((all * Math.min(p, 100)) / 100);
  return Math.max(n, 100);
}

/**
 * The `FailedScheduling` message, worded as upstream's `FitError.Error()`:
 * `0/5 nodes are available: 2 Insufficient cpu, 3 node(s) had untolerated taint {a: b}.` —
 * each reason counted over nodes, sorted as strings — then the pre-filter message (instead of
 * node reasons) and the post-filter (preemption) message.
 */
export function fitErrorMessage(diagnosis: Pick<Diagnosis, 'numAllNodes' | 'statuses' | 'preFilterMessage'>, postFilterMessage = ''): string {
  let message = `0/${diagnosis.numAllNodes} nodes are available:`;
  if (diagnosis.preFilterMessage) {
    message += ` ${diagnosis.preFilterMessage}.`;
  } else {
    const counts = new Map<string, number>();
    for (const status of diagnosis.statuses.values()) {
      for (const reason of status.reasons) counts.set(reason, (counts.get(reason) ?? 0) + 1);
    }
    const parts = [...counts].map(([reason, n]) => `${n} ${reason}`).sort();
    if (parts.length) message += ` ${parts.join(', ')}.`;
  }
  if (postFilterMessage) message += ` ${postFilterMessage}`;
  return message;
}

/** Runs a {@link Profile}; see the file header. */
export class Framework {
  readonly profile: Profile;
  readonly #percentage: number;
  readonly #random: () => number;
  #nextStart = 0;

  constructor(profile: Profile, options: FrameworkOptions = {}) {
    this.profile = profile;
    this.#percentage = options.percentageOfNodesToScore ?? 0;
    this.#random = options.random ?? Math.random;
  }

  /** One scheduling cycle for `pod`. */
  schedule(pod: PodInfo, snapshot: Snapshot, nominated?: string): ScheduleResult {
    const state: CycleState = new Map();
    const nodes = snapshot.nodes;
    const diagnosis: Diagnosis = { numAllNodes: nodes.length, statuses: new Map(), preFilterMessage: '', rejectors: new Set(), state };
    if (nodes.length === 0) return { node: undefined, diagnosis };

    const filters: FilterPlugin[] = [];
    const skipped = new Set<string>();
    for (const plugin of this.profile.preFilter) {
      const status = plugin.preFilter(state, pod, snapshot);
      if (status.code === 'Skip') skipped.add(plugin.name);
      else if (status.code !== 'Success') {
        diagnosis.preFilterMessage = status.reasons.join(', ');
        diagnosis.rejectors.add(plugin.name);
        const rejected = { ...status, plugin: plugin.name };
        for (const node of nodes) diagnosis.statuses.set(node.name, rejected);
        return { node: undefined, diagnosis };
      }
    }
    for (const plugin of this.profile.filter) if (!skipped.has(plugin.name)) filters.push(plugin);

    const feasible: NodeInfo[] = [];
    // A pod that preempted for a node tries that node first, as upstream.
    if (nominated) {
      const node = snapshot.get(nominated);
      if (node && this.#filter(state, pod, node, filters, diagnosis, snapshot)) {
        return { node, evaluated: 1, feasible: 1 };
      }
    }
    const want = numFeasibleNodesToFind(nodes.length, this.#percentage);
    const start = this.#nextStart % nodes.length;
    let evaluated = 0;
    for (let i = 0; i < nodes.length && feasible.length < want; i++) {
      const node = nodes[(start + i) % nodes.length]!;
      evaluated++;
      if (this.#filter(state, pod, node, filters, diagnosis, snapshot)) feasible.push(node);
    }
    this.#nextStart = (start + evaluated) % nodes.length;
    if (feasible.length === 0) return { node: undefined, diagnosis };
    if (feasible.length === 1) return { node: feasible[0]!, evaluated, feasible: 1 };
    return { node: this.#best(state, pod, feasible, snapshot), evaluated, feasible: feasible.length };
  }

  /**
   * Runs the filters on one node; records the first rejection. Pods nominated to the node with
   * at least this pod's priority count as if placed there, so room a preemption freed is not
   * taken by a less important pod (upstream's RunFilterPluginsWithNominatedPods, for the
   * node's own totals).
   */
  #filter(state: CycleState, pod: PodInfo, node: NodeInfo, filters: FilterPlugin[], diagnosis: Diagnosis, snapshot?: Snapshot): boolean {
    const nominated = snapshot?.nominatedPods?.(node.name)?.filter((p) => p.uid !== pod.uid && p.priority >= pod.priority && !node.pods.has(p.uid));
    if (nominated?.length) {
      for (const p of nominated) node.addPod(p);
      try {
        return this.#filter(state, pod, node, filters, diagnosis);
      } finally {
        for (const p of nominated) node.removePod(p.uid);
      }
    }
    for (const plugin of filters) {
      const status = plugin.filter(state, pod, node);
      if (status.code !== 'Success') {
        diagnosis.statuses.set(node.name, status.plugin ? status : { ...status, plugin: plugin.name });
        diagnosis.rejectors.add(plugin.name);
        return false;
      }
    }
    return true;
  }

  /** Whether every filter passes on `node` with the given (already prepared) state. */
  runFilters(state: CycleState, pod: PodInfo, node: NodeInfo): Status {
    for (const plugin of this.profile.filter) {
      if (state.get(`skip/${plugin.name}`)) continue;
      const status = plugin.filter(state, pod, node);
      if (status.code !== 'Success') return status.plugin ? status : { ...status, plugin: plugin.name };
    }
    return success;
  }

  /** PreFilter only, for preemption's what-if checks; returns the state (skips marked). */
  preFilterState(pod: PodInfo, snapshot: Snapshot): CycleState | undefined {
    const state: CycleState = new Map();
    for (const plugin of this.profile.preFilter) {
      const status = plugin.preFilter(state, pod, snapshot);
      if (status.code === 'Skip') state.set(`skip/${plugin.name}`, true);
      else if (status.code !== 'Success') return undefined;
    }
    return state;
  }

  #best(state: CycleState, pod: PodInfo, feasible: NodeInfo[], snapshot: Snapshot): NodeInfo {
    const total = new Float64Array(feasible.length);
    const scores = new Float64Array(feasible.length);
    const active = new Set<string>();
    for (const plugin of this.profile.preScore) {
      if (plugin.preScore(state, pod, feasible, snapshot).code !== 'Skip') active.add(plugin.name);
    }
    for (const { plugin, weight } of this.profile.score) {
      if (!active.has(plugin.name) && this.profile.preScore.some((p) => p.name === plugin.name)) continue;
      for (let i = 0; i < feasible.length; i++) scores[i] = plugin.score(state, pod, feasible[i]!);
      plugin.normalize?.(state, pod, scores);
      for (let i = 0; i < feasible.length; i++) total[i] += scores[i]! * weight;
    }
    // Reservoir sampling among the best, as upstream's selectHost.
    let best = 0;
    let ties = 1;
    for (let i = 1; i < feasible.length; i++) {
      if (total[i]! > total[best]!) {
        best = i;
        ties = 1;
      } else if (total[i] === total[best]) {
        ties++;
        if (this.#random() * ties < 1) best = i;
      }
    }
    return feasible[best]!;
  }
}
