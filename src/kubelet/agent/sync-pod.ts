/**
 * What to do for one pod, as upstream's `computePodActions`, and the status that follows from
 * the runtime's state, as upstream's `generateAPIPodStatus` / `getPhase`. Both are pure: the
 * pod workers feed them the pod, the runtime's sandboxes and containers of the pod, and what
 * the probes and back-off say, then carry the actions out.
 */
import type { Container, ContainerStatus as ApiContainerStatus, Pod, PodCondition, PodStatus } from 'kubernetes-types/core/v1.js';
import type { ContainerStatus, SandboxStatus } from '../runtime/container-runtime.ts';
import { podQosClass } from './resources.ts';

/** The runtime's view of one pod. */
export interface RuntimePod {
  /** The newest sandbox of the pod, if any. */
  sandbox?: SandboxStatus;
  /** Every sandbox of the pod (older ones are left from restarts until cleaned). */
  sandboxes: SandboxStatus[];
  /** Every container of the pod, in any sandbox. */
  containers: ContainerStatus[];
}

/** What the probes and back-off say, for {@link computePodActions}. */
export interface ActionContext {
  /** ms left of the container's CrashLoopBackOff since its last finish (0 = may start now). */
  backoffRemaining(name: string, lastFinishedAt: number): number;
  /** `liveness`/`startup` when the probe failed past its threshold. */
  tripped(containerId: string): 'liveness' | 'startup' | undefined;
  /** Whether a running container counts as started (startup probe passed, or none). */
  started(containerId: string): boolean;
}

/** A container to stop, and why (the `Killing` event's message). */
export interface KillAction {
  id: string;
  name: string;
  message: string;
}

/** The actions for one sync. */
export interface PodActions {
  /** Stop every container and the sandbox (a new sandbox follows when `createSandbox`). */
  killPod: boolean;
  createSandbox: boolean;
  /** Attempt number of the new sandbox. */
  sandboxAttempt: number;
  /** Containers to stop individually (liveness failure, restart). */
  kill: KillAction[];
  /** Init container (or sidecar) to start next. */
  startInit?: string;
  /** App containers to start. */
  start: string[];
  /** Containers waiting for their back-off to pass (name → ms left). */
  backoff: Map<string, number>;
  /** Every app container has finished for good: the sandbox may be stopped. */
  podDone: boolean;
}

/** The latest instance of each container name, in the given sandbox. */
export function latestByName(containers: ContainerStatus[], sandboxId?: string): Map<string, ContainerStatus> {
  const out = new Map<string, ContainerStatus>();
  for (const c of containers) {
    if (sandboxId !== undefined && c.sandboxId !== sandboxId) continue;
    const cur = out.get(c.name);
    if (!cur || c.attempt > cur.attempt || (c.attempt === cur.attempt && c.createdAt > cur.createdAt)) out.set(c.name, c);
  }
  return out;
}

/** The instance before the latest (for `lastState`). */
export function previousByName(containers: ContainerStatus[], name: string, latest: ContainerStatus | undefined): ContainerStatus | undefined {
  let best: ContainerStatus | undefined;
  for (const c of containers) {
    if (c.name !== name || c === latest) continue;
    if (latest && c.attempt >= latest.attempt) continue;
    if (!best || c.attempt > best.attempt) best = c;
  }
  return best;
}

function isSidecar(c: Container): boolean {
  return c.restartPolicy === 'Always';
}

function shouldRestart(policy: string, s: ContainerStatus): boolean {
  if (policy === 'Always') return true;
  if (policy === 'OnFailure') return s.exitCode !== 0;
  return false;
}

