/**
 * The node as the kubelet registers and reports it: capacity and allocatable (cpu, memory,
 * pods=110, ephemeral-storage from the machine, less upstream's default hard eviction
 * thresholds), addresses, nodeInfo (kernel, OS image, runtime and kubelet versions, machine and
 * boot ids), conditions Ready, MemoryPressure, DiskPressure, PIDPressure worded as upstream
 * and computed from the machine's real figures against the hard eviction thresholds
 * (eviction-thresholds.ts), and the heartbeat Lease in `kube-node-lease` renewed every 10 s.
 *
 * Contract: `start()` registers (creating the Node, or taking over one of that name) and writes
 * the first Lease; afterwards the Lease is renewed every `leaseIntervalMs`, and the status is
 * recomputed every `statusIntervalMs` and posted when it changed (or every 5 min regardless,
 * upstream's `nodeStatusReportFrequency`).
 */
import { readFileSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { cpus, hostname, networkInterfaces, release } from 'node:os';
import { join } from 'node:path';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Node, NodeCondition } from 'kubernetes-types/core/v1.js';
import { isApiError, kinds, type Client } from '../../client/index.ts';
import { type Observations, parseEvictionHard, PressureTracker } from './eviction-thresholds.ts';
import { fsUsage, memoryAvailable, pidUsage } from './node-stats.ts';

/** The namespace of node heartbeat Leases. */
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';

/** The kubelet version Skiff's agent reports. */
export const KUBELET_VERSION = 'v1.32.0-skiff';

/** Options of {@link NodeStatusManager}. */
export interface NodeStatusOptions {
  client: Client;
  nodeName: string;
  /** `runc://1.1.5`. */
  runtimeVersion: string;
  /** Where the node's data (images, volumes) lives: its file system is the ephemeral storage. */
  dataDir: string;
  podCidr?: string;
  /** The node's address; default the first non-loopback IPv4 address. */
  nodeIp?: string;
  labels?: Record<string, string>;
  /** The port of the kubelet's streaming server (`status.daemonEndpoints`); default 10250. */
  kubeletPort?: number;
  leaseIntervalMs?: number;
  statusIntervalMs?: number;
  /** Hard eviction thresholds (upstream's `evictionHard` syntax); default `DEFAULT_EVICTION_HARD`. */
  evictionHard?: string;
  /** How long a pressure condition stays True after its thresholds stop being met; default 5 min. */
  pressureTransitionPeriodMs?: number;
  /** The image store (`imagefs`); default `<dataDir>/images`. */
  imageDir?: string;
  /** The eviction signals; default: measured on this machine (see {@link observeNode}). Tests inject figures. */
  observe?: () => Promise<Observations>;
  log?: (line: string) => void;
}

/** The eviction signals of this machine: memory, the data dir's and image store's file systems, PIDs. */
export async function observeNode(dataDir: string, imageDir: string): Promise<Observations> {
  const memory = await memoryAvailable();
  const nodefs = await fsUsage(dataDir);
  const imagefs = await fsUsage(imageDir).catch(() => nodefs);
  const pids = await pidUsage();
  return {
    'memory.available': { available: memory.availableBytes, capacity: memory.capacityBytes },
    'nodefs.available': { available: nodefs.availableBytes, capacity: nodefs.capacityBytes },
    'nodefs.inodesFree': { available: nodefs.inodesFree, capacity: nodefs.inodes },
    'imagefs.available': { available: imagefs.availableBytes, capacity: imagefs.capacityBytes },
    'imagefs.inodesFree': { available: imagefs.inodesFree, capacity: imagefs.inodes },
    'pid.available': { available: pids.maxpid - pids.curproc, capacity: pids.maxpid },
  };
}

/** The machine's capacity. */
export interface MachineInfo {
  cpu: number;
  memoryBytes: number;
  ephemeralStorageBytes: number;
}

const EVICTION_MEMORY = 100 * 2 ** 20;

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '';
  }
}

/** MemTotal and MemAvailable from /proc/meminfo, bytes. */
export function memInfo(): { total: number; available: number } {
  const text = read('/proc/meminfo');
  const get = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0) * 1024;
  return { total: get('MemTotal'), available: get('MemAvailable') };
}

/** The first non-internal IPv4 address of the machine (127.0.0.1 when none). */
export function defaultNodeIp(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

function osImage(): string {
  return /^PRETTY_NAME="?([^"\n]*)"?/m.exec(read('/etc/os-release'))?.[1] ?? 'Linux';
}

