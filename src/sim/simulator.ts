/**
 * Simulated nodes, kwok-style: N kubelets in one process that register Nodes, renew their
 * heartbeat Leases, and run the pods bound to them — without containers. A pod bound to a
 * simulated node goes Running with an address and ready containers; Job pods (and pods that ask
 * by annotation) exit after a while; a deleted pod goes away once its grace period (capped) has
 * passed, deleted by its node as a real kubelet deletes it.
 *
 * Contract:
 * - `start()` registers every node (creating it, or taking over one that exists), writes its
 *   first Lease, then follows pods; it resolves once all nodes are registered and the pod cache
 *   has synced.
 * - One shared pod cache (one watch of every bound pod, stripped to the fields the simulator
 *   reads) serves all nodes; writes go out through two bounded worker pools — one for node
 *   heartbeats, so that a flood of pod writes never starves a Lease, and one for pods.
 * - Pods bound to a node this simulator does not run, or to a node that does not exist, are
 *   never touched.
 * - Control (`command`, or the methods it calls) is what a test uses to make a node fall
 *   silent, report NotReady, or make a pod exit or turn unready.
 */
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Node, Pod, Taint } from 'kubernetes-types/core/v1.js';
import { Informer, isApiError, kinds, processQueue, WorkQueue, type Client } from '../client/index.ts';
import { parseDuration } from './duration.ts';
import { SimCommandError } from './errors.ts';
import { formatIp, NodeIpam, nodeMaskSize, nodeSubnet, parseCidr } from './ip-allocator.ts';
import { leaseObject, microTime, NODE_LEASE_NAMESPACE, nodeConditions, nodeObject, withTransitions, type NodeShape } from './node-template.ts';
import { podStatus, readinessGateProblem, type PodRun } from './pod-status.ts';

/** Annotation: the exit code of a simulated pod's containers (they exit after the pod's duration). */
export const SIM_EXIT_CODE_ANNOTATION = 'skiff.dev/sim-exit-code';
/** Annotation: how long a simulated pod's containers run before they exit (`5s`, `1m`). */
export const SIM_DURATION_ANNOTATION = 'skiff.dev/sim-duration';

/** Options of {@link Simulator}. */
export interface SimulatorOptions {
  /** The client the simulated kubelets write through. */
  client: Client;
  /** How many nodes to run. */
  nodes: number;
  /** Node names are `<prefix><index>`, from 0. Default `sim-`. */
  nodeNamePrefix?: string;
  /** Capacity (and allocatable) of each node. Defaults: `32` CPUs, `256Gi`, `110` pods, `1Ti` ephemeral storage. */
  cpu?: string;
  memory?: string;
  pods?: string;
  ephemeralStorage?: string;
  /** Extra node labels. */
  labels?: Record<string, string>;
  /** Taints every node registers with. */
  taints?: Taint[];
  /** How long Job pods (and pods with only the exit-code annotation) run. Default 5 s. */
  jobDurationMs?: number;
  /** Lease renewal period (kubelet: 10 s). */
  heartbeatIntervalMs?: number;
  /** Lease duration written into each Lease (kubelet: 40 s). */
  leaseDurationSeconds?: number;
  /**
   * How often an unchanged node status is posted. Default 5 min, kubelet's
   * `nodeStatusReportFrequency`: liveness travels by Lease, and every status write is a node
   * event for every node watcher (scheduler, controllers), so at 5,000 nodes it is kept rare. A status that changed (or that someone else changed, such as the
   * node lifecycle controller marking it Unknown) is posted at once.
   */
  nodeStatusIntervalMs?: number;
  /** The longest a deleted pod waits for its grace period before its node removes it. Default 1 s. */
  maxGracePeriodMs?: number;
  /** Pod addresses; each node gets a subnet of it. Default `10.42.0.0/16`. */
  clusterCidr?: string;
  /** Preferred per-node prefix (`/24`); longer when the cluster CIDR is too small for the nodes. */
  nodeCidrMaskSize?: number;
  /** Node InternalIPs are taken in order from here. Default `172.16.0.0/12`. */
  nodeIpRange?: string;
  /** Concurrent pod writes. Default 32. */
  podWorkers?: number;
  /** Concurrent node writes (registration, Leases, status). Default 16. */
  nodeWorkers?: number;
  /** Where warnings go. Default stderr. */
  log?: (line: string) => void;
}

