/**
 * The node agent: registers the Node and heartbeats it, follows the pods bound to this node (an
 * informer with a `spec.nodeName` field selector), and drives the container runtime so that each
 * pod's containers run as its spec says — images pulled per policy, sandbox, volumes, init
 * containers and sidecars, app containers with hooks, probes, restarts with back-off, graceful
 * termination — writing statuses and events as upstream's kubelet does.
 *
 * Contract:
 * - `start()` resolves once the node is registered, the runtime's state has been read, and the
 *   pod informer has synced; every pod then has a worker. `stop()` stops watching, heartbeats
 *   and probes and waits for running syncs; containers keep running (a new agent over the same
 *   data dir takes them over: same PIDs, same restart counts).
 * - Syncs of one pod never overlap (see pod-workers.ts); what triggers them is events — pod
 *   changes, container exits from the runtime, probe result changes, ConfigMap/Secret changes,
 *   back-off expiry timers — never a polling loop.
 * - A pod's API object is deleted (grace 0, uid precondition) only after its containers and
 *   sandbox are gone; pods whose objects vanished while the agent was down are cleaned up.
 */
import { chmod, mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Container, LifecycleHandler, Pod } from 'kubernetes-types/core/v1.js';
import { EventRecorder, Informer, kinds, isApiError, type Client } from '../../client/index.ts';
import { DockerKeyring, ImageNeverPullError, ImageService, InvalidImageNameError, shouldPull, type Image, type PullSecret } from '../images/index.ts';
import type { ContainerConfig, ContainerRuntime, ContainerStatus, DnsConfig, SandboxConfig, SandboxStatus } from '../runtime/container-runtime.ts';
import { Backoff, type BackoffOptions } from './backoff.ts';
import { containerArgv, containerEnv, mergeEnv, type EnvContext } from './env.ts';
import { ContainerConfigError, VolumeError } from './errors.ts';
import { NodeStatusManager } from './node-status.ts';
import { ObjectCache, podReferences } from './objects.ts';
import { PodWorkers } from './pod-workers.ts';
import { runLifecycleHook, type HookOutcome } from './hooks.ts';
import { ProbeManager, type ProbeTarget } from './probes.ts';
import { containerResources, podQosClass, podResources } from './resources.ts';
import { securityConfig } from './security.ts';
import { StatusManager } from './status-manager.ts';
import { forbiddenSysctl, SYSCTL_FORBIDDEN } from './sysctls.ts';
import { computePodActions, latestByName, podStatus, type RuntimePod, type Waiting } from './sync-pod.ts';
import { VolumeManager, type PreparedVolume } from './volumes.ts';

/** Options of {@link Kubelet}. */
export interface KubeletOptions {
  client: Client;
  nodeName: string;
  runtime: ContainerRuntime;
  images: ImageService;
  /** The agent's directory (`<data-dir>/agent`): pods (volumes), logs, seccomp profiles. */
  rootDir: string;
  /** This node's pod subnet (reported as `spec.podCIDR`). */
  podCidr?: string;
  /** Cluster DNS servers and domain for `dnsPolicy: ClusterFirst` pods. */
  clusterDns?: string[];
  clusterDomain?: string;
  /** The node's address; default the machine's first IPv4 address. */
  nodeIp?: string;
  /** Extra node labels. */
  nodeLabels?: Record<string, string>;
  /** The port the kubelet's streaming server listens on (reported in the Node's daemonEndpoints). */
  kubeletPort?: number;
  /** Image pull back-off per pod and image (default 10 s doubling to 5 min, as upstream). */
  imagePullBackoff?: BackoffOptions;
  /** Unsafe sysctls pods may set (upstream's `--allowed-unsafe-sysctls`; `prefix*` patterns). */
  allowedUnsafeSysctls?: string[];
  /** Removes a container's log files, rotated ones included, when the container is removed (the log manager's `clean`). */
  cleanContainerLog?: (logPath: string) => Promise<void>;
  /** Hard eviction thresholds for the node's pressure conditions (upstream's `--eviction-hard` syntax). */
  evictionHard?: string;
  /** How long a pressure condition stays after its signal recovers (upstream's default 5 min). */
  pressureTransitionPeriodMs?: number;
  log?: (line: string) => void;
}

interface PodState {
  uid: string;
  pod: Pod;
  /** The API object is gone (deleted by someone, or never seen since a restart). */
  gone: boolean;
  waiting: Map<string, Waiting>;
  startTime: string;
  sandboxIds: Set<string>;
  volumes?: Map<string, PreparedVolume>;
  /** Termination done: nothing of the pod remains on the node. */
  finished: boolean;
  /** Exited containers' termination messages (they never change). */
  messages: Map<string, string>;
  /** Sandbox stopped because the pod finished. */
  done: boolean;
  /** Refused at admission (Failed, never started). */
  rejected?: boolean;
}

const LABEL_UID = 'io.kubernetes.pod.uid';
const ANNOTATION_TERMINATION_FILE = 'io.kubernetes.container.terminationMessageHostPath';
const ANNOTATION_TERMINATION_POLICY = 'io.kubernetes.container.terminationMessagePolicy';

function iso(date = new Date()): string {
  return date.toISOString().replace(/\.\d+Z$/, 'Z');
}

/** A duration as Go prints a `time.Duration` truncated to milliseconds (`512ms`, `1.5s`, `1m2.003s`). */
function goDuration(ms: number): string {
  const whole = Math.floor(ms);
  if (whole < 1000) return `${whole}ms`;
  const minutes = Math.floor(whole / 60_000);
  const seconds = ((whole % 60_000) / 1000).toFixed(3).replace(/\.?0+$/, '');
  return minutes > 0 ? `${minutes}m${seconds}s` : `${seconds}s`;
}

