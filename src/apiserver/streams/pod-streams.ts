/**
 * The pod subresources that reach into a node: `pods/log` (a plain streamed GET, proxied to the
 * kubelet's `/containerLogs`), and `pods/exec`, `pods/attach`, `pods/portforward` (upgraded
 * connections). What kubectl speaks, and what becomes of it:
 *
 * - WebSocket `v5.channel.k8s.io`/`v4.channel.k8s.io` (kubectl ≥ 1.30 exec, attach, cp): passed
 *   through, bytes for bytes, to the kubelet's WebSocket of the same protocol.
 * - SPDY/3.1 exec and attach (kubectl ≤ 1.29): translated — SPDY streams `stdin`, `stdout`,
 *   `stderr`, `error`, `resize` become channels 0–4 of a `v5.channel.k8s.io` WebSocket to the
 *   kubelet, stdin's FIN its close signal.
 * - Port-forward, SPDY/3.1 upgrade (kubectl ≤ 1.30) or SPDY tunnelled in WebSocket
 *   `SPDY/3.1+portforward.k8s.io` (kubectl ≥ 1.31): each `data`/`error` stream pair
 *   (`requestid`, `port`) becomes one WebSocket to the kubelet's `/portForward` for that port.
 *
 * Contract: a request the API refuses (no such pod, pod not on a node, unknown container, no
 * common protocol) is answered with a Status and the connection closed; once upgraded, the
 * session lasts until either side ends it.
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import type { ApiRequest, ApiResponse } from '../../client/index.ts';
import { badRequest, StatusError, toStatus } from '../errors.ts';
import {
  CLOSE,
  channelMessage,
  ERROR,
  PORT_FORWARD_PROTOCOL,
  RESIZE,
  SPDY_PORT_FORWARD_TUNNEL,
  STDERR,
  STDIN,
  STDOUT,
  V4_PROTOCOL,
  V5_PROTOCOL,
} from '../../streams/index.ts';
import {
  kubeletGet,
  kubeletLocation,
  kubeletRequest,
  kubeletUpgrade,
  kubeletWebSocket,
  readAll,
  statusFromKubelet,
  type KubeletClientCertificate,
  type KubeletLocation,
} from './kubelet-client.ts';
import { acceptSpdyUpgrade, SpdySession, type SpdyStream } from '../../streams/index.ts';
import { acceptUpgrade, isWebSocketUpgrade, messageStream, offeredProtocols, WebSocket } from '../../streams/index.ts';

/** An upgrade request as the listener hands it over. */
export interface UpgradeRequest {
  method: string;
  /** Path and query, as sent. */
  url: string;
  headers: IncomingHttpHeaders;
}

/** What {@link PodStreams} needs from the API server. */
export interface PodStreamsDeps {
  /** The pod, or a 404 StatusError. */
  getPod(namespace: string, name: string): Promise<Pod>;
  getNode(name: string): Promise<Node>;
  /** The client certificate presented to kubelets. */
  kubeletClient?: KubeletClientCertificate;
  log?: (line: string) => void;
}

/** The subresources served here. */
export const STREAM_SUBRESOURCES = ['log', 'exec', 'attach', 'portforward'] as const;

function isTrue(value: string | null): boolean {
  return value === 'true' || value === '1';
}

