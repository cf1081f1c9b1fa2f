/**
 * The scheduler: places pods on nodes through the API (pods/binding), with upstream's default
 * plugins, queue, preemption and messages. `skiff server` runs one; see `scheduler.ts`.
 */
export { Scheduler, type SchedulerOptions, type SchedulerStats } from './scheduler.ts';
export { schedulerArgs } from './args.ts';
export { defaultProfile } from './default-profile.ts';
export {
  fitErrorMessage,
  Framework,
  maxNodeScore,
  numFeasibleNodesToFind,
  skip,
  success,
  unresolvable,
  unschedulable,
  type ClusterEvent,
  type CycleState,
  type FilterPlugin,
  type Plugin,
  type PreFilterPlugin,
  type PreScorePlugin,
  type Profile,
  type ScorePlugin,
  type Snapshot,
  type Status,
  type StatusCode,
} from './framework.ts';
export { NodeInfo, type ClusterTotals } from './node-info.ts';
export { PodInfo } from './pod-info.ts';
export { SchedulerError, BindError } from './errors.ts';
