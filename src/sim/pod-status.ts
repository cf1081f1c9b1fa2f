/**
 * The status a simulated kubelet writes for a pod: Running with an address and ready
 * containers, or finished (Succeeded / Failed) with terminated containers, worded as a real
 * kubelet's status.
 */
import { createHash } from 'node:crypto';
import type { ContainerStatus, Pod, PodCondition, PodStatus } from 'kubernetes-types/core/v1.js';
import { seconds } from './node-template.ts';

/** What the simulator knows of one pod's life on its node. */
export interface PodRun {
  ip: string;
  hostIp: string;
  startedAt: Date;
  /** Containers report ready (the default) or not (`set-pod-ready … false`). */
  ready: boolean;
  /** Times the containers were restarted after exiting. */
  restarts: number;
  /** Set once the pod's containers exited for good. */
  finished?: { exitCode: number; at: Date };
  /** The exit before the latest restart, shown as `lastState`. */
  lastExit?: { exitCode: number; startedAt: Date; at: Date };
}

const imageIds = new Map<string, string>();

/** A stable, digest-looking image ID per image name (a real runtime reports the pulled digest). */
function imageId(image: string): string {
  let id = imageIds.get(image);
  if (!id) {
    const name = image.replace(/[:@].*$/, '');
    id = `${name.includes('/') ? name : `docker.io/library/${name}`}@sha256:${createHash('sha256').update(image).digest('hex')}`;
    if (imageIds.size < 10_000) imageIds.set(image, id);
  }
  return id;
}

function containerId(pod: Pod, name: string, restarts: number): string {
  return `sim://${createHash('sha256').update(`${pod.metadata?.uid ?? ''}/${name}/${restarts}`).digest('hex')}`;
}

function terminatedReason(exitCode: number): string {
  return exitCode === 0 ? 'Completed' : 'Error';
}

/**
 * The status to write for `pod` as it runs (or has finished) per `run`. Conditions other
 * kubelet-owned ones (readiness gates', DisruptionTarget) are merged in by the API's strategic
 * merge on `type`, so they survive.
 */
export function podStatus(pod: Pod, run: PodRun): PodStatus {
  const started = seconds(run.startedAt);
  const spec = pod.spec;
  const initStatuses: ContainerStatus[] = (spec?.initContainers ?? []).map((c) => {
    const id = containerId(pod, c.name, 0);
    const base = { name: c.name, image: c.image ?? '', imageID: imageId(c.image ?? ''), containerID: id, restartCount: 0 };
    if (c.restartPolicy === 'Always' && !run.finished) {
      // A sidecar: started before the app containers and running beside them.
      return { ...base, ready: run.ready, started: true, state: { running: { startedAt: started } } };
    }
    const finishedAt = run.finished && c.restartPolicy === 'Always' ? seconds(run.finished.at) : started;
    return { ...base, ready: c.restartPolicy !== 'Always', started: false, state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: started, finishedAt, containerID: id } } };
  });
  const containerStatuses: ContainerStatus[] = (spec?.containers ?? []).map((c) => {
    const id = containerId(pod, c.name, run.restarts);
    const base = { name: c.name, image: c.image ?? '', imageID: imageId(c.image ?? ''), containerID: id, restartCount: run.restarts };
    const last = run.lastExit
      ? {
          lastState: {
            terminated: {
              exitCode: run.lastExit.exitCode,
              reason: terminatedReason(run.lastExit.exitCode),
              startedAt: seconds(run.lastExit.startedAt),
              finishedAt: seconds(run.lastExit.at),
              containerID: containerId(pod, c.name, run.restarts - 1),
            },
          },
        }
      : {};
    if (run.finished) {
      const { exitCode, at } = run.finished;
      return { ...base, ...last, ready: false, started: false, state: { terminated: { exitCode, reason: terminatedReason(exitCode), startedAt: started, finishedAt: seconds(at), containerID: id } } };
    }
    const runningSince = run.lastExit ? seconds(run.lastExit.at) : started;
    return { ...base, ...last, ready: run.ready, started: true, state: { running: { startedAt: runningSince } } };
  });

  const phase = run.finished ? (run.finished.exitCode === 0 ? 'Succeeded' : 'Failed') : 'Running';
  const notReady = containerStatuses.filter((c) => !c.ready).map((c) => c.name);
  const containersReady: PodCondition = run.finished
    ? { type: 'ContainersReady', status: 'False', reason: 'PodCompleted' }
    : notReady.length > 0
      ? { type: 'ContainersReady', status: 'False', reason: 'ContainersNotReady', message: `containers with unready status: [${notReady.join(' ')}]` }
      : { type: 'ContainersReady', status: 'True' };
  const gates = readinessGateProblem(pod);
  const ready: PodCondition = run.finished
    ? { type: 'Ready', status: 'False', reason: 'PodCompleted' }
    : containersReady.status !== 'True'
      ? { ...containersReady, type: 'Ready' }
      : gates
        ? { type: 'Ready', status: 'False', reason: 'ReadinessGatesNotReady', message: gates }
        : { type: 'Ready', status: 'True' };
  const conditions = withTimes(
    [
      { type: 'PodReadyToStartContainers', status: run.finished ? 'False' : 'True' },
      { type: 'Initialized', status: 'True' },
      ready,
      containersReady,
      { type: 'PodScheduled', status: 'True' },
    ],
    pod.status?.conditions,
    seconds(run.finished?.at ?? new Date()),
  );
  return {
    phase,
    conditions,
    hostIP: run.hostIp,
    hostIPs: [{ ip: run.hostIp }],
    podIP: run.ip,
    podIPs: [{ ip: run.ip }],
    startTime: started,
    ...(initStatuses.length > 0 ? { initContainerStatuses: initStatuses } : {}),
    containerStatuses,
  };
}

/** Why readiness gates hold the pod back, as the kubelet words it; undefined when they do not. */
export function readinessGateProblem(pod: Pod): string | undefined {
  for (const gate of pod.spec?.readinessGates ?? []) {
    const condition = pod.status?.conditions?.find((c) => c.type === gate.conditionType);
    if (!condition) return `corresponding condition of pod readiness gate "${gate.conditionType}" does not exist.`;
    if (condition.status !== 'True') return `the status of pod readiness gate "${gate.conditionType}" is not "True", but ${condition.status}`;
  }
  return undefined;
}

/** Transition times move only when a condition's status changes. */
function withTimes(fresh: PodCondition[], old: readonly PodCondition[] | undefined, now: string): PodCondition[] {
  return fresh.map((condition) => {
    const before = old?.find((c) => c.type === condition.type);
    const lastTransitionTime = before && before.status === condition.status && before.lastTransitionTime ? before.lastTransitionTime : now;
    return { ...condition, lastTransitionTime };
  });
}