/** See the file header. */
export class NodeStatusManager {
  readonly #o: NodeStatusOptions;
  readonly #log: (line: string) => void;
  readonly nodeIp: string;
  /** `runc://1.1.5`, reported in nodeInfo (set before `start`). */
  runtimeVersion: string;
  #machine: MachineInfo = { cpu: cpus().length, memoryBytes: memInfo().total, ephemeralStorageBytes: 0 };
  #uid: string | undefined;
  #lease: Lease | undefined;
  #leaseTimer: NodeJS.Timeout | undefined;
  #statusTimer: NodeJS.Timeout | undefined;
  #lastPosted = '';
  #lastPostedAt = 0;
  #conditions: NodeCondition[] = [];
  #stopped = false;
  readonly #pressure: PressureTracker;

  constructor(options: NodeStatusOptions) {
    this.#o = options;
    this.#pressure = new PressureTracker({
      ...(options.evictionHard !== undefined ? { thresholds: parseEvictionHard(options.evictionHard) } : {}),
      ...(options.pressureTransitionPeriodMs !== undefined ? { transitionPeriodMs: options.pressureTransitionPeriodMs } : {}),
    });
    this.#log = options.log ?? ((l) => console.error(l));
    this.nodeIp = options.nodeIp ?? defaultNodeIp();
    this.runtimeVersion = options.runtimeVersion;
  }

  /** The machine's capacity (after `start`). */
  get machine(): MachineInfo {
    return this.#machine;
  }

  /** Allocatable: capacity less the default eviction thresholds (memory 100Mi, 10% of the disk). */
  get allocatable(): { cpu: number; memory: number; ephemeralStorage: number } {
    return { cpu: this.#machine.cpu, memory: Math.max(0, this.#machine.memoryBytes - EVICTION_MEMORY), ephemeralStorage: Math.floor(this.#machine.ephemeralStorageBytes * 0.9) };
  }

  async #measure(): Promise<Observations> {
    const fs = await statfs(this.#o.dataDir);
    this.#machine = { cpu: cpus().length, memoryBytes: memInfo().total, ephemeralStorageBytes: fs.blocks * fs.bsize };
    return this.#o.observe ? this.#o.observe() : observeNode(this.#o.dataDir, this.#o.imageDir ?? join(this.#o.dataDir, 'images'));
  }

  /** The Node as it would be posted now (conditions from fresh figures). */
  node(): Promise<Node> {
    return this.#node();
  }

  async #node(): Promise<Node> {
    const m = await this.#measure();
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const alloc = this.allocatable;
    const capacity = { cpu: String(this.#machine.cpu), memory: `${Math.floor(this.#machine.memoryBytes / 1024)}Ki`, pods: '110', 'ephemeral-storage': `${Math.floor(this.#machine.ephemeralStorageBytes / 1024)}Ki` };
    const allocatable = { cpu: String(alloc.cpu), memory: `${Math.floor(alloc.memory / 1024)}Ki`, pods: '110', 'ephemeral-storage': String(alloc.ephemeralStorage) };
    const pressure = this.#pressure.observe(m);
    const memPressure = pressure.MemoryPressure;
    const diskPressure = pressure.DiskPressure;
    const pidPressure = pressure.PIDPressure;
    const at = { lastHeartbeatTime: now, lastTransitionTime: now };
    const fresh: NodeCondition[] = [
      memPressure
        ? { type: 'MemoryPressure', status: 'True', reason: 'KubeletHasInsufficientMemory', message: 'kubelet has insufficient memory available', ...at }
        : { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', message: 'kubelet has sufficient memory available', ...at },
      diskPressure
        ? { type: 'DiskPressure', status: 'True', reason: 'KubeletHasDiskPressure', message: 'kubelet has disk pressure', ...at }
        : { type: 'DiskPressure', status: 'False', reason: 'KubeletHasNoDiskPressure', message: 'kubelet has no disk pressure', ...at },
      pidPressure
        ? { type: 'PIDPressure', status: 'True', reason: 'KubeletHasInsufficientPID', message: 'kubelet has insufficient PID available', ...at }
        : { type: 'PIDPressure', status: 'False', reason: 'KubeletHasSufficientPID', message: 'kubelet has sufficient PID available', ...at },
      { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', ...at },
    ];
    this.#conditions = fresh.map((c) => {
      const old = this.#conditions.find((o) => o.type === c.type);
      return old && old.status === c.status ? { ...c, lastTransitionTime: old.lastTransitionTime } : c;
    });
    const machineId = read('/etc/machine-id') || '0'.repeat(32);
    return {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name: this.#o.nodeName,
        labels: {
          'beta.kubernetes.io/arch': 'amd64',
          'beta.kubernetes.io/os': 'linux',
          'kubernetes.io/arch': 'amd64',
          'kubernetes.io/hostname': this.#o.nodeName,
          'kubernetes.io/os': 'linux',
          ...this.#o.labels,
        },
        annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'volumes.kubernetes.io/controller-managed-attach-detach': 'true' },
      },
      spec: this.#o.podCidr ? { podCIDR: this.#o.podCidr, podCIDRs: [this.#o.podCidr] } : {},
      status: {
        capacity,
        allocatable,
        conditions: this.#conditions,
        addresses: [
          { type: 'InternalIP', address: this.nodeIp },
          { type: 'Hostname', address: hostname() },
        ],
        daemonEndpoints: { kubeletEndpoint: { Port: this.#o.kubeletPort ?? 10250 } },
        nodeInfo: {
          machineID: machineId,
          systemUUID: read('/sys/class/dmi/id/product_uuid').toLowerCase() || machineId,
          bootID: read('/proc/sys/kernel/random/boot_id'),
          kernelVersion: release(),
          osImage: osImage(),
          containerRuntimeVersion: this.runtimeVersion,
          kubeletVersion: KUBELET_VERSION,
          kubeProxyVersion: KUBELET_VERSION,
          operatingSystem: 'linux',
          architecture: process.arch === 'x64' ? 'amd64' : process.arch,
        },
      },
    };
  }

  /** Registers the node and writes the first Lease, then keeps both fresh. */
  async start(): Promise<void> {
    await this.#register();
    await this.#renewLease();
    const leaseMs = this.#o.leaseIntervalMs ?? 10_000;
    this.#leaseTimer = setInterval(() => void this.#renewLease().catch((e: Error) => this.#log(`kubelet: lease: ${e.message}`)), leaseMs);
    this.#statusTimer = setInterval(() => void this.#postStatus(false).catch((e: Error) => this.#log(`kubelet: node status: ${e.message}`)), this.#o.statusIntervalMs ?? 10_000);
  }

  /** Stops heartbeats (the Node stays). */
  stop(): void {
    this.#stopped = true;
    clearInterval(this.#leaseTimer);
    clearInterval(this.#statusTimer);
  }

  async #register(): Promise<void> {
    const api = this.#o.client.resource(kinds.nodes);
    const node = await this.#node();
    try {
      const created = await api.create(node);
      this.#uid = created.metadata?.uid;
      this.#log(`kubelet: registered node ${this.#o.nodeName}`);
    } catch (error) {
      if (!isApiError(error, 409)) throw error;
      const existing = await api.get(undefined, this.#o.nodeName);
      this.#uid = existing.metadata?.uid;
      this.#conditions = (node.status!.conditions ?? []).map((c) => {
        const old = existing.status?.conditions?.find((o) => o.type === c.type);
        return old && old.status === c.status && old.lastTransitionTime ? { ...c, lastTransitionTime: old.lastTransitionTime } : c;
      });
      await this.#postStatus(true);
      if (this.#o.podCidr && !existing.spec?.podCIDR) await api.patch(undefined, this.#o.nodeName, { spec: { podCIDR: this.#o.podCidr, podCIDRs: [this.#o.podCidr] } });
    }
    this.#lastPostedAt = Date.now();
  }

  async #postStatus(force: boolean): Promise<void> {
    if (this.#stopped && !force) return;
    const node = await this.#node();
    const key = JSON.stringify({ ...node.status, conditions: node.status!.conditions!.map((c) => [c.type, c.status]) });
    if (!force && key === this.#lastPosted && Date.now() - this.#lastPostedAt < 300_000) return;
    await this.#o.client.resource(kinds.nodes).patch(undefined, this.#o.nodeName, { status: node.status }, { type: 'strategic', subresource: 'status' });
    this.#lastPosted = key;
    this.#lastPostedAt = Date.now();
  }

  async #renewLease(): Promise<void> {
    if (this.#stopped) return;
    const api = this.#o.client.resource(kinds.leases);
    const renewTime = new Date().toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
    if (this.#lease) {
      try {
        this.#lease = await api.update({ ...this.#lease, spec: { ...this.#lease.spec, renewTime } });
        return;
      } catch (error) {
        if (!isApiError(error, 409) && !isApiError(error, 404)) throw error;
        this.#lease = undefined;
      }
    }
    const fresh: Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name: this.#o.nodeName,
        namespace: NODE_LEASE_NAMESPACE,
        ...(this.#uid ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: this.#o.nodeName, uid: this.#uid }] } : {}),
      },
      spec: { holderIdentity: this.#o.nodeName, leaseDurationSeconds: 40, renewTime },
    };
    try {
      this.#lease = await api.create(fresh);
    } catch (error) {
      if (!isApiError(error, 409)) throw error;
      const existing = await api.get(NODE_LEASE_NAMESPACE, this.#o.nodeName);
      this.#lease = await api.update({ ...existing, spec: { ...existing.spec, holderIdentity: this.#o.nodeName, leaseDurationSeconds: 40, renewTime } });
    }
  }
}
