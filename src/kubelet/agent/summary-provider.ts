/**
 * Computes the Summary API (`/stats/summary`) from the runtime's CRI stats and the node's own
 * figures, as upstream's CRI stats provider does:
 *
 * - node: root cgroup CPU and memory (available = capacity − working set), host interfaces,
 *   `fs` of the kubelet's root dir, `runtime.imageFs` of the image store (used = the store's disk
 *   usage), `rlimit` (pid_max, tasks in use), system containers `kubelet` (this process) and
 *   `pods` (the pods' cgroup root);
 * - pods: every ready sandbox, with `podSandboxStats` (pod cgroup, network namespace, process
 *   count) and its running containers: CPU, memory, `rootfs` (writable layer on the node fs) and
 *   `logs` (the container's log directory), `volume` (each volume directory under
 *   `<rootDir>/pods/<uid>/volumes`), and `ephemeral-storage` (rootfs + logs + disk-backed volumes).
 *
 * `usageNanoCores` needs two samples of the cumulative CPU counters: a {@link CpuSampler} keeps
 * the last sample per cgroup and reports the rate over the last window of at least 1 s; until a
 * cgroup has two samples its `usageNanoCores` is absent. Samples are taken at every request and
 * every `sampleIntervalMs` (default 10 s, cadvisor's housekeeping period): the node-level
 * counters (three files) always, the pods' and containers' only while someone reads stats (a
 * request within the last `activeWindowMs`, default 5 min — metrics-server scrapes every 15 s).
 * Why: sampling 100 pods costs the agent ~0.2 s of CPU each time, 20× what 100 idle pods cost it
 * otherwise; a node nobody asks about should not pay for it.
 */
import { readdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ContainerRuntime, ContainerStats, ContainerStatus, PodSandboxStats, SandboxStatus } from '../runtime/container-runtime.ts';
import { cachedDirectoryUsage } from '../runtime/runc/stats.ts';
import type { ContainerStatsSummary, CpuStats, FsStats, MemoryStats, NetworkStats, PodStats, StatsProvider, Summary, VolumeStats } from '../server/summary.ts';
import { bootTime, cgroupUsage, fsUsage, hostInterfaces, memoryCapacity, pidUsage, processRss, processStartTime, type FsUsage } from './node-stats.ts';

/** Keeps the last CPU sample per key and turns two samples into a rate (nanocores). */
export class CpuSampler {
  readonly #minWindowMs: number;
  readonly #maxWindowMs: number;
  readonly #samples = new Map<string, { usage: number; at: number; rate?: number; seen: number }>();
  #round = 0;

  /** `minWindowMs` (default 1 s): the shortest window a rate is taken over; a sample older than `maxWindowMs` (default 2 min) is too stale to average over and starts over. */
  constructor(options: { minWindowMs?: number; maxWindowMs?: number } = {}) {
    this.#minWindowMs = options.minWindowMs ?? 1000;
    this.#maxWindowMs = options.maxWindowMs ?? 120_000;
  }

