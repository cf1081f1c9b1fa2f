/**
 * Builds the OCI runtime spec (config.json) of one container from its CRI-shaped config,
 * with containerd's defaults: capability set, masked and read-only /proc paths, default mounts
 * and devices, the RuntimeDefault seccomp profile.
 */
import { readFileSync } from 'node:fs';
import type { ContainerConfig, MountConfig } from '../container-runtime.ts';
import { defaultSeccompProfile } from './seccomp-profile.ts';

/** One seccomp rule of the OCI spec. */
export interface OciSyscallRule {
  names: string[];
  action: 'SCMP_ACT_ALLOW' | 'SCMP_ACT_ERRNO';
  errnoRet?: number;
  args?: { index: number; value: number; valueTwo?: number; op: 'SCMP_CMP_EQ' | 'SCMP_CMP_MASKED_EQ' }[];
}

/** The OCI `linux.seccomp` object. */
export interface OciSeccomp {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures: string[];
  syscalls: OciSyscallRule[];
}

/** An OCI mount. */
export interface OciMount {
  destination: string;
  type: string;
  source: string;
  options: string[];
}

/** The part of the OCI runtime spec Skiff writes (runtime-spec 1.0.2). */
export interface OciSpec {
  ociVersion: string;
  process: {
    terminal: boolean;
    user: { uid: number; gid: number; additionalGids?: number[] };
    args: string[];
    env: string[];
    cwd: string;
    capabilities: { bounding: string[]; effective: string[]; permitted: string[]; inheritable: string[] };
    rlimits: { type: string; hard: number; soft: number }[];
    noNewPrivileges: boolean;
    oomScoreAdj?: number;
  };
  root: { path: string; readonly: boolean };
  hostname?: string;
  mounts: OciMount[];
  annotations?: Record<string, string>;
  linux: {
    namespaces: { type: string; path?: string }[];
    cgroupsPath: string;
    resources: Record<string, unknown>;
    sysctl?: Record<string, string>;
    seccomp?: OciSeccomp;
    maskedPaths?: string[];
    readonlyPaths?: string[];
    devices?: { path: string; type: string; major: number; minor: number; fileMode: number; uid: number; gid: number }[];
    rootfsPropagation?: string;
  };
}

/** containerd's default capability set (CRI's `DefaultCapabilities`). */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW',
  'CAP_SETGID', 'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT',
  'CAP_KILL', 'CAP_AUDIT_WRITE',
];

/** Every capability the kernel knows (0..40, CAP_CHECKPOINT_RESTORE is the last one in 5.9+). */
export const ALL_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL',
  'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT',
  'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE',
  'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN',
  'CAP_SYSLOG', 'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE',
];

/** containerd's masked /proc and /sys paths. */
export const MASKED_PATHS: readonly string[] = [
  '/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap',
];

/** containerd's read-only /proc paths. */
export const READONLY_PATHS: readonly string[] = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Namespace files of the sandbox a container joins. */
export interface SandboxNamespaces {
  /** Network namespace path; null = the host's (hostNetwork). */
  net: string | null;
  ipc: string;
  /** UTS namespace path; null = the host's (hostNetwork, as containerd). */
  uts: string | null;
  /** The sandbox's /dev/shm directory (a tmpfs shared by the pod's containers). */
  shm: string;
  hosts: string;
  resolvConf: string;
  hostname: string;
}

/** Inputs of `buildSpec` besides the container config. */
export interface BuildSpecOptions {
  rootfs: string;
  cgroupsPath: string;
  namespaces: SandboxNamespaces;
  /** Sandbox-level sysctls, overridden by the container's. */
  sandboxSysctls?: Record<string, string>;
  /**
   * The lowest `oom_score_adj` this process may give (containerd's `restrict_oom_score_adj`):
   * without CAP_SYS_RESOURCE a score below one's own cannot be set, and runc's init would die
   * trying, so a lower request is raised to this. Undefined: no limit.
   */
  minOomScoreAdj?: number;
}

function capName(name: string): string {
  const upper = name.toUpperCase();
  return upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
}

/**
 * The capabilities this process holds (its effective set), by name — what containerd gives a
 * privileged container or an `add: [ALL]` (its `WithAllCurrentCapabilities`): a root that lacks
 * some capability (a container host's own bounding set) cannot hand it on, and runc would fail
 * with "unable to apply caps".
 */
export function currentCapabilities(status = readFileSync('/proc/self/status', 'utf8')): string[] {
  const hex = /^CapEff:\s*([0-9a-f]+)$/m.exec(status)?.[1];
  if (!hex) return [...ALL_CAPABILITIES];
  const bits = BigInt(`0x${hex}`);
  return ALL_CAPABILITIES.filter((_, i) => (bits >> BigInt(i)) & 1n);
}

let ownCapabilities: string[] | undefined;

/** The capability set after add/drop (containerd's rules: drop ALL first, then add; add ALL = every capability this process has). */
export function effectiveCapabilities(config: ContainerConfig, current: () => string[] = () => (ownCapabilities ??= currentCapabilities())): string[] {
  const sec = config.security ?? {};
  if (sec.privileged) return current();
  const add = (sec.capabilities?.add ?? []).map(capName);
  const drop = (sec.capabilities?.drop ?? []).map(capName);
  let caps = new Set(DEFAULT_CAPABILITIES);
  if (drop.includes('CAP_ALL')) caps = new Set();
  if (add.includes('CAP_ALL')) caps = new Set(current());
  for (const c of add) if (c !== 'CAP_ALL') caps.add(c);
  for (const c of drop) if (c !== 'CAP_ALL' && !add.includes(c)) caps.delete(c);
  return ALL_CAPABILITIES.filter((c) => caps.has(c)).concat([...caps].filter((c) => !ALL_CAPABILITIES.includes(c)));
}

