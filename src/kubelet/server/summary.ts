/**
 * The kubelet's Summary API (`GET /stats/summary`), in upstream's shape
 * (k8s.io/kubelet/pkg/apis/stats/v1alpha1): the JSON field names are upstream's, times are
 * RFC 3339 strings, figures absent when unknown. The server only serves it; a
 * {@link StatsProvider} (the agent's summary provider) computes it.
 */

/** CPU usage (`CPUStats`). */
export interface CpuStats {
  time: string;
  /** Average over the sampling window, in billionths of a core. */
  usageNanoCores?: number;
  /** Cumulative CPU time since the cgroup's creation, ns. */
  usageCoreNanoSeconds?: number;
}

/** Memory usage (`MemoryStats`). */
export interface MemoryStats {
  time: string;
  availableBytes?: number;
  usageBytes?: number;
  workingSetBytes?: number;
  rssBytes?: number;
  pageFaults?: number;
  majorPageFaults?: number;
}

/** One network interface (`InterfaceStats`). */
export interface InterfaceStats {
  name: string;
  rxBytes?: number;
  rxErrors?: number;
  txBytes?: number;
  txErrors?: number;
}

/** Network usage (`NetworkStats`): the default interface inline, every interface in `interfaces`. */
export interface NetworkStats extends Partial<InterfaceStats> {
  time: string;
  interfaces?: InterfaceStats[];
}

/** File system usage (`FsStats`). */
export interface FsStats {
  time: string;
  availableBytes?: number;
  capacityBytes?: number;
  usedBytes?: number;
  inodesFree?: number;
  inodes?: number;
  inodesUsed?: number;
}

/** A container's stats (`ContainerStats`); also the node's system containers. */
export interface ContainerStatsSummary {
  name: string;
  startTime: string;
  cpu?: CpuStats;
  memory?: MemoryStats;
  rootfs?: FsStats;
  logs?: FsStats;
}

/** A volume's usage (`VolumeStats`). */
export interface VolumeStats extends FsStats {
  name: string;
}

/** A pod's stats (`PodStats`). */
export interface PodStats {
  podRef: { name: string; namespace: string; uid: string };
  startTime: string;
  containers: ContainerStatsSummary[];
  cpu?: CpuStats;
  memory?: MemoryStats;
  network?: NetworkStats;
  volume?: VolumeStats[];
  'ephemeral-storage'?: FsStats;
  process_stats?: { process_count?: number };
}

/** The node's stats (`NodeStats`). */
export interface NodeStats {
  nodeName: string;
  systemContainers?: ContainerStatsSummary[];
  startTime: string;
  cpu?: CpuStats;
  memory?: MemoryStats;
  network?: NetworkStats;
  fs?: FsStats;
  runtime?: { imageFs?: FsStats; containerFs?: FsStats };
  rlimit?: { time: string; maxpid?: number; curproc?: number };
}

/** The whole summary (`Summary`). */
export interface Summary {
  node: NodeStats;
  pods: PodStats[];
}

/** What serves `/stats/summary`. */
export interface StatsProvider {
  /** The summary now; with `onlyCpuAndMemory` (upstream's `only_cpu_and_memory=true`) without network, file system and volume figures. */
  summary(options?: { onlyCpuAndMemory?: boolean }): Promise<Summary>;
}
