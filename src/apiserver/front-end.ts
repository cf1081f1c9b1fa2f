/**
 * Front-end threads: TLS and HTTP parsing on worker threads, everything else on this one.
 *
 * The API's state (watch cache, store, registry) lives on one thread, which a write keeps busy
 * for about half of its time with TLS records and HTTP parsing alone. Each front-end thread
 * runs the ordinary listener (`listener.ts`) on its own socket and passes decoded requests —
 * method, path, query, the headers the API reads, body bytes — to this thread's handler, which
 * answers with the response or, for watches, the stream's chunks as they come. Node cannot
 * hand a TLS connection from one thread to another, so streams are relayed, not handed over.
 *
 * A front-end thread costs about 18 MiB of memory, which an idle server should not pay, and a
 * hand-off between threads adds a little latency, which a lightly loaded one need not pay: the
 * API thread listens by itself (SO_REUSEPORT) until, over one second, its event loop was busy
 * more than {@link BUSY_UTILIZATION} of the time while serving at least
 * {@link BUSY_REQUESTS_PER_SECOND} network requests. Then the front-end threads bind the same
 * port, the API thread stops accepting, and its keep-alive connections close after their next
 * answer (`Connection: close`), so their clients reconnect to the front-end threads.
 *
 * Contract: the same as `listen` of `listener.ts` — the same answers, the same 3 MiB cap, the
 * same watch behaviour (a stream stops when its client goes away; `close()` ends every stream
 * and connection). The port is bound with SO_REUSEPORT and the kernel spreads connections
 * over the listening threads.
 */
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { setFlagsFromString } from 'node:v8';
import type { AddressInfo } from 'node:net';
import type { ApiRequest, ApiResponse } from '../client/index.ts';
import { Outbox, type FrontEndSettings, type ToApi, type ToFrontEnd } from './front-end-protocol.ts';
import { Duplex } from 'node:stream';
import { listen, type Listener, type ListenOptions, type UpgradeHandler } from './listener.ts';

/** Share of a second the API thread's event loop must be busy for front-end threads to start. */
export const BUSY_UTILIZATION = 0.75;
/** Network requests a second that must come with that, so that the busy-ness is theirs. */
export const BUSY_REQUESTS_PER_SECOND = 200;

/**
 * Requests the API thread starts per turn of its event loop. A front-end thread reads every
 * connection that has bytes in one turn, so a hundred busy clients arrive as one batch of a
 * hundred requests; started together, they would be committed together and answered together,
 * and the two threads would take turns — one idle while the other works through the whole
 * wave (creates at 100 clients: ~4,500/s with each thread half idle). Starting a few per turn
 * lets the commits and answers of the first ones leave while later ones are still being
 * handled, so both threads work at once (~8,000/s).
 */
export const REQUESTS_PER_TURN = 10;

const WORKER_URL = new URL('./front-end-worker.ts', import.meta.url);

/**
 * The old generation a front-end thread's heap starts with (MiB). A front-end thread keeps
 * little (~8 MiB: its connections), and V8 sizes a small heap's limits from that. Whatever it
 * then puts in its old space costs a full collection every couple of seconds: answers decoded
 * there (batches over V8's pretenure threshold, now kept under it: see `MAX_BATCH_BYTES`), and
 * in full `bench/api.ts` runs, after the phases with lists of 1,000 objects, answers decoded
 * there still, ~25 MiB/s, from batches under it — why is not found. From a 128 MiB start such a thread ran a full
 * collection every 4–9 s instead of every 1–3 s. Only a limit: no memory is taken until used
 * (after 8 s of wrk's creates and updates the server's RSS was 338 MiB with it, 358 without),
 * and a server never busy runs no such thread.
 */
export const FRONT_END_INITIAL_OLD_SPACE_MB = 128;
let frontEndHeapsConfigured = false;

/**
 * V8 reads heap sizes when an isolate is made, from process-wide flags: set before the first
 * front-end thread starts, the flag shapes it and isolates made after (the store's checkpoint
 * thread), never this thread's, which already exists.
 */
function configureFrontEndHeaps(): void {
  if (frontEndHeapsConfigured) return;
  frontEndHeapsConfigured = true;
  setFlagsFromString(`--initial-old-space-size=${FRONT_END_INITIAL_OLD_SPACE_MB}`);
}

/**
 * Front-end threads worth running on this machine: one per four cores, at least one and at
 * most four — the API thread stays the bottleneck and must keep a core to itself. On two cores
 * a second front-end thread helps only when the clients are elsewhere: with a load generator
 * as hungry as the server on the same cores, the API thread then loses its core and creates
 * fall from ~3,300/s to ~1,500/s (while `wrk`, which needs little, gains ~20%). None on a
 * single core, where a thread would only add hand-offs.
 */
export function defaultFrontEndThreads(cores: number = availableParallelism()): number {
  return cores <= 1 ? 0 : Math.min(4, Math.max(1, Math.floor(cores / 4)));
}

