/**
 * NodeResourcesFit: the pod's requests must fit in what the node has allocatable minus what its
 * pods request (Filter: `Insufficient cpu`, `Too many pods`, …); scored by LeastAllocated —
 * the share of CPU and memory left free after placing the pod, weighted equally.
 */
import { maxNodeScore, success, unschedulable, type FilterPlugin, type ScorePlugin } from '../framework.ts';
import type { NodeInfo } from '../node-info.ts';
import type { PodInfo } from '../pod-info.ts';

/** Why the pod does not fit, one reason per resource short (upstream's wording). */
export function insufficientResources(pod: PodInfo, node: NodeInfo): string[] {
  if (fits(pod, node)) return none;
  const reasons: string[] = [];
  const allocatable = node.allocatable;
  const requested = node.requested;
  if (node.pods.size + 1 > allocatable.pods) reasons.push('Too many pods');
  const want = pod.requests;
  if (want.milliCPU === 0 && want.memory === 0 && want.ephemeralStorage === 0 && !want.scalar?.size) return reasons;
  if (want.milliCPU > 0 && want.milliCPU > allocatable.milliCPU - requested.milliCPU) reasons.push('Insufficient cpu');
  if (want.memory > 0 && want.memory > allocatable.memory - requested.memory) reasons.push('Insufficient memory');
  if (want.ephemeralStorage > 0 && want.ephemeralStorage > allocatable.ephemeralStorage - requested.ephemeralStorage) {
    reasons.push('Insufficient ephemeral-storage');
  }
  if (want.scalar) {
    for (const [name, quantity] of want.scalar) {
      if (quantity === 0) continue;
      if (quantity > (allocatable.scalar?.get(name) ?? 0) - (requested.scalar?.get(name) ?? 0)) reasons.push(`Insufficient ${name}`);
    }
  }
  return reasons;
}

const none: string[] = [];

/** The allocation-free check of the common case (every filter call on every node). */
function fits(pod: PodInfo, node: NodeInfo): boolean {
  const a = node.allocatable;
  const r = node.requested;
  const w = pod.requests;
  if (node.pods.size + 1 > a.pods) return false;
  if (w.milliCPU > 0 && w.milliCPU > a.milliCPU - r.milliCPU) return false;
  if (w.memory > 0 && w.memory > a.memory - r.memory) return false;
  if (w.ephemeralStorage > 0 && w.ephemeralStorage > a.ephemeralStorage - r.ephemeralStorage) return false;
  return !w.scalar?.size;
}

function leastAllocated(requested: number, capacity: number): number {
  if (capacity === 0 || requested > capacity) return 0;
  return Math.trunc(((capacity - requested) * maxNodeScore) / capacity);
}

/** See the file header. */
export const nodeResourcesFit = {
  name: 'NodeResourcesFit',
  events: ['NodeAdd', 'NodeUpdate', 'AssignedPodDelete', 'AssignedPodUpdate'],
  filter(_state, pod, node) {
    if (fits(pod, node)) return success;
    const reasons = insufficientResources(pod, node);
    return reasons.length ? unschedulable(...reasons) : success;
  },
  score(_state, pod, node) {
    const cpu = leastAllocated(node.nonZeroMilliCPU + pod.nonZeroMilliCPU, node.allocatable.milliCPU);
    const memory = leastAllocated(node.nonZeroMemory + pod.nonZeroMemory, node.allocatable.memory);
    return Math.trunc((cpu + memory) / 2);
  },
} satisfies FilterPlugin & ScorePlugin;
