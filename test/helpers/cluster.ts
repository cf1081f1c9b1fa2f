/**
 * Test helpers for whole-cluster tests: start a real `skiff server` process on a temporary data
 * dir and a free loopback port, and run the machine's real kubectl against it. Everything a
 * helper starts is stopped by the PID it started, and temporary directories are removed.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..', '..');
const skiff = join(root, 'bin', 'skiff');

/** A running `skiff server` started by a test. */
export interface TestServer {
  url: string;
  dataDir: string;
  kubeconfig: string;
  process: ChildProcess;
  /** The server's stderr so far. */
  log(): string;
  /** SIGTERM, then wait for exit. Returns the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL, then wait for exit. */
  kill(): Promise<void>;
}

/** Options of {@link startServer}. */
export interface StartOptions {
  /** Reuse a data dir (to test restarts); default: a new temporary one, removed by `cleanup`. */
  dataDir?: string;
  datastoreEndpoint?: string;
  /** The API port; default 0 (any free port). Restart tests pass the previous one. */
  port?: number;
  extraArgs?: string[];
  /** Run the embedded node agent (no `--disable-agent`); give a unique `--node-name` and `--cluster-cidr` in extraArgs. */
  agent?: boolean;
}

/** Starts a server and resolves once its kubeconfig is written (it answered /readyz). */
export async function startServer(options: StartOptions = {}): Promise<TestServer> {
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'skiff-test-')));
  const kubeconfig = join(dataDir, 'kubeconfig.yaml');
  await rm(kubeconfig, { force: true });
  const args = ['server', '--data-dir', dataDir, '--https-listen-port', String(options.port ?? 0), ...(options.agent ? [] : ['--disable-agent'])];
  if (options.datastoreEndpoint) args.push('--datastore-endpoint', options.datastoreEndpoint);
  args.push(...(options.extraArgs ?? []));
  const child = spawn(skiff, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
  child.stdout!.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const url = await new Promise<string>((resolvePromise, reject) => {
    // A server that never comes up leaves nothing behind: its process and its own data dir go.
    let settled = false;
    const fail = (error: Error) => {
      if (settled) return; // a server that started and stopped later is the test's business
      settled = true;
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      void exited.then(() => (ownDir ? rm(dataDir, { recursive: true, force: true }) : undefined)).finally(() => reject(error));
    };
    const timer = setTimeout(() => fail(new Error(`skiff server did not start in 30 s:\n${log}`)), 30_000);
    const check = () => {
      const listening = /API server listening on (\S+)/.exec(log);
      if (listening && /wrote kubeconfig/.test(log)) {
        settled = true;
        clearTimeout(timer);
        child.stderr!.off('data', check);
        resolvePromise(listening[1]!);
      }
    };
    child.stderr!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      fail(new Error(`skiff server exited with ${code}:\n${log}`));
    });
  });
  return {
    url,
    dataDir,
    kubeconfig,
    process: child,
    log: () => log,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** The port of a server's URL. */
export function portOf(server: Pick<TestServer, 'url'>): number {
  return Number(new URL(server.url).port);
}

/** Stops the server (if running) and removes its data dir. */
export async function cleanup(server: TestServer | undefined): Promise<void> {
  if (!server) return;
  await server.kill();
  await rm(server.dataDir, { recursive: true, force: true });
}

/** The directory holding the versioned kubectl binaries (`kubectl.1.27` …). */
export function kubectlDir(): string {
  const onPath = (process.env.PATH ?? '').split(':').map((d) => join(d, 'kubectl')).find((p) => existsSync(p));
  if (!onPath) throw new Error('kubectl is not on PATH');
  return dirname(realpathSync(onPath));
}

/** The kubectl binary of a minor version (`1.27`), or the default one. */
export function kubectlBinary(version?: string): string {
  return version ? join(kubectlDir(), `kubectl.${version}`) : join(kubectlDir(), 'kubectl');
}

/** The outcome of one kubectl run. */
export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs kubectl against a server. Never throws for a non-zero exit; look at `code`. */
export function kubectl(
  server: Pick<TestServer, 'kubeconfig'>,
  args: string[],
  options: { input?: string; version?: string; timeoutMs?: number; env?: Record<string, string> } = {},
): Promise<KubectlResult> {
  return new Promise((resolvePromise) => {
    const child = execFile(
      kubectlBinary(options.version),
      // A cache dir per server keeps discovery caches inside the test's own data dir.
      ['--kubeconfig', server.kubeconfig, '--cache-dir', join(dirname(server.kubeconfig), '.kube-cache'), ...args],
      {
        timeout: options.timeoutMs ?? 60_000,
        maxBuffer: 64 * 1024 * 1024,
        env: { ...process.env, ...options.env },
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolvePromise({ code, stdout, stderr });
      },
    );
    if (options.input !== undefined) child.stdin!.end(options.input);
    else child.stdin!.end();
  });
}
