/**
 * The CRI-shaped interface the kubelet's pod workers drive: pod sandboxes, containers, exec,
 * attach, port-forward, stats and exit notifications. Implementations: `runc` (and `crun`
 * through the same code, where it can run) in `runc/`, later `sim`.
 */
import type { Duplex, Readable, Writable } from 'node:stream';

/** Lifecycle state of a pod sandbox (CRI `PodSandboxState`). */
export type SandboxState = 'ready' | 'notready';

/** Lifecycle state of a container (CRI `ContainerState`). */
export type ContainerState = 'created' | 'running' | 'exited' | 'unknown';

/** A hostPort mapping, applied by the CNI `portmap` plugin (CRI `PortMapping`). */
export interface PortMapping {
  /** `tcp` (default), `udp` or `sctp`. */
  protocol?: 'tcp' | 'udp' | 'sctp';
  containerPort: number;
  hostPort: number;
  /** Host address to bind; empty = every host address. */
  hostIP?: string;
}

/** DNS settings that become the pod's `/etc/resolv.conf` (CRI `DNSConfig`). */
export interface DnsConfig {
  servers?: string[];
  searches?: string[];
  /** e.g. `ndots:5`. */
  options?: string[];
}

/** Resources for the pod-level cgroup (sum of the containers' limits, as the kubelet computes them). */
export interface PodResources {
  /** CPU shares (cgroup v1 `cpu.shares`); default 2 for BestEffort, 1024 otherwise. */
  cpuShares?: number;
  cpuQuota?: number;
  cpuPeriod?: number;
  memoryLimitBytes?: number;
}