/** One front-end thread, seen from the API thread. */
class FrontEnd {
  readonly worker: Worker;
  readonly #outbox: Outbox<ToFrontEnd>;
  readonly #handle: (request: ApiRequest) => Promise<ApiResponse>;
  /** Stop functions of the streams this thread's clients are reading. */
  readonly #streams = new Map<number, () => void>();
  /**
   * This batch's chunk messages by chunk (watchers of one event share its bytes and message),
   * with their places; and the place of each stream's latest message in the batch. A stream
   * joins a chunk message only placed after its latest one, so its messages keep their order.
   */
  #chunks = new Map<string | Uint8Array, { ids: number[]; at: number }>();
  #latest = new Map<number, number>();
  readonly listening: Promise<AddressInfo>;
  #closed: (() => void) | undefined;
  readonly #upgrade: UpgradeHandler | undefined;
  /** Upgraded connections of this thread's clients, as sockets on this thread. */
  readonly #sockets = new Map<number, Duplex>();

  constructor(settings: FrontEndSettings, handle: (request: ApiRequest) => Promise<ApiResponse>, upgrade?: UpgradeHandler) {
    this.#handle = handle;
    this.#upgrade = upgrade;
    configureFrontEndHeaps();
    this.worker = new Worker(WORKER_URL, { workerData: settings });
    this.#outbox = new Outbox(this.worker);
    this.#outbox.onFlush(() => {
      if (this.#chunks.size > 0) this.#chunks = new Map();
      if (this.#latest.size > 0) this.#latest = new Map();
    });
    this.listening = new Promise((resolve, reject) => {
      const onExit = (code: number) => reject(new Error(`the front-end thread exited with code ${code} before listening`));
      this.worker.once('exit', onExit);
      this.worker.once('error', reject);
      this.worker.on('message', (batch: ToApi[]) => {
        for (const message of batch) {
          if (message.t === 'listening') {
            this.worker.off('exit', onExit);
            this.worker.off('error', reject);
            this.worker.on('error', (error) => console.error('skiff: a front-end thread failed:', error));
            resolve(message.address as AddressInfo);
          } else if (message.t === 'failed') {
            reject(Object.assign(new Error(message.message), { code: message.code }));
          } else {
            this.#receive(message);
          }
        }
      });
    });
  }

  /**
   * Requests received and not yet started, oldest first, from {@link #next} on. A started one's
   * slot is emptied at once: under steady load the list is seldom drained whole, and a request
   * held here until it is would outlive the young generation, body and all.
   */
  #queued: Array<Extract<ToApi, { t: 'request' }> | undefined> = [];
  #next = 0;

  #receive(message: ToApi): void {
    switch (message.t) {
      case 'request':
        if (this.#queued.push(message) === 1) setImmediate(this.#startQueued);
        return;
      case 'gone':
        this.#streams.get(message.id)?.();
        this.#streams.delete(message.id);
        return;
      case 'closed':
        this.#closed?.();
        return;
      case 'upgrade':
        this.#upgraded(message);
        return;
      case 'socket-data':
        this.#sockets.get(message.id)?.push(message.chunk);
        return;
      case 'socket-end':
        this.#sockets.get(message.id)?.push(null);
        return;
      case 'socket-close': {
        const socket = this.#sockets.get(message.id);
        this.#sockets.delete(message.id);
        socket?.destroy();
        return;
      }
    }
  }

