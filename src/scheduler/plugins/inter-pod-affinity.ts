/**
 * InterPodAffinity: required pod affinity (some pod the terms select runs in the node's
 * topology domain — or, for the first pod of a set that selects itself, none does anywhere),
 * required anti-affinity (none does), and existing pods' anti-affinity towards this pod (Filter);
 * preferred affinity and anti-affinity, both ways, as weights per topology domain (Score,
 * min–max normalized), as upstream's plugin.
 */
import { skip, success, unresolvable, unschedulable, type FilterPlugin, type PreFilterPlugin, type PreScorePlugin, type ScorePlugin, type Snapshot } from '../framework.ts';
import type { NodeInfo } from '../node-info.ts';
import { termMatches, type AffinityTerm, type NamespaceLabels, type PodInfo } from '../pod-info.ts';

export const errReasonAffinity = "node(s) didn't match pod affinity rules";
export const errReasonAntiAffinity = "node(s) didn't match pod anti-affinity rules";
export const errReasonExistingAntiAffinity = "node(s) didn't satisfy existing pods anti-affinity rules";
/** upstream's default `hardPodAffinityWeight`. */
const hardPodAffinityWeight = 1;
const name = 'InterPodAffinity';
const scoreKey = `${name}/score`;

interface FilterState {
  existingAnti: Map<string, number>;
  affinity: Map<string, number>;
  anti: Map<string, number>;
  matchesOwnTerms: boolean;
}

const pair = (key: string, value: string) => `${key}\u0000${value}`;
const bump = (m: Map<string, number>, k: string, by = 1) => m.set(k, (m.get(k) ?? 0) + by);

function matchesAll(terms: readonly AffinityTerm[], pod: PodInfo, ns: NamespaceLabels): boolean {
  if (terms.length === 0) return false;
  for (const t of terms) if (!termMatches(t, pod, ns)) return false;
  return true;
}

function preFilter(pod: PodInfo, snapshot: Snapshot): FilterState | undefined {
  const nodes = snapshot.nodes;
  const ns = snapshot.namespaceLabels;
  if (pod.requiredAffinity.length === 0 && pod.requiredAntiAffinity.length === 0 && snapshot.totals.podsWithRequiredAntiAffinity === 0) return undefined;
  const withAnti = snapshot.totals.podsWithRequiredAntiAffinity === 0 ? [] : nodes.filter((n) => n.podsWithRequiredAntiAffinity > 0);
  const state: FilterState = { existingAnti: new Map(), affinity: new Map(), anti: new Map(), matchesOwnTerms: matchesAll(pod.requiredAffinity, pod, ns) };
  for (const node of withAnti) {
    for (const existing of node.pods.values()) {
      for (const term of existing.requiredAntiAffinity) {
        const value = node.labels[term.topologyKey];
        if (value !== undefined && termMatches(term, pod, ns)) bump(state.existingAnti, pair(term.topologyKey, value));
      }
    }
  }
  if (pod.requiredAffinity.length || pod.requiredAntiAffinity.length) {
    for (const node of nodes) {
      for (const existing of node.pods.values()) {
        if (matchesAll(pod.requiredAffinity, existing, ns)) {
          for (const term of pod.requiredAffinity) {
            const value = node.labels[term.topologyKey];
            if (value !== undefined) bump(state.affinity, pair(term.topologyKey, value));
          }
        }
        for (const term of pod.requiredAntiAffinity) {
          const value = node.labels[term.topologyKey];
          if (value !== undefined && termMatches(term, existing, ns)) bump(state.anti, pair(term.topologyKey, value));
        }
      }
    }
  }
  return state;
}

function satisfiesAffinity(state: FilterState, pod: PodInfo, node: NodeInfo): boolean {
  let podsExist = true;
  for (const term of pod.requiredAffinity) {
    const value = node.labels[term.topologyKey];
    if (value === undefined) return false;
    if (!((state.affinity.get(pair(term.topologyKey, value)) ?? 0) > 0)) podsExist = false;
  }
  // The first pod of a set whose affinity selects itself may go anywhere with the topology keys.
  return podsExist || (state.affinity.size === 0 && state.matchesOwnTerms);
}

