/**
 * The node's own figures, as cadvisor gives them to the upstream kubelet: CPU and memory of the
 * root cgroup (memory available = capacity − working set), the host's network interfaces, file
 * systems by statfs, PIDs (`pid_max` and the tasks in use) and the boot time. Used by the Summary
 * API and by the node's pressure conditions.
 */
import { readFileSync } from 'node:fs';
import { readFile, statfs } from 'node:fs/promises';
import type { InterfaceStats } from '../runtime/container-runtime.ts';
import { type CgroupMounts, readCgroupMounts } from '../runtime/runc/cgroups.ts';
import { type CgroupUsage, parseNetDev, readCgroupUsage } from '../runtime/runc/stats.ts';

/** Capacity and free space of the file system holding a directory. */
export interface FsUsage {
  capacityBytes: number;
  availableBytes: number;
  usedBytes: number;
  inodes: number;
  inodesFree: number;
  inodesUsed: number;
}

/** statfs of `dir`'s file system. */
export async function fsUsage(dir: string): Promise<FsUsage> {
  const s = await statfs(dir);
  return {
    capacityBytes: s.blocks * s.bsize,
    availableBytes: s.bavail * s.bsize,
    usedBytes: (s.blocks - s.bfree) * s.bsize,
    inodes: s.files,
    inodesFree: s.ffree,
    inodesUsed: s.files - s.ffree,
  };
}

/** MemTotal from /proc/meminfo, bytes. */
export function memoryCapacity(): number {
  try {
    return Number(/^MemTotal:\s+(\d+)/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

let mounts: CgroupMounts | undefined;

/** The machine's cgroup mounts (read once). */
export function cgroupMounts(): CgroupMounts {
  mounts ??= readCgroupMounts();
  return mounts;
}

/** CPU and memory of the root cgroup (the whole machine), or of `path` below it. */
export function cgroupUsage(path = '/'): Promise<CgroupUsage> {
  return readCgroupUsage(cgroupMounts(), path);
}

/** `memory.available` as the eviction manager computes it: capacity minus the root cgroup's working set. */
export async function memoryAvailable(): Promise<{ capacityBytes: number; availableBytes: number; workingSetBytes: number }> {
  const capacity = memoryCapacity();
  const usage = await cgroupUsage('/');
  return { capacityBytes: capacity, workingSetBytes: usage.memoryWorkingSetBytes, availableBytes: Math.max(0, capacity - usage.memoryWorkingSetBytes) };
}

/** `pid_max` and the tasks (threads) in use, as upstream's `rlimit` stats. */
export async function pidUsage(): Promise<{ maxpid: number; curproc: number }> {
  const max = Number((await readFile('/proc/sys/kernel/pid_max', 'utf8').catch(() => '')).trim()) || 32768;
  const loadavg = await readFile('/proc/loadavg', 'utf8').catch(() => '');
  const cur = Number(loadavg.split(' ')[3]?.split('/')[1] ?? 0);
  return { maxpid: max, curproc: cur };
}

/** The host's interfaces (loopback and pod veths left out), the default route's first. */
export async function hostInterfaces(): Promise<InterfaceStats[]> {
  const list = parseNetDev(await readFile('/proc/net/dev', 'utf8').catch(() => '')).filter((i) => !i.name.startsWith('veth'));
  const routes = await readFile('/proc/net/route', 'utf8').catch(() => '');
  const def = routes.split('\n').slice(1).map((l) => l.split('\t')).find((f) => f[1] === '00000000')?.[0];
  return list.sort((a, b) => Number(b.name === def) - Number(a.name === def));
}

/** The machine's boot time (`btime` of /proc/stat). */
export function bootTime(): Date {
  try {
    return new Date(Number(/^btime (\d+)/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1] ?? 0) * 1000);
  } catch {
    return new Date(0);
  }
}

/** This process's start time, from /proc/self/stat and the boot time. */
export function processStartTime(): Date {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const ticks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    return new Date(bootTime().getTime() + (ticks / 100) * 1000);
  } catch {
    return new Date(Date.now() - process.uptime() * 1000);
  }
}

/** This process's resident memory (VmRSS), bytes. */
export function processRss(): number {
  try {
    return Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0) * 1024;
  } catch {
    return process.memoryUsage().rss;
  }
}
