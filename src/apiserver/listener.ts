/**
 * The network edge: adapts Node's HTTP(S) server to {@link ApiHandler}. Bodies are capped at
 * 3 MiB (upstream's limit) while they are read, so an oversized body costs no memory;
 * watch streams are written as chunked responses and stop when the client goes away.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { ApiRequest, ApiResponse } from '../client/index.ts';
import { toStatus, tooLarge } from './errors.ts';

/** Upstream's maximum request body: 3 MiB. */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

/** Where and how to listen. */
export interface ListenOptions {
  host: string;
  port: number;
  /** PEM key and certificate chain; plain HTTP when omitted. */
  tls?: { key: string; cert: string; ca?: string };
}

/** A running listener. */
export interface Listener {
  /** The bound address (the real port when 0 was asked for). */
  address: AddressInfo;
  /** Stops accepting, ends open watches, and resolves when all connections are closed. */
  close(): Promise<void>;
}

class BodyTooLarge extends Error {}

async function readBody(req: IncomingMessage): Promise<Uint8Array | undefined> {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > MAX_BODY_BYTES) throw new BodyTooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new BodyTooLarge();
    chunks.push(chunk);
  }
  return size === 0 ? undefined : Buffer.concat(chunks, size);
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
    return;
  }
  const body = typeof response.body === 'string' || response.body === undefined ? Buffer.from(response.body ?? '') : response.body;
  headers['content-length'] = String(body.length);
  res.writeHead(response.status, headers);
  res.end(head ? undefined : body);
}

/** Starts listening; `handle` serves each request. */
export async function listen(options: ListenOptions, handle: (request: ApiRequest) => Promise<ApiResponse>): Promise<Listener> {
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://skiff');
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
        path: url.pathname,
        query: url.searchParams,
        accept: req.headers.accept,
        contentType: req.headers['content-type'],
        body,
        ...(req.headers['user-agent'] ? { userAgent: req.headers['user-agent'] } : {}),
      });
      send(res, response, req.method === 'HEAD');
    })().catch((error: unknown) => {
      console.error('skiff: failed to answer a request:', error);
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  };
  const server: Server = options.tls
    ? createHttpsServer({ key: options.tls.key, cert: options.tls.cert, ...(options.tls.ca ? { ca: options.tls.ca } : {}) }, onRequest)
    : createHttpServer(onRequest);
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    address: server.address() as AddressInfo,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Watches never end by themselves: cut every connection so close() completes.
        server.closeAllConnections();
      }),
  };
}
