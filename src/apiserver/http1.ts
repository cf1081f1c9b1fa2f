/**
 * The API's own HTTP/1.1 connections, served without Node's HTTP machinery.
 *
 * Node's HTTP server makes a request stream, a response object, header maps, timers and
 * promises for every request; on the front-end thread that was about half of its time and
 * most of its garbage, which the thread then stops to collect while every request in flight
 * waits. The API's requests are plain: a request line, a few headers, a body of known length,
 * and one answer. This module reads those straight from the socket (TLS already removed) and
 * writes each answer — status line, headers and body — in one write.
 *
 * Anything else goes to Node's server with the bytes read so far, and that connection stays
 * there: upgrades (exec, attach, port-forward), `Transfer-Encoding`, `Expect`, HTTP/1.0,
 * bodies over the cap, header blocks over 16 KiB, repeated `Content-Length`, `Content-Type` or
 * `User-Agent`, and whatever does not parse as plain HTTP/1.1 — so their answers (400, 413,
 * 431, a switch of protocols) are Node's, as before.
 *
 * Contract: the answers carry the same status lines and headers as Node's (`Date`,
 * `Connection`, `Keep-Alive: timeout=65`, `Content-Length` or chunked for watches); requests
 * on one connection are answered in order (pipelining included); an idle connection is closed
 * after 65 s, one that sends only part of a request after 60 s.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { ApiRequest, ApiResponse } from '../client/index.ts';

/** Node's limit on a request's header block, past which its server answers 431. */
export const MAX_HEAD_BYTES = 16 * 1024;
/** How long a connection may sit idle between requests (Node's server: `keepAliveTimeout`). */
export const KEEP_ALIVE_MS = 65_000;
/** How long a request may take to arrive once begun (Node's server: `headersTimeout`). */
export const PARTIAL_REQUEST_MS = 60_000;

/** Methods served here; others (Node knows many) go to Node's server. */
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
/** A header name (RFC 9110 token). */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Bytes no header value or request target may hold: control characters (but tab). */
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;
/** A request target this module serves: origin form, printable ASCII. */
const TARGET = /^\/[\x21-\x7e]*$/;
const DIGITS = /^\d+$/;

/** Paths made only of these, with no `.` segment and no `//`, mean what they say: WHATWG URL
 * parsing would return them unchanged, so the common case skips it. */
const PLAIN_PATH = /^(?:\/[A-Za-z0-9._~:@!$&'()*+,;=-]+)*\/?$/;

/** The request target's path and query, as `new URL(target, base)` would give them. */
export function splitTarget(target: string): { path: string; query: URLSearchParams } {
  const mark = target.indexOf('?');
  const path = mark === -1 ? target : target.slice(0, mark);
  if (path !== '' && PLAIN_PATH.test(path) && !path.includes('/.')) {
    const hash = mark === -1 ? -1 : target.indexOf('#', mark);
    const search = mark === -1 ? '' : target.slice(mark + 1, hash === -1 ? undefined : hash);
    return { path, query: new URLSearchParams(search) };
  }
  const url = new URL(target, 'http://skiff');
  return { path: url.pathname, query: url.searchParams };
}

/** Where a connection goes when this module does not serve it. */
export type Fallback = (socket: Socket, buffered: Buffer | undefined) => void;

/** Options of {@link Http1Server}. */
export interface Http1Options {
  handle: (request: ApiRequest) => Promise<ApiResponse>;
  /** Takes over a connection this module does not serve, with the bytes already read. */
  fallback: Fallback;
  /** Largest body served here; a longer one goes to the fallback (which answers 413). */
  maxBody: number;
  /** Idle time after which a connection is closed. Default {@link KEEP_ALIVE_MS}. */
  keepAliveMs?: number;
  /** Time a begun request may take to arrive whole. Default {@link PARTIAL_REQUEST_MS}. */
  partialRequestMs?: number;
}

let dateText = '';
let dateSecond = -1;
/** The `Date` header's value, made once a second. */
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(now).toUTCString();
  }
  return dateText;
}