/** See the file header. */
export function computePodActions(pod: Pod, rt: RuntimePod, ctx: ActionContext): PodActions {
  const policy = pod.spec?.restartPolicy ?? 'Always';
  const inits = pod.spec?.initContainers ?? [];
  const apps = pod.spec?.containers ?? [];
  const actions: PodActions = { killPod: false, createSandbox: false, sandboxAttempt: 0, kill: [], start: [], backoff: new Map(), podDone: false };
  const sandbox = rt.sandbox;
  if (!sandbox || sandbox.state !== 'ready') {
    // A pod that never restarts and already ran gets no new sandbox: it is done.
    const ran = rt.containers.some((c) => apps.some((a) => a.name === c.name));
    if (sandbox && policy === 'Never' && ran) {
      actions.podDone = true;
      return actions;
    }
    if (sandbox && policy === 'OnFailure' && ran) {
      const latest = latestByName(rt.containers);
      if (apps.every((a) => latest.get(a.name)?.state === 'exited' && latest.get(a.name)!.exitCode === 0)) {
        actions.podDone = true;
        return actions;
      }
    }
    actions.killPod = rt.sandboxes.length > 0 || rt.containers.some((c) => c.state === 'running');
    actions.createSandbox = true;
    actions.sandboxAttempt = rt.sandboxes.reduce((n, s) => Math.max(n, (s.config.attempt ?? 0) + 1), 0);
    const first = inits[0];
    if (first) actions.startInit = first.name;
    else actions.start = apps.map((a) => a.name);
    return actions;
  }
  const latest = latestByName(rt.containers, sandbox.id);
  const allLatest = latestByName(rt.containers);

  // Init containers in order; sidecars keep running.
  let initDone = true;
  for (const ic of inits) {
    const s = latest.get(ic.name);
    if (isSidecar(ic)) {
      if (!s || s.state === 'exited' || s.state === 'unknown') {
        const prev = s ?? allLatest.get(ic.name);
        const wait = prev && prev.state === 'exited' ? ctx.backoffRemaining(ic.name, prev.finishedAt) : 0;
        if (wait > 0) actions.backoff.set(ic.name, wait);
        else if (!actions.startInit) actions.startInit = ic.name;
        if (!s) {
          initDone = false;
          break;
        }
        // A sidecar that exited after app containers started restarts without holding them up.
        continue;
      }
      if (s.state === 'running') {
        const trip = ctx.tripped(s.id);
        if (trip) {
          actions.kill.push({ id: s.id, name: ic.name, message: `Container ${ic.name} failed ${trip} probe, will be restarted` });
          if (!actions.startInit) actions.startInit = ic.name;
          continue;
        }
        if (!ctx.started(s.id)) {
          initDone = false;
          break;
        }
        continue;
      }
      initDone = false;
      break;
    }
    if (!s) {
      // Ran in an earlier sandbox is not enough: a new sandbox reruns every init container.
      if (!actions.startInit) actions.startInit = ic.name;
      initDone = false;
      break;
    }
    if (s.state === 'running' || s.state === 'created') {
      initDone = false;
      break;
    }
    if (s.exitCode === 0 && s.state === 'exited') continue;
    // Failed init container.
    initDone = false;
    if (policy === 'Never') {
      actions.podDone = true;
      actions.killPod = true;
      return actions;
    }
    const wait = ctx.backoffRemaining(ic.name, s.finishedAt);
    if (wait > 0) actions.backoff.set(ic.name, wait);
    else if (!actions.startInit) actions.startInit = ic.name;
    break;
  }
  if (!initDone) return actions;

  let finished = 0;
  for (const c of apps) {
    const s = latest.get(c.name);
    if (!s) {
      actions.start.push(c.name);
      continue;
    }
    if (s.state === 'running') {
      const trip = ctx.tripped(s.id);
      if (trip) {
        actions.kill.push({ id: s.id, name: c.name, message: `Container ${c.name} failed ${trip} probe, will be restarted` });
        if (policy !== 'Never') actions.start.push(c.name);
      }
      continue;
    }
    if (s.state === 'created') {
      // Created but never started (the agent died in between): replace it.
      actions.kill.push({ id: s.id, name: c.name, message: `Container ${c.name} was never started, will be replaced` });
      actions.start.push(c.name);
      continue;
    }
    if (!shouldRestart(policy, s)) {
      finished++;
      continue;
    }
    const wait = ctx.backoffRemaining(c.name, s.finishedAt);
    if (wait > 0) actions.backoff.set(c.name, wait);
    else actions.start.push(c.name);
  }
  if (apps.length > 0 && finished === apps.length) actions.podDone = true;
  return actions;
}

/** Per-container waiting reasons the workers keep (image pull errors, config errors). */
export interface Waiting {
  reason: string;
  message?: string;
}

/** What {@link podStatus} needs besides the pod and the runtime's view. */
export interface StatusContext {
  /** `runc`: the scheme of container IDs. */
  runtimeName: string;
  hostIps: string[];
  /** When the kubelet first saw the pod (startTime). */
  startTime: string;
  /** Waiting reasons by container name. */
  waiting: Map<string, Waiting>;
  /** Back-off left by container name (CrashLoopBackOff). */
  backoff: Map<string, number>;
  /** Current back-off delay by container name, for the message. */
  backoffDelay(name: string): number;
  /** Readiness probe result; undefined = no probe. */
  ready(containerId: string): boolean | undefined;
  started(containerId: string): boolean;
  /** Termination message of an exited container. */
  terminationMessage(id: string): string | undefined;
  /** The pod is being deleted or has finished: containers are not ready. */
  terminating: boolean;
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
}

