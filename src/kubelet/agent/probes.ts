/**
 * Container probes as upstream's prober: liveness, readiness and startup, each an `exec`
 * (through the runtime's execSync), `httpGet` and `tcpSocket` (from the host into the pod's IP,
 * or the host for hostNetwork pods) or `grpc` (`grpc.health.v1.Health/Check` over HTTP/2),
 * with initialDelaySeconds, periodSeconds, timeoutSeconds, successThreshold and failureThreshold.
 *
 * One worker (a timer, no polling loop) per container and probe kind, keyed by container id: a
 * new container instance starts over. Results: readiness starts false, liveness true, startup
 * false; a result that flips (after its threshold) calls `onChange`, which re-syncs the pod.
 * Liveness and readiness wait until the startup probe has succeeded, as upstream.
 */
import { request as httpRequest } from 'node:http';
import { connect as http2Connect } from 'node:http2';
import { request as httpsRequest } from 'node:https';
import { connect as netConnect } from 'node:net';
import type { Container, Probe } from 'kubernetes-types/core/v1.js';
import type { ContainerRuntime } from '../runtime/container-runtime.ts';
import { KUBELET_VERSION } from './node-status.ts';

/** The three probe kinds. */
export type ProbeKind = 'liveness' | 'readiness' | 'startup';

/** One probe run's outcome. */
export interface ProbeOutcome {
  ok: boolean;
  /** Why it failed, worded as the kubelet's `Unhealthy` events. */
  message: string;
}

/** What a probe needs to know about its target. */
export interface ProbeTarget {
  podKey: string;
  podUid: string;
  containerId: string;
  container: Container;
  /** Pod IP, or the host's address for hostNetwork pods. */
  host: string;
  /** Container start, ms since the epoch. */
  startedAt: number;
}

/** Options of {@link ProbeManager}. */
export interface ProbeManagerOptions {
  runtime: ContainerRuntime;
  /** A result flipped: re-sync the pod. */
  onChange: (podUid: string) => void;
  /** A probe failed (event `Unhealthy`). */
  onFailure: (target: ProbeTarget, kind: ProbeKind, message: string) => void;
  now?: () => number;
}

interface Worker {
  target: ProbeTarget;
  kind: ProbeKind;
  probe: Probe;
  timer?: NodeJS.Timeout;
  result: boolean;
  /** Consecutive outcomes equal to the last one. */
  run: number;
  last?: boolean;
  stopped: boolean;
  /** Liveness/startup failed past the threshold: the container is being restarted; stop probing. */
  tripped: boolean;
}

const DEFAULTS = { periodSeconds: 10, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3, initialDelaySeconds: 0 };

function portOf(port: number | string | undefined, container: Container): number {
  if (typeof port === 'number') return port;
  if (port !== undefined && /^\d+$/.test(port)) return Number(port);
  const named = container.ports?.find((p) => p.name === port);
  return named?.containerPort ?? 0;
}

/** Options of {@link runProbe}. */
export interface RunProbeOptions {
  /** The HTTP `User-Agent`: `kube-probe/<major>.<minor>` for probes (default), `kube-lifecycle/…` for hooks. */
  userAgent?: string;
  /** Any HTTP response counts as success (lifecycle hooks: only a failed request fails them). */
  anyStatus?: boolean;
}

/** `kube-probe/1.32` from the kubelet's version, as upstream's prober. */
export const PROBE_USER_AGENT = `kube-probe/${KUBELET_VERSION.replace(/^v(\d+\.\d+).*$/, '$1')}`;

/** Go's wording of socket errors (`syscall.Errno` strings), for messages that read as upstream's. */
const ERRNO_TEXT: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by peer',
  EHOSTUNREACH: 'no route to host',
  ENETUNREACH: 'network is unreachable',
  ETIMEDOUT: 'connection timed out',
  EADDRNOTAVAIL: 'cannot assign requested address',
};

/** `dial tcp HOST:PORT: connect: connection refused`, as Go's net.Dial reports a failed connect. */
export function dialError(host: string, port: number, error: Error & { code?: string }): string {
  const addr = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const known = error.code ? ERRNO_TEXT[error.code] : undefined;
  return `dial tcp ${addr}: ${known ? `connect: ${known}` : error.message}`;
}

