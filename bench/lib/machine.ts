/**
 * The machine line every benchmark prints, so a figure is never read without the hardware it
 * was measured on.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';

/** The CPU model as `/proc/cpuinfo` names it (falls back to `os.cpus()` off Linux). */
export function cpuModel(): string {
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (match) return match[1]!.trim();
  } catch {
    // Not Linux: os.cpus() below.
  }
  return cpus()[0]?.model ?? 'unknown CPU';
}

/** `Machine: <CPU> · N cores · X GiB RAM · <ISO date> · Node vX` */
export function machineLine(now: Date = new Date()): string {
  const gib = (totalmem() / 2 ** 30).toFixed(1);
  return `Machine: ${cpuModel()} · ${availableParallelism()} cores · ${gib} GiB RAM · ${now.toISOString()} · Node ${process.version}`;
}

/**
 * The file system holding `path` as `ext4 (/dev/vda)`, from the longest matching mount point in
 * `/proc/self/mounts`: an fsync on tmpfs is free, on a disk it is not, and write figures differ.
 */
export function fileSystemOf(path: string): string {
  try {
    const target = realpathSync(path);
    let best: { point: string; type: string; device: string } | undefined;
    for (const line of readFileSync('/proc/self/mounts', 'utf8').split('\n')) {
      const [device, point, type] = line.split(' ');
      if (!device || !point || !type) continue;
      const within = target === point || target.startsWith(point.endsWith('/') ? point : `${point}/`);
      if (within && (!best || point.length > best.point.length)) best = { point, type, device };
    }
    return best ? `${best.type} (${best.device})` : 'unknown file system';
  } catch {
    return 'unknown file system';
  }
}