interface SimNode {
  shape: NodeShape;
  ipam: NodeIpam;
  uid?: string;
  registered: boolean;
  /** Deleted by someone: the simulated kubelet stops. */
  gone: boolean;
  heartbeat: boolean;
  ready: boolean;
  lease?: Lease;
  nextLeaseAt: number;
  nextStatusAt: number;
}

interface PodState {
  uid: string;
  nodeName: string;
  run: PodRun;
  /** Bumped on every change of what the status should say; `written` is the last one posted. */
  version: number;
  written: number;
  gates?: string;
  exitTimer?: NodeJS.Timeout;
  /** Exits planned: code and duration. */
  exit?: { code: number; afterMs: number };
  /** When the simulator first saw the pod marked for deletion. */
  deletingSince?: number;
  ipReleased?: boolean;
}

/** See the file header. */
export class Simulator {
  readonly #client: Client;
  readonly #options: SimulatorOptions;
  readonly #log: (line: string) => void;
  readonly #nodes = new Map<string, SimNode>();
  readonly #pods = new Map<string, PodState>();
  readonly #podQueue = new WorkQueue({ baseDelayMs: 50, maxDelayMs: 10_000 });
  readonly #nodeQueue = new WorkQueue({ baseDelayMs: 100, maxDelayMs: 5_000 });
  readonly #workers: Promise<void>[] = [];
  readonly #nodeInformer: Informer<Node>;
  readonly #podInformer: Informer<Pod>;
  #ticker: NodeJS.Timeout | undefined;
  #stopped = false;
  #unregistered = 0;
  #onRegistered: () => void = () => undefined;
  #warnedFull = new Set<string>();

