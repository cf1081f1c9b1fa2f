/**
 * CRI `ReopenContainerLog` for the runc runtime: the container's shim (shim.ts) reopens its log
 * file on SIGUSR1. The kubelet has renamed the file away before asking, so the reopen is
 * confirmed by a file appearing again at the log path (the shim opens it with O_CREAT).
 */
import { existsSync, readFileSync } from 'node:fs';
import { InvalidStateError } from '../errors.ts';

/**
 * Whether `pid` is the live shim of container `id`, not a recycled pid: shims forked by the
 * spawner are named `skiff-shim <id>`; older ones were a `perl` process.
 */
function isShim(pid: number, id: string): boolean {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.startsWith(`skiff-shim ${id}`) || cmdline.split('\0')[0]!.endsWith('perl');
  } catch {
    return false;
  }
}

/**
 * Signals the shim `shimPid` to reopen `logPath` and resolves once the file exists again;
 * throws `InvalidStateError` when the shim is gone or does not reopen within `timeoutMs`.
 */
export async function reopenShimLog(id: string, shimPid: number | undefined, logPath: string, timeoutMs = 2000): Promise<void> {
  if (!shimPid || !isShim(shimPid, id)) throw new InvalidStateError(`container "${id}" has no running shim: its log cannot be reopened`);
  process.kill(shimPid, 'SIGUSR1');
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(logPath)) {
    if (Date.now() > deadline || !isShim(shimPid, id)) throw new InvalidStateError(`container "${id}": the shim did not reopen ${logPath}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
