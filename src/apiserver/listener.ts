/**
 * The network edge: a TLS (or plain TCP) listener whose connections are served by `http1.ts`,
 * with Node's HTTP server taking over those it does not serve (upgrades, chunked bodies, bad
 * requests). Bodies are capped at 3 MiB (upstream's limit) while they are read, so an oversized
 * body costs no memory; watch streams are written as chunked responses and stop when the
 * client goes away.
 */
import { createServer as createHttpServer, type IncomingHttpHeaders, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { Duplex } from 'node:stream';
import type { ApiRequest, ApiResponse } from '../client/index.ts';
import { toStatus, tooLarge } from './errors.ts';
import { Http1Server, splitTarget } from './http1.ts';

export { splitTarget };

/** Upstream's maximum request body: 3 MiB. */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

/** Where and how to listen. */
export interface ListenOptions {
  host: string;
  port: number;
  /** PEM key and certificate chain; plain HTTP when omitted. */
  tls?: { key: string; cert: string; ca?: string };
  /**
   * Threads that terminate TLS and parse HTTP, handing each request to this thread's handler
   * (`front-end.ts`). Default 0: this thread does it all.
   */
  threads?: number;
  /** Bind with SO_REUSEPORT (several front-end threads on one port). Default false. */
  reusePort?: boolean;
}

/** A running listener. */
export interface Listener {
  /** The bound address (the real port when 0 was asked for). */
  address: AddressInfo;
  /** Stops accepting, ends open watches, and resolves when all connections are closed. */
  close(): Promise<void>;
}

/** A listener that can leave its port to another one bound with SO_REUSEPORT. */
export interface HandingListener extends Listener {
  /**
   * Stops accepting. Open connections close after their next answer (which says
   * `Connection: close`), so their clients reconnect — to the listener that took over. Open
   * watches go on until they end.
   */
  handOver(): void;
}

/** A request to switch protocols (WebSocket, SPDY), as the listener hands it over. */
export interface UpgradeRequest {
  method: string;
  /** Path and query, as sent. */
  url: string;
  headers: IncomingHttpHeaders;
}

/**
 * Serves an upgrade request on the raw connection: from here on the handler owns `socket`
 * (writing the `101` answer or an error) and `head` (bytes the client sent after the request).
 */
export type UpgradeHandler = (request: UpgradeRequest, socket: Duplex, head: Buffer) => void;

class BodyTooLarge extends Error {}

/**
 * Reads the body with plain stream events: an async iterator over the request costs about
 * 25 µs more per request, which is a tenth of a create. Past the cap the rest is discarded and
 * the answer (413) closes the connection.
 */
function readBody(req: IncomingMessage): Promise<Uint8Array | undefined> {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > MAX_BODY_BYTES) return Promise.reject(new BodyTooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    const fail = (error: Error) => {
      if (failed) return;
      failed = true;
      chunks.length = 0;
      reject(error);
    };
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > MAX_BODY_BYTES) fail(new BodyTooLarge());
      else chunks.push(chunk);
    });
    req.on('end', () => {
      if (failed) return;
      resolve(size === 0 ? undefined : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    });
    req.on('error', fail);
  });
}

function send(res: ServerResponse, response: ApiResponse, head: boolean): void {
  const headers: Record<string, string | string[]> = {
    'content-type': response.contentType,
    'cache-control': 'no-cache, private',
  };
  if (response.warnings?.length) headers.warning = response.warnings.map((w) => `299 - ${JSON.stringify(w)}`);
  if (response.stream) {
    res.writeHead(response.status, { ...headers, 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    // Events that arrive in one turn of the event loop (one commit batch) leave in one write:
    // one TLS record and one system call per watcher instead of one per event.
    let pending: (string | Uint8Array)[] = [];
    const flush = () => {
      if (pending.length === 0) return;
      const chunks = pending;
      pending = [];
      res.write(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c))));
    };
    const stop = response.stream.start(
      (chunk) => {
        if (pending.length === 0) process.nextTick(flush);
        pending.push(chunk);
      },
      () => {
        flush();
        res.end();
      },
    );
    res.on('close', stop);
    // The client may have gone while the stream was being set up: then 'close' has fired already.
    if (res.destroyed || res.req.socket.destroyed) stop();
    return;
  }
  const body = typeof response.body === 'string' || response.body === undefined ? Buffer.from(response.body ?? '') : response.body;
  headers['content-length'] = String(body.length);
  res.writeHead(response.status, headers);
  res.end(head ? undefined : body);
}

