/**
 * Which pods a ReplicaSet deletes first when it scales down: upstream's `ActivePodsWithRanks`
 * order. The pods that cost least to lose come first:
 * 1. not yet on a node, before those on one;
 * 2. Pending, then Unknown, then Running;
 * 3. not ready, before ready;
 * 4. more of the same family on its node ("doubled up"), before fewer;
 * 5. ready for a shorter time, before a longer one;
 * 6. more container restarts, before fewer;
 * 7. newer, before older (no creation time counts as newest).
 * Upstream's logarithmic bucketing of times (`LogarithmicScaleDown`) is not applied: times are
 * compared exactly, which only orders pods upstream would treat as equal.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import { isPodActive, isPodReady, podCondition } from '../pod-util.ts';

const phaseOrder: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

/** A pod and its rank: how many active pods of its family share its node. */
export interface RankedPod {
  pod: Pod;
  rank: number;
}

/**
 * Ranks `pods` by how many of `related` (the pods of the whole family: every ReplicaSet of the
 * same Deployment) share each one's node.
 */
export function rankBySharedNode(pods: readonly Pod[], related: readonly Pod[]): RankedPod[] {
  const onNode = new Map<string, number>();
  for (const pod of related) {
    if (!isPodActive(pod)) continue;
    const node = pod.spec?.nodeName ?? '';
    onNode.set(node, (onNode.get(node) ?? 0) + 1);
  }
  return pods.map((pod) => ({ pod, rank: onNode.get(pod.spec?.nodeName ?? '') ?? 0 }));
}

/** Negative when `a` should be deleted before `b` (see the file header). */
export function compareForDeletion(a: RankedPod, b: RankedPod): number {
  const nodeA = a.pod.spec?.nodeName ?? '';
  const nodeB = b.pod.spec?.nodeName ?? '';
  if (nodeA !== nodeB && (nodeA === '' || nodeB === '')) return nodeA === '' ? -1 : 1;
  const phaseA = phaseOrder[a.pod.status?.phase ?? ''] ?? 0;
  const phaseB = phaseOrder[b.pod.status?.phase ?? ''] ?? 0;
  if (phaseA !== phaseB) return phaseA - phaseB;
  const readyA = isPodReady(a.pod);
  const readyB = isPodReady(b.pod);
  if (readyA !== readyB) return readyA ? 1 : -1;
  if (a.rank !== b.rank) return b.rank - a.rank;
  if (readyA && readyB) {
    const since = afterOrZero(readySince(a.pod), readySince(b.pod));
    if (since !== 0) return since;
  }
  const restarts = maxRestarts(b.pod) - maxRestarts(a.pod);
  if (restarts !== 0) return restarts;
  return afterOrZero(created(a.pod), created(b.pod));
}

/** `pods` in deletion order (a new array). */
export function sortForDeletion(pods: readonly Pod[], related: readonly Pod[]): Pod[] {
  return rankBySharedNode(pods, related)
    .sort(compareForDeletion)
    .map((ranked) => ranked.pod);
}

/** Missing (NaN) first, then later before earlier. */
function afterOrZero(a: number, b: number): number {
  const zeroA = Number.isNaN(a);
  const zeroB = Number.isNaN(b);
  if (zeroA || zeroB) return zeroA === zeroB ? 0 : zeroA ? -1 : 1;
  return b - a;
}

function readySince(pod: Pod): number {
  const time = podCondition(pod, 'Ready')?.lastTransitionTime;
  return time ? Date.parse(time) : NaN;
}

function created(pod: Pod): number {
  const time = pod.metadata?.creationTimestamp;
  return time ? Date.parse(time) : NaN;
}

function maxRestarts(pod: Pod): number {
  let max = 0;
  for (const status of pod.status?.containerStatuses ?? []) max = Math.max(max, status.restartCount ?? 0);
  return max;
}