/** The head of an answer, up to and including the blank line. */
function head(response: ApiResponse, close: boolean, length: string | undefined): string {
  let text = `HTTP/1.1 ${response.status} ${STATUS_CODES[response.status] ?? 'unknown'}\r\nContent-Type: ${response.contentType}\r\nCache-Control: no-cache, private\r\n`;
  if (response.warnings) for (const warning of response.warnings) text += `Warning: 299 - ${JSON.stringify(warning)}\r\n`;
  text += `Date: ${httpDate()}\r\n`;
  text += close ? 'Connection: close\r\n' : 'Connection: keep-alive\r\nKeep-Alive: timeout=65\r\n';
  text += length === undefined ? 'Transfer-Encoding: chunked\r\n\r\n' : `Content-Length: ${length}\r\n\r\n`;
  return text;
}

/** A request whose head has been read: what the handler gets, and the body still to come. */
interface Pending {
  request: ApiRequest;
  /** Whether the client asked to close after the answer. */
  close: boolean;
  /** Body bytes declared. */
  length: number;
}

/** What {@link parseHead} makes of a request head: a request, or a reason to hand it on. */
type Parsed = Pending | 'fallback';

/** Reads a request head (without its blank line), or says it is not one this module serves. */
export function parseHead(text: string, maxBody: number): Parsed {
  let lineEnd = text.indexOf('\r\n');
  if (lineEnd === -1) lineEnd = text.length;
  const first = text.indexOf(' ');
  const second = text.indexOf(' ', first + 1);
  if (first <= 0 || second === -1 || second >= lineEnd) return 'fallback';
  const method = text.slice(0, first);
  const target = text.slice(first + 1, second);
  if (!METHODS.has(method) || text.slice(second + 1, lineEnd) !== 'HTTP/1.1' || !TARGET.test(target)) return 'fallback';
  let accept: string | undefined;
  let contentType: string | undefined;
  let userAgent: string | undefined;
  let contentLength: string | undefined;
  let host = false;
  let close = false;
  for (let at = lineEnd + 2; at < text.length; ) {
    let end = text.indexOf('\r\n', at);
    if (end === -1) end = text.length;
    const colon = text.indexOf(':', at);
    if (colon === -1 || colon >= end) return 'fallback';
    const name = text.slice(at, colon);
    let from = colon + 1;
    let to = end;
    while (from < to && (text.charCodeAt(from) === 32 || text.charCodeAt(from) === 9)) from++;
    while (to > from && (text.charCodeAt(to - 1) === 32 || text.charCodeAt(to - 1) === 9)) to--;
    const value = text.slice(from, to);
    at = end + 2;
    if (!TOKEN.test(name) || CONTROL.test(value)) return 'fallback';
    switch (name.toLowerCase()) {
      case 'host':
        if (host) return 'fallback';
        host = true;
        break;
      case 'accept':
        accept = accept === undefined ? value : `${accept}, ${value}`;
        break;
      case 'content-type':
        if (contentType !== undefined) return 'fallback';
        contentType = value;
        break;
      case 'user-agent':
        if (userAgent !== undefined) return 'fallback';
        userAgent = value;
        break;
      case 'content-length':
        if (contentLength !== undefined || !DIGITS.test(value)) return 'fallback';
        contentLength = value;
        break;
      case 'connection': {
        const token = value.toLowerCase();
        if (token === 'close') close = true;
        else if (token !== 'keep-alive') return 'fallback';
        break;
      }
      case 'transfer-encoding':
      case 'upgrade':
      case 'expect':
        return 'fallback';
    }
  }
  // Node's server answers a request without Host with 400.
  if (!host) return 'fallback';
  const length = contentLength === undefined ? 0 : Number(contentLength);
  if (length > maxBody) return 'fallback';
  const { path, query } = splitTarget(target);
  const request: ApiRequest = { method, path, query, accept, contentType, body: undefined };
  if (userAgent) request.userAgent = userAgent;
  return { request, close, length };
}

