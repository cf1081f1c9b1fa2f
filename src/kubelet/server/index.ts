/**
 * The kubelet's streaming HTTPS server: container logs, exec, attach and port-forward, for the
 * API server's pod subresources.
 */
export { DEFAULT_KUBELET_PORT, KubeletServer, type KubeletServerOptions } from './kubelet-server.ts';
export { KubeletServerError } from './errors.ts';
export { parseLogLine, readLogs, type LogEntry, type LogOptions, type ReadLogsOptions } from './log-reader.ts';
export type {
  ContainerStatsSummary, CpuStats, FsStats, InterfaceStats as SummaryInterfaceStats, MemoryStats, NetworkStats, NodeStats, PodStats,
  StatsProvider, Summary, VolumeStats,
} from './summary.ts';
