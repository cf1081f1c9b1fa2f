/**
 * Builders for the scheduler's unit tests: nodes and pods as the plugins see them. Not part of
 * the component's surface (index.ts does not export it).
 */
import type { Node, Pod, PodSpec } from 'kubernetes-types/core/v1.js';
import type { ObjectMeta } from 'kubernetes-types/meta/v1.js';
import type { Snapshot } from './framework.ts';
import { NodeInfo, type ClusterTotals } from './node-info.ts';
import { PodInfo } from './pod-info.ts';

let uid = 0;

/** A pod in `default` with one container requesting `requests`, plus spec and metadata overrides. */
export function makePod(name: string, requests: Record<string, string> = {}, spec: Partial<PodSpec> = {}, meta: ObjectMeta = {}): PodInfo {
  const pod: Pod = {
    metadata: { name, namespace: 'default', uid: `uid-${name}-${uid++}`, ...meta },
    spec: { containers: [{ name: 'c', image: 'x', resources: { requests } }], ...spec },
  };
  return new PodInfo(pod);
}

/** A node with allocatable resources, labels and spec overrides, holding `pods`. */
export function makeNode(name: string, allocatable: Record<string, string> = { cpu: '4', memory: '8Gi', pods: '110' }, options: { labels?: Record<string, string>; spec?: Node['spec']; pods?: PodInfo[]; totals?: ClusterTotals } = {}): NodeInfo {
  const info = new NodeInfo(name, options.totals);
  info.setNode({ metadata: { name, labels: { 'kubernetes.io/hostname': name, ...options.labels } }, spec: options.spec ?? {}, status: { allocatable } });
  for (const p of options.pods ?? []) info.addPod(p);
  return info;
}

/** Fresh cluster totals. */
export function makeTotals(): ClusterTotals {
  return { podsWithAffinity: 0, podsWithRequiredAntiAffinity: 0, controllerZones: new Map() };
}

/** A snapshot over `nodes` (build them with the same `totals`). */
export function makeSnapshot(nodes: NodeInfo[], totals: ClusterTotals = makeTotals(), namespaces: Record<string, Record<string, string>> = {}): Snapshot {
  return { nodes, get: (n) => nodes.find((x) => x.name === n), namespaceLabels: (ns) => namespaces[ns], totals };
}