/** One client connection served by {@link Http1Server}. */
class Connection {
  readonly socket: Socket;
  readonly #server: Http1Server;
  /** Bytes read and not yet used — the start of the next request, or several (pipelined) —
   * in the chunks they came in, joined only when a whole head or body is there. */
  #parts: Buffer[] = [];
  #size = 0;
  /** The request whose body is being read, and where in the bytes that body starts. */
  #pending: Pending | undefined;
  #bodyStart = 0;
  /** A request is being answered: later requests wait in {@link #parts}. */
  #busy = false;
  /** Stops the watch being streamed, if any. */
  #stopStream: (() => void) | undefined;
  /** When this connection last became idle, or began to receive its current request (ms). */
  since = performance.now();
  #handedOn = false;
  /** The connection was ended after an answer: whatever else arrives is ignored. */
  #ended = false;

  constructor(socket: Socket, server: Http1Server) {
    this.socket = socket;
    this.#server = server;
    socket.on('data', this.#onData);
    socket.on('error', this.#onError);
    socket.on('close', this.#onClose);
  }

  /** Whether the connection holds part of a request (true) or nothing (false); undefined while busy. */
  get waiting(): boolean | undefined {
    if (this.#busy) return undefined;
    return this.#size > 0;
  }

  readonly #onData = (chunk: Buffer): void => {
    if (this.#ended) return;
    if (this.#size === 0 && !this.#busy) this.since = performance.now();
    this.#parts.push(chunk);
    this.#size += chunk.length;
    if (!this.#busy) this.#next();
  };

  readonly #onError = (): void => {
    this.socket.destroy();
  };

  readonly #onClose = (): void => {
    this.#server.forget(this);
    const stop = this.#stopStream;
    this.#stopStream = undefined;
    stop?.();
  };

  /** The unused bytes as one buffer. */
  #joined(): Buffer {
    if (this.#parts.length !== 1) this.#parts = [Buffer.concat(this.#parts, this.#size)];
    return this.#parts[0]!;
  }

  /** Starts on the next complete request, if its bytes are all there. */
  #next(): void {
    if (this.#size === 0 || this.socket.destroyed) return;
    let pending = this.#pending;
    let start = this.#bodyStart;
    if (pending === undefined) {
      const bytes = this.#joined();
      const end = bytes.indexOf('\r\n\r\n');
      if (end === -1) {
        if (bytes.length > MAX_HEAD_BYTES) this.#handOn();
        return;
      }
      if (end > MAX_HEAD_BYTES) return this.#handOn();
      const parsed = parseHead(bytes.toString('latin1', 0, end), this.#server.maxBody);
      if (parsed === 'fallback') return this.#handOn();
      pending = parsed;
      start = end + 4;
    }
    if (this.#size - start < pending.length) {
      // The body is still coming.
      this.#pending = pending;
      this.#bodyStart = start;
      return;
    }
    const bytes = this.#joined();
    this.#pending = undefined;
    this.#bodyStart = 0;
    const bodyEnd = start + pending.length;
    if (pending.length > 0) pending.request.body = bytes.subarray(start, bodyEnd);
    if (bodyEnd === bytes.length) {
      this.#parts = [];
      this.#size = 0;
    } else {
      this.#parts = [bytes.subarray(bodyEnd)];
      this.#size = bytes.length - bodyEnd;
    }
    this.#busy = true;
    this.#serve(pending);
  }

  #serve(pending: Pending): void {
    const { request } = pending;
    const isHead = request.method === 'HEAD';
    this.#server.handle(request).then(
      (response) => {
        if (this.socket.destroyed) {
          // The client left while its request was handled: a stream it asked for stops at once.
          response.stream?.start(() => {}, () => {})();
          return;
        }
        const close = pending.close || this.#server.handedOver;
        if (response.stream) return this.#stream(response, close);
        const body = response.body ?? '';
        const length = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
        const text = head(response, close, String(length));
        if (isHead || length === 0) this.socket.write(text);
        else if (typeof body === 'string') this.socket.write(text + body);
        else this.socket.write(Buffer.concat([Buffer.from(text, 'latin1'), body]));
        this.#done(close);
      },
      (error: unknown) => {
        console.error('skiff: failed to answer a request:', error);
        if (this.socket.destroyed) return;
        this.socket.write(head({ status: 500, contentType: 'text/plain' }, true, '0'));
        this.#done(true);
      },
    );
  }

  /** Writes a watch as a chunked answer; the connection serves its next request after it. */
  #stream(response: ApiResponse, close: boolean): void {
    const socket = this.socket;
    socket.write(head(response, close, undefined));
    // Events that arrive in one turn (one commit batch) leave in one write: one TLS record and
    // one system call per watcher instead of one per event.
    let queued: (string | Uint8Array)[] = [];
    const flush = () => {
      if (queued.length === 0 || socket.destroyed) return;
      const chunks = queued;
      queued = [];
      let size = 0;
      let text = true;
      for (const chunk of chunks) {
        if (typeof chunk === 'string') size += Buffer.byteLength(chunk);
        else {
          size += chunk.length;
          text = false;
        }
      }
      const prefix = `${size.toString(16)}\r\n`;
      if (text) socket.write(`${prefix}${chunks.join('')}\r\n`);
      else socket.write(Buffer.concat([Buffer.from(prefix), ...chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c)), Buffer.from('\r\n')]));
    };
    let ended = false;
    this.#stopStream = response.stream!.start(
      (chunk) => {
        if (ended) return;
        if (queued.length === 0) process.nextTick(flush);
        queued.push(chunk);
      },
      () => {
        if (ended) return;
        ended = true;
        flush();
        this.#stopStream = undefined;
        if (socket.destroyed) return;
        socket.write('0\r\n\r\n');
        this.#done(close);
      },
    );
    // The client may have gone while the stream was being set up.
    if (socket.destroyed) this.#onClose();
  }

  /** The answer is written: close, or go on with the next request. */
  #done(close: boolean): void {
    this.#busy = false;
    this.since = performance.now();
    if (close) {
      this.#ended = true;
      this.#parts = [];
      this.#size = 0;
      this.socket.end();
      return;
    }
    if (this.#size > 0) this.#next();
  }

  /** Gives the connection, and what it sent so far, to Node's server. */
  #handOn(): void {
    if (this.#handedOn) return;
    this.#handedOn = true;
    const socket = this.socket;
    socket.off('data', this.#onData);
    socket.off('error', this.#onError);
    socket.off('close', this.#onClose);
    this.#server.forget(this);
    socket.pause();
    const buffered = this.#size > 0 ? this.#joined() : undefined;
    this.#parts = [];
    this.#size = 0;
    this.#server.fallback(socket, buffered);
  }

  /** Closes the connection if it sat idle, or half-sent a request, for too long. */
  expire(now: number): void {
    const waiting = this.waiting;
    if (waiting === undefined) return;
    if (now - this.since > (waiting ? this.#server.partialRequestMs : this.#server.keepAliveMs)) this.socket.destroy();
  }
}

/**
 * Serves the connections it is given (see the module's comment); `handOver()` makes every
 * later answer close its connection, `closeAll()` cuts them all.
 */
export class Http1Server {
  readonly handle: (request: ApiRequest) => Promise<ApiResponse>;
  readonly fallback: Fallback;
  readonly maxBody: number;
  readonly keepAliveMs: number;
  readonly partialRequestMs: number;
  handedOver = false;
  readonly #connections = new Set<Connection>();
  #sweeper: NodeJS.Timeout | undefined;

  constructor(options: Http1Options) {
    this.handle = options.handle;
    this.fallback = options.fallback;
    this.maxBody = options.maxBody;
    this.keepAliveMs = options.keepAliveMs ?? KEEP_ALIVE_MS;
    this.partialRequestMs = options.partialRequestMs ?? PARTIAL_REQUEST_MS;
  }

  /** Serves `socket` (plain, or TLS already set up). */
  accept(socket: Socket): void {
    this.#connections.add(new Connection(socket, this));
    if (!this.#sweeper) {
      this.#sweeper = setInterval(() => this.#sweep(), Math.min(5_000, this.keepAliveMs / 4, this.partialRequestMs / 4));
      this.#sweeper.unref();
    }
  }

  /** Every later answer says `Connection: close` and closes its connection. */
  handOver(): void {
    this.handedOver = true;
  }

  /** Cuts every connection (watches end with them). */
  closeAll(): void {
    for (const connection of this.#connections) connection.socket.destroy();
    this.#connections.clear();
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
  }

  forget(connection: Connection): void {
    this.#connections.delete(connection);
  }

  #sweep(): void {
    const now = performance.now();
    for (const connection of this.#connections) connection.expire(now);
  }
}