/** A new sandbox whose cgroup and network are being set up; see `Kubelet.#pendingSandbox`. */
interface PendingSandbox {
  ready(): Promise<boolean>;
}

/** A container's image and config, ready for the runtime. */
interface PreparedContainer {
  image: Image;
  config: ContainerConfig;
}

/** Whether a container's environment takes the pod's IP (downward API `status.podIP(s)`). */
function usesPodIps(c: Container): boolean {
  return (c.env ?? []).some((e) => e.valueFrom?.fieldRef?.fieldPath === 'status.podIP' || e.valueFrom?.fieldRef?.fieldPath === 'status.podIPs');
}

function podRef(pod: Pod): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: pod.metadata };
}

/** See the file header. */
export class Kubelet {
  readonly #o: KubeletOptions;
  readonly #client: Client;
  readonly #runtime: ContainerRuntime;
  readonly #images: ImageService;
  readonly #log: (line: string) => void;
  readonly #pods = new Map<string, PodState>();
  readonly #sandboxOwner = new Map<string, string>();
  readonly #containersBySandbox = new Map<string, Set<string>>();
  readonly #crashBackoff = new Backoff();
  readonly #pullBackoff: Backoff;
  readonly #events: EventRecorder;
  readonly #status: StatusManager;
  readonly #workers: PodWorkers;
  readonly #probes: ProbeManager;
  readonly #volumes: VolumeManager;
  readonly #objects: ObjectCache;
  readonly #node: NodeStatusManager;
  #informer: Informer<Pod> | undefined;
  #runtimeName = 'runc';
  #unsubscribe: (() => void) | undefined;
  #stopped = false;

