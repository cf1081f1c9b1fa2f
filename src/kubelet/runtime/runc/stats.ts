/**
 * Usage figures the runc runtime reports (CRI `ContainerStats` / `PodSandboxStats`): a cgroup's
 * CPU and memory (cgroup v1 `cpuacct` and `memory` controllers, or the v2 files on a unified
 * host), the processes in a cgroup tree, a network namespace's interface counters
 * (`/proc/<pid>/net/dev` of a process inside it) and a directory's disk usage (the writable
 * layer). Every reader tolerates a vanished cgroup or process: missing files read as zero.
 */
import { lstat, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContainerStats, InterfaceStats, PodSandboxStats } from '../container-runtime.ts';
import type { CgroupMounts } from './cgroups.ts';

/** CPU and memory of one cgroup. */
export interface CgroupUsage {
  cpuUsageNanos: number;
  memoryUsageBytes: number;
  memoryWorkingSetBytes: number;
  memoryRssBytes: number;
  pageFaults: number;
  majorPageFaults: number;
  /** The memory limit, or undefined when unlimited. */
  memoryLimitBytes: number | undefined;
}

/** cgroup v1 reports "no limit" as a huge page-aligned number; anything above 2^62 counts as none. */
const UNLIMITED = 2 ** 62;

async function readText(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
}

async function readNumber(file: string): Promise<number | undefined> {
  const text = (await readText(file))?.trim();
  if (text === undefined || text === '' || text === 'max') return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

/** `key value` lines (memory.stat, cpu.stat) as a map. */
export function parseKeyed(text: string | undefined): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of (text ?? '').split('\n')) {
    const [k, v] = line.split(' ');
    if (k && v !== undefined) out.set(k, Number(v));
  }
  return out;
}

/** CPU and memory usage of the cgroup at `path` (absolute within each hierarchy; `/` is the root). */
export async function readCgroupUsage(mounts: CgroupMounts, path: string): Promise<CgroupUsage> {
  const cpuacct = mounts.v1.get('cpuacct');
  const memory = mounts.v1.get('memory');
  if (memory && cpuacct) {
    const dir = join(memory, path);
    const stat = parseKeyed(await readText(join(dir, 'memory.stat')));
    const usage = (await readNumber(join(dir, 'memory.usage_in_bytes'))) ?? 0;
    const limit = await readNumber(join(dir, 'memory.limit_in_bytes'));
    return {
      cpuUsageNanos: (await readNumber(join(cpuacct, path, 'cpuacct.usage'))) ?? 0,
      memoryUsageBytes: usage,
      // Why total_inactive_file: the working set is what the kernel cannot reclaim easily (cadvisor's definition).
      memoryWorkingSetBytes: Math.max(0, usage - (stat.get('total_inactive_file') ?? 0)),
      memoryRssBytes: stat.get('total_rss') ?? 0,
      pageFaults: stat.get('total_pgfault') ?? 0,
      majorPageFaults: stat.get('total_pgmajfault') ?? 0,
      memoryLimitBytes: limit !== undefined && limit < UNLIMITED ? limit : undefined,
    };
  }
  const dir = join(mounts.v2 ?? '/sys/fs/cgroup', path);
  const stat = parseKeyed(await readText(join(dir, 'memory.stat')));
  const cpu = parseKeyed(await readText(join(dir, 'cpu.stat')));
  // The v2 root has no memory.current: the machine's figures stand in for it.
  let usage = await readNumber(join(dir, 'memory.current'));
  if (usage === undefined && (path === '/' || path === '')) {
    const meminfo = (await readText('/proc/meminfo')) ?? '';
    const get = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(meminfo)?.[1] ?? 0) * 1024;
    usage = get('MemTotal') - get('MemFree');
  }
  const limit = await readNumber(join(dir, 'memory.max'));
  return {
    cpuUsageNanos: (cpu.get('usage_usec') ?? 0) * 1000,
    memoryUsageBytes: usage ?? 0,
    memoryWorkingSetBytes: Math.max(0, (usage ?? 0) - (stat.get('inactive_file') ?? 0)),
    memoryRssBytes: stat.get('anon') ?? 0,
    pageFaults: stat.get('pgfault') ?? 0,
    majorPageFaults: stat.get('pgmajfault') ?? 0,
    memoryLimitBytes: limit !== undefined && limit < UNLIMITED ? limit : undefined,
  };
}

/** Number of processes in the cgroup tree at `path` (every `cgroup.procs` below it). */
export async function countProcesses(mounts: CgroupMounts, path: string): Promise<number> {
  const base = mounts.v1.get('pids') ?? mounts.v1.get('cpuacct') ?? mounts.v2;
  if (!base) return 0;
  const walk = async (dir: string): Promise<number> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return 0;
    }
    let n = ((await readText(join(dir, 'cgroup.procs'))) ?? '').split('\n').filter(Boolean).length;
    for (const e of entries) if (e.isDirectory()) n += await walk(join(dir, e.name));
    return n;
  };
  return walk(join(base, path));
}