/** Configuration of a pod sandbox (CRI `PodSandboxConfig`, reduced to what Skiff uses). */
export interface SandboxConfig {
  /** Pod name: also the sandbox's hostname. */
  name: string;
  namespace: string;
  /** Pod uid: names the pod cgroup `pod<uid>`. */
  uid: string;
  /** Attempt number (0 first); a restarted sandbox gets attempt+1. */
  attempt?: number;
  /** Overrides the hostname (pod `spec.hostname`); default `name`. */
  hostname?: string;
  /** Share the host's network namespace (pod `spec.hostNetwork`); no CNI is run. */
  hostNetwork?: boolean;
  dns?: DnsConfig;
  /** Extra `/etc/hosts` entries (pod `spec.hostAliases`). */
  hostAliases?: { ip: string; hostnames: string[] }[];
  portMappings?: PortMapping[];
  /** QoS class: picks `kubepods/burstable|besteffort/pod<uid>` (Guaranteed sits right under `kubepods`). */
  qosClass?: 'Guaranteed' | 'Burstable' | 'BestEffort';
  /** Pod-level cgroup limits. */
  resources?: PodResources;
  /** Namespaced sysctls applied to every container of the pod (e.g. `net.ipv4.ip_unprivileged_port_start`). */
  sysctls?: Record<string, string>;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** What `podSandboxStatus` reports. */
export interface SandboxStatus {
  id: string;
  config: SandboxConfig;
  state: SandboxState;
  /** Creation time, ms since the epoch. */
  createdAt: number;
  /** Pod IPs (first = primary); empty for hostNetwork pods and stopped sandboxes. */
  ips: string[];
  /** Path of the network namespace (`/proc/1/ns/net` for hostNetwork). */
  netnsPath: string;
  /** The pod's `/etc/hosts`, `/etc/resolv.conf` and `/etc/hostname`, bind-mounted into every container. */
  hostsPath: string;
  resolvConfPath: string;
  hostnamePath: string;
}

/** A mount into a container (CRI `Mount`). */
export interface MountConfig {
  containerPath: string;
  /** Host path for bind mounts; ignored for tmpfs. */
  hostPath?: string;
  /** `bind` (default) or `tmpfs`. */
  type?: 'bind' | 'tmpfs';
  readonly?: boolean;
  /** `private` (default), `rslave` (HostToContainer) or `rshared` (Bidirectional). */
  propagation?: 'private' | 'rslave' | 'rshared';
  /** tmpfs size in bytes. */
  sizeBytes?: number;
}

/** Linux resources of one container (CRI `LinuxContainerResources`). */
export interface ContainerResources {
  cpuShares?: number;
  /** CFS quota in µs per `cpuPeriod` (default period 100000). */
  cpuQuota?: number;
  cpuPeriod?: number;
  memoryLimitBytes?: number;
  pidsLimit?: number;
  oomScoreAdj?: number;
}

/** securityContext as enforced through the OCI spec. */
export interface SecurityConfig {
  runAsUser?: number;
  runAsGroup?: number;
  supplementalGroups?: number[];
  privileged?: boolean;
  readonlyRootfs?: boolean;
  /** Capability names with or without `CAP_`; `ALL` allowed in drop and add. */
  capabilities?: { add?: string[]; drop?: string[] };
  /** `allowPrivilegeEscalation: false` → true. Default false. */
  noNewPrivileges?: boolean;
  /** `RuntimeDefault` (containerd's default profile), `Unconfined` (default, as upstream), or `Localhost` with a profile file. */
  seccomp?: { type: 'RuntimeDefault' | 'Unconfined' } | { type: 'Localhost'; profilePath: string };
  /** Extra masked /proc paths are not configurable; `unmaskedProc` (procMount Unmasked) lifts the defaults. */
  unmaskedProc?: boolean;
}

/** Configuration of a container (CRI `ContainerConfig`). */
export interface ContainerConfig {
  /** Container name within the pod. */
  name: string;
  /** Restart attempt (0 first). */
  attempt?: number;
  /**
   * The full argv to run: the caller has already resolved pod `command`/`args` against the image's
   * Entrypoint/Cmd (Kubernetes rules: command replaces Entrypoint and drops Cmd; args replace Cmd).
   * `argv[0]` is looked up in the container's PATH.
   */
  argv: string[];
  /** `KEY=value` pairs: the image's Env merged with the pod's, already resolved by the caller. */
  env?: string[];
  /** Default `/` (the caller passes the image's WorkingDir when the pod has none). */
  workingDir?: string;
  /** Image layer directories, **bottom layer first** (manifest order); they become overlayfs lowerdirs. */
  layers: string[];
  /** Image reference and id, reported back in status. */
  image?: string;
  imageId?: string;
  /** Signal for stopContainer (image StopSignal), e.g. `SIGQUIT`; default `SIGTERM`. */
  stopSignal?: string;
  mounts?: MountConfig[];
  resources?: ContainerResources;
  security?: SecurityConfig;
  /** Container-level sysctls (merged over the sandbox's). */
  sysctls?: Record<string, string>;
  /** rlimits, e.g. `{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 4096 }`; default: the limits runc itself runs with. */
  rlimits?: { type: string; soft: number; hard: number }[];
  /** Allocate a pty for the main process (pod `tty`). stdout and stderr are then one stream. */
  tty?: boolean;
  /** Keep a stdin open for attach (pod `stdin`). */
  stdin?: boolean;
  /** File the runtime writes the CRI-format log to (the kubelet picks it). */
  logPath: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** What `containerStatus` reports (CRI `ContainerStatus`). */
export interface ContainerStatus {
  id: string;
  sandboxId: string;
  name: string;
  attempt: number;
  state: ContainerState;
  /** Host PID of the container's init while it runs (0 otherwise). */
  pid: number;
  /** ms since the epoch; 0 when not reached. */
  createdAt: number;
  startedAt: number;
  finishedAt: number;
  exitCode: number;
  /** `OOMKilled`, `Error`, `Completed` (exited) or `StartError`; empty while created/running. */
  reason: string;
  message: string;
  image?: string;
  imageId?: string;
  logPath: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** Filter for `listContainers`. */
export interface ContainerFilter {
  sandboxId?: string;
  state?: ContainerState;
}

/** Result of `execSync`. */
export interface ExecSyncResult {
  exitCode: number;
  stdout: Buffer;
  stderr: Buffer;
}

/** Options of `exec`. */
export interface ExecOptions {
  cmd: string[];
  tty?: boolean;
  stdin?: boolean;
  /** Extra environment (`KEY=value`). */
  env?: string[];
}

/** Options of `attach`. */
export interface AttachOptions {
  stdin?: boolean;
  tty?: boolean;
}

/**
 * A running exec or attach session. `stdin` is null unless asked for; with a tty `stderr` is null
 * (one stream). `exit` resolves with the process' exit code (exec) or when the attach ends
 * (container exit or `close()`), never rejects.
 */
export interface StreamHandle {
  stdin: Writable | null;
  stdout: Readable;
  stderr: Readable | null;
  /** Sets the pty's window size; a no-op without a tty. */
  resize(cols: number, rows: number): Promise<void>;
  exit: Promise<{ exitCode: number }>;
  /** Ends the session (exec: kills the process; attach: detaches). */
  close(): void;
}

/** Resource usage of a container from its cgroup (CRI `ContainerStats`). */
export interface ContainerStats {
  /** Collection time, ms since the epoch. */
  timestamp: number;
  cpuUsageNanos: number;
  memoryUsageBytes: number;
  /** usage minus inactive file pages, as the kubelet computes it. */
  memoryWorkingSetBytes: number;
  /** Anonymous and swap cache memory (cgroup `total_rss` / `anon`). */
  memoryRssBytes?: number;
  /** Cumulative page faults and major page faults of the cgroup. */
  pageFaults?: number;
  majorPageFaults?: number;
  /** memory limit minus working set; absent without a limit. */
  memoryAvailableBytes?: number;
  /** Bytes and inodes the container's writable layer (overlayfs upper dir) uses (CRI `WritableLayer`). */
  writableLayerBytes?: number;
  writableLayerInodes?: number;
}

/** Counters of one network interface (CRI `NetworkInterfaceUsage`). */
export interface InterfaceStats {
  name: string;
  rxBytes: number;
  rxErrors: number;
  txBytes: number;
  txErrors: number;
}

/**
 * Resource usage of a pod sandbox (CRI `PodSandboxStats`): its pod-level cgroup, its network
 * namespace's interfaces and its process count, plus the stats of its running containers.
 */
export interface PodSandboxStats {
  /** Collection time, ms since the epoch. */
  timestamp: number;
  sandboxId: string;
  cpuUsageNanos: number;
  memoryUsageBytes: number;
  memoryWorkingSetBytes: number;
  memoryRssBytes: number;
  pageFaults: number;
  majorPageFaults: number;
  /** Pod memory limit minus working set; absent without a limit. */
  memoryAvailableBytes?: number;
  /** Interfaces of the pod's network namespace (loopback excluded); empty for hostNetwork pods or when no container runs. */
  interfaces: InterfaceStats[];
  /** Processes in the pod cgroup tree (upstream's `process_stats.process_count`). */
  processCount: number;
  /** Stats of the sandbox's running containers, by container id. */
  containers: (ContainerStats & { id: string })[];
}

/** A container exit, delivered through `onContainerExit`. */
export interface ContainerExitEvent {
  id: string;
  sandboxId: string;
  exitCode: number;
  reason: string;
  finishedAt: number;
}

/** What `version` reports. */
export interface RuntimeVersion {
  runtimeName: string;
  runtimeVersion: string;
  /** CRI API version the shape follows. */
  runtimeApiVersion: string;
}

/**
 * A container runtime: pod sandboxes holding containers.
 *
 * Contract:
 * - **Ids** are opaque strings chosen by the runtime; unknown ids throw `NotFoundError`, except
 *   that stop and remove of an unknown id succeed (they are idempotent, as in CRI).
 * - **Durability**: everything is recorded under the runtime's state directory before a call
 *   returns. A second instance over the same state directory (the agent restarted after
 *   `kill -9`) sees every sandbox and container with the same ids, states and PIDs; running
 *   containers are not disturbed by the agent's death and their logs keep being written.
 * - **Sandboxes**: `runPodSandbox` returns only when the network is up (pod IP assigned) and the
 *   shared IPC/UTS namespaces exist; on failure it undoes what it did and throws. `stopPodSandbox`
 *   kills every container of the sandbox (SIGKILL: the kubelet stops them gracefully first),
 *   releases the network (CNI DEL) and is idempotent; `removePodSandbox` also removes the
 *   containers and every file, mount, namespace and cgroup of the pod.
 * - **Containers**: `createContainer` prepares the rootfs and spec (state `created`) and may
 *   make the process too, stopped before the container's program; `startContainer` lets it run
 *   (or starts it) and returns once it runs (state `running`, pid known) or throws `StartError`
 *   (status then `exited`, reason `StartError`, exit code 128), also for a process that could not
 *   be made at creation (status `exited` from then on). A container
 *   exits to `exited` with its exit code (128+signal when killed) and reason `OOMKilled` when the
 *   cgroup's OOM killer fired, otherwise `Completed` for 0 and `Error` for non-zero. Containers are
 *   never restarted by the runtime: the kubelet creates a new one (attempt+1).
 * - **stopContainer(id, t)** sends the stop signal, waits up to `t` seconds, then SIGKILLs and
 *   resolves once the container has exited. Stopping an exited container is a no-op.
 * - **Logs**: stdout/stderr go to `logPath` in the CRI format
 *   `<RFC3339Nano> stdout|stderr F|P <text>` (P for a partial line longer than 16 KiB). The
 *   runtime never rotates: the kubelet renames the file and calls `reopenContainerLog`; lines
 *   written in between land in the renamed file, none is lost.
 * - **Stats** (`containerStats`, `podSandboxStats`) are read from the cgroups at call time;
 *   counters are cumulative (the caller derives rates from two samples).
 * - **Events**: `onContainerExit` listeners hear each exit once per runtime instance (exits that
 *   happened while no instance ran are delivered when a new instance starts watching).
 * - Calls may run concurrently; operations on one id are serialized by the implementation.
 */
export interface ContainerRuntime {
  version(): Promise<RuntimeVersion>;