/** Runs one probe once. */
export async function runProbe(probe: Probe, target: ProbeTarget, runtime: ContainerRuntime, options: RunProbeOptions = {}): Promise<ProbeOutcome> {
  const timeoutMs = (probe.timeoutSeconds ?? DEFAULTS.timeoutSeconds) * 1000;
  if (probe.exec) {
    try {
      const r = await runtime.execSync(target.containerId, probe.exec.command ?? [], timeoutMs);
      if (r.exitCode === 0) return { ok: true, message: '' };
      const out = Buffer.concat([r.stdout, r.stderr]).toString().trim();
      return { ok: false, message: out || `command "${(probe.exec.command ?? []).join(' ')}" exited with ${r.exitCode}` };
    } catch (error) {
      const e = error as Error;
      return { ok: false, message: e.name === 'ExecTimeoutError' ? `command timed out: "${(probe.exec.command ?? []).join(' ')}" timed out after ${timeoutMs / 1000}s` : e.message };
    }
  }
  if (probe.httpGet) {
    const g = probe.httpGet;
    const port = portOf(g.port, target.container);
    const host = g.host || target.host;
    const scheme = (g.scheme ?? 'HTTP').toLowerCase();
    const path = g.path ? (g.path.startsWith('/') ? g.path : `/${g.path}`) : '/';
    const url = `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}${path}`;
    const headers: Record<string, string> = { 'User-Agent': options.userAgent ?? PROBE_USER_AGENT, Accept: '*/*' };
    for (const h of g.httpHeaders ?? []) headers[h.name] = h.value;
    return new Promise((resolve) => {
      const req = (scheme === 'https' ? httpsRequest : httpRequest)(url, { headers, timeout: timeoutMs, rejectUnauthorized: false, agent: false }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => { if (body.length < 1024) body += d.toString(); });
        res.on('end', () => {
          const code = res.statusCode ?? 0;
          if ((code >= 200 && code < 400) || options.anyStatus) resolve({ ok: true, message: '' });
          else resolve({ ok: false, message: `HTTP probe failed with statuscode: ${code}` });
        });
        res.on('error', () => resolve({ ok: false, message: 'HTTP probe failed: response error' }));
      });
      req.on('timeout', () => req.destroy(new Error(`Get "${url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`)));
      req.on('error', (e: Error & { code?: string }) => {
        const detail = e.message.startsWith('Get ') ? e.message : `Get "${url}": ${e.code && ERRNO_TEXT[e.code] ? dialError(host, port, e) : e.message}`;
        resolve({ ok: false, message: detail });
      });
      req.end();
    });
  }
  if (probe.tcpSocket) {
    const port = portOf(probe.tcpSocket.port, target.container);
    const host = probe.tcpSocket.host || target.host;
    return new Promise((resolve) => {
      const socket = netConnect({ host, port, timeout: timeoutMs });
      socket.on('connect', () => { socket.destroy(); resolve({ ok: true, message: '' }); });
      socket.on('timeout', () => { socket.destroy(); resolve({ ok: false, message: `dial tcp ${host}:${port}: i/o timeout` }); });
      socket.on('error', (e) => resolve({ ok: false, message: dialError(host, port, e) }));
    });
  }
  if (probe.grpc) return grpcHealth(target.host, probe.grpc.port, probe.grpc.service ?? '', timeoutMs);
  return { ok: true, message: '' };
}

/** gRPC status codes by number, as grpc-go names them. */
const GRPC_CODES = ['OK', 'Canceled', 'Unknown', 'InvalidArgument', 'DeadlineExceeded', 'NotFound', 'AlreadyExists', 'PermissionDenied', 'ResourceExhausted', 'FailedPrecondition', 'Aborted', 'OutOfRange', 'Unimplemented', 'Internal', 'Unavailable', 'DataLoss', 'Unauthenticated'];

/** A protobuf varint. */
function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}

/** `grpc.health.v1.Health/Check`: SERVING (1) is success. */
function grpcHealth(host: string, port: number, service: string, timeoutMs: number): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const authority = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    const session = http2Connect(authority);
    const timer = setTimeout(() => { session.destroy(); done({ ok: false, message: `timeout: health rpc did not complete within ${timeoutMs / 1000}s` }); }, timeoutMs);
    let settled = false;
    const done = (o: ProbeOutcome) => { if (settled) return; settled = true; clearTimeout(timer); session.close(); resolve(o); };
    let connected = false;
    session.on('connect', () => (connected = true));
    const connectFailed = (e: Error & { code?: string; cause?: unknown }) => {
      const cause = (e.cause ?? e) as Error & { code?: string };
      done({ ok: false, message: `timeout: failed to connect service "${host}:${port}" within ${timeoutMs / 1000}s: ${dialError(host, port, cause)}` });
    };
    session.on('error', connectFailed);
    const svc = Buffer.from(service);
    // HealthCheckRequest { string service = 1; }
    const msg = svc.length ? Buffer.concat([Buffer.from([0x0a, ...varint(svc.length)]), svc]) : Buffer.alloc(0);
    const frame = Buffer.alloc(5 + msg.length);
    frame.writeUInt32BE(msg.length, 1);
    msg.copy(frame, 5);
    const req = session.request({ ':method': 'POST', ':path': '/grpc.health.v1.Health/Check', 'content-type': 'application/grpc', te: 'trailers' });
    const chunks: Buffer[] = [];
    let grpcStatus: string | undefined;
    let grpcMessage: string | undefined;
    const headers = (h: Record<string, unknown>) => {
      if (h['grpc-status'] !== undefined) grpcStatus = String(h['grpc-status']);
      if (h['grpc-message'] !== undefined) grpcMessage = String(h['grpc-message']);
    };
    req.on('response', headers);
    req.on('trailers', headers);
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (grpcStatus !== undefined && grpcStatus !== '0') {
        const code = GRPC_CODES[Number(grpcStatus)] ?? `Code(${grpcStatus})`;
        const desc = decodeURIComponent(grpcMessage ?? '');
        if (code === 'Unimplemented') return done({ ok: false, message: `this server does not implement the grpc health protocol (grpc.health.v1.Health): ${desc}` });
        return done({ ok: false, message: `rpc error: code = ${code} desc = ${desc}` });
      }
      // HealthCheckResponse { ServingStatus status = 1; } after the 5-byte frame header.
      const payload = body.subarray(5);
      const status = payload.length >= 2 && payload[0] === 0x08 ? payload[1] : 0;
      done(status === 1 ? { ok: true, message: '' } : { ok: false, message: `service unhealthy (responded with "${['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'][status ?? 0] ?? status}")` });
    });
    req.on('error', (e) => (connected ? done({ ok: false, message: e.message }) : connectFailed(e)));
    req.end(frame);
  });
}