function userMount(m: MountConfig): OciMount {
  const ro = m.readonly ? 'ro' : 'rw';
  if (m.type === 'tmpfs') {
    const opts = ['nosuid', 'nodev', ro, 'mode=1777'];
    if (m.sizeBytes) opts.push(`size=${m.sizeBytes}`);
    return { destination: m.containerPath, type: 'tmpfs', source: 'tmpfs', options: opts };
  }
  if (!m.hostPath) throw new TypeError(`bind mount at "${m.containerPath}" has no hostPath`);
  const propagation = m.propagation === 'rshared' ? 'rshared' : m.propagation === 'rslave' ? 'rslave' : 'rprivate';
  return { destination: m.containerPath, type: 'bind', source: m.hostPath, options: ['rbind', propagation, ro] };
}

/** The OCI spec of one container. */
export function buildSpec(config: ContainerConfig, options: BuildSpecOptions): OciSpec {
  const sec = config.security ?? {};
  const privileged = sec.privileged === true;
  const caps = effectiveCapabilities(config);
  const ns = options.namespaces;
  const res = config.resources ?? {};
  const user = { uid: sec.runAsUser ?? 0, gid: sec.runAsGroup ?? 0, additionalGids: sec.supplementalGroups ?? [] };
  const env = config.env ?? [];

  const mounts: OciMount[] = [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    // Why a bind of the host's /dev when privileged: a privileged container sees every host device.
    privileged
      ? { destination: '/dev', type: 'bind', source: '/dev', options: ['rbind', 'rprivate', 'rw'] }
      : { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', privileged ? 'rw' : 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', privileged ? 'rw' : 'ro'] },
    { destination: '/dev/shm', type: 'bind', source: ns.shm, options: ['rbind', 'rprivate', 'rw'] },
  ];
  const userMounts = (config.mounts ?? []).map(userMount);
  const taken = new Set(userMounts.map((m) => m.destination));
  // Why: as containerd, the pod's hosts/resolv.conf/hostname files are mounted unless the kubelet mounts its own.
  for (const [dest, src] of [['/etc/hosts', ns.hosts], ['/etc/resolv.conf', ns.resolvConf], ['/etc/hostname', ns.hostname]] as const) {
    if (!taken.has(dest)) mounts.push({ destination: dest, type: 'bind', source: src, options: ['rbind', 'rprivate', sec.readonlyRootfs ? 'ro' : 'rw'] });
  }
  mounts.push(...userMounts);

  const namespaces: { type: string; path?: string }[] = [{ type: 'pid' }, { type: 'mount' }, { type: 'ipc', path: ns.ipc }];
  if (ns.uts) namespaces.push({ type: 'uts', path: ns.uts });
  if (ns.net) namespaces.push({ type: 'network', path: ns.net });

  const resources: Record<string, unknown> = {
    devices: privileged ? [{ allow: true, access: 'rwm' }] : [{ allow: false, access: 'rwm' }],
  };
  const cpu: Record<string, number> = {};
  if (res.cpuShares !== undefined) cpu.shares = res.cpuShares;
  if (res.cpuQuota !== undefined && res.cpuQuota > 0) {
    cpu.quota = res.cpuQuota;
    cpu.period = res.cpuPeriod ?? 100_000;
  }
  if (Object.keys(cpu).length > 0) resources.cpu = cpu;
  if (res.memoryLimitBytes) resources.memory = { limit: res.memoryLimitBytes, swap: res.memoryLimitBytes };
  if (res.pidsLimit) resources.pids = { limit: res.pidsLimit };

  const sysctl = { ...options.sandboxSysctls, ...config.sysctls };

  let seccomp: OciSeccomp | undefined;
  const profile = sec.seccomp ?? { type: 'Unconfined' as const };
  if (!privileged && profile.type === 'RuntimeDefault') seccomp = defaultSeccompProfile(caps);
  else if (!privileged && profile.type === 'Localhost') seccomp = JSON.parse(readFileSync(profile.profilePath, 'utf8')) as OciSeccomp;

  const spec: OciSpec = {
    ociVersion: '1.0.2',
    process: {
      terminal: config.tty === true,
      user,
      args: config.argv,
      env: env.some((e) => e.startsWith('PATH=')) ? env : [DEFAULT_PATH, ...env],
      cwd: config.workingDir || '/',
      capabilities: { bounding: caps, effective: caps, permitted: caps, inheritable: [] },
      // Why no default: runc then keeps its own limits; a fixed NOFILE may exceed the host's nr_open.
      rlimits: config.rlimits ?? [],
      noNewPrivileges: sec.noNewPrivileges === true && !privileged,
      ...(res.oomScoreAdj !== undefined ? { oomScoreAdj: Math.max(res.oomScoreAdj, options.minOomScoreAdj ?? -1000) } : {}),
    },
    root: { path: options.rootfs, readonly: sec.readonlyRootfs === true },
    mounts,
    annotations: config.annotations,
    linux: {
      namespaces,
      cgroupsPath: options.cgroupsPath,
      resources,
      ...(Object.keys(sysctl).length > 0 ? { sysctl } : {}),
      ...(seccomp ? { seccomp } : {}),
      ...(privileged || sec.unmaskedProc ? {} : { maskedPaths: [...MASKED_PATHS], readonlyPaths: [...READONLY_PATHS] }),
      rootfsPropagation: 'rprivate',
    },
  };
  return spec;
}