/**
 * Starts listening; `handle` serves each request and `upgrade` each upgrade request (without
 * it they are refused). Plain requests are read and answered by `http1.ts`; the rest (upgrades,
 * chunked bodies, oversized ones, malformed requests) by Node's HTTP server, which takes over
 * their connections. Upgraded connections are cut by `close()`, not by `handOver()`.
 */
export async function listen(options: ListenOptions, handle: (request: ApiRequest) => Promise<ApiResponse>, upgrade?: UpgradeHandler): Promise<HandingListener> {
  let handedOver = false;
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const { path, query } = splitTarget(req.url ?? '/');
      let body: Uint8Array | undefined;
      try {
        body = await readBody(req);
      } catch (error) {
        const status = error instanceof BodyTooLarge ? tooLarge(MAX_BODY_BYTES).toStatus() : toStatus(error);
        // Whatever is left of an oversized body is not read: close the connection after answering.
        res.setHeader('connection', 'close');
        send(res, { status: status.code, contentType: 'application/json', body: JSON.stringify(status) }, false);
        return;
      }
      const response = await handle({
        method: req.method ?? 'GET',
        path,
        query,
        accept: req.headers.accept,
        contentType: req.headers['content-type'],
        body,
        ...(req.headers['user-agent'] ? { userAgent: req.headers['user-agent'] } : {}),
      });
      if (handedOver) res.setHeader('connection', 'close');
      send(res, response, req.method === 'HEAD');
    })().catch((error: unknown) => {
      console.error('skiff: failed to answer a request:', error);
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  };
  // Node's server never listens: it serves the connections the fast path hands it.
  const http: HttpServer = createHttpServer(onRequest);
  http.keepAliveTimeout = 65_000;
  const upgraded = new Set<Duplex>();
  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    upgraded.add(socket);
    socket.once('close', () => upgraded.delete(socket));
    socket.on('error', () => socket.destroy());
    if (!upgrade) {
      socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    upgrade({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers }, socket, head);
  });
  const handedOn = new Set<Socket>();
  const fast = new Http1Server({
    handle,
    maxBody: MAX_BODY_BYTES,
    fallback: (socket, buffered) => {
      handedOn.add(socket);
      socket.once('close', () => handedOn.delete(socket));
      if (buffered) socket.unshift(buffered);
      http.emit('connection', socket);
      socket.resume();
    },
  });
  const server: NetServer = options.tls
    ? createTlsServer({ key: options.tls.key, cert: options.tls.cert, ...(options.tls.ca ? { ca: options.tls.ca } : {}), ALPNProtocols: ['http/1.1'] }, (socket) => fast.accept(socket))
    : createNetServer((socket) => fast.accept(socket));
  // A client that sends nothing TLS-shaped, or goes away during the handshake, is no concern.
  server.on('tlsClientError', (_error: Error, socket: Duplex) => socket.destroy());
  server.on('connection', (socket: Socket) => socket.setNoDelay(true));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: options.port, host: options.host, ...(options.reusePort ? { reusePort: true } : {}) }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  let closed = false;
  server.once('close', () => (closed = true));
  return {
    address: server.address() as AddressInfo,
    close: () =>
      new Promise<void>((resolve) => {
        if (closed) return resolve();
        server.once('close', () => resolve());
        if (server.listening) server.close();
        // Watches never end by themselves: cut every connection so close() completes.
        fast.closeAll();
        for (const socket of handedOn) socket.destroy();
        for (const socket of upgraded) socket.destroy();
      }),
    handOver: () => {
      handedOver = true;
      fast.handOver();
      // Idle keep-alive connections stay: a client sending on one at that moment would see a
      // reset. Each closes after its next answer.
      if (server.listening) server.close();
    },
  };
}
