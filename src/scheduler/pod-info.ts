/**
 * What the scheduler knows of one pod, computed once: its requests, host ports, affinity terms,
 * priority and controller. Plugins read these instead of walking the Pod object per node.
 */
import type { Pod, PodAffinityTerm, WeightedPodAffinityTerm } from 'kubernetes-types/core/v1.js';
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import { selectorMatches } from '../client/index.ts';
import { podRequests, type Resource } from './resources.ts';

/** One host port a pod's container asks for. */
export interface HostPort {
  ip: string;
  protocol: string;
  port: number;
}

/** A pod (anti-)affinity term, with its namespaces resolved as upstream's `AffinityTerm`. */
export interface AffinityTerm {
  /** Names listed in the term, or the pod's own namespace when neither list nor selector is set. */
  namespaces: ReadonlySet<string>;
  namespaceSelector: LabelSelector | undefined;
  selector: LabelSelector | undefined;
  topologyKey: string;
  weight: number;
}

/** Labels of a namespace, by name (for terms with a namespaceSelector). */
export type NamespaceLabels = (namespace: string) => Record<string, string> | undefined;

/** Whether an existing pod falls under a term. */
export function termMatches(term: AffinityTerm, pod: PodInfo, namespaceLabels: NamespaceLabels): boolean {
  if (!term.namespaces.has(pod.namespace)) {
    if (!term.namespaceSelector || !selectorMatches(term.namespaceSelector, namespaceLabels(pod.namespace) ?? {})) return false;
  }
  return selectorMatches(term.selector, pod.labels);
}

function terms(pod: Pod, list: PodAffinityTerm[] | undefined, weight = 1): AffinityTerm[] {
  return (list ?? []).map((t) => ({
    namespaces: new Set(t.namespaces?.length || t.namespaceSelector ? (t.namespaces ?? []) : [pod.metadata?.namespace ?? '']),
    namespaceSelector: t.namespaceSelector,
    selector: t.labelSelector,
    topologyKey: t.topologyKey,
    weight,
  }));
}

function weighted(pod: Pod, list: WeightedPodAffinityTerm[] | undefined): AffinityTerm[] {
  return (list ?? []).flatMap((w) => terms(pod, [w.podAffinityTerm], w.weight));
}

const none: readonly never[] = Object.freeze([]);

/** See the file header. Immutable once built. */
export class PodInfo {
  readonly pod: Pod;
  /** `namespace/name`. */
  readonly key: string;
  readonly uid: string;
  readonly namespace: string;
  readonly labels: Record<string, string>;
  readonly requests: Resource;
  /** CPU and memory requests with the scoring defaults for containers that set none. */
  readonly nonZeroMilliCPU: number;
  readonly nonZeroMemory: number;
  readonly hostPorts: readonly HostPort[];
  readonly requiredAffinity: readonly AffinityTerm[];
  readonly requiredAntiAffinity: readonly AffinityTerm[];
  readonly preferredAffinity: readonly AffinityTerm[];
  readonly preferredAntiAffinity: readonly AffinityTerm[];
  readonly priority: number;
  /** The uid of the pod's controller (ReplicaSet, StatefulSet, …), if any. */
  readonly controllerUid: string | undefined;
  readonly terminating: boolean;

  constructor(pod: Pod, priority = pod.spec?.priority ?? 0) {
    this.pod = pod;
    const meta = pod.metadata ?? {};
    this.namespace = meta.namespace ?? '';
    this.key = `${this.namespace}/${meta.name ?? ''}`;
    this.uid = meta.uid ?? this.key;
    this.labels = meta.labels ?? {};
    this.requests = podRequests(pod);
    const nonZero = podRequests(pod, true);
    this.nonZeroMilliCPU = nonZero.milliCPU;
    this.nonZeroMemory = nonZero.memory;
    const ports: HostPort[] = [];
    for (const c of pod.spec?.containers ?? []) {
      for (const p of c.ports ?? []) {
        if (p.hostPort && p.hostPort > 0) ports.push({ ip: p.hostIP || '0.0.0.0', protocol: p.protocol || 'TCP', port: p.hostPort });
      }
    }
    this.hostPorts = ports.length ? ports : none;
    const affinity = pod.spec?.affinity;
    this.requiredAffinity = affinity?.podAffinity ? terms(pod, affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution) : none;
    this.requiredAntiAffinity = affinity?.podAntiAffinity ? terms(pod, affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution) : none;
    this.preferredAffinity = affinity?.podAffinity ? weighted(pod, affinity.podAffinity.preferredDuringSchedulingIgnoredDuringExecution) : none;
    this.preferredAntiAffinity = affinity?.podAntiAffinity ? weighted(pod, affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution) : none;
    this.priority = priority;
    this.controllerUid = meta.ownerReferences?.find((r) => r.controller)?.uid;
    this.terminating = Boolean(meta.deletionTimestamp);
  }

  /** Whether the pod has any pod affinity or anti-affinity (required or preferred). */
  get hasAffinity(): boolean {
    return this.requiredAffinity.length + this.requiredAntiAffinity.length + this.preferredAffinity.length + this.preferredAntiAffinity.length > 0;
  }
}