/** See the file header. */
export const interPodAffinity = {
  name,
  events: ['AssignedPodAdd', 'AssignedPodUpdate', 'AssignedPodDelete', 'NodeAdd', 'NodeUpdate', 'NamespaceChange'],
  preFilter(state, pod, snapshot) {
    const s = preFilter(pod, snapshot);
    if (!s) return skip;
    state.set(name, s);
    return success;
  },
  filter(cycle, pod, node) {
    const state = cycle.get(name) as FilterState;
    if (!satisfiesAffinity(state, pod, node)) return unresolvable(errReasonAffinity);
    for (const term of pod.requiredAntiAffinity) {
      const value = node.labels[term.topologyKey];
      if (value !== undefined && (state.anti.get(pair(term.topologyKey, value)) ?? 0) > 0) return unschedulable(errReasonAntiAffinity);
    }
    if (state.existingAnti.size > 0) {
      for (const key in node.labels) {
        if ((state.existingAnti.get(pair(key, node.labels[key]!)) ?? 0) > 0) return unschedulable(errReasonExistingAntiAffinity);
      }
    }
    return success;
  },
  preScore(state, pod, _feasible, snapshot) {
    const preferred = pod.preferredAffinity.length + pod.preferredAntiAffinity.length > 0;
    if (!preferred && snapshot.totals.podsWithAffinity === 0) return skip;
    const nodes = preferred ? snapshot.nodes : snapshot.nodes.filter((n) => n.podsWithAffinity > 0);
    if (nodes.length === 0) return skip;
    const ns = snapshot.namespaceLabels;
    const scores = new Map<string, Map<string, number>>();
    const add = (term: AffinityTerm, node: NodeInfo, weight: number) => {
      const value = node.labels[term.topologyKey];
      if (value === undefined || weight === 0) return;
      let byValue = scores.get(term.topologyKey);
      if (!byValue) scores.set(term.topologyKey, (byValue = new Map()));
      byValue.set(value, (byValue.get(value) ?? 0) + weight);
    };
    for (const node of nodes) {
      for (const existing of node.pods.values()) {
        if (!preferred && !existing.hasAffinity) continue;
        for (const t of pod.preferredAffinity) if (termMatches(t, existing, ns)) add(t, node, t.weight);
        for (const t of pod.preferredAntiAffinity) if (termMatches(t, existing, ns)) add(t, node, -t.weight);
        for (const t of existing.requiredAffinity) if (termMatches(t, pod, ns)) add(t, node, hardPodAffinityWeight);
        for (const t of existing.preferredAffinity) if (termMatches(t, pod, ns)) add(t, node, t.weight);
        for (const t of existing.preferredAntiAffinity) if (termMatches(t, pod, ns)) add(t, node, -t.weight);
      }
    }
    if (scores.size === 0) return skip;
    state.set(scoreKey, scores);
    return success;
  },
  score(state, _pod, node) {
    const scores = state.get(scoreKey) as Map<string, Map<string, number>>;
    let sum = 0;
    for (const [key, byValue] of scores) {
      const value = node.labels[key];
      if (value !== undefined) sum += byValue.get(value) ?? 0;
    }
    return sum;
  },
  normalize(_state, _pod, scores) {
    let min = Infinity;
    let max = -Infinity;
    for (const s of scores) {
      if (s < min) min = s;
      if (s > max) max = s;
    }
    const diff = max - min;
    for (let i = 0; i < scores.length; i++) scores[i] = diff > 0 ? Math.trunc((100 * (scores[i]! - min)) / diff) : 0;
  },
} satisfies PreFilterPlugin & FilterPlugin & PreScorePlugin & ScorePlugin;
