/**
 * What controllers ask of pods, worded as upstream's `podutil`: is it active, ready, available;
 * read and set conditions. Pure functions over the API objects.
 */
import type { Pod, PodCondition } from 'kubernetes-types/core/v1.js';

/** Not finished and not being deleted: it counts toward a controller's replicas. */
export function isPodActive(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed' && !pod.metadata?.deletionTimestamp;
}

/** The pod's condition of `type`, if any. */
export function podCondition(pod: Pod, type: string): PodCondition | undefined {
  return pod.status?.conditions?.find((c) => c.type === type);
}

/** Its Ready condition is True. */
export function isPodReady(pod: Pod): boolean {
  return podCondition(pod, 'Ready')?.status === 'True';
}

/**
 * Ready for at least `minReadySeconds` at `now` (upstream's `IsPodAvailable`): with 0, ready is
 * available.
 */
export function isPodAvailable(pod: Pod, minReadySeconds: number, now: Date): boolean {
  const ready = podCondition(pod, 'Ready');
  if (ready?.status !== 'True') return false;
  if (minReadySeconds <= 0) return true;
  const since = ready.lastTransitionTime ? Date.parse(ready.lastTransitionTime) : NaN;
  return Number.isFinite(since) && since + minReadySeconds * 1000 <= now.getTime();
}

/**
 * Sets a condition in a conditions list (a new list is returned): the transition time moves
 * only when the status changes, as upstream's.
 */
export function withCondition<C extends { type: string; status: string; lastTransitionTime?: string }>(conditions: readonly C[] | undefined, condition: C): C[] {
  const list = [...(conditions ?? [])];
  const at = list.findIndex((c) => c.type === condition.type);
  if (at < 0) return [...list, condition];
  const old = list[at]!;
  list[at] = old.status === condition.status && old.lastTransitionTime ? { ...condition, lastTransitionTime: old.lastTransitionTime } : condition;
  return list;
}

/** RFC 3339 with whole seconds, as the API writes times. */
export function timestamp(date: Date): string {
  return date.toISOString().replace(/\.\d+Z$/, 'Z');
}
