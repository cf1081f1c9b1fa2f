/**
 * Test helper: runs `skiff sim` (simulated nodes) against a test server as a child process, and
 * sends it control commands on stdin — stopping a node's heartbeat is one call:
 *
 *   const sim = await startSim(server, { nodes: 3 });
 *   await sim.command('stop-heartbeat sim-1');
 *   …
 *   await sim.stop();
 *
 * Commands: `stop-heartbeat NODE`, `resume-heartbeat NODE`, `set-node-ready NODE true|false`,
 * `fail-pod NS/NAME [CODE]`, `exit-pod NS/NAME CODE`, `set-pod-ready NS/NAME true|false`.
 * The process is stopped by the PID this helper started.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import type { TestServer } from './cluster.ts';

const skiff = join(resolve(import.meta.dirname, '..', '..'), 'bin', 'skiff');

/** Options of {@link startSim}; durations are Go-style strings (`500ms`, `2s`). */
export interface SimOptions {
  nodes: number;
  /** Default `sim-`: nodes are `sim-0` … */
  nodeNamePrefix?: string;
  cpu?: string;
  memory?: string;
  pods?: string;
  labels?: Record<string, string>;
  /** `key=value:Effect` strings. */
  taints?: string[];
  jobDuration?: string;
  /** Default `1s` here (a kubelet's is 10s), so tests see Leases move. */
  heartbeatInterval?: string;
  nodeStatusInterval?: string;
  maxGracePeriod?: string;
  clusterCidr?: string;
  extraArgs?: string[];
}

/** A running `skiff sim`. */
export interface TestSim {
  process: ChildProcess;
  /** The node names, `sim-0` … */
  nodes: string[];
  /** stderr so far. */
  log(): string;
  /** Sends one control command and resolves once the simulator has applied it (rejects on `error …`). */
  command(line: string): Promise<void>;
  /** SIGTERM, then wait for exit (SIGKILL after 5 s). */
  stop(): Promise<void>;
}

/** Starts `skiff sim` against `server` and resolves once every node is registered. */
export async function startSim(server: Pick<TestServer, 'kubeconfig'>, options: SimOptions): Promise<TestSim> {
  const args = ['sim', '--kubeconfig', server.kubeconfig, '--nodes', String(options.nodes)];
  const flag = (name: string, value: string | undefined) => {
    if (value !== undefined) args.push(`--${name}`, value);
  };
  flag('node-name-prefix', options.nodeNamePrefix);
  flag('cpu', options.cpu);
  flag('memory', options.memory);
  flag('pods', options.pods);
  flag('labels', options.labels ? Object.entries(options.labels).map(([k, v]) => `${k}=${v}`).join(',') : undefined);
  flag('taints', options.taints?.join(','));
  flag('job-duration', options.jobDuration);
  flag('heartbeat-interval', options.heartbeatInterval ?? '1s');
  flag('node-status-interval', options.nodeStatusInterval);
  flag('max-grace-period', options.maxGracePeriod);
  flag('cluster-cidr', options.clusterCidr);
  args.push(...(options.extraArgs ?? []));
  const child = spawn(skiff, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let log = '';
  let out = '';
  const waiting: { line: string; resolve: () => void; reject: (error: Error) => void }[] = [];
  child.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
  child.stdout!.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    let newline: number;
    while ((newline = out.indexOf('\n')) >= 0) {
      const reply = out.slice(0, newline);
      out = out.slice(newline + 1);
      const next = waiting.shift();
      if (!next) continue;
      if (reply.startsWith('ok ')) next.resolve();
      else next.reject(new Error(`skiff sim: ${reply}`));
    }
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await new Promise<void>((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`skiff sim did not start in 60 s:\n${log}`));
    }, 60_000);
    const check = () => {
      if (/nodes ready in/.test(log)) {
        clearTimeout(timer);
        child.stderr!.off('data', check);
        resolvePromise();
      }
    };
    child.stderr!.on('data', check);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`skiff sim exited with ${child.exitCode}:\n${log}`));
    });
  });
  const prefix = options.nodeNamePrefix ?? 'sim-';
  return {
    process: child,
    nodes: Array.from({ length: options.nodes }, (_, i) => `${prefix}${i}`),
    log: () => log,
    command(line) {
      return new Promise((resolvePromise, reject) => {
        if (child.exitCode !== null || child.signalCode !== null) return reject(new Error('skiff sim is not running'));
        waiting.push({ line, resolve: resolvePromise, reject });
        child.stdin!.write(`${line.trim()}\n`);
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
