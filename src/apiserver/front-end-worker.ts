/**
 * A front-end thread: the HTTP(S) listener of `listener.ts` on a worker thread, whose handler
 * forwards each request to the API thread and waits for the answer (see `front-end.ts`).
 * Watch streams arrive as chunks and are written as the in-thread listener writes them.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { ApiRequest, ApiResponse } from '../client/index.ts';
import { Outbox, type FrontEndSettings, type ToApi, type ToFrontEnd } from './front-end-protocol.ts';
import type { Duplex } from 'node:stream';
import { listen, type Listener, type UpgradeRequest } from './listener.ts';
import { bodyFormat } from './negotiate.ts';

/** A stream whose head has arrived: chunks wait here until the listener starts writing it. */
interface RelayedStream {
  write: ((chunk: string | Uint8Array) => void) | undefined;
  end: (() => void) | undefined;
  queued: (string | Uint8Array)[];
  ended: boolean;
}

const port = parentPort!;
const settings = workerData as FrontEndSettings;
const outbox = new Outbox<ToApi>(port);
const waiting = new Map<number, (response: ApiResponse) => void>();
const streams = new Map<number, RelayedStream>();
let nextId = 1;
let listener: Listener | undefined;
/** Upgraded connections, whose bytes are relayed to and from the API thread. */
const sockets = new Map<number, Duplex>();

function relayUpgrade(request: UpgradeRequest, socket: Duplex, head: Buffer): void {
  const id = nextId++;
  sockets.set(id, socket);
  outbox.push({ t: 'upgrade', id, method: request.method, url: request.url, headers: { ...request.headers }, head });
  socket.on('data', (chunk: Buffer) => outbox.push({ t: 'socket-data', id, chunk }));
  socket.on('end', () => outbox.push({ t: 'socket-end', id }));
  socket.on('close', () => {
    if (sockets.delete(id)) outbox.push({ t: 'socket-close', id });
  });
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A JSON or YAML body as text, decoded here rather than on the API thread (which then holds no
 * buffer per request either); bytes that are no UTF-8, and other formats, go as they are — the
 * API thread answers them as it would.
 */
function asText(body: Uint8Array | string | undefined, contentType: string | undefined): Uint8Array | string | undefined {
  if (body === undefined || typeof body === 'string' || bodyFormat(contentType) === 'protobuf') return body;
  try {
    return utf8.decode(body);
  } catch {
    return body;
  }
}

function forward(request: ApiRequest): Promise<ApiResponse> {
  const id = nextId++;
  outbox.push({
    t: 'request',
    id,
    method: request.method,
    path: request.path,
    query: request.query.size === 0 ? '' : request.query.toString(),
    accept: request.accept,
    contentType: request.contentType,
    body: asText(request.body, request.contentType),
    userAgent: request.userAgent,
  });
  return new Promise((resolve) => waiting.set(id, resolve));
}

function relayedStream(id: number): ApiResponse['stream'] {
  const relay: RelayedStream = { write: undefined, end: undefined, queued: [], ended: false };
  streams.set(id, relay);
  return {
    start(write, end) {
      relay.write = write;
      relay.end = end;
      for (const chunk of relay.queued) write(chunk);
      relay.queued = [];
      if (relay.ended) {
        streams.delete(id);
        end();
      }
      return () => {
        if (streams.delete(id)) outbox.push({ t: 'gone', id });
      };
    },
  };
}

function receive(message: ToFrontEnd): void {
  switch (message.t) {
    case 'response': {
      const resolve = waiting.get(message.id);
      waiting.delete(message.id);
      resolve?.({
        status: message.status,
        contentType: message.contentType,
        ...(message.body !== undefined ? { body: message.body } : {}),
        ...(message.warnings ? { warnings: message.warnings } : {}),
      });
      return;
    }
    case 'stream': {
      const resolve = waiting.get(message.id);
      waiting.delete(message.id);
      resolve?.({
        status: message.status,
        contentType: message.contentType,
        stream: relayedStream(message.id),
        ...(message.warnings ? { warnings: message.warnings } : {}),
      });
      return;
    }
    case 'chunk': {
      for (const id of message.ids) {
        const relay = streams.get(id);
        // The client left before this chunk arrived; the API thread has been told.
        if (!relay) continue;
        if (relay.write) relay.write(message.chunk);
        else relay.queued.push(message.chunk);
      }
      return;
    }
    case 'end': {
      const relay = streams.get(message.id);
      if (!relay) return;
      relay.ended = true;
      if (relay.end) {
        streams.delete(message.id);
        relay.end();
      }
      return;
    }
    case 'socket-data':
      sockets.get(message.id)?.write(message.chunk);
      return;
    case 'socket-end':
      sockets.get(message.id)?.end();
      return;
    case 'socket-close': {
      const socket = sockets.get(message.id);
      sockets.delete(message.id);
      socket?.destroy();
      return;
    }
    case 'close':
      void (async () => {
        await listener?.close();
        port.postMessage([{ t: 'closed' } satisfies ToApi]);
      })();
      return;
  }
}

port.on('message', (batch: ToFrontEnd[]) => {
  for (const message of batch) receive(message);
});

try {
  listener = await listen(
    { host: settings.host, port: settings.port, ...(settings.tls ? { tls: settings.tls } : {}), reusePort: settings.reusePort },
    forward,
    relayUpgrade,
  );
  const { address, family, port: bound } = listener.address;
  port.postMessage([{ t: 'listening', address: { address, family, port: bound } } satisfies ToApi]);
} catch (error) {
  const e = error as NodeJS.ErrnoException;
  port.postMessage([{ t: 'failed', message: e.message, code: e.code } satisfies ToApi]);
}
