/**
 * WebSocket (RFC 6455) framing over any byte stream: the server side of kubectl's exec,
 * attach and port-forward connections, and the client side the API server uses to reach a
 * kubelet. Only what Kubernetes' streaming protocols use: binary and text messages (fragmented
 * or not), ping/pong, and the close handshake; no extensions.
 *
 * Contract: `onMessage` receives each complete message in order; `onClose` fires once, when
 * the peer's close frame arrives, the stream ends, or `close()`/`terminate()` is called. A
 * client masks every frame it sends and a server none, as the RFC requires; a frame that
 * breaks the protocol (unmasked from a client, an unknown opcode, a control frame over 125
 * bytes, a message over `maxMessageBytes`) closes the connection with 1002/1009.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Duplex } from 'node:stream';

/** The GUID RFC 6455 appends to the client's key. */
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

const OP_CONTINUATION = 0x0;
const OP_TEXT = 0x1;
const OP_BINARY = 0x2;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;
const OP_PONG = 0xa;

/** `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key`. */
export function acceptKey(key: string): string {
  return createHash('sha1').update(key + GUID).digest('base64');
}

/** Whether an HTTP request asks to become a WebSocket. */
export function isWebSocketUpgrade(headers: IncomingHttpHeaders): boolean {
  return (headers.upgrade ?? '').toLowerCase() === 'websocket' && typeof headers['sec-websocket-key'] === 'string';
}

/** The subprotocols a client offers, in its order of preference. */
export function offeredProtocols(headers: IncomingHttpHeaders): string[] {
  const raw = headers['sec-websocket-protocol'];
  const joined = Array.isArray(raw) ? raw.join(',') : (raw ?? '');
  return joined.split(',').map((p) => p.trim()).filter(Boolean);
}

/**
 * The `101 Switching Protocols` head that accepts a WebSocket upgrade with `protocol` (omitted
 * when empty), as raw bytes to write to the socket.
 */
