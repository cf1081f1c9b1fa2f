/**
 * The kubelet's HTTPS server (upstream's port 10250): container logs, exec, attach and
 * port-forward, for the API server to proxy `pods/log`, `pods/exec`, `pods/attach` and
 * `pods/portforward` to.
 *
 * - `GET /containerLogs/{ns}/{pod}/{container}?follow&tailLines&sinceSeconds&sinceTime&timestamps&previous&limitBytes`:
 *   the CRI log file as plain text, streamed (see log-reader.ts).
 * - `/exec/{ns}/{pod}/{container}?command=…&stdin&stdout&stderr&tty` and
 *   `/attach/{ns}/{pod}/{container}?stdin&stdout&stderr&tty`: WebSocket with the channel
 *   protocol `v5.channel.k8s.io` or `v4.channel.k8s.io` (see channel-protocol.ts of the API
 *   server); the error channel carries the exit Status.
 * - `GET /stats/summary[?only_cpu_and_memory=true]`: the Summary API (see summary.ts), when a
 *   stats provider is given; 404 otherwise.
 * - `/portForward/{ns}/{pod}?port=P[&port=Q…]`: WebSocket, channels 2i (data) and 2i+1 (error)
 *   per port, each opened with the port as two little-endian bytes; `[255, 2i]` (v5) ends the
 *   data written to the pod.
 *
 * Contract: TLS with a self-signed serving certificate made at start in `certDir`; every
 * connection must present a client certificate signed by `clientCa` (the cluster CA, as
 * upstream's `--client-ca-file`), or the TLS handshake fails. Errors are answered as a
 * metav1.Status with the matching HTTP code. `close()` stops listening and ends every open
 * stream.
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import type { Duplex } from 'node:stream';
import {
  acceptUpgrade,
  channelMessage,
  CLOSE,
  ERROR,
  exitStatus,
  failureStatus,
  isWebSocketUpgrade,
  JsonObjectSplitter,
  offeredProtocols,
  RESIZE,
  STDERR,
  STDIN,
  STDOUT,
  terminalSize,
  V4_PROTOCOL,
  V5_PROTOCOL,
  WebSocket,
} from '../../streams/index.ts';
import { ensureSelfSignedCertificate } from '../../pki/index.ts';
import type { ContainerRuntime, StreamHandle } from '../runtime/container-runtime.ts';
import { findContainer, readySandbox, runningContainer } from './containers.ts';
import { badRequest, KubeletServerError, notFound } from './errors.ts';
import { readLogs } from './log-reader.ts';
import type { StatsProvider } from './summary.ts';

/** Upstream's kubelet port. */
export const DEFAULT_KUBELET_PORT = 10250;

/** Options of {@link KubeletServer}. */
export interface KubeletServerOptions {
  runtime: ContainerRuntime;
  /** PEM of the CA whose client certificates are accepted (the cluster CA). */
  clientCa: string;
  /** Where the self-signed serving certificate is kept. */
  certDir: string;
  /** Default `0.0.0.0`. */
  host?: string;
  /** Default 10250; 0 picks a free port. */
  port?: number;
  /** Names and addresses the serving certificate covers, beyond the hostname and localhost. */
  hosts?: string[];
  /** Serves `/stats/summary`. */
  stats?: StatsProvider;
  now?: () => Date;
  log?: (line: string) => void;
}

const PROTOCOLS = [V5_PROTOCOL, V4_PROTOCOL];

function isTrue(value: string | null): boolean {
  return value === 'true' || value === '1';
}

/** See the file header. */
export class KubeletServer {
  readonly #o: KubeletServerOptions;
  readonly #runtime: ContainerRuntime;
  readonly #log: (line: string) => void;
  readonly #sessions = new Set<() => void>();
  #server: Server | undefined;
  #address: AddressInfo | undefined;

  constructor(options: KubeletServerOptions) {
    this.#o = options;
    this.#runtime = options.runtime;
    this.#log = options.log ?? ((l) => console.error(l));
  }