  /**
   * Records `usageNanos` of `key` at `atMs` and returns the rate over the last window of at
   * least `minWindowMs` (the previous rate when this sample comes sooner), or undefined.
   */
  observe(key: string, usageNanos: number, atMs: number): number | undefined {
    const last = this.#samples.get(key);
    if (!last || usageNanos < last.usage || atMs - last.at > this.#maxWindowMs) {
      this.#samples.set(key, { usage: usageNanos, at: atMs, seen: this.#round });
      return undefined;
    }
    last.seen = this.#round;
    const dt = atMs - last.at;
    if (dt < this.#minWindowMs) return last.rate;
    const rate = Math.round(((usageNanos - last.usage) * 1000) / dt);
    this.#samples.set(key, { usage: usageNanos, at: atMs, rate, seen: this.#round });
    return rate;
  }

  /** Ends a sampling round: keys not observed in the last two rounds are forgotten. */
  endRound(): void {
    this.#round++;
    for (const [k, v] of this.#samples) if (this.#round - v.seen > 2) this.#samples.delete(k);
  }
}

/** Options of {@link SummaryProvider}. */
export interface SummaryProviderOptions {
  runtime: ContainerRuntime;
  nodeName: string;
  /** The agent's directory: its file system is `fs`; pods' volumes live under `pods/`. */
  rootDir: string;
  /** The image store (`runtime.imageFs`); default `<rootDir>/images`. */
  imageDir?: string;
  /** The pods' cgroup root (system container `pods`); default `/kubepods`. */
  cgroupRoot?: string;
  /** How often CPU counters are sampled in the background; default 10 s; 0 = only at requests. */
  sampleIntervalMs?: number;
  /** Pods and containers are sampled in the background only this long after a request; default 5 min. */
  activeWindowMs?: number;
  now?: () => Date;
}

const iso = (d: Date) => d.toISOString().replace(/\.\d+Z$/, 'Z');

function fsStats(time: string, fs: FsUsage, used?: { bytes: number; inodes: number }): FsStats {
  return {
    time,
    availableBytes: fs.availableBytes,
    capacityBytes: fs.capacityBytes,
    usedBytes: used ? used.bytes : fs.usedBytes,
    inodesFree: fs.inodesFree,
    inodes: fs.inodes,
    inodesUsed: used ? used.inodes : fs.inodesUsed,
  };
}

function memoryStats(time: string, s: { memoryUsageBytes: number; memoryWorkingSetBytes: number; memoryRssBytes?: number; pageFaults?: number; majorPageFaults?: number; memoryAvailableBytes?: number }): MemoryStats {
  return {
    time,
    ...(s.memoryAvailableBytes !== undefined ? { availableBytes: s.memoryAvailableBytes } : {}),
    usageBytes: s.memoryUsageBytes,
    workingSetBytes: s.memoryWorkingSetBytes,
    rssBytes: s.memoryRssBytes ?? 0,
    pageFaults: s.pageFaults ?? 0,
    majorPageFaults: s.majorPageFaults ?? 0,
  };
}

/** See the file header. */
export class SummaryProvider implements StatsProvider {
  readonly #o: SummaryProviderOptions;
  readonly #runtime: ContainerRuntime;
  readonly #now: () => Date;
  readonly #sampler = new CpuSampler();
  #timer: NodeJS.Timeout | undefined;
  /** When stats were last asked for (ms since the epoch); -Infinity before the first request. */
  #lastRequest = -Infinity;

  constructor(options: SummaryProviderOptions) {
    this.#o = options;
    this.#runtime = options.runtime;
    this.#now = options.now ?? (() => new Date());
  }

  /** Takes a first sample and starts background sampling. */
  start(): void {
    if (this.#timer) return;
    void this.sample();
    const every = this.#o.sampleIntervalMs ?? 10_000;
    if (every > 0) {
      this.#timer = setInterval(() => void this.sample(), every);
      this.#timer.unref();
    }
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One background sample: every CPU counter while stats are being read, else the node's only. */
  async sample(): Promise<void> {
    const at = this.#now();
    if (at.getTime() - this.#lastRequest < (this.#o.activeWindowMs ?? 300_000)) {
      await this.#collect({ onlyCpuAndMemory: true }).catch(() => {});
      return;
    }
    try {
      const root = await cgroupUsage('/');
      const pods = await cgroupUsage(this.#o.cgroupRoot ?? '/kubepods');
      const self = process.cpuUsage();
      this.#cpu('node', root.cpuUsageNanos, at);
      this.#cpu('system/pods', pods.cpuUsageNanos, at);
      this.#cpu('system/kubelet', (self.user + self.system) * 1000, at);
      // Pods and containers are not observed: keep their samples until stats are read again.
    } catch {
      // cgroups unreadable: no rates
    }
  }

  #cpu(key: string, usageNanos: number, at: Date): CpuStats {
    const rate = this.#sampler.observe(key, usageNanos, at.getTime());
    return { time: iso(at), ...(rate !== undefined ? { usageNanoCores: rate } : {}), usageCoreNanoSeconds: usageNanos };
  }

  summary(options: { onlyCpuAndMemory?: boolean } = {}): Promise<Summary> {
    this.#lastRequest = this.#now().getTime();
    return this.#collect(options);
  }

  async #collect(options: { onlyCpuAndMemory?: boolean }): Promise<Summary> {
    const full = !options.onlyCpuAndMemory;
    const at = this.#now();
    const time = iso(at);
    const root = await cgroupUsage('/');
    const capacity = memoryCapacity();
    const podsRoot = this.#o.cgroupRoot ?? '/kubepods';
    const pods = await cgroupUsage(podsRoot);
    const self = process.cpuUsage();
    const systemContainers: ContainerStatsSummary[] = [
      {
        name: 'kubelet',
        startTime: iso(processStartTime()),
        cpu: this.#cpu('system/kubelet', (self.user + self.system) * 1000, at),
        memory: { time, usageBytes: processRss(), workingSetBytes: processRss(), rssBytes: processRss() },
      },
      {
        name: 'pods',
        startTime: iso(bootTime()),
        cpu: this.#cpu('system/pods', pods.cpuUsageNanos, at),
        memory: memoryStats(time, { ...pods, memoryAvailableBytes: Math.max(0, (pods.memoryLimitBytes ?? capacity) - pods.memoryWorkingSetBytes) }),
      },
    ];
    const summary: Summary = {
      node: {
        nodeName: this.#o.nodeName,
        systemContainers,
        startTime: iso(bootTime()),
        cpu: this.#cpu('node', root.cpuUsageNanos, at),
        memory: memoryStats(time, { ...root, memoryAvailableBytes: Math.max(0, capacity - root.memoryWorkingSetBytes) }),
      },
      pods: [],
    };
    let nodeFs: FsUsage | undefined;
    if (full) {
      const interfaces = await hostInterfaces();
      summary.node.network = { time, ...(interfaces[0] ?? {}), interfaces };
      nodeFs = await fsUsage(this.#o.rootDir);
      summary.node.fs = fsStats(time, nodeFs);
      const imageDir = this.#o.imageDir ?? join(this.#o.rootDir, 'images');
      const imageFs = await fsUsage(imageDir).catch(() => nodeFs!);
      summary.node.runtime = { imageFs: fsStats(time, imageFs, await cachedDirectoryUsage(imageDir, 60_000)) };
      const pids = await pidUsage();
      summary.node.rlimit = { time, maxpid: pids.maxpid, curproc: pids.curproc };
    }
    const sandboxes = (await this.#runtime.listPodSandboxes()).filter((s) => s.state === 'ready');
    const running = await this.#runtime.listContainers({ state: 'running' });
    const podStats = new Map((await this.#runtime.listPodSandboxStats?.().catch(() => undefined) ?? []).map((p) => [p.sandboxId, p]));
    for (const sandbox of sandboxes) {
      const containers = running.filter((c) => c.sandboxId === sandbox.id);
      try {
        summary.pods.push(await this.#pod(sandbox, containers, at, nodeFs, podStats.get(sandbox.id)));
      } catch {
        // removed meanwhile
      }
    }
    this.#sampler.endRound();
    return summary;
  }

  async #pod(sandbox: SandboxStatus, containers: ContainerStatus[], at: Date, nodeFs: FsUsage | undefined, listed: PodSandboxStats | undefined): Promise<PodStats> {
    const time = iso(at);
    const c = sandbox.config;
    const podStats = listed ?? (await this.#runtime.podSandboxStats?.(sandbox.id));
    const byId = new Map<string, ContainerStats>();
    for (const s of podStats?.containers ?? []) byId.set(s.id, s);
    for (const ct of containers) if (!byId.has(ct.id)) byId.set(ct.id, await this.#runtime.containerStats(ct.id).catch(() => undefined as never));
    const pod: PodStats = {
      podRef: { name: c.name, namespace: c.namespace, uid: c.uid },
      startTime: iso(new Date(sandbox.createdAt)),
      containers: [],
    };
    let ephemeral = { bytes: 0, inodes: 0 };
    let cpuSum = 0;
    let memSum = { memoryUsageBytes: 0, memoryWorkingSetBytes: 0, memoryRssBytes: 0, pageFaults: 0, majorPageFaults: 0 };
    for (const ct of containers) {
      const s = byId.get(ct.id);
      if (!s) continue;
      const entry: ContainerStatsSummary = {
        name: ct.name,
        startTime: iso(new Date(ct.startedAt || ct.createdAt)),
        cpu: this.#cpu(`container/${ct.id}`, s.cpuUsageNanos, at),
        memory: memoryStats(time, s),
      };
      if (nodeFs) {
        const layer = { bytes: s.writableLayerBytes ?? 0, inodes: s.writableLayerInodes ?? 0 };
        const logs = await cachedDirectoryUsage(dirname(ct.logPath));
        entry.rootfs = fsStats(time, nodeFs, layer);
        entry.logs = fsStats(time, nodeFs, logs);
        ephemeral = { bytes: ephemeral.bytes + layer.bytes + logs.bytes, inodes: ephemeral.inodes + layer.inodes + logs.inodes };
      }
      cpuSum += s.cpuUsageNanos;
      memSum = {
        memoryUsageBytes: memSum.memoryUsageBytes + s.memoryUsageBytes,
        memoryWorkingSetBytes: memSum.memoryWorkingSetBytes + s.memoryWorkingSetBytes,
        memoryRssBytes: memSum.memoryRssBytes + (s.memoryRssBytes ?? 0),
        pageFaults: memSum.pageFaults + (s.pageFaults ?? 0),
        majorPageFaults: memSum.majorPageFaults + (s.majorPageFaults ?? 0),
      };
      pod.containers.push(entry);
    }
    // The pod cgroup when the runtime reports it; otherwise the sum of the containers.
    pod.cpu = this.#cpu(`pod/${c.uid}`, podStats?.cpuUsageNanos ?? cpuSum, at);
    pod.memory = memoryStats(time, podStats ?? memSum);
    if (nodeFs) {
      const interfaces = podStats?.interfaces ?? [];
      const primary = interfaces.find((i) => i.name === 'eth0') ?? interfaces[0];
      pod.network = { time, ...(primary ?? {}), interfaces } satisfies NetworkStats;
      const volumes = await this.#volumes(c.uid, time);
      pod.volume = volumes.list;
      ephemeral = { bytes: ephemeral.bytes + volumes.local.bytes, inodes: ephemeral.inodes + volumes.local.inodes };
      pod['ephemeral-storage'] = fsStats(time, nodeFs, ephemeral);
    }
    if (podStats) pod.process_stats = { process_count: podStats.processCount };
    return pod;
  }

  /** Volume directories of a pod (`<rootDir>/pods/<uid>/volumes/<plugin>/<name>`) and the disk-backed part of their use. */
  async #volumes(uid: string, time: string): Promise<{ list: VolumeStats[]; local: { bytes: number; inodes: number } }> {
    const base = join(this.#o.rootDir, 'pods', uid, 'volumes');
    const list: VolumeStats[] = [];
    const local = { bytes: 0, inodes: 0 };
    const rootDev = (await stat(this.#o.rootDir).catch(() => undefined))?.dev;
    for (const plugin of await readdir(base).catch(() => [] as string[])) {
      for (const name of await readdir(join(base, plugin)).catch(() => [] as string[])) {
        const dir = join(base, plugin, name);
        try {
          const fs = await fsUsage(dir);
          const used = await cachedDirectoryUsage(dir);
          list.push({ name, ...fsStats(time, fs, used) });
          // Volumes on the node's file system (not tmpfs) count towards ephemeral storage.
          if ((await stat(dir)).dev === rootDev) {
            local.bytes += used.bytes;
            local.inodes += used.inodes;
          }
        } catch {
          // torn down meanwhile
        }
      }
    }
    return { list, local };
  }
}
