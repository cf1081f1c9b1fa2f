/**
 * PodTopologySpread: `DoNotSchedule` constraints keep the skew (pods matching the selector in
 * this node's domain, plus this pod, minus the emptiest domain) within `maxSkew` (Filter);
 * `ScheduleAnyway` constraints — or, for a pod without constraints that belongs to a
 * controller, upstream's defaults (hostname maxSkew 3, zone maxSkew 5) — favour emptier
 * domains (Score). `minDomains`, `nodeAffinityPolicy` (default Honor), `nodeTaintsPolicy`
 * (default Ignore) and `matchLabelKeys` are honoured as upstream's.
 */
import type { TopologySpreadConstraint } from 'kubernetes-types/core/v1.js';
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import { selectorMatches } from '../../client/index.ts';
import { maxNodeScore, skip, success, unresolvable, unschedulable, type FilterPlugin, type PreFilterPlugin, type PreScorePlugin, type ScorePlugin, type Snapshot } from '../framework.ts';
import { zoneLabel, type NodeInfo } from '../node-info.ts';
import type { PodInfo } from '../pod-info.ts';
import { nodeSelectorTermsMatch, untoleratedTaint } from '../../client/index.ts';

export const errReasonConstraintsNotMatch = "node(s) didn't match pod topology spread constraints";
export const errReasonNodeLabelNotMatch = `${errReasonConstraintsNotMatch} (missing required label)`;
const hostname = 'kubernetes.io/hostname';
const name = 'PodTopologySpread';
const scoreKey = `${name}/score`;

interface Constraint {
  maxSkew: number;
  key: string;
  minDomains: number;
  honorAffinity: boolean;
  honorTaints: boolean;
  /** Pods of the incoming pod's namespace this constraint counts on a node. */
  count(node: NodeInfo): number;
  /** Counts per domain kept by the cache, when the constraint has them (default zone spreading). */
  domains?: Map<string, number> | undefined;
  selfMatch: boolean;
}

function constraints(pod: PodInfo, when: 'DoNotSchedule' | 'ScheduleAnyway'): Constraint[] {
  const list = (pod.pod.spec?.topologySpreadConstraints ?? []).filter((c) => c.whenUnsatisfiable === when);
  return list.map((c) => build(pod, c));
}

function build(pod: PodInfo, c: TopologySpreadConstraint): Constraint {
  let selector: LabelSelector | undefined = c.labelSelector;
  if (selector && c.matchLabelKeys?.length) {
    const extra = c.matchLabelKeys.filter((k) => Object.hasOwn(pod.labels, k)).map((k) => ({ key: k, operator: 'In', values: [pod.labels[k]!] }));
    selector = { ...selector, matchExpressions: [...(selector.matchExpressions ?? []), ...extra] };
  }
  const matches = (p: PodInfo) => p.namespace === pod.namespace && !p.terminating && selectorMatches(selector, p.labels);
  return {
    maxSkew: c.maxSkew,
    key: c.topologyKey,
    minDomains: c.minDomains ?? 1,
    honorAffinity: (c.nodeAffinityPolicy ?? 'Honor') === 'Honor',
    honorTaints: c.nodeTaintsPolicy === 'Honor',
    count(node) {
      let n = 0;
      for (const p of node.pods.values()) if (matches(p)) n++;
      return n;
    },
    selfMatch: selectorMatches(selector, pod.labels),
  };
}

/** upstream's system defaults, with the pod's controller standing for its default selector. */
function defaults(pod: PodInfo, snapshot: Snapshot): Constraint[] {
  const uid = pod.controllerUid;
  if (!uid || pod.pod.spec?.topologySpreadConstraints?.length) return [];
  const make = (key: string, maxSkew: number): Constraint => ({
    maxSkew, key, minDomains: 1, honorAffinity: true, honorTaints: false, selfMatch: true,
    count: (node) => node.controllerCounts.get(uid) ?? 0,
    domains: key === zoneLabel ? (snapshot.totals.controllerZones.get(uid) ?? new Map()) : undefined,
  });
  return [make(hostname, 3), make(zoneLabel, 5)];
}