  constructor(options: SimulatorOptions) {
    if (!Number.isInteger(options.nodes) || options.nodes < 0) throw new RangeError(`nodes: ${options.nodes} is not a whole number of nodes`);
    this.#client = options.client;
    this.#options = options;
    this.#log = options.log ?? ((line) => console.error(line));
    const cluster = parseCidr(options.clusterCidr ?? '10.42.0.0/16');
    const mask = nodeMaskSize(cluster, Math.max(options.nodes, 1), options.nodeCidrMaskSize ?? 24);
    const nodeIps = parseCidr(options.nodeIpRange ?? '172.16.0.0/12');
    if (options.nodes > 2 ** (32 - nodeIps.prefix) - 2) throw new RangeError(`node IP range ${options.nodeIpRange} is too small for ${options.nodes} nodes`);
    const pods = options.pods ?? '110';
    const ipsPerNode = 2 ** (32 - mask) - 3;
    if (ipsPerNode < Number(pods)) {
      this.#log(`skiff sim: each node gets a /${mask} of ${options.clusterCidr ?? '10.42.0.0/16'}: ${ipsPerNode} pod addresses for ${pods} pods of capacity; pass a larger --cluster-cidr for more`);
    }
    const prefix = options.nodeNamePrefix ?? 'sim-';
    for (let i = 0; i < options.nodes; i++) {
      const subnet = nodeSubnet(cluster, mask, i);
      const ipam = new NodeIpam(subnet);
      const name = `${prefix}${i}`;
      this.#nodes.set(name, {
        shape: {
          name,
          cpu: options.cpu ?? '32',
          memory: options.memory ?? '256Gi',
          pods,
          ephemeralStorage: options.ephemeralStorage ?? '1Ti',
          labels: options.labels ?? {},
          taints: options.taints ?? [],
          podCidr: ipam.toString(),
          internalIp: formatIp((nodeIps.base + i + 1) >>> 0),
        },
        ipam,
        registered: false,
        gone: false,
        heartbeat: true,
        ready: true,
        nextLeaseAt: 0,
        nextStatusAt: 0,
      });
    }
    this.#nodeInformer = new Informer(this.#client.resource(kinds.nodes), {
      transform: compactNode,
      onError: (error) => this.#warn(`nodes: ${message(error)}`),
    });
    this.#podInformer = new Informer(this.#client.resource(kinds.pods), {
      // Pending pods are no kubelet's business: only bound ones are cached.
      fieldSelector: 'spec.nodeName!=',
      transform: compactPod,
      indexers: { node: (pod) => [pod.spec?.nodeName ?? ''] },
      onError: (error) => this.#warn(`pods: ${message(error)}`),
    });
  }

  /** The names of the simulated nodes, in index order. */
  get nodeNames(): string[] {
    return [...this.#nodes.keys()];
  }

  /** Registers the nodes, starts heartbeats, then follows pods. See the file header. */
  async start(): Promise<void> {
    this.#nodeInformer.addHandler({
      add: (node) => this.#nodeChanged(node),
      update: (_, node) => this.#nodeChanged(node),
      delete: (node) => {
        const sim = this.#nodes.get(node.metadata?.name ?? '');
        if (!sim || !sim.registered || sim.uid !== node.metadata?.uid) return;
        sim.gone = true;
        this.#log(`skiff sim: node ${sim.shape.name} was deleted; its simulated kubelet stops`);
      },
    });
    this.#podInformer.addHandler({
      add: (pod) => this.#podChanged(pod),
      update: (_, pod) => this.#podChanged(pod),
      delete: (pod) => this.#podChanged(pod),
    });
    const nodeWorkers = this.#options.nodeWorkers ?? 16;
    for (let i = 0; i < nodeWorkers; i++) {
      this.#workers.push(processQueue(this.#nodeQueue, (key) => this.#syncNode(key), { onError: (key, error) => this.#failed(key, error) }));
    }
    const podWorkers = this.#options.podWorkers ?? 32;
    for (let i = 0; i < podWorkers; i++) {
      this.#workers.push(processQueue(this.#podQueue, (key) => this.#syncPod(key), { onError: (key, error) => this.#failed(key, error) }));
    }
    await this.#nodeInformer.start();
    const registered = new Promise<void>((resolve) => (this.#onRegistered = resolve));
    this.#unregistered = this.#nodes.size;
    if (this.#unregistered === 0) this.#onRegistered();
    for (const name of this.#nodes.keys()) this.#nodeQueue.add(`register/${name}`);
    await registered;
    if (this.#stopped) return;
    // Heartbeats spread evenly over one interval, so 5,000 nodes do not renew in one burst.
    const interval = this.#heartbeatMs;
    const statusInterval = this.#options.nodeStatusIntervalMs ?? 300_000;
    const now = Date.now();
    let i = 0;
    for (const node of this.#nodes.values()) {
      node.nextLeaseAt = now + (interval * i) / Math.max(this.#nodes.size, 1);
      node.nextStatusAt = now + (statusInterval * i) / Math.max(this.#nodes.size, 1) + statusInterval / 2;
      i++;
    }
    this.#ticker = setInterval(() => this.#tick(), Math.max(10, Math.min(250, interval / 10)));
    await this.#podInformer.start();
  }

  /** Stops heartbeats and pod handling; nodes and pods stay as they are in the API. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#ticker);
    this.#nodeInformer.stop();
    this.#podInformer.stop();
    for (const state of this.#pods.values()) clearTimeout(state.exitTimer);
    this.#onRegistered();
    this.#podQueue.shutDown();
    this.#nodeQueue.shutDown();
    await Promise.all(this.#workers);
  }

  /**
   * The node stops renewing its Lease and posting status, as a kubelet that died: its pods are
   * left as they are (a deleted one stays Terminating) until the heartbeat resumes.
   */
  stopHeartbeat(nodeName: string): void {
    this.#node(nodeName).heartbeat = false;
  }

  /** The node renews its Lease and posts its status again, at once. */
  resumeHeartbeat(nodeName: string): void {
    const node = this.#node(nodeName);
    node.heartbeat = true;
    this.#nodeQueue.add(`lease/${nodeName}`);
    this.#nodeQueue.add(`status/${nodeName}`);
    for (const pod of this.#podInformer.byIndex('node', nodeName)) this.#podQueue.add(podKey(pod));
  }

  /** The node reports Ready=True (its runtime is fine) or Ready=False (`KubeletNotReady`). */
  setNodeReady(nodeName: string, ready: boolean): void {
    const node = this.#node(nodeName);
    node.ready = ready;
    this.#nodeQueue.add(`status/${nodeName}`);
  }

  /**
   * The pod's containers exit now with `exitCode`: under restartPolicy Never (or OnFailure with
   * code 0) the pod finishes (Succeeded or Failed); otherwise the containers restart.
   */
  exitPod(namespace: string, name: string, exitCode: number): void {
    const key = `${namespace}/${name}`;
    const state = this.#pods.get(key);
    if (!state || state.run.finished) throw new SimCommandError(`pod ${key} is not running on a simulated node`);
    this.#exit(key, exitCode);
  }

  /** The pod's containers report ready or unready (a failing readiness probe). */
  setPodReady(namespace: string, name: string, ready: boolean): void {
    const key = `${namespace}/${name}`;
    const state = this.#pods.get(key);
    if (!state || state.run.finished) throw new SimCommandError(`pod ${key} is not running on a simulated node`);
    if (state.run.ready === ready) return;
    state.run.ready = ready;
    state.version++;
    this.#podQueue.add(key);
  }

  /**
   * Runs one control command, as read from `skiff sim`'s stdin:
   * `stop-heartbeat NODE`, `resume-heartbeat NODE`, `set-node-ready NODE true|false`,
   * `fail-pod NS/NAME [CODE]` (default 1), `exit-pod NS/NAME CODE`,
   * `set-pod-ready NS/NAME true|false`. Throws {@link SimCommandError} when it does not apply.
   */
  command(line: string): void {
    const [verb, target = '', arg] = line.trim().split(/\s+/);
    const pod = () => {
      const slash = target.indexOf('/');
      if (slash <= 0) throw new SimCommandError(`"${target}" is not namespace/name`);
      return [target.slice(0, slash), target.slice(slash + 1)] as const;
    };
    const bool = () => {
      if (arg !== 'true' && arg !== 'false') throw new SimCommandError(`"${arg ?? ''}" is not true or false`);
      return arg === 'true';
    };
    const code = (fallback?: number) => {
      const value = arg === undefined ? fallback : Number(arg);
      if (value === undefined || !Number.isInteger(value) || value < 0 || value > 255) throw new SimCommandError(`"${arg ?? ''}" is not an exit code (0-255)`);
      return value;
    };
    switch (verb) {
      case 'stop-heartbeat':
        return this.stopHeartbeat(target);
      case 'resume-heartbeat':
        return this.resumeHeartbeat(target);
      case 'set-node-ready':
        return this.setNodeReady(target, bool());
      case 'fail-pod':
        return this.exitPod(...pod(), code(1));
      case 'exit-pod':
        return this.exitPod(...pod(), code());
      case 'set-pod-ready':
        return this.setPodReady(...pod(), bool());
      default:
        throw new SimCommandError(
          `unknown command "${verb ?? ''}" (known: stop-heartbeat, resume-heartbeat, set-node-ready, fail-pod, exit-pod, set-pod-ready)`,
        );
    }
  }

  get #heartbeatMs(): number {
    return this.#options.heartbeatIntervalMs ?? 10_000;
  }

  #node(name: string): SimNode {
    const node = this.#nodes.get(name);
    if (!node) throw new SimCommandError(`node "${name}" is not one of this simulator's nodes`);
    return node;
  }

  // ---- nodes ----

  /** Creates the node, or takes over one of that name that exists (a restarted simulator), as a kubelet does. */
  async #register(node: SimNode): Promise<void> {
    const api = this.#client.resource(kinds.nodes);
    const now = microTime(new Date()).replace(/\.\d+Z$/, 'Z');
    const fresh = nodeObject(node.shape, node.ready, now);
    let created: Node;
    try {
      created = await api.create(fresh);
    } catch (error) {
      if (!isApiError(error, 409)) throw error;
      const existing = await api.get(undefined, node.shape.name);
      created = await api.patch(
        undefined,
        node.shape.name,
        { status: { ...fresh.status, conditions: withTransitions(fresh.status!.conditions!, existing.status?.conditions) } },
        { type: 'strategic', subresource: 'status' },
      );
    }
    node.uid = created.metadata?.uid;
    await this.#renewLease(node);
    node.registered = true;
    if (--this.#unregistered === 0) this.#onRegistered();
    for (const pod of this.#podInformer.byIndex('node', node.shape.name)) this.#podQueue.add(podKey(pod));
  }

  #tick(): void {
    const now = Date.now();
    for (const node of this.#nodes.values()) {
      if (!node.registered || node.gone) continue;
      if (node.nextLeaseAt <= now) {
        node.nextLeaseAt = Math.max(node.nextLeaseAt + this.#heartbeatMs, now);
        if (node.heartbeat) this.#nodeQueue.add(`lease/${node.shape.name}`);
      }
      if (node.nextStatusAt <= now) {
        node.nextStatusAt = Math.max(node.nextStatusAt + (this.#options.nodeStatusIntervalMs ?? 300_000), now);
        if (node.heartbeat) this.#nodeQueue.add(`status/${node.shape.name}`);
      }
    }
  }

  /** A node changed in the API: post status at once when it no longer says what this kubelet reports. */
  #nodeChanged(object: Node): void {
    const node = this.#nodes.get(object.metadata?.name ?? '');
    if (!node || !node.registered || node.gone || !node.heartbeat || node.uid !== object.metadata?.uid) return;
    const ready = object.status?.conditions?.find((c) => c.type === 'Ready')?.status;
    if (ready !== (node.ready ? 'True' : 'False')) this.#nodeQueue.add(`status/${node.shape.name}`);
  }

  async #syncNode(key: string): Promise<void> {
    const slash = key.indexOf('/');
    const node = this.#nodes.get(key.slice(slash + 1));
    if (!node || this.#stopped) return;
    if (key.startsWith('register/')) {
      if (!node.registered) await this.#register(node);
      return;
    }
    if (!node.registered || node.gone || !node.heartbeat) return;
    if (key.startsWith('lease/')) await this.#renewLease(node);
    else await this.#postStatus(node);
  }

  async #renewLease(node: SimNode): Promise<void> {
    const api = this.#client.resource(kinds.leases);
    const renewTime = microTime(new Date());
    const duration = this.#options.leaseDurationSeconds ?? 40;
    if (node.lease) {
      // Only identity, the resourceVersion precondition and the spec: a lean body is a cheaper
      // write, which matters at 500 renewals a second (5,000 nodes every 10 s).
      const m = node.lease.metadata ?? {};
      const next: Lease = {
        metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, ...(m.ownerReferences ? { ownerReferences: m.ownerReferences } : {}) },
        spec: { ...node.lease.spec, holderIdentity: node.shape.name, leaseDurationSeconds: duration, renewTime },
      };
      try {
        node.lease = await api.update(next);
        return;
      } catch (error) {
        // Someone else wrote it (or deleted it): start again from what the API holds.
        if (!isApiError(error, 409) && !isApiError(error, 404)) throw error;
        node.lease = undefined;
      }
    }
    const existing = await api.find(NODE_LEASE_NAMESPACE, node.shape.name);
    const fresh = leaseObject({ name: node.shape.name, ...(node.uid ? { uid: node.uid } : {}) }, duration, renewTime);
    if (existing) {
      node.lease = await api.update({ ...existing, spec: fresh.spec });
    } else {
      node.lease = await api.create(fresh);
    }
  }

  async #postStatus(node: SimNode): Promise<void> {
    const now = microTime(new Date()).replace(/\.\d+Z$/, 'Z');
    const current = this.#nodeInformer.get(undefined, node.shape.name);
    const conditions = withTransitions(nodeConditions(node.ready, now), current?.status?.conditions);
    await this.#client.resource(kinds.nodes).patch(undefined, node.shape.name, { status: { conditions } }, { type: 'strategic', subresource: 'status' });
  }

  // ---- pods ----

  #podChanged(pod: Pod): void {
    if (this.#nodes.has(pod.spec?.nodeName ?? '')) this.#podQueue.add(podKey(pod));
  }

  async #syncPod(key: string): Promise<boolean | void> {
    if (this.#stopped) return;
    const slash = key.indexOf('/');
    const pod = this.#podInformer.get(key.slice(0, slash), key.slice(slash + 1));
    let state = this.#pods.get(key);
    if (state && (!pod || state.uid !== pod.metadata?.uid)) {
      this.#forget(key, state);
      state = undefined;
    }
    if (!pod) return;
    const node = this.#nodes.get(pod.spec?.nodeName ?? '');
    // A pod bound to a node that does not exist (or not yet, or no longer) is nobody's to run.
    if (!node || !node.registered || node.gone || !this.#nodeInformer.get(undefined, node.shape.name)) return;
    // A node whose heartbeat is stopped is a dead kubelet: its pods are left as they are.
    if (!node.heartbeat) return;
    const meta = pod.metadata!;

    if (meta.deletionTimestamp) {
      if (state) state.deletingSince ??= Date.now();
      const since = state?.deletingSince ?? Date.now();
      if (!state) this.#pods.set(key, (state = this.#newDeletingState(pod, node, since)));
      const graceMs = Math.min((meta.deletionGracePeriodSeconds ?? 0) * 1000, this.#options.maxGracePeriodMs ?? 1000);
      const wait = since + graceMs - Date.now();
      if (wait > 0) {
        this.#podQueue.addAfter(key, wait);
        return;
      }
      clearTimeout(state.exitTimer);
      try {
        await this.#client.resource(kinds.pods).delete(meta.namespace, meta.name!, { gracePeriodSeconds: 0, preconditions: { uid: meta.uid! } });
      } catch (error) {
        // Gone already, or replaced by a new pod of the same name: either way not ours to delete.
        if (!isApiError(error, 404) && !isApiError(error, 409)) throw error;
      }
      this.#release(state);
      return;
    }

    const phase = pod.status?.phase;
    if (!state) {
      if (phase === 'Succeeded' || phase === 'Failed') return;
      state = this.#adopt(pod, node) ?? this.#startPod(pod, node);
      if (!state) return;
      this.#pods.set(key, state);
      this.#planExit(key, pod, state);
    }
    if (pod.spec?.readinessGates?.length) {
      const gates = readinessGateProblem(pod) ?? '';
      if (gates !== state.gates) {
        state.gates = gates;
        state.version++;
      }
    }
    if (state.version === state.written && !state.run.finished) {
      // Someone else changed what the kubelet reports (the node lifecycle controller marks the
      // pods of a silent node not Ready): the kubelet's status manager puts it back.
      const expected = state.run.ready && !state.gates ? 'True' : 'False';
      if ((pod.status?.conditions?.find((c) => c.type === 'Ready')?.status ?? expected) !== expected) state.version++;
    }
    if (state.version === state.written) return;
    const version = state.version;
    await this.#client.resource(kinds.pods).patch(meta.namespace, meta.name!, { status: podStatus(pod, state.run) }, { type: 'strategic', subresource: 'status' });
    state.written = Math.max(state.written, version);
    // A finished pod's sandbox is gone: its address can go to the next pod.
    if (state.run.finished) this.#release(state);
  }

  /** A pod found running at start-up with an address of its node: carry on where it was. */
  #adopt(pod: Pod, node: SimNode): PodState | undefined {
    const ip = pod.status?.podIP;
    if (pod.status?.phase !== 'Running' || !ip || !node.ipam.claim(ip)) return undefined;
    const startTime = Date.parse(pod.status.startTime ?? '');
    return {
      uid: pod.metadata!.uid!,
      nodeName: node.shape.name,
      run: { ip, hostIp: node.shape.internalIp, startedAt: Number.isFinite(startTime) ? new Date(startTime) : new Date(), ready: true, restarts: pod.status.containerStatuses?.[0]?.restartCount ?? 0 },
      version: 1,
      written: 1,
    };
  }

  #startPod(pod: Pod, node: SimNode): PodState | undefined {
    const ip = node.ipam.allocate();
    if (!ip) {
      if (!this.#warnedFull.has(node.shape.name)) {
        this.#warnedFull.add(node.shape.name);
        this.#warn(`node ${node.shape.name}: no pod address left in ${node.ipam.toString()}; pod ${podKey(pod)} waits`);
      }
      this.#podQueue.addAfter(podKey(pod), 5000);
      return undefined;
    }
    return {
      uid: pod.metadata!.uid!,
      nodeName: node.shape.name,
      run: { ip, hostIp: node.shape.internalIp, startedAt: new Date(), ready: true, restarts: 0 },
      version: 1,
      written: 0,
    };
  }

  #newDeletingState(pod: Pod, node: SimNode, since: number): PodState {
    return {
      uid: pod.metadata!.uid!,
      nodeName: node.shape.name,
      run: { ip: '', hostIp: node.shape.internalIp, startedAt: new Date(), ready: false, restarts: 0 },
      version: 0,
      written: 0,
      deletingSince: since,
      ipReleased: true,
    };
  }

  /** Job pods, and pods that ask by annotation, exit after their duration. */
  #planExit(key: string, pod: Pod, state: PodState): void {
    const annotations = pod.metadata?.annotations ?? {};
    const codeText = annotations[SIM_EXIT_CODE_ANNOTATION];
    const durationText = annotations[SIM_DURATION_ANNOTATION];
    const ownedByJob = pod.metadata?.ownerReferences?.some((o) => o.kind === 'Job' && o.controller === true) ?? false;
    if (codeText === undefined && durationText === undefined && !ownedByJob) return;
    let code = Number(codeText ?? '0');
    if (!Number.isInteger(code) || code < 0 || code > 255) {
      this.#warn(`pod ${key}: ${SIM_EXIT_CODE_ANNOTATION} "${codeText}" is not an exit code; using 1`);
      code = 1;
    }
    let afterMs = this.#options.jobDurationMs ?? 5000;
    if (durationText !== undefined) {
      try {
        afterMs = parseDuration(durationText);
      } catch {
        this.#warn(`pod ${key}: ${SIM_DURATION_ANNOTATION} "${durationText}" is not a duration; using ${afterMs} ms`);
      }
    }
    state.exit = { code, afterMs };
    const elapsed = Date.now() - state.run.startedAt.getTime();
    this.#armExit(key, state, Math.max(0, afterMs - elapsed));
  }

  #armExit(key: string, state: PodState, ms: number): void {
    clearTimeout(state.exitTimer);
    state.exitTimer = setTimeout(() => {
      if (this.#stopped || this.#pods.get(key) !== state || state.run.finished || state.deletingSince) return;
      this.#exit(key, state.exit!.code);
    }, ms);
  }

  #exit(key: string, exitCode: number): void {
    const state = this.#pods.get(key)!;
    const slash = key.indexOf('/');
    const pod = this.#podInformer.get(key.slice(0, slash), key.slice(slash + 1));
    const policy = pod?.spec?.restartPolicy ?? 'Always';
    const now = new Date();
    clearTimeout(state.exitTimer);
    if (policy === 'Never' || (policy === 'OnFailure' && exitCode === 0)) {
      state.run.finished = { exitCode, at: now };
    } else {
      // The kubelet restarts the containers (a real one with a growing back-off; here at once).
      const startedAt = state.run.lastExit?.at ?? state.run.startedAt;
      state.run.lastExit = { exitCode, startedAt, at: now };
      state.run.restarts++;
      if (state.exit) this.#armExit(key, state, state.exit.afterMs);
    }
    state.version++;
    this.#podQueue.add(key);
  }

  #release(state: PodState): void {
    if (state.ipReleased) return;
    state.ipReleased = true;
    this.#nodes.get(state.nodeName)?.ipam.release(state.run.ip);
  }

  #forget(key: string, state: PodState): void {
    clearTimeout(state.exitTimer);
    this.#release(state);
    this.#pods.delete(key);
  }

  #failed(key: string, error: unknown): void {
    if (this.#stopped) return;
    // A pod deleted while its write was on the way: nothing to report.
    if (isApiError(error, 404)) return;
    this.#warn(`${key}: ${message(error)}`);
  }

  #warn(text: string): void {
    this.#log(`skiff sim: ${text}`);
  }
}