function terminated(s: ContainerStatus, runtimeName: string, message: string | undefined) {
  return {
    exitCode: s.exitCode,
    reason: s.reason || (s.exitCode === 0 ? 'Completed' : 'Error'),
    ...(message ? { message } : {}),
    startedAt: s.startedAt ? iso(s.startedAt) : iso(s.createdAt),
    finishedAt: iso(s.finishedAt || s.createdAt),
    containerID: `${runtimeName}://${s.id}`,
  };
}

function formatPod(pod: Pod): string {
  return `${pod.metadata?.name}_${pod.metadata?.namespace}(${pod.metadata?.uid})`;
}

function containerStatusOf(pod: Pod, c: Container, rt: RuntimePod, sandboxId: string | undefined, ctx: StatusContext, notStartedReason: string, isInit: boolean): ApiContainerStatus {
  const all = rt.containers.filter((x) => x.name === c.name);
  const latest = latestByName(all).get(c.name);
  const base: ApiContainerStatus = { name: c.name, image: c.image ?? '', imageID: '', ready: false, restartCount: 0, started: false, state: {} };
  if (!latest) {
    const w = ctx.waiting.get(c.name);
    base.state = { waiting: { reason: w?.reason ?? notStartedReason, ...(w?.message ? { message: w.message } : {}) } };
    return base;
  }
  const prev = previousByName(all, c.name, latest);
  base.restartCount = latest.attempt;
  base.imageID = latest.imageId ?? '';
  base.image = latest.image ?? base.image;
  base.containerID = `${ctx.runtimeName}://${latest.id}`;
  const stale = sandboxId !== undefined && latest.sandboxId !== sandboxId;
  if (latest.state === 'running' && !stale) {
    const started = ctx.started(latest.id);
    const readiness = ctx.ready(latest.id);
    base.started = started;
    base.ready = !ctx.terminating && started && (readiness ?? true);
    // A sidecar without readiness probe is ready once started; a plain init container never counts as ready while running.
    if (isInit && c.restartPolicy !== 'Always') base.ready = false;
    base.state = { running: { startedAt: iso(latest.startedAt || latest.createdAt) } };
    if (prev && prev.state === 'exited') base.lastState = { terminated: terminated(prev, ctx.runtimeName, ctx.terminationMessage(prev.id)) };
    return base;
  }
  if (latest.state === 'created') {
    base.state = { waiting: { reason: 'ContainerCreating' } };
    return base;
  }
  const w = ctx.waiting.get(c.name);
  const term = terminated(latest, ctx.runtimeName, ctx.terminationMessage(latest.id));
  if (ctx.backoff.has(c.name)) {
    const delay = Math.round(ctx.backoffDelay(c.name) / 1000);
    base.state = { waiting: { reason: 'CrashLoopBackOff', message: `back-off ${formatDelay(delay)} restarting failed container=${c.name} pod=${formatPod(pod)}` } };
    base.lastState = { terminated: term };
    return base;
  }
  if (w) {
    base.state = { waiting: { reason: w.reason, ...(w.message ? { message: w.message } : {}) } };
    base.lastState = { terminated: term };
    return base;
  }
  base.state = { terminated: term };
  if (prev && prev.state === 'exited') base.lastState = { terminated: terminated(prev, ctx.runtimeName, ctx.terminationMessage(prev.id)) };
  return base;
}

/** Go's duration format for whole seconds: `10s`, `1m20s`, `5m0s`. */
function formatDelay(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  return `${Math.floor(seconds / 60)}m${seconds % 60}s`;
}