  constructor(options: KubeletOptions) {
    this.#o = options;
    this.#client = options.client;
    this.#runtime = options.runtime;
    this.#images = options.images;
    this.#pullBackoff = new Backoff(options.imagePullBackoff);
    this.#log = options.log ?? ((l) => console.error(l));
    // Held until a pause in recording (at most 1 s): a pod's Pulled, Created and Started events
    // are written after it runs, not while its container starts (that cost a single start ~5 ms).
    this.#events = new EventRecorder(this.#client, { component: 'kubelet', host: options.nodeName, delayMs: 100 });
    this.#status = new StatusManager({ client: this.#client, log: this.#log });
    this.#workers = new PodWorkers({
      sync: (uid) => this.#sync(uid),
      onError: (uid, error) => this.#log(`kubelet: sync of pod ${this.#pods.get(uid)?.pod.metadata?.name ?? uid} failed: ${(error as Error).stack ?? error}`),
    });
    this.#probes = new ProbeManager({
      runtime: this.#runtime,
      onChange: (uid) => this.#workers.enqueue(uid),
      onFailure: (t, kind, message) => {
        const state = this.#pods.get(t.podUid);
        if (state) this.#events.event(podRef(state.pod), 'Warning', 'Unhealthy', `${kind[0]!.toUpperCase()}${kind.slice(1)} probe failed: ${message}`);
      },
    });
    this.#objects = new ObjectCache(this.#client, (key) => { for (const uid of this.#objects.users(key)) this.#workers.enqueue(uid); }, this.#log);
    this.#volumes = new VolumeManager({ root: join(options.rootDir, 'pods'), objects: this.#objects });
    this.#node = new NodeStatusManager({
      client: this.#client,
      nodeName: options.nodeName,
      runtimeVersion: 'unknown',
      dataDir: options.rootDir,
      podCidr: options.podCidr,
      nodeIp: options.nodeIp,
      labels: options.nodeLabels,
      ...(options.kubeletPort !== undefined ? { kubeletPort: options.kubeletPort } : {}),
      ...(options.evictionHard !== undefined ? { evictionHard: options.evictionHard } : {}),
      ...(options.pressureTransitionPeriodMs !== undefined ? { pressureTransitionPeriodMs: options.pressureTransitionPeriodMs } : {}),
      log: this.#log,
    });
  }

  /** The node's name. */
  get nodeName(): string {
    return this.#o.nodeName;
  }

  /** See the file header. */
  async start(signal?: AbortSignal): Promise<void> {
    await mkdir(this.#o.rootDir, { recursive: true });
    const version = await this.#runtime.version();
    this.#runtimeName = version.runtimeName;
    this.#node.runtimeVersion = `${version.runtimeName}://${version.runtimeVersion}`;
    await this.#node.start();
    // The runtime's state: which sandboxes and containers exist, and whose they are.
    const sandboxes = await this.#runtime.listPodSandboxes();
    for (const s of sandboxes) this.#sandboxOwner.set(s.id, s.config.uid);
    for (const c of await this.#runtime.listContainers()) this.#indexContainer(c.sandboxId, c.id);
    this.#unsubscribe = this.#runtime.onContainerExit((e) => {
      const uid = this.#sandboxOwner.get(e.sandboxId);
      if (uid) this.#workers.enqueue(uid);
    });
    this.#informer = new Informer(this.#client.resource(kinds.pods), {
      fieldSelector: `spec.nodeName=${this.#o.nodeName}`,
      onError: (e) => this.#log(`kubelet: pods: ${(e as Error).message}`),
    });
    this.#informer.addHandler({
      add: (pod) => this.#podSeen(pod),
      update: (_old, pod) => this.#podSeen(pod),
      delete: (pod) => {
        const state = this.#pods.get(pod.metadata?.uid ?? '');
        if (!state) return;
        state.gone = true;
        this.#workers.enqueue(state.uid);
      },
    });
    await this.#informer.start();
    // Sandboxes of pods the API no longer has (deleted while the agent was down): clean up.
    for (const s of sandboxes) {
      if (this.#pods.has(s.config.uid)) {
        this.#pods.get(s.config.uid)!.sandboxIds.add(s.id);
        continue;
      }
      const orphan = this.#state({ apiVersion: 'v1', kind: 'Pod', metadata: { name: s.config.name, namespace: s.config.namespace, uid: s.config.uid }, spec: { containers: [] } });
      orphan.gone = true;
      orphan.sandboxIds.add(s.id);
      this.#workers.enqueue(orphan.uid);
    }
    for (const state of this.#pods.values()) this.#workers.enqueue(state.uid);
    signal?.addEventListener('abort', () => void this.stop(), { once: true });
    this.#log(`kubelet: node ${this.#o.nodeName} ready (${version.runtimeName} ${version.runtimeVersion}), ${this.#pods.size} pods`);
  }

  /** See the file header. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#informer?.stop();
    this.#node.stop();
    this.#probes.stop();
    this.#objects.stop();
    this.#unsubscribe?.();
    await this.#workers.stop();
    await this.#status.flush();
    await this.#events.flush();
  }

  /** Waits until queued status writes are done (tests). */
  flushStatus(): Promise<void> {
    return this.#status.flush();
  }

  // ---- pods ------------------------------------------------------------------------------------

  #state(pod: Pod): PodState {
    const uid = pod.metadata!.uid!;
    let state = this.#pods.get(uid);
    if (!state) {
      state = {
        uid,
        pod,
        gone: false,
        waiting: new Map(),
        startTime: pod.status?.startTime ?? iso(),
        sandboxIds: new Set([...this.#sandboxOwner].filter(([, u]) => u === uid).map(([id]) => id)),
        finished: false,
        messages: new Map(),
        done: false,
      };
      this.#pods.set(uid, state);
    }
    return state;
  }

  #podSeen(pod: Pod): void {
    const state = this.#state(pod);
    state.pod = pod;
    this.#workers.enqueue(state.uid);
  }

  #indexContainer(sandboxId: string, id: string): void {
    let set = this.#containersBySandbox.get(sandboxId);
    if (!set) this.#containersBySandbox.set(sandboxId, (set = new Set()));
    set.add(id);
  }

  async #runtimePod(state: PodState): Promise<RuntimePod> {
    const sandboxes: SandboxStatus[] = [];
    const containers: ContainerStatus[] = [];
    for (const id of state.sandboxIds) {
      try {
        sandboxes.push(await this.#runtime.podSandboxStatus(id));
      } catch {
        state.sandboxIds.delete(id);
        continue;
      }
      for (const cid of this.#containersBySandbox.get(id) ?? []) {
        try {
          containers.push(await this.#runtime.containerStatus(cid));
        } catch {
          this.#containersBySandbox.get(id)?.delete(cid);
        }
      }
    }
    sandboxes.sort((a, b) => a.createdAt - b.createdAt);
    return { sandbox: sandboxes.at(-1), sandboxes, containers };
  }

  #envContext(pod: Pod, rt: RuntimePod): EnvContext {
    const hostIps = [this.#node.nodeIp];
    return { podIps: pod.spec?.hostNetwork ? hostIps : (rt.sandbox?.ips ?? []), hostIps, allocatable: this.#node.allocatable };
  }

  /** One pod's sync (serialized per pod by the workers). */
  async #sync(uid: string): Promise<void> {
    const state = this.#pods.get(uid);
    if (!state || state.finished) return;
    if (this.#stopped) return;
    if (state.gone || state.pod.metadata?.deletionTimestamp) {
      await this.#terminate(state);
      return;
    }
    if (state.rejected) return;
    const pod = state.pod;
    if (state.sandboxIds.size === 0 && pod.status?.phase !== 'Failed' && pod.status?.phase !== 'Succeeded') {
      // Admission, as upstream's kubelet does before a pod first starts.
      const why = forbiddenSysctl(pod, this.#o.allowedUnsafeSysctls);
      if (why) {
        this.#reject(state, SYSCTL_FORBIDDEN, `forbidden sysctl: ${why}`);
        return;
      }
    }
    this.#objects.track(uid, podReferences(pod));
    let rt = await this.#runtimePod(state);
    const terminalInApi = pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
    const ctx = {
      backoffRemaining: (name: string, finishedAt: number) => this.#crashBackoff.remainingSince(`${uid}/${name}`, finishedAt),
      tripped: (id: string) => this.#probes.tripped(id) as 'liveness' | 'startup' | undefined,
      started: (id: string) => this.#probes.result(id, 'startup') ?? true,
    };
    const actions = terminalInApi
      ? { killPod: false, createSandbox: false, sandboxAttempt: 0, kill: [], start: [], backoff: new Map<string, number>(), podDone: true }
      : computePodActions(pod, rt, ctx);

    // Volumes first: a pod whose volumes fail does not start.
    if (!actions.podDone) {
      try {
        state.volumes = await this.#volumes.setup(pod, this.#envContext(pod, rt));
        state.waiting.delete('__volumes');
      } catch (error) {
        const message = (error as Error).message;
        this.#events.event(podRef(pod), 'Warning', 'FailedMount', message);
        this.#workers.enqueueAfter(uid, 5000);
        await this.#publish(state, rt, actions.backoff);
        return;
      }
    }

    if (actions.killPod) {
      await this.#killAll(state, rt, 0);
      for (const s of rt.sandboxes) if (s.state === 'ready') await this.#runtime.stopPodSandbox(s.id);
      rt = await this.#runtimePod(state);
    }
    if (actions.podDone) {
      // As upstream: the terminal phase is reported first, then what still runs (sidecars) stops
      // gracefully — preStop, SIGTERM, SIGKILL after the grace period — app containers before sidecars.
      if (rt.containers.some((c) => c.state === 'running')) {
        if (rt.sandbox?.state === 'ready') await this.#publish(state, rt, actions.backoff);
        await this.#killAll(state, rt, this.#gracePeriod(pod));
        rt = await this.#runtimePod(state);
      }
      if (rt.sandbox?.state === 'ready') {
        // Write the final status with the pod IP before the network goes.
        await this.#publish(state, rt, actions.backoff);
        await this.#runtime.stopPodSandbox(rt.sandbox.id);
      }
      state.done = true;
      rt = await this.#runtimePod(state);
      for (const c of rt.containers) this.#probes.remove(c.id);
      await this.#publish(state, rt, actions.backoff);
      return;
    }
    // A new sandbox's cgroup and network come up while its first containers are prepared.
    let pending: PendingSandbox = { ready: async () => true };
    const containerNamed = (name: string) => [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].find((x) => x.name === name);
    const toStart = [...(actions.startInit ? [actions.startInit] : []), ...actions.start];
    // The first of them is prepared while the sandbox is made, unless it needs the pod's IP.
    let early: { name: string; prepared: Promise<PreparedContainer | undefined> } | undefined;
    const first = toStart[0] !== undefined ? containerNamed(toStart[0]) : undefined;
    if (actions.createSandbox && first && !usesPodIps(first)) {
      early = { name: first.name, prepared: this.#prepareContainer(state, first, rt, pending) };
      early.prepared.catch(() => undefined);
    }
    if (actions.createSandbox) {
      const id = await this.#createSandbox(state, actions.sandboxAttempt);
      if (!id) {
        await this.#publish(state, rt, actions.backoff);
        return;
      }
      pending = this.#pendingSandbox(state, id);
      rt = await this.#runtimePod(state);
      // Older sandboxes of the pod are of no use now.
      for (const old of rt.sandboxes) {
        if (old.id === id) continue;
        await this.#removeSandbox(state, old.id);
      }
      rt = await this.#runtimePod(state);
    }
    for (const k of actions.kill) {
      const c = rt.containers.find((x) => x.id === k.id);
      if (c) await this.#killContainer(state, c, k.message, this.#gracePeriod(pod));
    }
    if (actions.kill.length) rt = await this.#runtimePod(state);
    for (const name of toStart) {
      const c = containerNamed(name);
      if (!c || !rt.sandbox) continue;
      await this.#startContainer(state, c, rt, pending, early?.name === name ? early.prepared : undefined);
    }
    const sandboxReady = await pending.ready();
    if (toStart.length || actions.createSandbox) rt = await this.#runtimePod(state);
    if (!sandboxReady) {
      // The next sync finds the sandbox not ready and makes a new one.
      await this.#publish(state, rt, actions.backoff);
      return;
    }
    for (const [name, ms] of actions.backoff) {
      const c = containerNamed(name)!;
      this.#events.event(podRef(pod), 'Warning', 'BackOff', `Back-off restarting failed container ${c.name} in pod ${pod.metadata?.name}_${pod.metadata?.namespace}(${uid})`);
      this.#workers.enqueueAfter(uid, ms + 50);
    }
    // Probes follow the running containers.
    const running = new Set<string>();
    const host = pod.spec?.hostNetwork ? this.#node.nodeIp : (rt.sandbox?.ips[0] ?? '');
    for (const s of rt.containers) {
      if (s.state !== 'running' || s.sandboxId !== rt.sandbox?.id) continue;
      running.add(s.id);
      const c = containerNamed(s.name);
      if (c && (c.livenessProbe || c.readinessProbe || c.startupProbe)) {
        this.#probes.add({ podKey: `${pod.metadata?.namespace}/${pod.metadata?.name}`, podUid: uid, containerId: s.id, container: c, host, startedAt: s.startedAt });
      }
    }
    this.#probesRetainForPod(rt, running);
    await this.#pruneDeadContainers(state, rt);
    await this.#publish(state, rt, actions.backoff);
  }

  #probesRetainForPod(rt: RuntimePod, running: Set<string>): void {
    for (const c of rt.containers) if (!running.has(c.id)) this.#probes.remove(c.id);
  }

  /** Keeps the latest and the previous instance per container name (for `lastState` and `logs --previous`). */
  async #pruneDeadContainers(state: PodState, rt: RuntimePod): Promise<void> {
    const byName = new Map<string, ContainerStatus[]>();
    for (const c of rt.containers) {
      if (!byName.has(c.name)) byName.set(c.name, []);
      byName.get(c.name)!.push(c);
    }
    for (const list of byName.values()) {
      list.sort((a, b) => b.attempt - a.attempt || b.createdAt - a.createdAt);
      for (const old of list.slice(2)) {
        if (old.state === 'running') continue;
        await this.#runtime.removeContainer(old.id);
        // As upstream's container GC: the container's log files go with it.
        await this.#o.cleanContainerLog?.(old.logPath);
        this.#containersBySandbox.get(old.sandboxId)?.delete(old.id);
        state.messages.delete(old.id);
      }
    }
  }

  #gracePeriod(pod: Pod): number {
    return pod.metadata?.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
  }

  /** Refuses a pod that may not run here: Failed with the reason, as upstream's `rejectPod`. */
  #reject(state: PodState, reason: string, message: string): void {
    state.rejected = true;
    const pod = state.pod;
    this.#events.event(podRef(pod), 'Warning', reason, message);
    this.#status.set(pod, { phase: 'Failed', reason, message: `Pod was rejected: ${message}` });
  }

  async #publish(state: PodState, rt: RuntimePod, backoff: Map<string, number>): Promise<void> {
    if (state.gone) return;
    for (const s of rt.containers) await this.#readTerminationMessage(state, s);
    const pod = state.pod;
    const status = podStatus(pod, rt, {
      runtimeName: this.#runtimeName,
      hostIps: [this.#node.nodeIp],
      startTime: state.startTime,
      waiting: state.waiting,
      backoff,
      backoffDelay: (name) => this.#crashBackoff.delay(`${state.uid}/${name}`),
      ready: (id) => this.#probes.result(id, 'readiness'),
      started: (id) => this.#probes.result(id, 'startup') ?? true,
      terminationMessage: (id) => state.messages.get(id),
      terminating: pod.metadata?.deletionTimestamp !== undefined,
    });
    this.#status.set(pod, status);
  }

  // ---- sandboxes ----------------------------------------------------------------------------

  #dns(pod: Pod): DnsConfig | undefined {
    const policy = pod.spec?.dnsPolicy ?? 'ClusterFirst';
    const extra = pod.spec?.dnsConfig;
    let base: DnsConfig | undefined;
    const servers = this.#o.clusterDns ?? [];
    const clusterFirst = policy === 'ClusterFirstWithHostNet' || (policy === 'ClusterFirst' && !pod.spec?.hostNetwork);
    if (clusterFirst && servers.length > 0) {
      const domain = this.#o.clusterDomain ?? 'cluster.local';
      const ns = pod.metadata?.namespace ?? 'default';
      base = { servers: [...servers], searches: [`${ns}.svc.${domain}`, `svc.${domain}`, domain], options: ['ndots:5'] };
    } else if (policy === 'None') {
      base = { servers: [], searches: [], options: [] };
    }
    if (!extra) return base;
    const out: DnsConfig = { servers: [...(base?.servers ?? [])], searches: [...(base?.searches ?? [])], options: [...(base?.options ?? [])] };
    for (const s of extra.nameservers ?? []) if (!out.servers!.includes(s)) out.servers!.push(s);
    for (const s of extra.searches ?? []) if (!out.searches!.includes(s)) out.searches!.push(s);
    for (const o of extra.options ?? []) {
      const text = o.value !== undefined ? `${o.name}:${o.value}` : (o.name ?? '');
      out.options = out.options!.filter((x) => x.split(':')[0] !== o.name);
      out.options.push(text);
    }
    return out;
  }

  /**
   * A sandbox just made, whose cgroup and network are set up while its first containers are
   * prepared (when the runtime splits `runPodSandbox`): `ready()` waits for that, once, and says
   * whether it worked. If not, the pod gets the event a failed `runPodSandbox` gives, and a new
   * sync after 5 s.
   */
  #pendingSandbox(state: PodState, id: string): PendingSandbox {
    let outcome: Promise<boolean> | undefined;
    return {
      ready: () => (outcome ??= (this.#runtime.podSandboxReady?.(id) ?? Promise.resolve()).then(
        () => true,
        (error: Error) => {
          this.#events.event(podRef(state.pod), 'Warning', 'FailedCreatePodSandBox', `Failed to create pod sandbox: ${error.message}`);
          this.#workers.enqueueAfter(state.uid, 5000);
          return false;
        },
      )),
    };
  }

  async #createSandbox(state: PodState, attempt: number): Promise<string | undefined> {
    const pod = state.pod;
    const qos = podQosClass(pod);
    const ports = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].flatMap((c) => c.ports ?? []).filter((p) => p.hostPort);
    const sysctls = Object.fromEntries((pod.spec?.securityContext?.sysctls ?? []).map((s) => [s.name, s.value]));
    const config: SandboxConfig = {
      name: pod.metadata!.name!,
      namespace: pod.metadata!.namespace!,
      uid: state.uid,
      attempt,
      ...(pod.spec?.hostname ? { hostname: pod.spec.hostname } : {}),
      hostNetwork: pod.spec?.hostNetwork === true,
      dns: this.#dns(pod),
      hostAliases: (pod.spec?.hostAliases ?? []).map((a) => ({ ip: a.ip ?? '', hostnames: a.hostnames ?? [] })),
      portMappings: ports.map((p) => ({ protocol: (p.protocol ?? 'TCP').toLowerCase() as 'tcp', containerPort: p.containerPort, hostPort: p.hostPort!, ...(p.hostIP ? { hostIP: p.hostIP } : {}) })),
      qosClass: qos,
      resources: podResources(pod, qos),
      sysctls,
      labels: { [LABEL_UID]: state.uid, 'io.kubernetes.pod.name': pod.metadata!.name!, 'io.kubernetes.pod.namespace': pod.metadata!.namespace! },
    };
    try {
      const id = this.#runtime.createPodSandbox ? await this.#runtime.createPodSandbox(config) : await this.#runtime.runPodSandbox(config);
      state.sandboxIds.add(id);
      this.#sandboxOwner.set(id, state.uid);
      return id;
    } catch (error) {
      const message = (error as Error).message;
      this.#events.event(podRef(pod), 'Warning', 'FailedCreatePodSandBox', `Failed to create pod sandbox: ${message}`);
      this.#workers.enqueueAfter(state.uid, 5000);
      return undefined;
    }
  }

  async #removeSandbox(state: PodState, id: string): Promise<void> {
    for (const cid of this.#containersBySandbox.get(id) ?? []) this.#probes.remove(cid);
    await this.#runtime.removePodSandbox(id);
    this.#containersBySandbox.delete(id);
    this.#sandboxOwner.delete(id);
    state.sandboxIds.delete(id);
  }

  // ---- containers -------------------------------------------------------------------------

  async #pullSecrets(pod: Pod): Promise<PullSecret[]> {
    const out: PullSecret[] = [];
    for (const ref of pod.spec?.imagePullSecrets ?? []) {
      const s = await this.#objects.secret(pod.metadata!.namespace!, ref.name ?? '');
      if (s) out.push({ type: s.type, data: s.data as Record<string, string> | undefined });
    }
    return out;
  }

  /**
   * The image of a container, pulled per its policy; sets waiting reasons on failure. Reasons,
   * events and messages as upstream's image manager: `ErrImageNeverPull`, `InvalidImageName`
   * (event `InspectFailed`), `ErrImagePull` (`Failed to pull image …`), then `ImagePullBackOff`
   * while the pod and image's back-off lasts, its message carrying the last pull error.
   */
  async #ensureImage(state: PodState, c: Container): Promise<Image | undefined> {
    const pod = state.pod;
    const ref = c.image ?? '';
    const key = `${state.uid}/${ref}`;
    const fail = (reason: string, message: string, retryMs: number | undefined) => {
      state.waiting.set(c.name, { reason, message });
      this.#events.event(podRef(pod), 'Warning', 'Failed', `Error: ${reason}`);
      if (retryMs !== undefined) this.#workers.enqueueAfter(state.uid, retryMs);
      return undefined;
    };
    let present: Image | undefined;
    let pull: boolean;
    try {
      present = await this.#images.get(ref);
      pull = shouldPull(c.imagePullPolicy as 'Always' | 'IfNotPresent' | 'Never' | undefined, ref, present !== undefined);
    } catch (error) {
      if (error instanceof ImageNeverPullError) {
        const message = `Container image "${ref}" is not present with pull policy of Never`;
        this.#events.event(podRef(pod), 'Warning', 'ErrImageNeverPull', message);
        // The image may be imported meanwhile (`skiff image import|pull`): look again later.
        return fail('ErrImageNeverPull', message, 10_000);
      }
      const message = `Failed to apply default image tag "${ref}": ${(error as Error).message}`;
      this.#events.event(podRef(pod), 'Warning', 'InspectFailed', message);
      return fail('InvalidImageName', message, undefined);
    }
    if (!pull) {
      this.#events.event(podRef(pod), 'Normal', 'Pulled', `Container image "${ref}" already present on machine`);
      return present;
    }
    const failedAt = this.#pullFailures.get(key);
    const left = failedAt === undefined ? 0 : this.#pullBackoff.remainingSince(key, failedAt.at);
    if (left > 0) {
      this.#events.event(podRef(pod), 'Normal', 'BackOff', `Back-off pulling image "${ref}"`);
      return fail('ImagePullBackOff', `Back-off pulling image "${ref}": ${failedAt!.message}`, left + 50);
    }
    this.#events.event(podRef(pod), 'Normal', 'Pulling', `Pulling image "${ref}"`);
    const started = performance.now();
    try {
      const credentials = DockerKeyring.fromSecrets(await this.#pullSecrets(pod)).lookup(ref);
      const image = await this.#images.pull(ref, { credentials });
      const took = goDuration(performance.now() - started);
      this.#events.event(podRef(pod), 'Normal', 'Pulled', `Successfully pulled image "${ref}" in ${took} (${took} including waiting). Image size: ${image.size} bytes.`);
      this.#pullFailures.delete(key);
      this.#pullBackoff.reset(key);
      return image;
    } catch (error) {
      const message = (error as Error).message;
      const now = Date.now();
      this.#pullBackoff.next(key, now);
      const reason = error instanceof InvalidImageNameError ? 'InvalidImageName' : 'ErrImagePull';
      this.#pullFailures.set(key, { at: now, message: `${reason}: ${message}` });
      this.#events.event(podRef(pod), 'Warning', 'Failed', `Failed to pull image "${ref}": ${message}`);
      return fail(reason, message, this.#pullBackoff.delay(key) + 50);
    }
  }

  /** The last failed pull per pod and image: when, and upstream's `<reason>: <message>` for the back-off message. */
  readonly #pullFailures = new Map<string, { at: number; message: string }>();

  #logPath(pod: Pod, name: string, attempt: number): string {
    return join(this.#o.rootDir, 'logs', `${pod.metadata!.namespace}_${pod.metadata!.name}_${pod.metadata!.uid}`, name, `${attempt}.log`);
  }

  /**
   * The first half of a container's start: its image, present, and its config. Undefined when
   * it cannot start now; why is recorded (waiting reason, event, a later sync).
   */
  async #prepareContainer(state: PodState, c: Container, rt: RuntimePod, pending: PendingSandbox): Promise<PreparedContainer | undefined> {
    const previous = latestByName(rt.containers).get(c.name);
    const attempt = previous ? previous.attempt + 1 : 0;
    const image = await this.#ensureImage(state, c);
    if (!image) return undefined;
    if (usesPodIps(c)) {
      // Its environment names the pod's IP: the network must be up first.
      if (!(await pending.ready())) return undefined;
      rt = await this.#runtimePod(state);
    }
    try {
      return { image, config: await this.#containerConfig(state, c, image, attempt, rt) };
    } catch (error) {
      if (error instanceof ContainerConfigError || error instanceof VolumeError) {
        state.waiting.set(c.name, { reason: 'CreateContainerConfigError', message: error.message });
        this.#events.event(podRef(state.pod), 'Warning', 'Failed', `Error: ${error.message}`);
        this.#workers.enqueueAfter(state.uid, 10_000);
        return undefined;
      }
      throw error;
    }
  }

  async #startContainer(state: PodState, c: Container, rt: RuntimePod, pending: PendingSandbox, prepared?: Promise<PreparedContainer | undefined>): Promise<void> {
    const pod = state.pod;
    const sandbox = rt.sandbox!;
    const previous = latestByName(rt.containers).get(c.name);
    const ready = await (prepared ?? this.#prepareContainer(state, c, rt, pending));
    if (!ready) return;
    const { image, config } = ready;
    if (previous && previous.state === 'exited') this.#crashBackoff.next(`${state.uid}/${c.name}`);
    let id: string;
    try {
      id = await this.#runtime.createContainer(sandbox.id, config);
    } catch (error) {
      state.waiting.set(c.name, { reason: 'CreateContainerError', message: (error as Error).message });
      this.#events.event(podRef(pod), 'Warning', 'Failed', `Error: ${(error as Error).message}`);
      this.#workers.enqueueAfter(state.uid, 10_000);
      return;
    }
    this.#indexContainer(sandbox.id, id);
    state.waiting.delete(c.name);
    this.#events.event(podRef(pod), 'Normal', 'Created', `Created container ${c.name}`);
    if (!(await pending.ready())) return;
    try {
      await this.#runtime.startContainer(id);
    } catch (error) {
      // The runtime records the attempt as exited (StartError, 128); until the next start the
      // container waits with RunContainerError when it will be restarted, as upstream's reason cache.
      const message = (error as Error).message;
      this.#events.event(podRef(pod), 'Warning', 'Failed', `Error: ${message}`);
      const restarts = pod.spec?.restartPolicy !== 'Never' || c.restartPolicy === 'Always';
      if (restarts) state.waiting.set(c.name, { reason: 'RunContainerError', message });
      return;
    }
    this.#events.event(podRef(pod), 'Normal', 'Started', `Started container ${c.name}`);
    void this.#images.markUsed(image.id).catch(() => {});
    const hook = c.lifecycle?.postStart;
    if (hook) {
      const target = this.#hookTarget(state, c, id, sandbox);
      const outcome = await this.#runHook(hook, target, this.#gracePeriod(pod));
      if (!outcome.ok) {
        this.#events.event(podRef(pod), 'Warning', 'FailedPostStartHook', outcome.message);
        const status = await this.#runtime.containerStatus(id);
        await this.#killContainer(state, status, 'FailedPostStartHook', this.#gracePeriod(pod));
      }
    }
  }

  #hookTarget(state: PodState, c: Container, id: string, sandbox: SandboxStatus): ProbeTarget {
    const pod = state.pod;
    return { podKey: `${pod.metadata?.namespace}/${pod.metadata?.name}`, podUid: state.uid, containerId: id, container: c, host: pod.spec?.hostNetwork ? this.#node.nodeIp : (sandbox.ips[0] ?? ''), startedAt: Date.now() };
  }

  #runHook(hook: LifecycleHandler, target: ProbeTarget, timeoutSeconds: number): Promise<HookOutcome> {
    const pod = this.#pods.get(target.podUid)?.pod ?? { metadata: { name: target.podKey } };
    return runLifecycleHook(hook, target, { runtime: this.#runtime, pod, timeoutSeconds });
  }

  async #containerConfig(state: PodState, c: Container, image: Image, attempt: number, rt: RuntimePod): Promise<ContainerConfig> {
    const pod = state.pod;
    const [layers, imageConfig] = await Promise.all([this.#images.layers(image.id), this.#images.config(image.id)]);
    const ctx = this.#envContext(pod, rt);
    const env = mergeEnv(imageConfig.Env, await containerEnv(pod, c, this.#objects, ctx));
    const argv = containerArgv(c, imageConfig, env);
    if (argv.length === 0) throw new ContainerConfigError('no command specified');
    const security = await securityConfig(pod, c, imageConfig.User, layers, join(this.#o.rootDir, 'seccomp'));
    const mounts = await this.#volumes.mountsFor(c, state.volumes ?? new Map(), pod, ctx);
    // The termination message file: one per container instance, mounted where the pod asks.
    const msgDir = join(this.#volumes.podDir(state.uid), 'containers', c.name);
    await mkdir(msgDir, { recursive: true });
    const msgFile = join(msgDir, randomBytes(4).toString('hex'));
    await writeFile(msgFile, '');
    // Any user the container runs as may write its termination message (umask would narrow a create mode).
    await chmod(msgFile, 0o666);
    const msgPath = c.terminationMessagePath ?? '/dev/termination-log';
    if (!mounts.some((m) => m.containerPath === msgPath)) mounts.push({ containerPath: msgPath, hostPath: msgFile });
    const qos = podQosClass(pod);
    const repoTag = image.repoTags[0];
    return {
      name: c.name,
      attempt,
      argv,
      env,
      workingDir: c.workingDir || imageConfig.WorkingDir || '/',
      layers,
      // As given in the pod (a digest reference stays one); the imageID carries the digest.
      image: c.image ?? repoTag ?? image.id,
      imageId: this.#images.imageRef(image, c.image),
      ...(imageConfig.StopSignal ? { stopSignal: imageConfig.StopSignal } : {}),
      mounts,
      resources: containerResources(pod, c, qos, this.#node.machine.memoryBytes),
      security,
      tty: c.tty === true,
      stdin: c.stdin === true,
      logPath: this.#logPath(pod, c.name, attempt),
      labels: { [LABEL_UID]: state.uid, 'io.kubernetes.container.name': c.name, 'io.kubernetes.pod.name': pod.metadata!.name!, 'io.kubernetes.pod.namespace': pod.metadata!.namespace! },
      annotations: { [ANNOTATION_TERMINATION_FILE]: msgFile, [ANNOTATION_TERMINATION_POLICY]: c.terminationMessagePolicy ?? 'File' },
    };
  }

  /** Reads an exited container's termination message (file, or the log's tail with FallbackToLogsOnError). */
  async #readTerminationMessage(state: PodState, s: ContainerStatus): Promise<void> {
    if (s.state !== 'exited' || state.messages.has(s.id)) return;
    let text = '';
    const file = s.annotations[ANNOTATION_TERMINATION_FILE];
    if (file) {
      const fh = await open(file, 'r').catch(() => undefined);
      if (fh) {
        const buf = Buffer.alloc(4096);
        const { bytesRead } = await fh.read(buf, 0, 4096, 0);
        await fh.close();
        text = buf.subarray(0, bytesRead).toString();
      }
    }
    if (!text && s.exitCode !== 0 && s.annotations[ANNOTATION_TERMINATION_POLICY] === 'FallbackToLogsOnError') {
      const log = await readFile(s.logPath, 'utf8').catch(() => '');
      const lines = log.split('\n').filter(Boolean).slice(-80).map((l) => {
        const m = /^\S+ (?:stdout|stderr) ([FP]) (.*)$/.exec(l);
        return m ? m[2]! + (m[1] === 'F' ? '\n' : '') : '';
      });
      text = lines.join('');
      if (text.length > 2048) text = text.slice(-2048);
    }
    // The runtime's own message (why a start failed) comes first, as upstream's kuberuntime joins them.
    if (s.message) text = text ? `${s.message}: ${text}` : s.message;
    state.messages.set(s.id, text);
  }

  async #killContainer(state: PodState, s: ContainerStatus, message: string, grace: number): Promise<void> {
    const pod = state.pod;
    if (s.state !== 'running') return;
    this.#probes.remove(s.id);
    const c = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].find((x) => x.name === s.name);
    this.#events.event(podRef(pod), 'Normal', 'Killing', message.startsWith('Container') || message.startsWith('Stopping') ? message : `Stopping container ${s.name}`);
    const started = Date.now();
    const preStop = c?.lifecycle?.preStop;
    if (preStop && grace > 0) {
      const sandbox = state.sandboxIds.size ? await this.#runtime.podSandboxStatus(s.sandboxId).catch(() => undefined) : undefined;
      if (sandbox) {
        const outcome = await Promise.race([
          this.#runHook(preStop, this.#hookTarget(state, c!, s.id, sandbox), grace),
          new Promise<{ ok: boolean; message: string }>((r) => setTimeout(() => r({ ok: true, message: '' }), grace * 1000)),
        ]);
        if (!outcome.ok) this.#events.event(podRef(pod), 'Warning', 'FailedPreStopHook', outcome.message);
      }
    }
    const left = Math.max(grace > 0 ? 2 : 0, grace - Math.floor((Date.now() - started) / 1000));
    await this.#runtime.stopContainer(s.id, grace > 0 ? left : 0);
  }

  async #killAll(state: PodState, rt: RuntimePod, grace: number): Promise<void> {
    const pod = state.pod;
    const sidecars = new Set((pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always').map((c) => c.name));
    const running = rt.containers.filter((c) => c.state === 'running');
    // App containers first (in parallel), then sidecars, as upstream's termination ordering.
    await Promise.all(running.filter((c) => !sidecars.has(c.name)).map((c) => this.#killContainer(state, c, `Stopping container ${c.name}`, grace)));
    await Promise.all(running.filter((c) => sidecars.has(c.name)).map((c) => this.#killContainer(state, c, `Stopping container ${c.name}`, grace)));
  }

  /** Graceful termination, then every trace of the pod removed, then the API object deleted. */
  async #terminate(state: PodState): Promise<void> {
    const pod = state.pod;
    let rt = await this.#runtimePod(state);
    const grace = state.gone ? Math.min(this.#gracePeriod(pod), 2) : this.#gracePeriod(pod);
    await this.#killAll(state, rt, grace);
    rt = await this.#runtimePod(state);
    for (const s of rt.containers) await this.#readTerminationMessage(state, s);
    for (const id of [...state.sandboxIds]) {
      await this.#runtime.stopPodSandbox(id);
      await this.#removeSandbox(state, id);
    }
    await this.#volumes.teardown(state.uid);
    await rm(join(this.#o.rootDir, 'logs', `${pod.metadata!.namespace}_${pod.metadata!.name}_${state.uid}`), { recursive: true, force: true });
    this.#objects.track(state.uid, []);
    this.#crashBackoff.resetPrefix(`${state.uid}/`);
    this.#pullBackoff.resetPrefix(`${state.uid}/`);
    for (const key of this.#pullFailures.keys()) if (key.startsWith(`${state.uid}/`)) this.#pullFailures.delete(key);
    if (!state.gone) {
      try {
        await this.#client.resource(kinds.pods).delete(pod.metadata!.namespace!, pod.metadata!.name!, { gracePeriodSeconds: 0, preconditions: { uid: state.uid } });
      } catch (error) {
        if (!isApiError(error, 404) && !isApiError(error, 409)) throw error;
      }
    }
    state.finished = true;
    this.#status.forget(state.uid);
    this.#pods.delete(state.uid);
    this.#workers.forget(state.uid);
  }
}
