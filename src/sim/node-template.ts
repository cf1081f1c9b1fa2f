/**
 * What a simulated kubelet registers and reports: the Node object (capacity, labels, taints,
 * conditions, addresses, node info) and its heartbeat Lease in `kube-node-lease`, worded as a
 * real kubelet words them.
 */
import { createHash } from 'node:crypto';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Node, NodeCondition, Taint } from 'kubernetes-types/core/v1.js';

/** The namespace of node heartbeat Leases. */
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';

/** The kubelet version simulated nodes report. */
export const SIM_KUBELET_VERSION = 'v1.32.0-skiff-sim';

/** Annotation marking a node as simulated (kwok marks its nodes the same way). */
export const SIM_NODE_ANNOTATION = 'skiff.dev/simulated';

/** How one simulated node looks. */
export interface NodeShape {
  name: string;
  cpu: string;
  memory: string;
  pods: string;
  ephemeralStorage: string;
  labels: Record<string, string>;
  taints: Taint[];
  podCidr: string;
  internalIp: string;
}

/** The Node a simulated kubelet registers. */
export function nodeObject(shape: NodeShape, ready: boolean, now: string): Node {
  const capacity = { cpu: shape.cpu, memory: shape.memory, pods: shape.pods, 'ephemeral-storage': shape.ephemeralStorage };
  const id = createHash('sha256').update(shape.name).digest('hex');
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: shape.name,
      labels: {
        'beta.kubernetes.io/arch': 'amd64',
        'beta.kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/hostname': shape.name,
        'kubernetes.io/os': 'linux',
        'node.kubernetes.io/instance-type': 'sim',
        ...shape.labels,
      },
      annotations: { [SIM_NODE_ANNOTATION]: 'true', 'node.alpha.kubernetes.io/ttl': '0' },
    },
    spec: {
      podCIDR: shape.podCidr,
      podCIDRs: [shape.podCidr],
      ...(shape.taints.length > 0 ? { taints: shape.taints } : {}),
    },
    status: {
      capacity,
      allocatable: { ...capacity },
      conditions: nodeConditions(ready, now),
      addresses: [
        { type: 'InternalIP', address: shape.internalIp },
        { type: 'Hostname', address: shape.name },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        machineID: id.slice(0, 32),
        systemUUID: `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20, 32)}`,
        bootID: id.slice(32, 64),
        kernelVersion: 'skiff-sim',
        osImage: 'Skiff simulated node',
        containerRuntimeVersion: 'sim://1.0.0',
        kubeletVersion: SIM_KUBELET_VERSION,
        kubeProxyVersion: SIM_KUBELET_VERSION,
        operatingSystem: 'linux',
        architecture: 'amd64',
      },
    },
  };
}

/**
 * The four conditions a kubelet reports. Transition times are left to the caller to keep
 * (`withTransitions`); heartbeat times are `now`.
 */
export function nodeConditions(ready: boolean, now: string): NodeCondition[] {
  const at = { lastHeartbeatTime: now, lastTransitionTime: now };
  return [
    { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', message: 'kubelet has sufficient memory available', ...at },
    { type: 'DiskPressure', status: 'False', reason: 'KubeletHasNoDiskPressure', message: 'kubelet has no disk pressure', ...at },
    { type: 'PIDPressure', status: 'False', reason: 'KubeletHasSufficientPID', message: 'kubelet has sufficient PID available', ...at },
    ready
      ? { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', ...at }
      : {
          type: 'Ready',
          status: 'False',
          reason: 'KubeletNotReady',
          message: 'container runtime status check may not have completed yet: the simulated runtime was marked not ready',
          ...at,
        },
  ];
}

/** Keeps each condition's `lastTransitionTime` from `old` when its status did not change. */
export function withTransitions(fresh: NodeCondition[], old: readonly NodeCondition[] | undefined): NodeCondition[] {
  return fresh.map((condition) => {
    const before = old?.find((c) => c.type === condition.type);
    return before && before.status === condition.status && before.lastTransitionTime
      ? { ...condition, lastTransitionTime: before.lastTransitionTime }
      : condition;
  });
}

/** The heartbeat Lease of a node, owned by the node as the kubelet makes it. */
export function leaseObject(node: { name: string; uid?: string }, durationSeconds: number, renewTime: string): Lease {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name: node.name,
      namespace: NODE_LEASE_NAMESPACE,
      ...(node.uid ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: node.name, uid: node.uid }] } : {}),
    },
    spec: { holderIdentity: node.name, leaseDurationSeconds: durationSeconds, renewTime },
  };
}

/** `MicroTime` as the API writes it: RFC 3339 with microseconds. */
export function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** Whole-second RFC 3339, as `Time` fields are written. */
export function seconds(date: Date): string {
  return date.toISOString().replace(/\.\d+Z$/, 'Z');
}
