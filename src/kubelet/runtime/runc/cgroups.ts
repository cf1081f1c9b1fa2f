/**
 * Cgroup layout of pods and containers (cgroupfs driver, as the kubelet's
 * `kubepods/<qos>/pod<uid>/<container>`), pod-level limits, stats and clean-up. Works on cgroup v1
 * controllers (this host's hybrid layout: runc drives the v1 hierarchies through `cgroupsPath`)
 * and reads cgroup v2 files where the host is unified.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile, readdir, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { PodResources, SandboxConfig } from '../container-runtime.ts';
import { runOk } from './command.ts';

/** Where each cgroup hierarchy is mounted. */
export interface CgroupMounts {
  /** v1 controller name (`memory`, `cpu`, `name=systemd`, …) → mount point. */
  v1: Map<string, string>;
  /** The v2 hierarchy's mount point (unified host, or `/sys/fs/cgroup/unified` when hybrid), or null. */
  v2: string | null;
}

/** cgroup v1 mount options that name no controller. */
const V1_FLAGS = new Set(['rw', 'ro', 'clone_children', 'xattr', 'noprefix', 'cpuset_v2_mode', 'favordynmods']);

/** One cgroup mount of /proc/self/mountinfo: its point, file system type and superblock options. */
interface CgroupMountEntry {
  mountPoint: string;
  fsType: 'cgroup' | 'cgroup2';
  superOpts: string[];
}

function cgroupMountEntries(mountinfo: string): CgroupMountEntry[] {
  const out: CgroupMountEntry[] = [];
  for (const line of mountinfo.split('\n')) {
    const [pre, post] = line.split(' - ');
    if (!pre || !post) continue;
    const [fsType, , superOpts] = post.split(' ');
    if (fsType === 'cgroup' || fsType === 'cgroup2') out.push({ mountPoint: pre.split(' ')[4]!, fsType, superOpts: (superOpts ?? '').split(',').filter(Boolean) });
  }
  return out;
}

/** Reads the cgroup mount points from /proc/self/mountinfo. */
export function readCgroupMounts(): CgroupMounts {
  return parseCgroupMounts(readFileSync('/proc/self/mountinfo', 'utf8'));
}

/** The cgroup mount points of a mountinfo text (proc(5)'s format). */
export function parseCgroupMounts(mountinfo: string): CgroupMounts {
  const v1 = new Map<string, string>();
  let v2: string | null = null;
  for (const { mountPoint, fsType, superOpts } of cgroupMountEntries(mountinfo)) {
    if (fsType === 'cgroup2') v2 ??= mountPoint;
    if (fsType !== 'cgroup') continue;
    for (const opt of superOpts) {
      if (V1_FLAGS.has(opt) || opt.startsWith('release_agent=')) continue;
      if (!v1.has(opt)) v1.set(opt, mountPoint);
    }
  }
  return { v1, v2 };
}

/** What {@link favorDynamicModifications} did. */
export type FavorDynmodsOutcome =
  | { state: 'enabled' | 'already'; mountPoint: string }
  | { state: 'unavailable'; reason: string };

/**
 * Turns on cgroup2's `favordynmods` mount option, a node tuning as the kubelet's own kernel
 * tunables are. Moving a process into a cgroup takes the kernel's global threadgroup lock for
 * writing; without the option each first writer after a quiet spell waits out a full RCU grace
 * period (~20 ms on this machine's kernel) — every `runc run` pays it once, since runc moves its
 * init into the container's cgroups. With the option, forks and exits take a slightly slower
 * path instead. The flag is global to the kernel, so the v2 mount (unified, or `unified` beside
 * the v1 controllers on a hybrid host) is remounted with its current options plus this one.
 * Hosts with no cgroup2 mount, and kernels older than 6.0, are left as they are.
 */
export async function favorDynamicModifications(): Promise<FavorDynmodsOutcome> {
  const v2 = cgroupMountEntries(readFileSync('/proc/self/mountinfo', 'utf8')).find((m) => m.fsType === 'cgroup2');
  if (!v2) return { state: 'unavailable', reason: 'no cgroup2 mount' };
  if (v2.superOpts.includes('favordynmods')) return { state: 'already', mountPoint: v2.mountPoint };
  try {
    await runOk('mount', ['-o', ['remount', ...v2.superOpts, 'favordynmods'].join(','), v2.mountPoint]);
  } catch (error) {
    return { state: 'unavailable', reason: (error as Error).message };
  }
  return { state: 'enabled', mountPoint: v2.mountPoint };
}