  /** The bound port (after `start()`). */
  get port(): number {
    if (!this.#address) throw new Error('the kubelet server is not listening');
    return this.#address.port;
  }

  /** Makes the serving certificate and starts listening. */
  async start(): Promise<void> {
    const { cert, key } = await ensureSelfSignedCertificate(this.#o.certDir, {
      name: 'kubelet',
      commonName: `${hostname()}@kubelet`,
      hosts: [...new Set(['localhost', '127.0.0.1', hostname().toLowerCase(), ...(this.#o.hosts ?? [])])].filter((h) => /^[^\s/]+$/.test(h)),
      ...(this.#o.now ? { now: this.#o.now } : {}),
    });
    const server = createServer({ key, cert, ca: this.#o.clientCa, requestCert: true, rejectUnauthorized: true }, (req, res) => {
      void this.#request(req, res);
    });
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => void this.#upgrade(req, socket, head));
    server.on('tlsClientError', () => {});
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: this.#o.host ?? '0.0.0.0', port: this.#o.port ?? DEFAULT_KUBELET_PORT }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.#server = server;
    this.#address = server.address() as AddressInfo;
  }

  /** Stops listening and ends every stream. */
  async close(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    for (const end of [...this.#sessions]) end();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  // ---- plain requests: logs, health --------------------------------------------------------

  async #request(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://kubelet');
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    try {
      if (url.pathname === '/healthz') {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
        return;
      }
      if (parts[0] === 'containerLogs' && parts.length === 4 && (req.method === 'GET' || req.method === 'HEAD')) {
        await this.#logs(parts[1]!, parts[2]!, parts[3]!, url.searchParams, req, res);
        return;
      }
      if (url.pathname === '/stats/summary' && this.#o.stats && (req.method === 'GET' || req.method === 'HEAD')) {
        const summary = await this.#o.stats.summary({ onlyCpuAndMemory: isTrue(url.searchParams.get('only_cpu_and_memory')) });
        res.writeHead(200, { 'content-type': 'application/json' }).end(req.method === 'HEAD' ? undefined : JSON.stringify(summary));
        return;
      }
      if (['exec', 'attach', 'portForward'].includes(parts[0] ?? '')) {
        throw badRequest('Upgrade request required');
      }
      throw notFound(`the kubelet serves no ${url.pathname}`);
    } catch (error) {
      this.#fail(res, error);
    }
  }

  #fail(res: ServerResponse, error: unknown): void {
    const e = error instanceof KubeletServerError ? error : new KubeletServerError(500, 'InternalError', (error as Error).message);
    if (!(error instanceof KubeletServerError)) this.#log(`kubelet server: ${(error as Error).stack ?? error}`);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.writeHead(e.code, { 'content-type': 'application/json' }).end(JSON.stringify(e.toStatus()));
  }

  async #logs(namespace: string, pod: string, container: string, q: URLSearchParams, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const number = (name: string): number | undefined => {
      const v = q.get(name);
      if (v === null || v === '') return undefined;
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) throw badRequest(`invalid ${name}: ${v}`);
      return n;
    };
    const tailLines = number('tailLines');
    const limitBytes = number('limitBytes');
    const sinceSeconds = number('sinceSeconds');
    const sinceTimeText = q.get('sinceTime');
    let sinceTime: Date | undefined;
    if (sinceTimeText) {
      sinceTime = new Date(sinceTimeText);
      if (Number.isNaN(sinceTime.getTime())) throw badRequest(`invalid sinceTime: ${sinceTimeText}`);
    } else if (sinceSeconds !== undefined) {
      sinceTime = new Date((this.#o.now?.() ?? new Date()).getTime() - sinceSeconds * 1000);
    }
    const status = await findContainer(this.#runtime, namespace, pod, container, isTrue(q.get('previous')));
    res.writeHead(200, { 'content-type': 'text/plain', 'transfer-encoding': 'chunked', 'cache-control': 'no-cache, private' });
    res.flushHeaders();
    if (req.method === 'HEAD') return void res.end();
    const abort = new AbortController();
    res.on('close', () => abort.abort());
    const end = () => abort.abort();
    this.#sessions.add(end);
    try {
      await readLogs(status.logPath, {
        follow: isTrue(q.get('follow')),
        ...(tailLines !== undefined ? { tailLines } : {}),
        ...(limitBytes !== undefined ? { limitBytes } : {}),
        ...(sinceTime ? { sinceTime } : {}),
        timestamps: isTrue(q.get('timestamps')),
        signal: abort.signal,
        running: async () => {
          const s = await this.#runtime.containerStatus(status.id).catch(() => undefined);
          return s !== undefined && (s.state === 'running' || s.state === 'created');
        },
        write: (chunk) => {
          if (res.destroyed) return;
          if (!res.write(chunk)) return new Promise<void>((resolve) => { res.once('drain', resolve); res.once('close', resolve); });
        },
      });
      res.end();
    } finally {
      this.#sessions.delete(end);
    }
  }

  // ---- upgrades: exec, attach, port-forward ------------------------------------------------

  async #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => {});
    const url = new URL(req.url ?? '/', 'https://kubelet');
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const q = url.searchParams;
    const refuse = (error: unknown) => {
      const e = error instanceof KubeletServerError ? error : new KubeletServerError(500, 'InternalError', (error as Error).message);
      const body = JSON.stringify(e.toStatus());
      socket.end(`HTTP/1.1 ${e.code} ${e.reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    };
    try {
      if (!isWebSocketUpgrade(req.headers)) throw badRequest('only WebSocket upgrades are served');
      const offered = offeredProtocols(req.headers);
      const protocol = PROTOCOLS.find((p) => offered.includes(p)) ?? (offered.length === 0 ? V4_PROTOCOL : undefined);
      if (!protocol) throw badRequest(`none of the subprotocols ${offered.join(', ')} is supported; use ${PROTOCOLS.join(' or ')}`);
      const kind = parts[0];
      if ((kind === 'exec' || kind === 'attach') && parts.length === 4) {
        const [, namespace, pod, container] = parts as [string, string, string, string];
        const container_ = await runningContainer(this.#runtime, namespace, pod, container);
        const options = { stdin: isTrue(q.get('stdin')) || isTrue(q.get('input')), stdout: isTrue(q.get('stdout')) || isTrue(q.get('output')), stderr: isTrue(q.get('stderr')) || isTrue(q.get('error')), tty: isTrue(q.get('tty')) };
        const command = q.getAll('command');
        if (kind === 'exec' && command.length === 0) throw badRequest('you must specify at least 1 command');
        const handle = kind === 'exec'
          ? await this.#runtime.exec(container_.id, { cmd: command, tty: options.tty, stdin: options.stdin })
          : await this.#runtime.attach(container_.id, { stdin: options.stdin, tty: options.tty });
        socket.write(acceptUpgrade(req.headers, protocol));
        this.#session(new WebSocket(socket, { role: 'server', head }), protocol, handle, { ...options, command, exec: kind === 'exec' });
        return;
      }
      if (kind === 'portForward' && parts.length === 3) {
        const ports = q.getAll('port').map(Number);
        if (ports.length === 0 || ports.some((p) => !Number.isInteger(p) || p < 1 || p > 65535)) throw badRequest(`invalid port in ${q.getAll('port').join(',') || '(none)'}`);
        const sandbox = await readySandbox(this.#runtime, parts[1]!, parts[2]!);
        socket.write(acceptUpgrade(req.headers, protocol));
        this.#portForward(new WebSocket(socket, { role: 'server', head }), protocol, sandbox.id, ports);
        return;
      }
      throw notFound(`the kubelet serves no ${url.pathname}`);
    } catch (error) {
      if (!(error instanceof KubeletServerError)) this.#log(`kubelet server: ${req.url}: ${(error as Error).stack ?? error}`);
      refuse(error);
    }
  }

  /** Relays an exec or attach session between the WebSocket and the runtime. */
  #session(ws: WebSocket, protocol: string, handle: StreamHandle, o: { stdin: boolean; stdout: boolean; stderr: boolean; tty: boolean; command: string[]; exec: boolean }): void {
    const end = () => ws.terminate();
    this.#sessions.add(end);
    handle.stdin?.on('error', () => {});
    const resize = new JsonObjectSplitter();
    ws.onMessage((data) => {
      if (data.length === 0) return;
      const channel = data[0]!;
      const body = data.subarray(1);
      if (channel === STDIN && handle.stdin && o.stdin) handle.stdin.write(body);
      else if (channel === RESIZE) {
        for (const value of resize.push(body)) {
          const size = terminalSize(value);
          if (size) void handle.resize(size.width, size.height).catch(() => {});
        }
      } else if (channel === CLOSE && protocol === V5_PROTOCOL && body[0] === STDIN) handle.stdin?.end();
    });
    const pipe = (stream: NodeJS.ReadableStream | null, channel: number, wanted: boolean): Promise<void> => {
      if (!stream) return Promise.resolve();
      return new Promise((resolve) => {
        stream.on('data', (chunk: Buffer) => {
          if (wanted && !ws.closed && !ws.send(channelMessage(channel, chunk))) {
            stream.pause();
            void ws.drained().then(() => stream.resume());
          }
        });
        stream.on('end', resolve);
        stream.on('close', resolve);
        stream.on('error', () => resolve());
      });
    };
    const outputs = Promise.all([pipe(handle.stdout, STDOUT, o.stdout || o.tty), pipe(handle.stderr, STDERR, o.stderr)]);
    ws.onClose(() => {
      this.#sessions.delete(end);
      handle.close();
    });
    void (async () => {
      const { exitCode } = await handle.exit;
      await outputs;
      if (ws.closed) return;
      const status = o.exec ? exitStatus(exitCode, o.command) : exitStatus(0);
      ws.send(channelMessage(ERROR, JSON.stringify(status)));
      ws.close(1000);
    })();
  }

  /** Relays port-forward channels to connections inside the pod's network namespace. */
  #portForward(ws: WebSocket, protocol: string, sandboxId: string, ports: number[]): void {
    const end = () => ws.terminate();
    this.#sessions.add(end);
    /** Per port: its connection once made, and what the client sent before that. */
    const links = ports.map(() => ({ conn: undefined as Duplex | undefined, pending: [] as Buffer[], ended: false }));
    let open = ports.length;
    const done = () => {
      if (--open === 0 && !ws.closed) ws.close(1000);
    };
    ports.forEach((port, i) => {
      const link = links[i]!;
      const portBytes = Buffer.alloc(2);
      portBytes.writeUInt16LE(port);
      ws.send(channelMessage(2 * i, portBytes));
      ws.send(channelMessage(2 * i + 1, portBytes));
      void this.#runtime.portForward(sandboxId, port).then(
        (conn) => {
          link.conn = conn;
          conn.on('error', () => {});
          for (const chunk of link.pending) conn.write(chunk);
          link.pending = [];
          if (link.ended) conn.end();
          conn.on('data', (chunk: Buffer) => {
            if (!ws.closed && !ws.send(channelMessage(2 * i, chunk))) {
              conn.pause();
              void ws.drained().then(() => conn.resume());
            }
          });
          conn.on('close', done);
          if (ws.closed) conn.destroy();
        },
        (e: unknown) => {
          ws.send(channelMessage(2 * i + 1, `error forwarding port ${port} to pod sandbox ${sandboxId}: ${(e as Error).message}`));
          done();
        },
      );
    });
    ws.onMessage((message) => {
      if (message.length === 0) return;
      const channel = message[0]!;
      const body = message.subarray(1);
      if (channel === CLOSE && protocol === V5_PROTOCOL) {
        const link = body[0]! % 2 === 0 ? links[body[0]! / 2] : undefined;
        if (!link) return;
        link.ended = true;
        link.conn?.end();
        return;
      }
      const link = channel % 2 === 0 ? links[channel / 2] : undefined;
      if (!link) return;
      if (link.conn) link.conn.write(body);
      else link.pending.push(Buffer.from(body));
    });
    ws.onClose(() => {
      this.#sessions.delete(end);
      for (const link of links) link.conn?.destroy();
    });
  }
}
