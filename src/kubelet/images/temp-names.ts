/**
 * Names of temporary files and folders in the store carry the creating process's PID, so that
 * clearing leftovers at start (a crash mid-pull) never touches the work of another process
 * sharing the store — the `skiff image` CLI beside a running agent.
 */
import { randomBytes } from 'node:crypto';

/** A unique temporary name: `<prefix><pid>-<label>-<random>`. */
export function tempName(prefix: string, label: string): string {
  return `${prefix}${process.pid}-${label}-${randomBytes(6).toString('hex')}`;
}

/** Whether a temporary name (made by {@link tempName} with `prefix`) belongs to a process that no longer runs. */
export function isStaleTemp(name: string, prefix: string): boolean {
  if (!name.startsWith(prefix)) return false;
  const pid = Number(name.slice(prefix.length).split('-')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return true;
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
