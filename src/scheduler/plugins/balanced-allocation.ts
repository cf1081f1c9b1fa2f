/**
 * NodeResourcesBalancedAllocation: prefers nodes whose CPU and memory would be used in equal
 * shares after placing the pod: `(1 − standard deviation of the shares) × 100`. Pods that
 * request neither are not scored by it, as upstream.
 */
import { maxNodeScore, skip, success, type PreScorePlugin, type ScorePlugin } from '../framework.ts';

/** See the file header. */
export const balancedAllocation = {
  name: 'NodeResourcesBalancedAllocation',
  preScore(_state, pod) {
    return pod.requests.milliCPU === 0 && pod.requests.memory === 0 ? skip : success;
  },
  score(_state, pod, node) {
    const cpuCap = node.allocatable.milliCPU;
    const memCap = node.allocatable.memory;
    // A resource the node has none of is left out; with fewer than two, the shares are equal.
    if (cpuCap === 0 || memCap === 0) return maxNodeScore;
    const cpu = Math.min(1, (node.requested.milliCPU + pod.requests.milliCPU) / cpuCap);
    const memory = Math.min(1, (node.requested.memory + pod.requests.memory) / memCap);
    // With two resources the standard deviation is half their difference.
    const std = Math.abs(cpu - memory) / 2;
    return Math.trunc((1 - std) * maxNodeScore);
  },
} satisfies PreScorePlugin & ScorePlugin;