function included(c: Constraint, pod: PodInfo, node: NodeInfo): boolean {
  const spec = pod.pod.spec;
  if (c.honorAffinity) {
    for (const key in spec?.nodeSelector ?? {}) if (node.labels[key] !== spec!.nodeSelector![key]) return false;
    const required = spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
    if (required && !nodeSelectorTermsMatch(required.nodeSelectorTerms ?? [], node.labels, node.name)) return false;
  }
  if (c.honorTaints && untoleratedTaint(node.taints, spec?.tolerations, (t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute')) return false;
  return true;
}

const hasAllKeys = (node: NodeInfo, cs: Constraint[]) => cs.every((c) => Object.hasOwn(node.labels, c.key));

interface FilterState {
  constraints: Constraint[];
  counts: Map<string, number>[];
  min: number[];
}

function preFilter(pod: PodInfo, snapshot: Snapshot): FilterState | undefined {
  const cs = constraints(pod, 'DoNotSchedule');
  if (cs.length === 0) return undefined;
  const counts = cs.map(() => new Map<string, number>());
  for (const node of snapshot.nodes) {
    if (!hasAllKeys(node, cs)) continue;
    cs.forEach((c, i) => {
      if (!included(c, pod, node)) return;
      const value = node.labels[c.key]!;
      counts[i]!.set(value, (counts[i]!.get(value) ?? 0) + c.count(node));
    });
  }
  const min = cs.map((c, i) => (counts[i]!.size < c.minDomains ? 0 : counts[i]!.size ? Math.min(...counts[i]!.values()) : 0));
  return { constraints: cs, counts, min };
}

interface ScoreState {
  constraints: Constraint[];
  ignored: Set<NodeInfo>;
  domainCounts: Map<string, number>[];
  weights: number[];
}

/** See the file header. */
export const podTopologySpread = {
  name,
  events: ['AssignedPodAdd', 'AssignedPodUpdate', 'AssignedPodDelete', 'NodeAdd', 'NodeUpdate'],
  preFilter(state, pod, snapshot) {
    const s = preFilter(pod, snapshot);
    if (!s) return skip;
    state.set(name, s);
    return success;
  },
  filter(cycle, pod, node) {
    const s = cycle.get(name) as FilterState;
    for (let i = 0; i < s.constraints.length; i++) {
      const c = s.constraints[i]!;
      const value = node.labels[c.key];
      if (value === undefined) return unresolvable(errReasonNodeLabelNotMatch);
      const skew = (s.counts[i]!.get(value) ?? 0) + (c.selfMatch ? 1 : 0) - s.min[i]!;
      if (skew > c.maxSkew) return unschedulable(errReasonConstraintsNotMatch);
    }
    return success;
  },
  preScore(state, pod, feasible, snapshot) {
    const explicit = (pod.pod.spec?.topologySpreadConstraints?.length ?? 0) > 0;
    const cs = explicit ? constraints(pod, 'ScheduleAnyway') : defaults(pod, snapshot);
    if (cs.length === 0) return skip;
    const ignored = new Set<NodeInfo>();
    const domainCounts = cs.map(() => new Map<string, number>());
    const sizes = cs.map(() => 0);
    for (const node of feasible) {
      if (explicit && !hasAllKeys(node, cs)) {
        ignored.add(node);
        continue;
      }
      for (let i = 0; i < cs.length; i++) {
        const c = cs[i]!;
        if (c.key === hostname) continue;
        const value = node.labels[c.key] ?? '';
        if (!domainCounts[i]!.has(value)) {
          domainCounts[i]!.set(value, 0);
          sizes[i]!++;
        }
      }
    }
    // Per-node counts of the hostname domain are taken in Score; the others need every node.
    const spec = pod.pod.spec;
    const nodeConstrained = Boolean(spec?.nodeSelector || spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution);
    for (let i = 0; i < cs.length; i++) {
      const c = cs[i]!;
      const counts = domainCounts[i]!;
      if (c.key === hostname || counts.size === 0) continue;
      const checkInclusion = c.honorTaints || (c.honorAffinity && nodeConstrained);
      if (c.domains && !checkInclusion) {
        for (const value of counts.keys()) counts.set(value, c.domains.get(value) ?? 0);
        continue;
      }
      for (const node of snapshot.nodes) {
        const value = node.labels[c.key] ?? '';
        const current = counts.get(value);
        if (current === undefined) continue;
        if (explicit && !hasAllKeys(node, cs)) continue;
        if (checkInclusion && !included(c, pod, node)) continue;
        const n = c.count(node);
        if (n) counts.set(value, current + n);
      }
    }
    const weights = cs.map((c, i) => Math.log((c.key === hostname ? feasible.length - ignored.size : sizes[i]!) + 2));
    state.set(scoreKey, { constraints: cs, ignored, domainCounts, weights } satisfies ScoreState);
    return success;
  },
  score(state, _pod, node) {
    const s = state.get(scoreKey) as ScoreState;
    if (s.ignored.has(node)) return -1;
    let score = 0;
    for (let i = 0; i < s.constraints.length; i++) {
      const c = s.constraints[i]!;
      const value = node.labels[c.key];
      if (value === undefined) continue;
      const count = c.key === hostname ? c.count(node) : (s.domainCounts[i]!.get(value) ?? 0);
      score += count * s.weights[i]! + (c.maxSkew - 1);
    }
    return Math.round(score);
  },
  normalize(_state, _pod, scores) {
    let min = Infinity;
    let max = 0;
    for (const s of scores) {
      if (s < 0) continue;
      if (s < min) min = s;
      if (s > max) max = s;
    }
    for (let i = 0; i < scores.length; i++) {
      const s = scores[i]!;
      if (s < 0) scores[i] = 0;
      else if (max === 0) scores[i] = maxNodeScore;
      else scores[i] = Math.trunc((maxNodeScore * (max + min - s)) / max);
    }
  },
} satisfies PreFilterPlugin & FilterPlugin & PreScorePlugin & ScorePlugin;