  runPodSandbox(config: SandboxConfig): Promise<string>;
  /**
   * (Optional, with `podSandboxReady`.) `runPodSandbox` in two halves, so that a pod's
   * containers are prepared while the rest of its sandbox is set up: this returns once the
   * sandbox is recorded; the sandbox reports `ready` (without IPs) and takes containers, which
   * start once its namespaces, pod cgroup and network are up. `podSandboxReady` resolves then (the sandbox reports
   * its IPs), or rejects with the error; the sandbox is then `notready`, and stopping and
   * removing it clean up as usual.
   */
  createPodSandbox?(config: SandboxConfig): Promise<string>;
  podSandboxReady?(id: string): Promise<void>;
  podSandboxStatus(id: string): Promise<SandboxStatus>;
  stopPodSandbox(id: string): Promise<void>;
  removePodSandbox(id: string): Promise<void>;
  listPodSandboxes(): Promise<SandboxStatus[]>;

  createContainer(sandboxId: string, config: ContainerConfig): Promise<string>;
  startContainer(id: string): Promise<void>;
  stopContainer(id: string, timeoutSeconds: number): Promise<void>;
  removeContainer(id: string): Promise<void>;
  containerStatus(id: string): Promise<ContainerStatus>;
  listContainers(filter?: ContainerFilter): Promise<ContainerStatus[]>;
  containerStats(id: string): Promise<ContainerStats>;
  /** (Optional: a runtime without it reports no pod-level stats.) Usage of a sandbox's pod cgroup, network and processes, with its running containers' stats (CRI `PodSandboxStats`). */
  podSandboxStats?(id: string): Promise<PodSandboxStats>;
  /** (Optional.) `podSandboxStats` of every ready sandbox in one pass (CRI `ListPodSandboxStats`). */
  listPodSandboxStats?(): Promise<PodSandboxStats[]>;
  /**
   * (Optional: without it logs are not rotated.) Asks the runtime to reopen the container's log file at its `logPath` (CRI
   * `ReopenContainerLog`), after the kubelet renamed the file away to rotate it: resolves once
   * output goes to a new file at `logPath`. Throws `InvalidStateError` when the container does
   * not run.
   */
  reopenContainerLog?(id: string): Promise<void>;

  /** Runs `cmd` in the container and collects its output; throws `ExecTimeoutError` after `timeoutMs` (the process is killed). */
  execSync(id: string, cmd: string[], timeoutMs: number): Promise<ExecSyncResult>;
  exec(id: string, options: ExecOptions): Promise<StreamHandle>;
  /** Attaches to the main process: its output from now on, and its stdin if the container has one. */
  attach(id: string, options: AttachOptions): Promise<StreamHandle>;
  /** A stream connected to `127.0.0.1:port` inside the sandbox's network namespace. */
  portForward(sandboxId: string, port: number): Promise<Duplex>;

  /** Registers an exit listener; returns a function that removes it. */
  onContainerExit(listener: (event: ContainerExitEvent) => void): () => void;
  /** Stops watching for exits and releases the instance's resources (containers keep running). */
  close(): Promise<void>;
}