/** See the file header. */
export class ProbeManager {
  readonly #options: ProbeManagerOptions;
  readonly #now: () => number;
  /** containerId → kind → worker. */
  readonly #workers = new Map<string, Map<ProbeKind, Worker>>();

  constructor(options: ProbeManagerOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** Starts the probes of a running container (no-op when started already). */
  add(target: ProbeTarget): void {
    if (this.#workers.has(target.containerId)) return;
    const map = new Map<ProbeKind, Worker>();
    this.#workers.set(target.containerId, map);
    const c = target.container;
    const kinds: [ProbeKind, Probe | undefined][] = [['startup', c.startupProbe], ['liveness', c.livenessProbe], ['readiness', c.readinessProbe]];
    for (const [kind, probe] of kinds) {
      if (!probe) continue;
      const w: Worker = { target, kind, probe, result: kind === 'liveness', run: 0, stopped: false, tripped: false };
      map.set(kind, w);
      const delay = Math.max(0, target.startedAt + (probe.initialDelaySeconds ?? 0) * 1000 - this.#now());
      w.timer = setTimeout(() => void this.#tick(w), delay);
    }
  }

  /** Stops the probes of a container (it exited or was removed). */
  remove(containerId: string): void {
    const map = this.#workers.get(containerId);
    if (!map) return;
    for (const w of map.values()) {
      w.stopped = true;
      clearTimeout(w.timer);
    }
    this.#workers.delete(containerId);
  }

  /** Stops everything. */
  stop(): void {
    for (const id of [...this.#workers.keys()]) this.remove(id);
  }

  /**
   * The current result of a container's probe: undefined when it has no such probe. Readiness
   * false means not ready; liveness/startup false after the threshold means restart (startup
   * false before success just means not started yet).
   */
  result(containerId: string, kind: ProbeKind): boolean | undefined {
    return this.#workers.get(containerId)?.get(kind)?.result;
  }

  /** Whether liveness or startup has failed past its threshold. */
  tripped(containerId: string): ProbeKind | undefined {
    const map = this.#workers.get(containerId);
    if (!map) return undefined;
    for (const kind of ['startup', 'liveness'] as const) if (map.get(kind)?.tripped) return kind;
    return undefined;
  }

  async #tick(w: Worker): Promise<void> {
    if (w.stopped) return;
    const map = this.#workers.get(w.target.containerId);
    const startup = map?.get('startup');
    const period = (w.probe.periodSeconds ?? DEFAULTS.periodSeconds) * 1000;
    // Liveness and readiness wait for the startup probe; the startup probe stops once it succeeded.
    const waiting = w.kind !== 'startup' && startup !== undefined && !startup.result;
    const done = w.kind === 'startup' && w.result;
    if (!waiting && !done && !w.tripped) {
      const outcome = await runProbe(w.probe, w.target, this.#options.runtime);
      if (w.stopped) return;
      if (w.last === outcome.ok) w.run++;
      else {
        w.last = outcome.ok;
        w.run = 1;
      }
      if (!outcome.ok) this.#options.onFailure(w.target, w.kind, outcome.message);
      const threshold = outcome.ok ? (w.probe.successThreshold ?? DEFAULTS.successThreshold) : (w.probe.failureThreshold ?? DEFAULTS.failureThreshold);
      if (w.run >= threshold && w.result !== outcome.ok) {
        w.result = outcome.ok;
        if (!outcome.ok && w.kind !== 'readiness') w.tripped = true;
        this.#options.onChange(w.target.podUid);
      } else if (!outcome.ok && w.kind === 'startup' && w.run >= threshold && !w.tripped) {
        w.tripped = true;
        this.#options.onChange(w.target.podUid);
      }
    }
    if (!w.stopped) w.timer = setTimeout(() => void this.#tick(w), period);
  }
}
