/**
 * The READY, STATUS and RESTARTS cells of `kubectl get pods`, computed as upstream's pod printer
 * computes them from the pod's phase, conditions and container statuses.
 */
import type { Container, ContainerStatus, Pod, PodCondition, PodReadinessGate, PodSpec, PodStatus } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../resource.ts';
import { since } from './age.ts';
import { isObject, listOf } from './checks.ts';

/** The three summary cells of one pod. */
export interface PodStatusCells {
  /** `ready/total` containers, sidecars (restartable init containers) included. */
  ready: string;
  /** `Running`, `Pending`, `ContainerCreating`, `CrashLoopBackOff`, `Init:0/2`, `Terminating`, … */
  status: string;
  /** Restart count, with `(5m ago)` when a container restarted. */
  restarts: string;
}

/** Reason the node lifecycle controller sets on pods of an unreachable node. */
const NODE_LOST = 'NodeLost';

/**
 * Summarises a pod for the table. Rules, in upstream's order:
 * - the phase (or `status.reason` when set) is the starting point; a `SchedulingGated`
 *   PodScheduled condition replaces it;
 * - the first init container that has not completed turns it into `Init:<reason>`,
 *   `Init:ExitCode:N`, `Init:Signal:N` or `Init:i/n` (running sidecars count as done);
 * - once initialised, the last container with a waiting or terminated reason wins
 *   (`CrashLoopBackOff`, `ErrImagePull`, `Completed`, `ExitCode:1`, …); `Completed` reads
 *   `Running` (or `NotReady`) while another container still runs;
 * - a deleted pod that has not finished reads `Terminating` (`Unknown` when its node is lost).
 */
export function podStatusCells(object: KubeObject, now: Date): PodStatusCells {
  const pod = object as Pod;
  const spec: PodSpec | undefined = isObject(pod.spec) ? pod.spec : undefined;
  const status: PodStatus = isObject(pod.status) ? pod.status : {};
  const containers = listOf<Container>(spec?.containers);
  const initContainers = listOf<Container>(spec?.initContainers);
  const conditions = listOf<PodCondition>(status.conditions);

  const phase = status.phase ?? '';
  let reason = status.reason || phase;
  let restarts = 0;
  let restartableInitRestarts = 0;
  let readyContainers = 0;
  let lastRestart = 0;
  let lastRestartableInitRestart = 0;
  let totalContainers = containers.length;

  for (const condition of conditions) {
    if (condition.type === 'PodScheduled' && condition.reason === 'SchedulingGated') reason = 'SchedulingGated';
  }

  const restartable = new Set<string>();
  for (const c of initContainers) {
    if (c.restartPolicy === 'Always') {
      restartable.add(c.name);
      totalContainers++;
    }
  }

  let initializing = false;
  const initStatuses = listOf<ContainerStatus>(status.initContainerStatuses);
  for (let i = 0; i < initStatuses.length; i++) {
    const c = initStatuses[i]!;
    restarts += c.restartCount ?? 0;
    lastRestart = Math.max(lastRestart, lastTermination(c));
    const isSidecar = restartable.has(c.name);
    if (isSidecar) {
      restartableInitRestarts += c.restartCount ?? 0;
      lastRestartableInitRestart = Math.max(lastRestartableInitRestart, lastTermination(c));
    }
    const terminated = c.state?.terminated;
    const waiting = c.state?.waiting;
    if (terminated && terminated.exitCode === 0) continue;
    if (isSidecar && c.started === true) {
      if (c.ready) readyContainers++;
      continue;
    }
    if (terminated) {
      if (terminated.reason) reason = `Init:${terminated.reason}`;
      else if (terminated.signal) reason = `Init:Signal:${terminated.signal}`;
      else reason = `Init:ExitCode:${terminated.exitCode}`;
    } else if (waiting?.reason && waiting.reason !== 'PodInitializing') {
      reason = `Init:${waiting.reason}`;
    } else {
      reason = `Init:${i}/${initContainers.length}`;
    }
    initializing = true;
    break;
  }

  const initialized = conditions.some((c) => c.type === 'Initialized' && c.status === 'True');
  if (!initializing || initialized) {
    // Once the pod is initialised, only sidecar restarts count towards the init containers.
    restarts = restartableInitRestarts;
    lastRestart = lastRestartableInitRestart;
    let hasRunning = false;
    const statuses = listOf<ContainerStatus>(status.containerStatuses);
    for (let i = statuses.length - 1; i >= 0; i--) {
      const c = statuses[i]!;
      restarts += c.restartCount ?? 0;
      lastRestart = Math.max(lastRestart, lastTermination(c));
      const waiting = c.state?.waiting;
      const terminated = c.state?.terminated;
      if (waiting?.reason) {
        reason = waiting.reason;
      } else if (terminated?.reason) {
        reason = terminated.reason;
      } else if (terminated) {
        reason = terminated.signal ? `Signal:${terminated.signal}` : `ExitCode:${terminated.exitCode}`;
      } else if (c.ready && c.state?.running) {
        hasRunning = true;
        readyContainers++;
      }
    }
    if (reason === 'Completed' && hasRunning) {
      const podReady = conditions.some((c) => c.type === 'Ready' && c.status === 'True');
      reason = podReady ? 'Running' : 'NotReady';
    }
  }

  const deleted = Boolean(pod.metadata?.deletionTimestamp);
  if (deleted && status.reason === NODE_LOST) reason = 'Unknown';
  else if (deleted && phase !== 'Succeeded' && phase !== 'Failed') reason = 'Terminating';

  let restartsCell = String(restarts);
  if (restarts !== 0 && lastRestart > 0) {
    restartsCell = `${restarts} (${since(new Date(lastRestart).toISOString(), now)} ago)`;
  }
  return { ready: `${readyContainers}/${totalContainers}`, status: reason, restarts: restartsCell };
}

/** When the container's previous run ended (ms since epoch), 0 if it never restarted. */
function lastTermination(c: ContainerStatus): number {
  const finishedAt = c.lastState?.terminated?.finishedAt;
  if (!finishedAt) return 0;
  const t = Date.parse(finishedAt);
  return Number.isNaN(t) ? 0 : t;
}

/**
 * The READINESS GATES cell: `true/total` of the pod's readiness gates whose condition is True,
 * `<none>` without gates.
 */
export function readinessGatesCell(object: KubeObject): string {
  const pod = object as Pod;
  const gates = listOf<PodReadinessGate>(pod.spec?.readinessGates);
  if (gates.length === 0) return '<none>';
  const conditions = listOf<PodCondition>(pod.status?.conditions);
  let satisfied = 0;
  for (const gate of gates) {
    const condition = conditions.find((c) => c.type === gate.conditionType);
    if (condition?.status === 'True') satisfied++;
  }
  return `${satisfied}/${gates.length}`;
}