/** The pod's status from the runtime's state (see the file header). */
export function podStatus(pod: Pod, rt: RuntimePod, ctx: StatusContext): PodStatus {
  const policy = pod.spec?.restartPolicy ?? 'Always';
  const sandbox = rt.sandbox;
  const sandboxReady = sandbox?.state === 'ready';
  const inits = pod.spec?.initContainers ?? [];
  const apps = pod.spec?.containers ?? [];
  const initStatuses = inits.map((c) => containerStatusOf(pod, c, rt, sandbox?.id, ctx, 'PodInitializing', true));
  const incompleteInit: string[] = [];
  let initFailed = false;
  inits.forEach((c, i) => {
    const s = initStatuses[i]!;
    if (c.restartPolicy === 'Always') {
      if (!s.started) incompleteInit.push(c.name);
    } else if (!(s.state?.terminated && s.state.terminated.exitCode === 0)) {
      incompleteInit.push(c.name);
      if (s.state?.terminated && policy === 'Never') initFailed = true;
      if (s.state?.waiting?.reason === 'CrashLoopBackOff' && policy === 'Never') initFailed = true;
    }
  });
  // Once every app container has run, init containers do not count again (they were done).
  const appsRan = apps.some((c) => rt.containers.some((x) => x.name === c.name));
  const initialized = incompleteInit.length === 0 || appsRan;
  const appStatuses = apps.map((c) => containerStatusOf(pod, c, rt, sandbox?.id, ctx, initialized ? 'ContainerCreating' : 'PodInitializing', false));

  // Phase as upstream's getPhase.
  let phase: PodStatus['phase'];
  let waiting = 0;
  let running = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const s of appStatuses) {
    if (s.state?.running) running++;
    else if (s.state?.terminated) {
      stopped++;
      if (s.state.terminated.exitCode === 0) succeeded++;
    } else if (s.state?.waiting) {
      if (s.lastState?.terminated) stopped++;
      else waiting++;
    }
  }
  if (initFailed) phase = 'Failed';
  else if (!initialized) phase = 'Pending';
  else if (waiting > 0) phase = 'Pending';
  else if (running > 0) phase = 'Running';
  else if (stopped > 0) {
    if (policy === 'Always') phase = 'Running';
    else if (stopped === succeeded) phase = 'Succeeded';
    else if (policy === 'OnFailure') phase = 'Running';
    else phase = 'Failed';
  } else phase = 'Pending';
  // A pod that finished stays finished (upstream never moves out of a terminal phase).
  if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') phase = pod.status.phase;

  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const cond = (type: string, ok: boolean, reason?: string, message?: string): PodCondition => ({
    type,
    status: ok ? 'True' : 'False',
    lastProbeTime: null as unknown as undefined,
    lastTransitionTime: now,
    ...(ok || !reason ? {} : { reason, ...(message ? { message } : {}) }),
  });
  // Sidecars (restartable init containers) count for readiness too, listed first, as upstream.
  const sidecarStatuses = initStatuses.filter((_, i) => inits[i]!.restartPolicy === 'Always');
  const unready = [...sidecarStatuses, ...appStatuses].filter((s) => !s.ready).map((s) => s.name);
  const terminal = phase === 'Succeeded' || phase === 'Failed';
  const containersReady = unready.length === 0 && !terminal;
  const gates = (pod.spec?.readinessGates ?? []).map((g) => g.conditionType);
  const gatesOk = gates.every((g) => pod.status?.conditions?.find((c) => c.type === g)?.status === 'True');
  const readyReason = phase === 'Succeeded' ? 'PodCompleted' : phase === 'Failed' ? 'PodFailed' : 'ContainersNotReady';
  const readyMessage = terminal ? undefined : `containers with unready status: [${unready.join(' ')}]`;
  const conditions: PodCondition[] = [
    cond('PodReadyToStartContainers', sandboxReady),
    cond('Initialized', initialized || terminal, terminal ? 'PodCompleted' : 'ContainersNotInitialized', `containers with incomplete status: [${incompleteInit.join(' ')}]`),
    cond('Ready', containersReady && gatesOk, gatesOk || !containersReady ? readyReason : 'ReadinessGatesNotReady', gatesOk || !containersReady ? readyMessage : `corresponding condition of pod readiness gate "${gates.find((g) => pod.status?.conditions?.find((c) => c.type === g)?.status !== 'True')}" does not exist.`),
    cond('ContainersReady', containersReady, readyReason, readyMessage),
  ];
  const ips = sandboxReady ? sandbox!.ips : [];
  const hostNetwork = pod.spec?.hostNetwork === true;
  const podIps = hostNetwork ? ctx.hostIps : ips.length ? ips : terminal ? (pod.status?.podIPs ?? []).map((p) => p.ip ?? '') : [];
  const status: PodStatus = {
    phase,
    conditions,
    hostIP: ctx.hostIps[0],
    hostIPs: ctx.hostIps.map((ip) => ({ ip })),
    ...(podIps.length ? { podIP: podIps[0], podIPs: podIps.map((ip) => ({ ip })) } : {}),
    startTime: ctx.startTime,
    qosClass: pod.status?.qosClass ?? podQosClass(pod),
    containerStatuses: appStatuses,
    ...(inits.length ? { initContainerStatuses: initStatuses } : {}),
  };
  return status;
}