export function acceptUpgrade(headers: IncomingHttpHeaders, protocol: string): string {
  const key = String(headers['sec-websocket-key'] ?? '');
  return [
    'HTTP/1.1 101 Switching Protocols',
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Accept: ${acceptKey(key)}`,
    ...(protocol ? [`Sec-WebSocket-Protocol: ${protocol}`] : []),
    '',
    '',
  ].join('\r\n');
}

/** A new random `Sec-WebSocket-Key`. */
export function newKey(): string {
  return randomBytes(16).toString('base64');
}

/** Options of {@link WebSocket}. */
export interface WebSocketOptions {
  /** `client` masks what it sends; `server` expects masked frames. */
  role: 'client' | 'server';
  /** Bytes the peer sent after the handshake, already read from the socket. */
  head?: Buffer;
  /** Largest message accepted. Default 64 MiB. */
  maxMessageBytes?: number;
}

/** One WebSocket connection over a socket whose handshake is done. See the file header. */
export class WebSocket {
  readonly #socket: Duplex;
  readonly #client: boolean;
  readonly #max: number;
  #buffer: Buffer = Buffer.alloc(0);
  #fragments: Buffer[] = [];
  #fragmentsType = 0;
  #fragmentsSize = 0;
  #closed = false;
  #sentClose = false;
  #onMessage: (data: Buffer, binary: boolean) => void = () => {};
  #onClose: ((code: number, reason: string) => void)[] = [];

  constructor(socket: Duplex, options: WebSocketOptions) {
    this.#socket = socket;
    this.#client = options.role === 'client';
    this.#max = options.maxMessageBytes ?? 64 * 1024 * 1024;
    if ('setNoDelay' in socket && typeof socket.setNoDelay === 'function') socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#receive(chunk));
    socket.on('end', () => this.#finish(1006, 'connection ended'));
    socket.on('close', () => this.#finish(1006, 'connection closed'));
    socket.on('error', () => this.#finish(1006, 'connection failed'));
    if (options.head && options.head.length > 0) queueMicrotask(() => this.#receive(options.head!));
  }

  /** Sets the message listener (one; the latest wins). */
  onMessage(listener: (data: Buffer, binary: boolean) => void): void {
    this.#onMessage = listener;
  }

  /** Adds a listener for the end of the connection. */
  onClose(listener: (code: number, reason: string) => void): void {
    if (this.#closed) queueMicrotask(() => listener(1006, 'closed'));
    else this.#onClose.push(listener);
  }

  /** Whether the connection is over. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Sends one message; false when the socket's buffer is full (see {@link drained}). */
  send(data: Uint8Array | string, binary = true): boolean {
    if (this.#closed || this.#sentClose) return false;
    const payload = typeof data === 'string' ? Buffer.from(data) : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    return this.#socket.write(this.#frame(binary ? OP_BINARY : OP_TEXT, payload));
  }

  /** Resolves when the socket can take more. */
  drained(): Promise<void> {
    if (!this.#socket.writableNeedDrain || this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.#socket.off('drain', done);
        this.#socket.off('close', done);
        resolve();
      };
      this.#socket.once('drain', done);
      this.#socket.once('close', done);
    });
  }

  /** Starts the close handshake; the socket ends once the peer answers (or after 2 s). */
  close(code = 1000, reason = ''): void {
    if (this.#closed || this.#sentClose) return;
    this.#sentClose = true;
    const body = Buffer.alloc(2 + Buffer.byteLength(reason));
    body.writeUInt16BE(code, 0);
    body.write(reason, 2);
    this.#socket.write(this.#frame(OP_CLOSE, body));
    const timer = setTimeout(() => this.terminate(), 2000);
    timer.unref();
    this.onClose(() => clearTimeout(timer));
  }

  /** Ends the connection at once. */
  terminate(): void {
    this.#socket.destroy();
    this.#finish(1006, 'terminated');
  }

  #finish(code: number, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    const listeners = this.#onClose;
    this.#onClose = [];
    for (const listener of listeners) listener(code, reason);
  }

  #frame(opcode: number, payload: Buffer): Buffer {
    const length = payload.length;
    const extra = length < 126 ? 0 : length < 65536 ? 2 : 8;
    const maskBytes = this.#client ? 4 : 0;
    const frame = Buffer.allocUnsafe(2 + extra + maskBytes + length);
    frame[0] = 0x80 | opcode;
    const maskBit = this.#client ? 0x80 : 0;
    if (extra === 0) frame[1] = maskBit | length;
    else if (extra === 2) {
      frame[1] = maskBit | 126;
      frame.writeUInt16BE(length, 2);
    } else {
      frame[1] = maskBit | 127;
      frame.writeBigUInt64BE(BigInt(length), 2);
    }
    const start = 2 + extra + maskBytes;
    if (this.#client) {
      const mask = randomBytes(4);
      mask.copy(frame, 2 + extra);
      for (let i = 0; i < length; i++) frame[start + i] = payload[i]! ^ mask[i & 3]!;
    } else {
      payload.copy(frame, start);
    }
    return frame;
  }

  #receive(chunk: Buffer): void {
    if (this.#closed) return;
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    for (;;) {
      const b = this.#buffer;
      if (b.length < 2) return;
      const fin = (b[0]! & 0x80) !== 0;
      const opcode = b[0]! & 0x0f;
      const masked = (b[1]! & 0x80) !== 0;
      let length = b[1]! & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (b.length < 4) return;
        length = b.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (b.length < 10) return;
        const big = b.readBigUInt64BE(2);
        if (big > BigInt(this.#max)) return this.#fail(1009, 'message too big');
        length = Number(big);
        offset = 10;
      }
      if (length > this.#max) return this.#fail(1009, 'message too big');
      if (masked !== !this.#client) return this.#fail(1002, masked ? 'masked frame from the server' : 'unmasked frame from the client');
      const maskOffset = offset;
      if (masked) offset += 4;
      if (b.length < offset + length) return;
      const payload = Buffer.from(b.subarray(offset, offset + length));
      if (masked) for (let i = 0; i < length; i++) payload[i]! ^= b[maskOffset + (i & 3)]!;
      this.#buffer = b.subarray(offset + length);
      if (!this.#handle(fin, opcode, payload)) return;
    }
  }

  /** Handles one frame; false once the connection is over. */
  #handle(fin: boolean, opcode: number, payload: Buffer): boolean {
    switch (opcode) {
      case OP_PING:
      case OP_PONG:
      case OP_CLOSE:
        if (!fin || payload.length > 125) {
          this.#fail(1002, 'bad control frame');
          return false;
        }
        if (opcode === OP_PING) {
          if (!this.#sentClose) this.#socket.write(this.#frame(OP_PONG, payload));
          return true;
        }
        if (opcode === OP_PONG) return true;
        {
          const code = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
          const reason = payload.length > 2 ? payload.subarray(2).toString() : '';
          if (!this.#sentClose) {
            this.#sentClose = true;
            this.#socket.write(this.#frame(OP_CLOSE, payload.subarray(0, 2)));
          }
          this.#socket.end();
          this.#finish(code, reason);
        }
        return false;
      case OP_TEXT:
      case OP_BINARY:
        if (this.#fragments.length > 0) {
          this.#fail(1002, 'new message inside a fragmented one');
          return false;
        }
        if (fin) {
          this.#onMessage(payload, opcode === OP_BINARY);
          return !this.#closed;
        }
        this.#fragmentsType = opcode;
        this.#fragments = [payload];
        this.#fragmentsSize = payload.length;
        return true;
      case OP_CONTINUATION:
        if (this.#fragments.length === 0) {
          this.#fail(1002, 'continuation without a message');
          return false;
        }
        this.#fragments.push(payload);
        this.#fragmentsSize += payload.length;
        if (this.#fragmentsSize > this.#max) {
          this.#fail(1009, 'message too big');
          return false;
        }
        if (fin) {
          const message = Buffer.concat(this.#fragments, this.#fragmentsSize);
          this.#fragments = [];
          this.#fragmentsSize = 0;
          this.#onMessage(message, this.#fragmentsType === OP_BINARY);
          return !this.#closed;
        }
        return true;
      default:
        this.#fail(1002, `unknown opcode ${opcode}`);
        return false;
    }
  }

  #fail(code: number, reason: string): void {
    this.close(code, reason);
    this.#socket.end();
    this.#finish(code, reason);
  }
}

/**
 * A byte stream carried in binary WebSocket messages, each message's bytes in order (how
 * kubectl tunnels SPDY through a WebSocket for port-forward: `SPDY/3.1+portforward.k8s.io`).
 * Ending the writable side closes the WebSocket.
 */
export function messageStream(ws: WebSocket): Duplex {
  const duplex = new Duplex({
    read() {},
    write(chunk: Buffer, _encoding, callback) {
      if (!ws.send(chunk)) void ws.drained().then(() => callback());
      else callback();
    },
    final(callback) {
      ws.close(1000);
      callback();
    },
    destroy(error, callback) {
      if (!ws.closed) ws.terminate();
      callback(error);
    },
  });
  ws.onMessage((data) => duplex.push(data));
  ws.onClose(() => {
    duplex.push(null);
  });
  return duplex;
}
