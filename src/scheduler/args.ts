/**
 * `--kube-scheduler-arg key=value` settings Skiff understands (kube-scheduler's flag names);
 * others are reported and ignored.
 */
import type { SchedulerOptions } from './scheduler.ts';

/** Scheduler options from k3s-style pass-through arguments. */
export function schedulerArgs(args: Record<string, string>, log: (line: string) => void): Partial<SchedulerOptions> {
  const out: Partial<SchedulerOptions> = {};
  for (const [key, value] of Object.entries(args)) {
    const integer = /^[0-9]+$/.test(value) ? Number(value) : undefined;
    if (key === 'percentage-of-nodes-to-score' && integer !== undefined && integer <= 100) out.percentageOfNodesToScore = integer;
    else if (key === 'pod-initial-backoff-seconds' && integer) out.podInitialBackoffMs = integer * 1000;
    else if (key === 'pod-max-backoff-seconds' && integer) out.podMaxBackoffMs = integer * 1000;
    else if (key === 'scheduler-name' && value) out.schedulerName = value;
    else if (key === 'leader-elect') continue;
    else log(`skiff: --kube-scheduler-arg ${key}=${value} is not supported; ignored`);
  }
  return out;
}
