/**
 * The API server's connections to kubelets: where a pod's kubelet listens (the Node's
 * InternalIP and `status.daemonEndpoints.kubeletEndpoint.Port`, loopback when that address is
 * this machine's own), plain HTTPS requests and WebSocket upgrades to it, with the API server's
 * kubelet client certificate. Like upstream by default, the kubelet's serving certificate is
 * not verified (kubelets make their own, self-signed).
 */
import { request, type RequestOptions } from 'node:https';
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { networkInterfaces } from 'node:os';
import type { Duplex } from 'node:stream';
import type { Node } from 'kubernetes-types/core/v1.js';
import { StatusError } from '../errors.ts';
import { newKey, WebSocket } from '../../streams/index.ts';

/** The API server's client certificate towards kubelets. */
export interface KubeletClientCertificate {
  cert: string;
  key: string;
}

/** Where a kubelet listens. */
export interface KubeletLocation {
  host: string;
  port: number;
}

const DEFAULT_PORT = 10250;

function localAddresses(): Set<string> {
  const out = new Set<string>(['127.0.0.1', '::1']);
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) out.add(a.address);
  return out;
}

/** The kubelet of `node`: its InternalIP (else first address) and kubelet port. */
export function kubeletLocation(node: Node): KubeletLocation {
  const addresses = node.status?.addresses ?? [];
  const address = (addresses.find((a) => a.type === 'InternalIP') ?? addresses.find((a) => a.type === 'ExternalIP') ?? addresses.find((a) => a.type === 'Hostname'))?.address;
  if (!address) throw new StatusError(503, 'ServiceUnavailable', `node ${node.metadata?.name} has no address to reach its kubelet at`);
  const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port || DEFAULT_PORT;
  // A node on this machine is reached over loopback: the same kubelet, no trip through an interface.
  return { host: localAddresses().has(address) ? '127.0.0.1' : address, port };
}

/** The connection options of every request to a kubelet. */
function options(location: KubeletLocation, client: KubeletClientCertificate | undefined, path: string, headers: OutgoingHttpHeaders, method = 'GET'): RequestOptions {
  return {
    host: location.host,
    port: location.port,
    method,
    path,
    headers,
    agent: false,
    rejectUnauthorized: false,
    ...(client ? { cert: client.cert, key: client.key } : {}),
    timeout: 30_000,
  };
}

function dialError(location: KubeletLocation, error: Error): StatusError {
  return new StatusError(502, 'InternalError', `error dialing backend: ${location.host}:${location.port}: ${error.message}`);
}

/** A GET to the kubelet; resolves with its response (any status). */
export function kubeletGet(location: KubeletLocation, client: KubeletClientCertificate | undefined, path: string): Promise<{ response: IncomingMessage; abort: () => void }> {
  return new Promise((resolve, reject) => {
    const req = request(options(location, client, path, {}), (response) => {
      req.setTimeout(0);
      resolve({ response, abort: () => req.destroy() });
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (error) => reject(dialError(location, error)));
    req.end();
  });
}

/** A request with any method (and body) to the kubelet; resolves with its response (any status). */
export function kubeletRequest(location: KubeletLocation, client: KubeletClientCertificate | undefined, method: string, path: string, body?: Uint8Array, contentType?: string): Promise<{ response: IncomingMessage; abort: () => void }> {
  return new Promise((resolve, reject) => {
    const headers: OutgoingHttpHeaders = body ? { 'content-length': body.length, ...(contentType ? { 'content-type': contentType } : {}) } : {};
    const req = request(options(location, client, path, headers, method), (response) => {
      req.setTimeout(0);
      resolve({ response, abort: () => req.destroy() });
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (error) => reject(dialError(location, error)));
    req.end(body);
  });
}

/** Reads a whole response body. */
export function readAll(response: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    response.on('data', (c: Buffer) => chunks.push(c));
    response.on('end', () => resolve(Buffer.concat(chunks)));
    response.on('error', () => resolve(Buffer.concat(chunks)));
  });
}

/** The outcome of an upgrade request to a kubelet. */
export type KubeletUpgrade =
  | { upgraded: true; response: IncomingMessage; socket: Duplex; head: Buffer }
  | { upgraded: false; response: IncomingMessage; body: Buffer };

/** Sends an upgrade request with `headers` to the kubelet. Rejects (StatusError) when it cannot be reached. */
export function kubeletUpgrade(location: KubeletLocation, client: KubeletClientCertificate | undefined, path: string, headers: OutgoingHttpHeaders): Promise<KubeletUpgrade> {
  return new Promise((resolve, reject) => {
    const req = request(options(location, client, path, { connection: 'Upgrade', ...headers }));
    req.on('upgrade', (response, socket, head) => {
      req.setTimeout(0);
      socket.setTimeout(0);
      resolve({ upgraded: true, response, socket, head });
    });
    req.on('response', (response) => {
      req.setTimeout(0);
      void readAll(response).then((body) => resolve({ upgraded: false, response, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (error) => reject(dialError(location, error)));
    req.end();
  });
}

/** Opens a WebSocket to the kubelet with one of `protocols`; the answer's protocol comes with it. */
export async function kubeletWebSocket(location: KubeletLocation, client: KubeletClientCertificate | undefined, path: string, protocols: string[]): Promise<{ ws: WebSocket; protocol: string }> {
  const result = await kubeletUpgrade(location, client, path, {
    upgrade: 'websocket',
    'sec-websocket-version': '13',
    'sec-websocket-key': newKey(),
    'sec-websocket-protocol': protocols.join(', '),
  });
  if (!result.upgraded) throw statusFromKubelet(result.response.statusCode ?? 500, result.body);
  const protocol = String(result.response.headers['sec-websocket-protocol'] ?? '');
  return { ws: new WebSocket(result.socket, { role: 'client', head: result.head }), protocol };
}

/** A StatusError from a kubelet's error answer (a Status, or text). */
export function statusFromKubelet(code: number, body: Buffer): StatusError {
  try {
    const status = JSON.parse(body.toString()) as { message?: string; reason?: string };
    if (typeof status.message === 'string') return new StatusError(code, (status.reason as never) ?? 'InternalError', status.message);
  } catch {
    // text
  }
  return new StatusError(code, code === 404 ? 'NotFound' : code === 400 ? 'BadRequest' : 'InternalError', body.toString().trim() || `the kubelet answered ${code}`);
}
