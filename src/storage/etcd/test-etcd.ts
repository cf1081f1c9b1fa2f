/**
 * Starts a throw-away single-member etcd on loopback for tests and benchmarks: random free
 * ports, a temporary data directory, stopped by its PID and removed afterwards. etcd keeps its
 * default durability (it fsyncs its WAL on every commit), so measurements against it are fair.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where Debian's `etcd-server` package installs etcd. */
export const ETCD_BINARY = '/usr/bin/etcd';

/** A running etcd started by {@link startEtcd}. */
export interface TestEtcd {
  /** Client URL, e.g. `http://127.0.0.1:40123`. */
  readonly endpoint: string;
  /** The etcd process's PID. */
  readonly pid: number;
  /** Its data directory (removed by `stop`). */
  readonly dataDir: string;
  /** Stops etcd (SIGTERM, then SIGKILL after 5 s) and removes its data directory. */
  stop(): Promise<void>;
}

/** Options of {@link startEtcd}. */
export interface StartEtcdOptions {
  /** The etcd binary. Default {@link ETCD_BINARY}. */
  binary?: string;
  /** How long to wait for `/health`, in ms. Default 20,000. */
  timeoutMs?: number;
}

/** Why etcd tests cannot run here, or undefined when they can. Use as a test's `skip`. */
export function etcdUnavailableReason(binary: string = ETCD_BINARY): string | undefined {
  if (existsSync(binary)) return undefined;
  return `${binary} not found: install it with \`apt-get install etcd-server\``;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not pick a free port'));
      });
    });
  });
}

async function healthy(endpoint: string): Promise<boolean> {
  try {
    const response = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(1000) });
    const body = (await response.json()) as { health?: string };
    return body.health === 'true';
  } catch {
    return false;
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * Starts etcd and resolves once it reports healthy. If the test process dies first, an exit
 * hook still kills this etcd by its PID.
 */
export async function startEtcd(options: StartEtcdOptions = {}): Promise<TestEtcd> {
  const binary = options.binary ?? ETCD_BINARY;
  const timeoutMs = options.timeoutMs ?? 20_000;
  const reason = etcdUnavailableReason(binary);
  if (reason !== undefined) throw new Error(reason);

  const dataDir = mkdtempSync(join(tmpdir(), 'skiff-etcd-'));
  const clientUrl = `http://127.0.0.1:${await freePort()}`;
  const peerUrl = `http://127.0.0.1:${await freePort()}`;
  const child = spawn(
    binary,
    [
      '--name=skiff-test',
      `--data-dir=${dataDir}`,
      `--listen-client-urls=${clientUrl}`,
      `--advertise-client-urls=${clientUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=skiff-test=${peerUrl}`,
      '--initial-cluster-state=new',
      '--logger=zap',
      '--log-level=error',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const pid = child.pid!;
  const killOnExit = (): void => {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  process.once('exit', killOnExit);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      process.removeListener('exit', killOnExit);
      if (child.exitCode === null && child.signalCode === null) {
        process.kill(pid, 'SIGTERM');
        const timer = setTimeout(() => {
          if (child.exitCode === null && child.signalCode === null) process.kill(pid, 'SIGKILL');
        }, 5000);
        await exited(child);
        clearTimeout(timer);
      }
      rmSync(dataDir, { recursive: true, force: true });
    })();
    return stopping;
  };

  const deadline = Date.now() + timeoutMs;
  while (!(await healthy(clientUrl))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`etcd did not become healthy at ${clientUrl}: ${stderr.trim() || 'no output'}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { endpoint: clientUrl, pid, dataDir, stop };
}