  /** Starts up to {@link REQUESTS_PER_TURN} queued requests, and comes back next turn for more. */
  readonly #startQueued = (): void => {
    const end = Math.min(this.#next + REQUESTS_PER_TURN, this.#queued.length);
    for (let i = this.#next; i < end; i++) {
      const message = this.#queued[i]!;
      this.#queued[i] = undefined;
      this.#serve(message);
    }
    if (end < this.#queued.length) {
      // The started part goes now and then, not the whole list at every turn.
      if (end >= 1024) {
        this.#queued = this.#queued.slice(end);
        this.#next = 0;
      } else {
        this.#next = end;
      }
      setImmediate(this.#startQueued);
    } else {
      this.#queued = [];
      this.#next = 0;
    }
  };

  /** An upgraded connection accepted by the thread: a socket here whose bytes travel as messages. */
  #upgraded(message: Extract<ToApi, { t: 'upgrade' }>): void {
    const { id } = message;
    const outbox = this.#outbox;
    const sockets = this.#sockets;
    const socket = new Duplex({
      allowHalfOpen: true,
      read() {},
      write(chunk: Buffer, _encoding, callback) {
        outbox.push({ t: 'socket-data', id, chunk });
        callback();
      },
      final(callback) {
        outbox.push({ t: 'socket-end', id });
        callback();
      },
      destroy(error, callback) {
        if (sockets.delete(id)) outbox.push({ t: 'socket-close', id });
        callback(error);
      },
    });
    this.#sockets.set(id, socket);
    if (!this.#upgrade) {
      socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    this.#upgrade({ method: message.method, url: message.url, headers: message.headers }, socket, Buffer.from(message.head));
  }

  #serve(message: Extract<ToApi, { t: 'request' }>): void {
    const { id } = message;
    const request: ApiRequest = {
      method: message.method,
      path: message.path,
      query: new URLSearchParams(message.query),
      accept: message.accept,
      contentType: message.contentType,
      body: message.body,
      ...(message.userAgent !== undefined ? { userAgent: message.userAgent } : {}),
    };
    this.#handle(request).then(
      (response) => this.#answer(id, response),
      (error: unknown) => {
        console.error('skiff: failed to answer a request:', error);
        this.#outbox.push({ t: 'response', id, status: 500, contentType: 'text/plain', body: undefined, warnings: undefined });
      },
    );
  }

  #answer(id: number, response: ApiResponse): void {
    const warnings = response.warnings?.length ? response.warnings : undefined;
    if (!response.stream) {
      this.#outbox.push({ t: 'response', id, status: response.status, contentType: response.contentType, body: response.body, warnings });
      return;
    }
    this.#latest.set(id, this.#outbox.push({ t: 'stream', id, status: response.status, contentType: response.contentType, warnings }));
    let ended = false;
    const stop = response.stream.start(
      (chunk) => {
        const shared = this.#chunks.get(chunk);
        if (shared && shared.at > (this.#latest.get(id) ?? -1)) {
          shared.ids.push(id);
          this.#latest.set(id, shared.at);
          return;
        }
        const message = { t: 'chunk' as const, ids: [id], chunk };
        const at = this.#outbox.push(message);
        this.#chunks.set(chunk, { ids: message.ids, at });
        this.#latest.set(id, at);
      },
      () => {
        ended = true;
        this.#streams.delete(id);
        this.#outbox.push({ t: 'end', id });
      },
    );
    if (!ended) this.#streams.set(id, stop);
  }

  /** Closes the thread's listener (which cuts its connections), then ends the thread. */
  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.#closed = resolve;
      this.#outbox.push({ t: 'close' });
      // A thread that died meanwhile has nothing left to close.
      this.worker.once('exit', () => resolve());
    });
    for (const stop of this.#streams.values()) stop();
    this.#streams.clear();
    for (const socket of [...this.#sockets.values()]) socket.destroy();
    await this.worker.terminate();
  }
}

/**
 * Like `listen` of `listener.ts`: listens on this thread, and hands the port over to
 * `options.threads` front-end threads once the request rate says they are needed (see the
 * file header). If they cannot start, this thread goes on serving alone.
 */
export async function listenScaling(options: ListenOptions, handle: (request: ApiRequest) => Promise<ApiResponse>, upgrade?: UpgradeHandler): Promise<Listener> {
  // SO_REUSEPORT would let this server share a port another one holds: fail as a plain bind would.
  if (options.port !== 0) await assertPortFree(options.host, options.port);
  let requests = 0;
  const local = await listen({ ...options, reusePort: true }, (request) => {
    requests++;
    return handle(request);
  }, upgrade);
  let fronts: Listener | undefined;
  let starting: Promise<void> | undefined;
  let closing = false;
  let loop = performance.eventLoopUtilization();
  const monitor = setInterval(() => {
    const now = performance.eventLoopUtilization();
    const busy = performance.eventLoopUtilization(now, loop).utilization;
    loop = now;
    if (requests >= BUSY_REQUESTS_PER_SECOND && busy > BUSY_UTILIZATION) {
      clearInterval(monitor);
      starting = (async () => {
        try {
          const started = await listenInThreads({ ...options, port: local.address.port, reusePort: true }, handle, upgrade);
          if (closing) return void (await started.close());
          fronts = started;
          local.handOver();
        } catch (error) {
          console.error('skiff: front-end threads did not start; serving from the API thread:', error);
        }
      })();
    }
    requests = 0;
  }, 1000);
  monitor.unref();
  return {
    address: local.address,
    close: async () => {
      closing = true;
      clearInterval(monitor);
      await starting;
      await Promise.all([fronts?.close(), local.close()]);
    },
  };
}

/** Rejects with the error of a plain bind (EADDRINUSE, EACCES…) when `host:port` is taken. */
function assertPortFree(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}

/** Like `listen` of `listener.ts`, with `options.threads` front-end threads from the start. */
export async function listenInThreads(options: ListenOptions, handle: (request: ApiRequest) => Promise<ApiResponse>, upgrade?: UpgradeHandler): Promise<Listener> {
  const threads = Math.max(1, options.threads ?? 1);
  const reusePort = threads > 1 || options.reusePort === true;
  const settings = (port: number): FrontEndSettings => ({ host: options.host, port, tls: options.tls, reusePort });
  const fronts: FrontEnd[] = [];
  try {
    // The first thread binds (port 0 picks one); the others join it on the same port.
    fronts.push(new FrontEnd(settings(options.port), handle, upgrade));
    const address = await fronts[0]!.listening;
    for (let i = 1; i < threads; i++) fronts.push(new FrontEnd(settings(address.port), handle, upgrade));
    await Promise.all(fronts.map((f) => f.listening));
    return {
      address,
      close: async () => {
        await Promise.all(fronts.map((f) => f.close()));
      },
    };
  } catch (error) {
    await Promise.all(fronts.map((f) => f.worker.terminate()));
    throw error;
  }
}