function podKey(pod: Pod): string {
  return `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** What the simulator reads of a node: identity and conditions. */
function compactNode(node: Node): Node {
  const m = node.metadata ?? {};
  return {
    metadata: { name: m.name, uid: m.uid, resourceVersion: m.resourceVersion },
    ...(node.status?.conditions ? { status: { conditions: node.status.conditions } } : {}),
  };
}

/** What the simulator reads of a pod; the rest (managedFields, env, volumes…) is dropped. */
function compactPod(pod: Pod): Pod {
  const m = pod.metadata ?? {};
  const spec = pod.spec;
  const annotations = m.annotations;
  const simAnnotations = annotations && (SIM_EXIT_CODE_ANNOTATION in annotations || SIM_DURATION_ANNOTATION in annotations)
    ? Object.fromEntries(Object.entries(annotations).filter(([k]) => k === SIM_EXIT_CODE_ANNOTATION || k === SIM_DURATION_ANNOTATION))
    : undefined;
  const jobOwner = m.ownerReferences?.find((o) => o.kind === 'Job' && o.controller === true);
  return {
    metadata: {
      name: m.name,
      namespace: m.namespace,
      uid: m.uid,
      resourceVersion: m.resourceVersion,
      ...(m.deletionTimestamp ? { deletionTimestamp: m.deletionTimestamp, deletionGracePeriodSeconds: m.deletionGracePeriodSeconds ?? 0 } : {}),
      ...(simAnnotations ? { annotations: simAnnotations } : {}),
      ...(jobOwner ? { ownerReferences: [jobOwner] } : {}),
    },
    spec: {
      nodeName: spec?.nodeName,
      restartPolicy: spec?.restartPolicy,
      containers: (spec?.containers ?? []).map((c) => ({ name: c.name, image: c.image })),
      ...(spec?.initContainers ? { initContainers: spec.initContainers.map((c) => ({ name: c.name, image: c.image, ...(c.restartPolicy ? { restartPolicy: c.restartPolicy } : {}) })) } : {}),
      ...(spec?.readinessGates ? { readinessGates: spec.readinessGates } : {}),
    },
    status: {
      phase: pod.status?.phase,
      ...(pod.status?.podIP ? { podIP: pod.status.podIP } : {}),
      ...(pod.status?.startTime ? { startTime: pod.status.startTime } : {}),
      ...(pod.status?.conditions ? { conditions: pod.status.conditions } : {}),
      ...(pod.status?.containerStatuses?.[0]
        ? { containerStatuses: pod.status.containerStatuses.slice(0, 1).map((c) => ({ name: c.name, image: c.image, imageID: c.imageID, ready: c.ready, restartCount: c.restartCount })) }
        : {}),
    },
  };
}
