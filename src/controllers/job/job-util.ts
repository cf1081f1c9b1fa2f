/**
 * Pure rules of the Job controller, as upstream's `indexed_job_utils.go`,
 * `pod_failure_policy.go` and `backoff_utils.go`: completion indexes and their range strings
 * (`1,3-5`), matching a failed pod against a pod failure policy, when a pod finished, and the
 * exponential back-off before replacing failed pods.
 */
import type { Job, JobCondition, PodFailurePolicy } from 'kubernetes-types/batch/v1.js';
import type { ContainerStatus, Pod, PodCondition } from 'kubernetes-types/core/v1.js';

/** The annotation and label that carry an Indexed Job pod's completion index. */
export const COMPLETION_INDEX = 'batch.kubernetes.io/job-completion-index';
/** The finalizer that keeps a Job's finished pods until the Job has counted them. */
export const TRACKING_FINALIZER = 'batch.kubernetes.io/job-tracking';

/** The Complete or Failed condition that is True, if the Job has finished. */
export function finishedCondition(job: Job): JobCondition | undefined {
  return (job.status?.conditions ?? []).find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
}

/** The condition of `type` that is True, if any. */
export function trueCondition(job: Job, type: string): JobCondition | undefined {
  return (job.status?.conditions ?? []).find((c) => c.type === type && c.status === 'True');
}

/** A pod's completion index, or undefined when it has none or a malformed one. */
export function completionIndex(pod: Pod): number | undefined {
  const text = pod.metadata?.annotations?.[COMPLETION_INDEX];
  if (text === undefined || !/^(0|[1-9][0-9]*)$/.test(text)) return undefined;
  return Number(text);
}

/** Parses `1,3-5` into a sorted set of indexes below `limit` (malformed parts are skipped). */
export function parseIndexes(text: string | undefined, limit: number): Set<number> {
  const out = new Set<number>();
  for (const part of (text ?? '').split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) continue;
    const first = Number(m[1]);
    const last = m[2] === undefined ? first : Number(m[2]);
    for (let i = first; i <= last && i < limit; i++) out.add(i);
  }
  return out;
}

/** Writes indexes as ranges, ascending: `{1,3,4,5}` → `1,3-5`. */
export function formatIndexes(indexes: Iterable<number>): string {
  const sorted = [...new Set(indexes)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** What a pod failure policy makes of one failed pod. */
export interface PolicyMatch {
  /** The matched rule's action, if a rule matched. */
  action?: 'FailJob' | 'FailIndex' | 'Ignore' | 'Count';
  /** Whether the failure counts toward the back-off limit (not for Ignore). */
  counts: boolean;
  /** For FailJob: the failure message, worded as upstream. */
  message?: string;
}

/** Matches a failed pod against the rules, first match wins (upstream's `matchPodFailurePolicy`). */
export function matchPodFailurePolicy(policy: PodFailurePolicy | undefined, pod: Pod): PolicyMatch {
  if (!policy) return { counts: true };
  const where = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
  for (const [index, rule] of policy.rules.entries()) {
    let message: string | undefined;
    if (rule.onExitCodes) {
      const requirement = rule.onExitCodes;
      const matches = (s: ContainerStatus) => {
        const terminated = s.state?.terminated;
        if (!terminated || terminated.exitCode === 0) return false;
        if (requirement.containerName && requirement.containerName !== s.name) return false;
        const listed = requirement.values.includes(terminated.exitCode);
        return requirement.operator === 'In' ? listed : requirement.operator === 'NotIn' ? !listed : false;
      };
      const status = (pod.status?.containerStatuses ?? []).find(matches) ?? (pod.status?.initContainerStatuses ?? []).find(matches);
      if (!status) continue;
      message = `Container ${status.name} for pod ${where} failed with exit code ${status.state!.terminated!.exitCode} matching ${rule.action} rule at index ${index}`;
    } else if (rule.onPodConditions) {
      const patterns = rule.onPodConditions;
      const condition = (pod.status?.conditions ?? []).find((c: PodCondition) => patterns.some((p) => p.type === c.type && (p.status ?? 'True') === c.status));
      if (!condition) continue;
      message = `Pod ${where} has condition ${condition.type} matching ${rule.action} rule at index ${index}`;
    } else {
      continue;
    }
    switch (rule.action) {
      case 'Ignore':
        return { action: 'Ignore', counts: false };
      case 'Count':
        return { action: 'Count', counts: true };
      case 'FailIndex':
        return { action: 'FailIndex', counts: true };
      case 'FailJob':
        return { action: 'FailJob', counts: true, message };
    }
  }
  return { counts: true };
}

/**
 * When a pod finished: the latest container finish time, else when it stopped being ready,
 * else its deletion or creation time (upstream's `getFinishedTime`).
 */
export function finishedTime(pod: Pod, now: Date): number {
  let latest = 0;
  for (const s of [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])]) {
    const at = s.state?.terminated?.finishedAt;
    if (at) latest = Math.max(latest, Date.parse(at));
  }
  if (latest > 0) return latest;
  const ready = pod.status?.conditions?.find((c) => c.type === 'Ready' && c.status === 'False')?.lastTransitionTime;
  if (ready) return Date.parse(ready);
  const other = pod.metadata?.deletionTimestamp ?? pod.metadata?.creationTimestamp;
  return other ? Date.parse(other) : now.getTime();
}

/** Failures since the last success, and when the last of them happened. */
export interface BackoffRecord {
  failuresAfterLastSuccess: number;
  lastFailureTime?: number;
}

/** The record after newly finished pods (upstream's `newBackoffRecord`). */
export function nextBackoffRecord(record: BackoffRecord, succeeded: Pod[], failed: Pod[], now: Date): BackoffRecord {
  const failedTimes = failed.map((p) => finishedTime(p, now)).sort((a, b) => a - b);
  if (succeeded.length === 0) {
    if (failedTimes.length === 0) return record;
    return { failuresAfterLastSuccess: record.failuresAfterLastSuccess + failedTimes.length, lastFailureTime: failedTimes.at(-1)! };
  }
  const lastSuccess = Math.max(...succeeded.map((p) => finishedTime(p, now)));
  const after = failedTimes.filter((t) => t > lastSuccess);
  return after.length === 0 ? { failuresAfterLastSuccess: 0 } : { failuresAfterLastSuccess: after.length, lastFailureTime: after.at(-1)! };
}

/** How long to wait before creating pods again: `base` doubling per failure, at most `max`. */
export function backoffRemaining(record: BackoffRecord, now: Date, baseMs: number, maxMs: number): number {
  if (record.failuresAfterLastSuccess === 0 || record.lastFailureTime === undefined) return 0;
  let delay = baseMs;
  for (let i = 1; i < record.failuresAfterLastSuccess && delay < maxMs; i++) delay *= 2;
  delay = Math.min(delay, maxMs);
  const elapsed = now.getTime() - record.lastFailureTime;
  return elapsed >= delay ? 0 : delay - elapsed;
}

/** Whether the Job's pods restart in place and have together restarted past the back-off limit. */
export function pastBackoffLimitOnFailure(job: Job, pods: Pod[]): boolean {
  if (job.spec?.template.spec?.restartPolicy !== 'OnFailure') return false;
  let restarts = 0;
  for (const pod of pods) {
    if (pod.status?.phase !== 'Running' && pod.status?.phase !== 'Pending') continue;
    for (const s of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) restarts += s.restartCount ?? 0;
  }
  const limit = job.spec?.backoffLimit ?? 6;
  return limit === 0 ? restarts > 0 : restarts >= limit;
}
