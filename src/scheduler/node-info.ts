/**
 * One node as the scheduler sees it: the Node object plus the pods placed on it (bound, or
 * assumed while their binding is under way), with running totals kept as pods come and go so
 * no filter ever sums a node's pods.
 */
import type { Node, Taint } from 'kubernetes-types/core/v1.js';
import type { PodInfo } from './pod-info.ts';
import { addList, emptyResource, type Resource } from './resources.ts';

const noTaints: readonly Taint[] = Object.freeze([]);

/** Cluster-wide counts the cache keeps across its nodes, so plugins can skip work in O(1). */
export interface ClusterTotals {
  podsWithAffinity: number;
  podsWithRequiredAntiAffinity: number;
  /** Pods per controller uid per zone (`topology.kubernetes.io/zone`), for default spreading. */
  controllerZones: Map<string, Map<string, number>>;
}

/** The zone label default spreading counts by. */
export const zoneLabel = 'topology.kubernetes.io/zone';

function bumpZone(totals: ClusterTotals, uid: string, zone: string, by: number): void {
  let zones = totals.controllerZones.get(uid);
  if (!zones) totals.controllerZones.set(uid, (zones = new Map()));
  const n = (zones.get(zone) ?? 0) + by;
  if (n > 0) zones.set(zone, n);
  else {
    zones.delete(zone);
    if (zones.size === 0) totals.controllerZones.delete(uid);
  }
}

/** See the file header. Plugins read it; only the cache changes it. */
export class NodeInfo {
  readonly name: string;
  /** Undefined while pods are known on a node the informer has not delivered (or deleted). */
  node: Node | undefined;
  labels: Record<string, string> = {};
  taints: readonly Taint[] = noTaints;
  unschedulable = false;
  allocatable: Resource = emptyResource();
  /** Sum of the requests of the pods here. */
  readonly requested: Resource = emptyResource();
  /** Sum of CPU and memory requests with the scoring defaults. */
  nonZeroMilliCPU = 0;
  nonZeroMemory = 0;
  /** Pods here, by uid. */
  readonly pods = new Map<string, PodInfo>();
  /** Pods here with any pod (anti-)affinity, and with required anti-affinity. */
  podsWithAffinity = 0;
  podsWithRequiredAntiAffinity = 0;
  /** Pods here per controller uid (default spreading counts these). */
  readonly controllerCounts = new Map<string, number>();
  /** Bumped on every change. */
  generation = 0;

  readonly #totals: ClusterTotals | undefined;

  /** `totals`, when given, is kept in step with this node's pods. */
  constructor(name: string, totals?: ClusterTotals) {
    this.name = name;
    this.#totals = totals;
  }

  /** Replaces the Node object. */
  setNode(node: Node | undefined): void {
    this.node = node;
    const labels = node?.metadata?.labels ?? {};
    const totals = this.#totals;
    if (totals && this.controllerCounts.size > 0 && this.labels[zoneLabel] !== labels[zoneLabel]) {
      // The node moved zones (or appeared, or went): move its pods' zone counts with it.
      for (const [uid, n] of this.controllerCounts) {
        if (this.labels[zoneLabel] !== undefined) bumpZone(totals, uid, this.labels[zoneLabel], -n);
        if (labels[zoneLabel] !== undefined) bumpZone(totals, uid, labels[zoneLabel], n);
      }
    }
    this.labels = labels;
    this.taints = node?.spec?.taints ?? noTaints;
    this.unschedulable = Boolean(node?.spec?.unschedulable);
    const allocatable = emptyResource();
    addList(allocatable, (node?.status?.allocatable ?? node?.status?.capacity) as Record<string, string> | undefined);
    this.allocatable = allocatable;
    this.generation++;
  }

  /** Counts a pod against this node. */
  addPod(pod: PodInfo): void {
    this.#account(pod, 1);
    this.pods.set(pod.uid, pod);
  }

  /** Stops counting a pod (by its uid); returns whether it was here. */
  removePod(uid: string): boolean {
    const pod = this.pods.get(uid);
    if (!pod) return false;
    this.pods.delete(uid);
    this.#account(pod, -1);
    return true;
  }

  #account(pod: PodInfo, sign: 1 | -1): void {
    const r = pod.requests;
    this.requested.milliCPU += sign * r.milliCPU;
    this.requested.memory += sign * r.memory;
    this.requested.ephemeralStorage += sign * r.ephemeralStorage;
    if (r.scalar) {
      const scalar = (this.requested.scalar ??= new Map());
      for (const [k, v] of r.scalar) scalar.set(k, (scalar.get(k) ?? 0) + sign * v);
    }
    this.nonZeroMilliCPU += sign * pod.nonZeroMilliCPU;
    this.nonZeroMemory += sign * pod.nonZeroMemory;
    if (pod.hasAffinity) {
      this.podsWithAffinity += sign;
      if (this.#totals) this.#totals.podsWithAffinity += sign;
    }
    if (pod.requiredAntiAffinity.length) {
      this.podsWithRequiredAntiAffinity += sign;
      if (this.#totals) this.#totals.podsWithRequiredAntiAffinity += sign;
    }
    if (pod.controllerUid) {
      const n = (this.controllerCounts.get(pod.controllerUid) ?? 0) + sign;
      if (n > 0) this.controllerCounts.set(pod.controllerUid, n);
      else this.controllerCounts.delete(pod.controllerUid);
      const zone = this.labels[zoneLabel];
      if (this.#totals && zone !== undefined) bumpZone(this.#totals, pod.controllerUid, zone, sign);
    }
    this.generation++;
  }

  /** Host ports in use here, as `protocol/ip/port` entries. */
  *usedPorts(): Iterable<{ ip: string; protocol: string; port: number }> {
    for (const pod of this.pods.values()) yield* pod.hostPorts;
  }
}