/** The pod's cgroup path (absolute within each hierarchy), e.g. `/kubepods/burstable/pod<uid>`. */
export function podCgroupPath(root: string, config: SandboxConfig): string {
  const qos = config.qosClass ?? 'BestEffort';
  const uid = config.uid.replace(/-/g, '_');
  return qos === 'Guaranteed' ? `${root}/pod${uid}` : `${root}/${qos.toLowerCase()}/pod${uid}`;
}

function hierarchyDirs(mounts: CgroupMounts, path: string): string[] {
  const dirs = new Set<string>();
  for (const mp of mounts.v1.values()) dirs.add(join(mp, path));
  if (mounts.v2) dirs.add(join(mounts.v2, path));
  return [...dirs];
}

/** Creates the pod cgroup in every hierarchy and writes the pod-level limits. */
export async function createPodCgroup(mounts: CgroupMounts, path: string, resources: PodResources | undefined, qos: string | undefined): Promise<void> {
  // Synchronous: cgroupfs is in memory, and a pod start waits for this.
  for (const dir of hierarchyDirs(mounts, path)) mkdirSync(dir, { recursive: true });
  const cpu = mounts.v1.get('cpu');
  const memory = mounts.v1.get('memory');
  const shares = resources?.cpuShares ?? (qos === 'BestEffort' || qos === undefined ? 2 : undefined);
  if (cpu && shares !== undefined) writeFileSync(join(cpu, path, 'cpu.shares'), String(Math.max(2, shares)));
  if (cpu && resources?.cpuQuota) {
    writeFileSync(join(cpu, path, 'cpu.cfs_period_us'), String(resources.cpuPeriod ?? 100_000));
    writeFileSync(join(cpu, path, 'cpu.cfs_quota_us'), String(resources.cpuQuota));
  }
  if (memory && resources?.memoryLimitBytes) writeFileSync(join(memory, path, 'memory.limit_in_bytes'), String(resources.memoryLimitBytes));
}

/**
 * Removes a cgroup (and its children, deepest first) from every hierarchy. A cgroup whose last
 * process just died can stay busy for a moment, so removal is retried briefly.
 */
export async function removeCgroup(mounts: CgroupMounts, path: string): Promise<void> {
  for (const dir of hierarchyDirs(mounts, path)) await removeTree(dir);
}

async function removeTree(dir: string): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  for (const e of entries) if (e.isDirectory()) await removeTree(join(dir, e.name));
  for (let attempt = 0; ; attempt++) {
    try {
      await rmdir(dir);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' || attempt >= 50) throw err;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

async function readNumber(file: string): Promise<number> {
  try {
    return Number((await readFile(file, 'utf8')).trim()) || 0;
  } catch {
    return 0;
  }
}

async function readKeyed(file: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  try {
    for (const line of (await readFile(file, 'utf8')).split('\n')) {
      const [k, v] = line.split(' ');
      if (k && v !== undefined) out.set(k, Number(v));
    }
  } catch {
    // missing file: no values
  }
  return out;
}

/** CPU and memory usage of a cgroup. */
export async function readCgroupStats(mounts: CgroupMounts, path: string): Promise<{ cpuUsageNanos: number; memoryUsageBytes: number; memoryWorkingSetBytes: number }> {
  const cpuacct = mounts.v1.get('cpuacct');
  const memory = mounts.v1.get('memory');
  if (memory && cpuacct) {
    const usage = await readNumber(join(memory, path, 'memory.usage_in_bytes'));
    const stat = await readKeyed(join(memory, path, 'memory.stat'));
    const inactive = stat.get('total_inactive_file') ?? 0;
    return {
      cpuUsageNanos: await readNumber(join(cpuacct, path, 'cpuacct.usage')),
      memoryUsageBytes: usage,
      memoryWorkingSetBytes: Math.max(0, usage - inactive),
    };
  }
  const v2 = join(mounts.v2 ?? '/sys/fs/cgroup', path);
  const usage = await readNumber(join(v2, 'memory.current'));
  const stat = await readKeyed(join(v2, 'memory.stat'));
  const cpu = await readKeyed(join(v2, 'cpu.stat'));
  return {
    cpuUsageNanos: (cpu.get('usage_usec') ?? 0) * 1000,
    memoryUsageBytes: usage,
    memoryWorkingSetBytes: Math.max(0, usage - (stat.get('inactive_file') ?? 0)),
  };
}

/** The file whose `oom_kill` counter says whether the OOM killer fired in a cgroup (read by the shim). */
export function oomCounterFile(mounts: CgroupMounts, path: string): string {
  const memory = mounts.v1.get('memory');
  return memory ? join(memory, path, 'memory.oom_control') : join(mounts.v2 ?? '/sys/fs/cgroup', path, 'memory.events');
}
