/**
 * What benchmarks need to know about the server process and the machine: memory and CPU time
 * of a PID from `/proc`, a free loopback port, and cleanup that also runs on Ctrl-C.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** Resident set size of `pid` in bytes (`VmRSS` of `/proc/<pid>/status`). */
export function rssBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

/** User plus system CPU seconds `pid` has used (fields 14 and 15 of `/proc/<pid>/stat`). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces; the fields after its closing parenthesis do not.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticksPerSecond = 100; // USER_HZ is 100 on every Linux architecture Node supports.
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

/**
 * User plus system CPU seconds of `pid`'s main thread alone (its task `pid`): with front-end
 * threads doing TLS and HTTP, the main thread is the one whose saturation limits the server.
 */
export function mainThreadCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** CPU seconds this process has used so far. */
export function ownCpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

/** A loopback TCP port that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * Runs `main`, then `cleanup` — also when the user interrupts with Ctrl-C or SIGTERM — so a
 * benchmark never leaves a server or a temporary directory behind.
 */
export async function runBench(main: () => Promise<void>, cleanup: () => Promise<void>): Promise<void> {
  let cleaning: Promise<void> | undefined;
  let interrupted = false;
  const clean = () => (cleaning ??= cleanup().catch((error: unknown) => console.error('cleanup failed:', error)));
  const onSignal = (signal: NodeJS.Signals) => {
    interrupted = true;
    console.error(`\n${signal}: cleaning up`);
    void clean().then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await main();
  } catch (error) {
    process.exitCode = 1;
    // Once interrupted, the failures of requests cut short by the cleanup are expected noise.
    if (!interrupted) console.error(error);
  } finally {
    await clean();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Busy CPU seconds of the whole machine, all cores (from the first line of `/proc/stat`). */
export function machineBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  // cpu user nice system idle iowait irq softirq steal …
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return (user! + nice! + system! + irq! + softirq! + steal!) / 100;
}

/** CPU counters at one moment: the server's, this process's, the machine's. */
export interface CpuSnapshot {
  at: number;
  server: number;
  client: number;
  machine: number;
}

/** Takes a {@link CpuSnapshot}; `serverPid` is the server child. */
export function cpuSnapshot(serverPid: number): CpuSnapshot {
  return { at: performance.now(), server: cpuSeconds(serverPid), client: ownCpuSeconds(), machine: machineBusySeconds() };
}

/**
 * CPU used between two snapshots, in cores (1 = one core busy the whole time): by the server,
 * by this load generator, and by everything else on the machine — which should be near 0 for
 * figures worth comparing; other work on a shared machine makes every latency worse.
 */
export function cpuBetween(from: CpuSnapshot, to: CpuSnapshot): { server: number; client: number; other: number } {
  const seconds = (to.at - from.at) / 1000;
  const server = (to.server - from.server) / seconds;
  const client = (to.client - from.client) / seconds;
  const machine = (to.machine - from.machine) / seconds;
  return { server, client, other: Math.max(0, machine - server - client) };
}

/**
 * Waits until the rest of the machine is quiet — every process together using less than
 * `threshold` cores over half a second — or `maxWaitMs` passed. Returns the last load seen
 * (in cores), so the report can say when it ran on a busy machine.
 */
export async function waitForQuietMachine(options: { threshold?: number; maxWaitMs?: number } = {}): Promise<number> {
  const threshold = options.threshold ?? 0.15;
  const deadline = performance.now() + (options.maxWaitMs ?? 20_000);
  let announced = false;
  for (;;) {
    const busy0 = machineBusySeconds() - ownCpuSeconds();
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, 500));
    const load = (machineBusySeconds() - ownCpuSeconds() - busy0) / ((performance.now() - t0) / 1000);
    if (load < threshold || performance.now() > deadline) return Math.max(0, load);
    if (!announced) console.error(`the machine is busy (${load.toFixed(2)} cores used by other processes); waiting for it to quiet down…`);
    announced = true;
  }
}