/** Writes a Status as a plain HTTP answer on a raw socket and closes it. */
export function refuseUpgrade(socket: Duplex, error: unknown): void {
  const status = toStatus(error);
  const body = JSON.stringify(status);
  const reason = status.reason ?? 'Error';
  if (!socket.writable) return void socket.destroy();
  socket.end(`HTTP/1.1 ${status.code} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/** See the file header. */
export class PodStreams {
  readonly #deps: PodStreamsDeps;
  readonly #log: (line: string) => void;

  constructor(deps: PodStreamsDeps) {
    this.#deps = deps;
    this.#log = deps.log ?? ((l) => console.error(l));
  }

  /** The pod, the container a request names (or the only one), and the pod's kubelet. */
  async #target(namespace: string, name: string, container: string | null): Promise<{ pod: Pod; container: string; location: KubeletLocation }> {
    const pod = await this.#deps.getPod(namespace, name);
    const names = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? []), ...(pod.spec?.ephemeralContainers ?? [])].map((c) => c.name);
    let chosen = container ?? '';
    if (chosen === '') {
      const app = (pod.spec?.containers ?? []).map((c) => c.name);
      if (app.length !== 1) {
        throw badRequest(`a container name must be specified for pod ${name}, choose one of: [${app.join(' ')}]`);
      }
      chosen = app[0]!;
    } else if (!names.includes(chosen)) {
      throw badRequest(`container ${chosen} is not valid for pod ${name}`);
    }
    const nodeName = pod.spec?.nodeName;
    if (!nodeName) throw badRequest(`pod ${name} does not have a host assigned`);
    const node = await this.#deps.getNode(nodeName);
    return { pod, container: chosen, location: kubeletLocation(node) };
  }

  /** `GET pods/{name}/log`: the kubelet's answer, streamed. */
  async logs(request: ApiRequest, namespace: string, name: string): Promise<ApiResponse> {
    const q = request.query;
    const target = await this.#target(namespace, name, q.get('container'));
    const forward = new URLSearchParams();
    for (const key of ['follow', 'previous', 'timestamps', 'tailLines', 'limitBytes', 'sinceSeconds', 'sinceTime']) {
      const v = q.get(key);
      if (v !== null && v !== '') forward.set(key, v);
    }
    const path = `/containerLogs/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}/${encodeURIComponent(target.container)}${forward.size ? `?${forward}` : ''}`;
    const { response, abort } = await kubeletGet(target.location, this.#deps.kubeletClient, path);
    const code = response.statusCode ?? 500;
    if (code !== 200) throw statusFromKubelet(code, await readAll(response));
    return {
      status: 200,
      contentType: 'text/plain',
      stream: relay(response, abort),
    };
  }

  /**
   * `nodes/{name}/proxy/{path}` (what `kubectl get --raw /api/v1/nodes/N/proxy/stats/summary`
   * uses): the request, method, query and body included, relayed to the node's kubelet at
   * `/{path}`, and the kubelet's answer, status and content type included, streamed back.
   */
  async nodeProxy(request: ApiRequest, nodeName: string, path: string): Promise<ApiResponse> {
    const location = kubeletLocation(await this.#deps.getNode(nodeName));
    const query = request.query.size ? `?${request.query}` : '';
    const target = `/${path.split('/').map(encodeURIComponent).join('/')}${query}`;
    const { response, abort } = await kubeletRequest(location, this.#deps.kubeletClient, request.method, target, typeof request.body === 'string' ? Buffer.from(request.body) : request.body, request.contentType);
    return {
      status: response.statusCode ?? 502,
      contentType: String(response.headers['content-type'] ?? 'application/octet-stream'),
      stream: relay(response, abort),
    };
  }

  /** Serves an upgrade request for `pods/{name}/{exec|attach|portforward}`. */
  async upgrade(request: UpgradeRequest, socket: Duplex, head: Buffer, namespace: string, name: string, subresource: string): Promise<void> {
    socket.on('error', () => {});
    try {
      const url = new URL(request.url, 'https://skiff');
      const q = url.searchParams;
      const websocket = isWebSocketUpgrade(request.headers);
      const spdy = (request.headers.upgrade ?? '').toLowerCase().startsWith('spdy/3.1');
      if (!websocket && !spdy) throw badRequest('Upgrade request required');
      if (subresource === 'portforward') {
        const pod = await this.#deps.getPod(namespace, name);
        const nodeName = pod.spec?.nodeName;
        if (!nodeName) throw badRequest(`pod ${name} does not have a host assigned`);
        const location = kubeletLocation(await this.#deps.getNode(nodeName));
        const path = `/portForward/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`;
        if (websocket && offeredProtocols(request.headers).includes(SPDY_PORT_FORWARD_TUNNEL)) {
          socket.write(acceptUpgrade(request.headers, SPDY_PORT_FORWARD_TUNNEL));
          const ws = new WebSocket(socket, { role: 'server', head });
          this.#spdyPortForward(messageStream(ws), undefined, location, path);
          return;
        }
        if (spdy) {
          if (!streamProtocols(request.headers).includes(PORT_FORWARD_PROTOCOL)) throw protocolMismatch([PORT_FORWARD_PROTOCOL]);
          socket.write(acceptSpdyUpgrade(PORT_FORWARD_PROTOCOL));
          this.#spdyPortForward(socket, head, location, path);
          return;
        }
        // A WebSocket port-forward client (v4 channels): the kubelet speaks it.
        const ports = new URLSearchParams(q.getAll('ports').flatMap((p) => p.split(',')).map((p): [string, string] => ['port', p.trim()]));
        await this.#passThrough(request, socket, head, location, `${path}?${ports}`);
        return;
      }
      const target = await this.#target(namespace, name, q.get('container'));
      const forward = new URLSearchParams();
      for (const command of q.getAll('command')) forward.append('command', command);
      for (const key of ['stdin', 'stdout', 'stderr', 'tty']) if (isTrue(q.get(key))) forward.set(key, 'true');
      const path = `/${subresource}/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}/${encodeURIComponent(target.container)}?${forward}`;
      if (websocket) {
        await this.#passThrough(request, socket, head, target.location, path);
        return;
      }
      const offered = streamProtocols(request.headers);
      if (!offered.includes(V4_PROTOCOL)) throw protocolMismatch([V4_PROTOCOL]);
      socket.write(acceptSpdyUpgrade(V4_PROTOCOL));
      this.#spdyExec(socket, head, target.location, path, { stdin: isTrue(q.get('stdin')), stdout: isTrue(q.get('stdout')), stderr: isTrue(q.get('stderr')), tty: isTrue(q.get('tty')) });
    } catch (error) {
      if (!(error instanceof StatusError)) this.#log(`skiff: ${request.url}: ${(error as Error).stack ?? error}`);
      refuseUpgrade(socket, error);
    }
  }

  /** A WebSocket upgrade relayed byte for byte to the kubelet (its handshake answer included). */
  async #passThrough(request: UpgradeRequest, socket: Duplex, head: Buffer, location: KubeletLocation, path: string): Promise<void> {
    const headers: Record<string, string> = { upgrade: 'websocket' };
    for (const name of ['sec-websocket-key', 'sec-websocket-version', 'sec-websocket-protocol']) {
      const v = request.headers[name];
      if (v !== undefined) headers[name] = Array.isArray(v) ? v.join(', ') : v;
    }
    const result = await kubeletUpgrade(location, this.#deps.kubeletClient, path, headers);
    if (!result.upgraded) throw statusFromKubelet(result.response.statusCode ?? 500, result.body);
    const { response, socket: kubelet } = result;
    const lines = ['HTTP/1.1 101 Switching Protocols'];
    for (let i = 0; i < response.rawHeaders.length; i += 2) lines.push(`${response.rawHeaders[i]}: ${response.rawHeaders[i + 1]}`);
    socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (result.head.length > 0) socket.write(result.head);
    if (head.length > 0) kubelet.write(head);
    kubelet.on('error', () => socket.destroy());
    socket.on('error', () => kubelet.destroy());
    kubelet.pipe(socket);
    socket.pipe(kubelet);
    socket.on('close', () => kubelet.destroy());
    kubelet.on('close', () => socket.end());
  }

  /** SPDY exec/attach from an older kubectl, translated to the kubelet's v5 WebSocket. */
  #spdyExec(socket: Duplex, head: Buffer, location: KubeletLocation, path: string, o: { stdin: boolean; stdout: boolean; stderr: boolean; tty: boolean }): void {
    const streams = new Map<string, SpdyStream>();
    const required = ['error', ...(o.stdin ? ['stdin'] : []), ...(o.stdout ? ['stdout'] : []), ...(o.stderr && !o.tty ? ['stderr'] : [])];
    let ws: WebSocket | undefined;
    let started = false;
    let pendingResize: Buffer[] = [];
    const endAll = () => {
      for (const stream of streams.values()) if (!stream.writableEnded) stream.end();
      // kubectl closes the connection once it has read everything; make sure it goes anyway.
      setTimeout(() => session.close(), 10_000).unref();
    };
    const start = async () => {
      started = true;
      try {
        const opened = await kubeletWebSocket(location, this.#deps.kubeletClient, path, [V5_PROTOCOL]);
        ws = opened.ws;
      } catch (error) {
        const status = toStatus(error);
        streams.get('error')?.write(JSON.stringify({ metadata: {}, status: 'Failure', message: status.message, reason: status.reason, code: status.code }));
        return endAll();
      }
      if (session.closed) return ws.close(1000);
      const conn = ws;
      conn.onMessage((data) => {
        if (data.length === 0) return;
        const body = data.subarray(1);
        if (body.length === 0) return;
        const target = data[0] === STDOUT ? 'stdout' : data[0] === STDERR ? (o.tty ? 'stdout' : 'stderr') : data[0] === ERROR ? 'error' : undefined;
        if (target) streams.get(target)?.write(body);
      });
      conn.onClose(endAll);
      const stdin = streams.get('stdin');
      if (stdin) {
        stdin.on('data', (chunk: Buffer) => conn.send(channelMessage(STDIN, chunk)));
        stdin.on('end', () => conn.send(Buffer.from([CLOSE, STDIN])));
      }
      for (const r of pendingResize) conn.send(channelMessage(RESIZE, r));
      pendingResize = [];
    };
    const session = new SpdySession(socket, {
      onStream: (stream) => {
        const type = stream.header('streamtype') ?? '';
        if (!['error', 'stdin', 'stdout', 'stderr', 'resize'].includes(type) || streams.has(type)) return stream.reset(1);
        streams.set(type, stream);
        stream.reply();
        if (type === 'resize') {
          stream.on('data', (chunk: Buffer) => {
            if (ws) ws.send(channelMessage(RESIZE, chunk));
            else pendingResize.push(Buffer.from(chunk));
          });
        } else if (type !== 'stdin') {
          stream.resume();
        }
        if (!started && required.every((t) => streams.has(t))) void start();
      },
      onClose: () => ws?.close(1000),
    }, head);
  }

  /** SPDY port-forward (plain or tunnelled in a WebSocket): one kubelet WebSocket per stream pair. */
  #spdyPortForward(transport: Duplex, head: Buffer | undefined, location: KubeletLocation, path: string): void {
    const pairs = new Map<string, { data?: SpdyStream; error?: SpdyStream; started: boolean }>();
    const sockets = new Set<WebSocket>();
    const forward = async (data: SpdyStream, error: SpdyStream) => {
      const port = Number(data.header('port'));
      let conn: WebSocket;
      try {
        conn = (await kubeletWebSocket(location, this.#deps.kubeletClient, `${path}?port=${port}`, [V5_PROTOCOL])).ws;
      } catch (e) {
        error.write(toStatus(e).message ?? 'error dialing backend');
        error.end();
        data.end();
        return;
      }
      sockets.add(conn);
      // The first message of each channel names the port; what follows is data.
      const seen = new Set<number>();
      conn.onMessage((message) => {
        const channel = message[0];
        if (channel === undefined || channel > 1) return;
        if (!seen.has(channel)) {
          seen.add(channel);
          return;
        }
        const body = message.subarray(1);
        if (body.length === 0) return;
        if (channel === 0) data.write(body);
        else error.write(body);
      });
      conn.onClose(() => {
        sockets.delete(conn);
        if (!data.writableEnded) data.end();
        if (!error.writableEnded) error.end();
      });
      data.on('data', (chunk: Buffer) => {
        if (!conn.send(channelMessage(0, chunk))) {
          data.pause();
          void conn.drained().then(() => data.resume());
        }
      });
      data.on('end', () => conn.send(Buffer.from([CLOSE, 0])));
      data.on('close', () => {
        if (data.readableEnded && data.writableEnded) return;
        conn.close(1000);
      });
    };
    new SpdySession(transport, {
      onStream: (stream) => {
        const type = stream.header('streamtype');
        const port = Number(stream.header('port'));
        if ((type !== 'data' && type !== 'error') || !Number.isInteger(port) || port < 1 || port > 65535) return stream.reset(1);
        // Old clients send no request id: upstream pairs an error stream with the data stream after it.
        const id = stream.header('requestid') ?? String(type === 'error' ? stream.id : stream.id - 2);
        const pair = pairs.get(id) ?? { started: false };
        pairs.set(id, pair);
        if (pair[type]) return stream.reset(1);
        pair[type] = stream;
        stream.reply();
        if (type === 'error') stream.resume();
        if (pair.data && pair.error && !pair.started) {
          pair.started = true;
          pairs.delete(id);
          void forward(pair.data, pair.error);
        }
      },
      onClose: () => {
        for (const ws of sockets) ws.close(1000);
      },
    }, head);
  }
}

/** The stream protocols a SPDY client offers (`X-Stream-Protocol-Version`, repeatable). */
function streamProtocols(headers: IncomingHttpHeaders): string[] {
  const raw = headers['x-stream-protocol-version'];
  const joined = Array.isArray(raw) ? raw.join(',') : (raw ?? '');
  return joined.split(',').map((p) => p.trim()).filter(Boolean);
}

function protocolMismatch(supported: string[]): StatusError {
  return new StatusError(403, 'Forbidden', `unable to upgrade: no common protocol; the server supports ${supported.join(', ')}`);
}

/** A kubelet answer's body as the API response's stream: every chunk passed on, ended with it. */
function relay(response: IncomingMessage, abort: () => void): NonNullable<ApiResponse['stream']> {
  return {
    start(write, end) {
      response.on('data', (chunk: Buffer) => write(chunk));
      response.on('end', end);
      response.on('error', end);
      response.on('aborted', end);
      return abort;
    },
  };
}
