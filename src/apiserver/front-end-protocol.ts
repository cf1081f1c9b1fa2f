/**
 * What front-end threads and the API thread say to each other (see `front-end.ts`). Messages
 * travel in batches: each `postMessage` carries every message one side had for the other in
 * one turn of its event loop, so a commit batch of a hundred answers costs one message, not a
 * hundred.
 */
import type { MessagePort } from 'node:worker_threads';

/** A front-end thread's settings (its `workerData`). */
export interface FrontEndSettings {
  host: string;
  port: number;
  tls: { key: string; cert: string; ca?: string } | undefined;
  /** Bind with SO_REUSEPORT: every front-end thread has its own listening socket. */
  reusePort: boolean;
}

/** Front-end thread → API thread. */
export type ToApi =
  | { t: 'listening'; address: { address: string; family: string; port: number } }
  | { t: 'failed'; message: string; code: string | undefined }
  | {
      t: 'request';
      id: number;
      method: string;
      path: string;
      /** The query string without `?`. */
      query: string;
      accept: string | undefined;
      contentType: string | undefined;
      /** Text when the front-end decoded it (see `ApiRequest.body`). */
      body: Uint8Array | string | undefined;
      userAgent: string | undefined;
    }
  /** The client of stream `id` went away. */
  | { t: 'gone'; id: number }
  | { t: 'closed' }
  /**
   * An upgrade request (exec, attach, port-forward): the connection's raw bytes are relayed
   * from here on as `socket-*` messages with the same id, both ways.
   */
  | { t: 'upgrade'; id: number; method: string; url: string; headers: Record<string, string | string[] | undefined>; head: Uint8Array }
  | SocketMessage;

/** Raw bytes of an upgraded connection, its end (half close) and its close, either way. */
export type SocketMessage =
  | { t: 'socket-data'; id: number; chunk: Uint8Array }
  | { t: 'socket-end'; id: number }
  | { t: 'socket-close'; id: number };

/** API thread → front-end thread. */
export type ToFrontEnd =
  | { t: 'response'; id: number; status: number; contentType: string; body: string | Uint8Array | undefined; warnings: string[] | undefined }
  /** The answer to `id` is an event stream: its head now, its chunks and end in later messages. */
  | { t: 'stream'; id: number; status: number; contentType: string; warnings: string[] | undefined }
  /** One chunk for several streams: a watch event goes to every watcher as the same bytes. */
  | { t: 'chunk'; ids: number[]; chunk: string | Uint8Array }
  | { t: 'end'; id: number }
  | { t: 'close' }
  | SocketMessage;

/** The port of a worker or of its parent, as far as batches need it. */
interface Port {
  postMessage(value: unknown): void;
}

/** More than this many messages leave at once, so the other side starts on them sooner. */
const MAX_BATCH = 1000;

/**
 * A batch leaves before its messages' bytes and text pass this. V8 decodes a message of more
 * than 100 KiB straight into the old generation (its deserializer's pretenure threshold): a
 * batch of a hundred answers (~140 KB) put every answer's text there, about a request's worth
 * of bytes per request that only a full collection takes back — on the front-end thread one
 * every 2–3 s under wrk. Below the threshold the text dies young: what the front-end thread
 * kept past its young generation fell from 75 MB to 1.7 MB in 5 s of wrk's creates.
 */
export const MAX_BATCH_BYTES = 64 * 1024;

/** Roughly what a message adds to its batch's encoding: its body, chunk or bytes, and a little. */
function weight(message: ToApi | ToFrontEnd): number {
  const payload = 'body' in message ? message.body : 'chunk' in message ? message.chunk : 'head' in message ? message.head : undefined;
  if (payload === undefined) return 64;
  return 64 + (typeof payload === 'string' ? payload.length : payload.byteLength);
}

/** Collects messages and posts them as one array after the current turn of the event loop. */
export class Outbox<M extends ToApi | ToFrontEnd> {
  readonly #port: Port | MessagePort;
  #queued: M[] = [];
  #bytes = 0;

  constructor(port: Port | MessagePort) {
    this.#port = port;
  }

  #flushed: (() => void) | undefined;

  /** Queues `message`; returns its place in the batch (see {@link onFlush}). */
  push(message: M): number {
    const bytes = weight(message);
    if (this.#queued.length >= MAX_BATCH || (this.#queued.length > 0 && this.#bytes + bytes > MAX_BATCH_BYTES)) this.#flush();
    if (this.#queued.length === 0) setImmediate(this.#flush);
    this.#bytes += bytes;
    return this.#queued.push(message) - 1;
  }

  /** Calls `callback` once each batch has left: its messages may not change after, and places
   * count from 0 again. */
  onFlush(callback: () => void): void {
    this.#flushed = callback;
  }

  readonly #flush = (): void => {
    const batch = this.#queued;
    this.#queued = [];
    this.#bytes = 0;
    if (batch.length > 0) this.#port.postMessage(batch);
    this.#flushed?.();
  };
}