/** Parses `/proc/net/dev` text into interface counters; loopback excluded. */
export function parseNetDev(text: string): InterfaceStats[] {
  const out: InterfaceStats[] = [];
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    if (name === 'lo') continue;
    const f = line.slice(colon + 1).trim().split(/\s+/).map(Number);
    // Receive: bytes packets errs drop fifo frame compressed multicast; transmit: bytes packets errs …
    out.push({ name, rxBytes: f[0] ?? 0, rxErrors: f[2] ?? 0, txBytes: f[8] ?? 0, txErrors: f[10] ?? 0 });
  }
  return out;
}

/** The interfaces of the network namespace process `pid` lives in (empty when it is gone). */
export async function readInterfaces(pid: number): Promise<InterfaceStats[]> {
  const text = await readText(`/proc/${pid}/net/dev`);
  return text ? parseNetDev(text) : [];
}

/** Disk usage of a directory tree: bytes of allocated blocks and the number of inodes (du's figures). */
export async function directoryUsage(dir: string): Promise<{ bytes: number; inodes: number }> {
  let bytes = 0;
  let inodes = 0;
  const seen = new Set<string>();
  const walk = async (path: string): Promise<void> => {
    let st;
    try {
      st = await lstat(path);
    } catch {
      return;
    }
    // Hard links count once, as du counts them.
    if (st.nlink > 1 && !st.isDirectory()) {
      const key = `${st.dev}:${st.ino}`;
      if (seen.has(key)) return;
      seen.add(key);
    }
    bytes += st.blocks * 512;
    inodes += 1;
    if (!st.isDirectory()) return;
    let names: string[];
    try {
      names = await readdir(path);
    } catch {
      return;
    }
    for (const name of names) await walk(join(path, name));
  };
  await walk(dir);
  return { bytes, inodes };
}

const usageCache = new Map<string, { at: number; value: Promise<{ bytes: number; inodes: number }> }>();

/**
 * `directoryUsage` remembered for `maxAgeMs` (default 10 s): walking trees is the costly part of
 * stats, and disk usage moves slowly (upstream's kubelet caches it too).
 */
export function cachedDirectoryUsage(dir: string, maxAgeMs = 10_000): Promise<{ bytes: number; inodes: number }> {
  const now = Date.now();
  const hit = usageCache.get(dir);
  if (hit && now - hit.at < maxAgeMs) return hit.value;
  for (const [k, v] of usageCache) if (now - v.at >= maxAgeMs) usageCache.delete(k);
  const value = directoryUsage(dir);
  usageCache.set(dir, { at: now, value });
  return value;
}

/** A container's stats (CRI `ContainerStats`) from its cgroup and its writable layer directory. */
export async function containerUsage(mounts: CgroupMounts, cgroupPath: string, upperDir: string, timestamp: number): Promise<ContainerStats> {
  const u = await readCgroupUsage(mounts, cgroupPath);
  const layer = await cachedDirectoryUsage(upperDir);
  return {
    timestamp,
    ...usageFields(u),
    writableLayerBytes: layer.bytes,
    writableLayerInodes: layer.inodes,
  };
}

/** The CPU and memory figures common to container and sandbox stats, from one cgroup's usage. */
function usageFields(u: Awaited<ReturnType<typeof readCgroupUsage>>) {
  return {
    cpuUsageNanos: u.cpuUsageNanos,
    memoryUsageBytes: u.memoryUsageBytes,
    memoryWorkingSetBytes: u.memoryWorkingSetBytes,
    memoryRssBytes: u.memoryRssBytes,
    pageFaults: u.pageFaults,
    majorPageFaults: u.majorPageFaults,
    ...(u.memoryLimitBytes !== undefined ? { memoryAvailableBytes: Math.max(0, u.memoryLimitBytes - u.memoryWorkingSetBytes) } : {}),
  };
}

/**
 * A sandbox's stats (CRI `PodSandboxStats`): the pod cgroup, the interfaces seen by `netPid` (a
 * process in the pod's network namespace; undefined for hostNetwork pods or when none runs) and
 * the given container stats.
 */
export async function sandboxUsage(
  mounts: CgroupMounts,
  options: { sandboxId: string; cgroupPath: string; netPid: number | undefined; containers: (ContainerStats & { id: string })[]; timestamp: number },
): Promise<PodSandboxStats> {
  const u = await readCgroupUsage(mounts, options.cgroupPath);
  return {
    timestamp: options.timestamp,
    sandboxId: options.sandboxId,
    ...usageFields(u),
    interfaces: options.netPid ? await readInterfaces(options.netPid) : [],
    processCount: await countProcesses(mounts, options.cgroupPath),
    containers: options.containers,
  };
}
