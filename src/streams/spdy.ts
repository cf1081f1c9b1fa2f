/**
 * SPDY/3.1 as kubectl speaks it (through Go's spdystream), server side: kubectl opens streams
 * with SYN_STREAM and name/value headers (`streamtype: stdin|stdout|stderr|error|resize` for
 * exec and attach; `streamtype: data|error`, `port`, `requestid` for port-forward); the server
 * answers each with SYN_REPLY and then both sides send DATA frames, FIN closing one direction.
 *
 * Frames: a control frame is `1 | version(15) | type(16) | flags(8) | length(24) | data`, a
 * data frame `0 | stream-id(31) | flags(8) | length(24) | data`. Header blocks are zlib
 * streams, one per direction for the whole session, primed with the SPDY/3 dictionary.
 *
 * Contract: `onStream` hears each new stream in order; a stream is a Duplex whose readable side
 * ends at the peer's FIN and whose `end()` sends FIN. Nothing is sent for a stream before its
 * `reply()` has gone out. Header blocks are deflated and inflated with one stateful zlib stream
 * per direction (asynchronous: frames are handled, and replies sent, strictly in order). Flow
 * control windows are not enforced (spdystream does not either). PING is answered; GOAWAY
 * or the end of the transport ends every stream.
 */
import { Duplex } from 'node:stream';
import { constants as zlibConstants, createDeflate, createInflate, type Deflate, type Inflate } from 'node:zlib';

const VERSION = 3;
const TYPE_SYN_STREAM = 1;
const TYPE_SYN_REPLY = 2;
const TYPE_RST_STREAM = 3;
const TYPE_PING = 6;
const TYPE_GOAWAY = 7;
const TYPE_HEADERS = 8;
const FLAG_FIN = 0x01;
/** DATA frames this side sends are at most this long. */
const MAX_DATA = 32 * 1024;

/** RST_STREAM status codes used here. */
export const RST_PROTOCOL_ERROR = 1;
export const RST_REFUSED_STREAM = 3;
export const RST_CANCEL = 5;

/** Header names the SPDY/3 dictionary lists as length-prefixed words, in its order. */
const DICTIONARY_WORDS = [
  'options', 'head', 'post', 'put', 'delete', 'trace', 'accept', 'accept-charset', 'accept-encoding',
  'accept-language', 'accept-ranges', 'age', 'allow', 'authorization', 'cache-control', 'connection',
  'content-base', 'content-encoding', 'content-language', 'content-length', 'content-location',
  'content-md5', 'content-range', 'content-type', 'date', 'etag', 'expect', 'expires', 'from', 'host',
  'if-match', 'if-modified-since', 'if-none-match', 'if-range', 'if-unmodified-since', 'last-modified',
  'location', 'max-forwards', 'pragma', 'proxy-authenticate', 'proxy-authorization', 'range', 'referer',
  'retry-after', 'server', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'user-agent', 'vary', 'via',
  'warning', 'www-authenticate', 'method', 'get', 'status', '200 OK', 'version', 'HTTP/1.1', 'url',
  'public', 'set-cookie', 'keep-alive', 'origin',
];
/** The dictionary's tail: plain text after the words. */
const DICTIONARY_TAIL =
  '100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505' +
  '203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized' +
  '403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable' +
  'Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT' +
  'chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,' +
  'text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.';

/** The SPDY/3 header compression dictionary (1423 bytes). */
export const SPDY3_DICTIONARY: Buffer = Buffer.concat([
  ...DICTIONARY_WORDS.map((word) => {
    const b = Buffer.alloc(4 + word.length);
    b.writeUInt32BE(word.length, 0);
    b.write(word, 4, 'latin1');
    return b;
  }),
  Buffer.from(DICTIONARY_TAIL, 'latin1'),
]);

/** Header names → values (a name with several values: NUL-separated on the wire). */
export type SpdyHeaders = Record<string, string[]>;

/** Encodes a name/value block (uncompressed). */
export function encodeHeaderBlock(headers: SpdyHeaders): Buffer {
  const parts: Buffer[] = [];
  const count = Buffer.alloc(4);
  count.writeUInt32BE(Object.keys(headers).length);
  parts.push(count);
  for (const [name, values] of Object.entries(headers)) {
    const n = Buffer.from(name.toLowerCase());
    const v = Buffer.from(values.join('\0'));
    const nl = Buffer.alloc(4);
    nl.writeUInt32BE(n.length);
    const vl = Buffer.alloc(4);
    vl.writeUInt32BE(v.length);
    parts.push(nl, n, vl, v);
  }
  return Buffer.concat(parts);
}

/** Decodes a name/value block (uncompressed); names are lower-cased. */
export function decodeHeaderBlock(block: Buffer): SpdyHeaders {
  const headers: SpdyHeaders = {};
  if (block.length < 4) return headers;
  const count = block.readUInt32BE(0);
  let offset = 4;
  for (let i = 0; i < count && offset + 4 <= block.length; i++) {
    const nameLength = block.readUInt32BE(offset);
    offset += 4;
    const name = block.subarray(offset, offset + nameLength).toString().toLowerCase();
    offset += nameLength;
    const valueLength = block.readUInt32BE(offset);
    offset += 4;
    const value = block.subarray(offset, offset + valueLength).toString();
    offset += valueLength;
    headers[name] = [...(headers[name] ?? []), ...value.split('\0')];
  }
  return headers;
}

/**
 * Header blocks as this side sends them: one deflater for the session, primed with the
 * dictionary and sync-flushed per block, as Go's framer writes them (its reader insists that a
 * frame's compressed bytes are exactly what the block takes).
 */
class HeaderWriter {
  readonly #deflate: Deflate = createDeflate({ dictionary: SPDY3_DICTIONARY });
  #chunks: Buffer[] = [];

  constructor() {
    this.#deflate.on('data', (chunk: Buffer) => this.#chunks.push(chunk));
    this.#deflate.on('error', () => {});
  }

  compress(block: Buffer): Promise<Buffer> {
    return new Promise((resolve) => {
      this.#deflate.write(block);
      this.#deflate.flush(zlibConstants.Z_SYNC_FLUSH, () => {
        setImmediate(() => {
          const out = Buffer.concat(this.#chunks);
          this.#chunks = [];
          resolve(out);
        });
      });
    });
  }

  close(): void {
    this.#deflate.destroy();
  }
}

/** Header blocks as the peer sends them: one inflater for the session, flushed per block. */
class HeaderReader {
  readonly #inflate: Inflate = createInflate({ dictionary: SPDY3_DICTIONARY });
  #chunks: Buffer[] = [];

  constructor() {
    this.#inflate.on('data', (chunk: Buffer) => this.#chunks.push(chunk));
    this.#inflate.on('error', () => {});
  }

  decompress(block: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.#inflate.write(block, (error) => {
        if (error) return reject(error);
      });
      this.#inflate.flush(zlibConstants.Z_SYNC_FLUSH, () => {
        // Output of the flush is pushed before its callback runs; take it on the next tick to be sure.
        setImmediate(() => {
          const out = Buffer.concat(this.#chunks);
          this.#chunks = [];
          resolve(out);
        });
      });
    });
  }

  close(): void {
    this.#inflate.destroy();
  }
}

/** One SPDY stream. See the file header. */
export class SpdyStream extends Duplex {
  readonly id: number;
  readonly headers: SpdyHeaders;
  readonly #session: SpdySession;
  #replying = false;
  #replied = false;
  #pending: { data: Buffer; fin: boolean }[] = [];
  #remoteDone = false;
  #localDone = false;

  constructor(session: SpdySession, id: number, headers: SpdyHeaders) {
    super({ allowHalfOpen: true });
    this.#session = session;
    this.id = id;
    this.headers = headers;
  }

  /** The first value of a header (names are case-insensitive). */
  header(name: string): string | undefined {
    return this.headers[name.toLowerCase()]?.[0];
  }

  /** Accepts the stream: sends SYN_REPLY, then whatever was written meanwhile. */
  reply(): void {
    if (this.#replying) return;
    this.#replying = true;
    void this.#session.sendReply(this.id).then(() => {
      this.#replied = true;
      for (const { data, fin } of this.#pending) this.#session.sendData(this.id, data, fin);
      this.#pending = [];
    });
  }

  /** Refuses or cancels the stream with RST_STREAM. */
  reset(status = RST_CANCEL): void {
    this.#session.sendReset(this.id, status);
    this.#remoteEnd();
    this.#localDone = true;
    this.destroy();
  }

  override _read(): void {}

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    for (let offset = 0; offset < chunk.length; offset += MAX_DATA) this.#send(chunk.subarray(offset, offset + MAX_DATA), false);
    callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#localDone = true;
    this.#send(Buffer.alloc(0), true);
    this.#maybeDone();
    callback();
  }

  #send(data: Buffer, fin: boolean): void {
    if (this.#replied) this.#session.sendData(this.id, data, fin);
    else this.#pending.push({ data: Buffer.from(data), fin });
  }

  /** @internal Data from the peer. */
  receive(data: Buffer, fin: boolean): void {
    if (this.#remoteDone) return;
    if (data.length > 0) this.push(data);
    if (fin) this.#remoteEnd();
  }

  /** @internal The peer finished (FIN, RST_STREAM or the session's end). */
  remoteEnd(): void {
    this.#remoteEnd();
  }

  #remoteEnd(): void {
    if (this.#remoteDone) return;
    this.#remoteDone = true;
    this.push(null);
    this.#maybeDone();
  }

  #maybeDone(): void {
    if (this.#remoteDone && this.#localDone) this.#session.forget(this.id);
  }
}

/** Options of {@link SpdySession}. */
export interface SpdySessionOptions {
  /** Called for each stream the peer opens; the callee replies (or resets) it. */
  onStream: (stream: SpdyStream) => void;
  /** Called once when the session is over. */
  onClose?: () => void;
}

/** A server-side SPDY/3.1 session over a byte stream. See the file header. */
export class SpdySession {
  readonly #transport: Duplex;
  readonly #options: SpdySessionOptions;
  readonly #streams = new Map<number, SpdyStream>();
  readonly #writer = new HeaderWriter();
  readonly #reader = new HeaderReader();
  #buffer: Buffer = Buffer.alloc(0);
  /** Frames are handled one after another (inflating headers is asynchronous). */
  #inbox: Promise<void> = Promise.resolve();
  #closed = false;
  #lastStreamId = 0;
  #replies: Promise<void> = Promise.resolve();

  constructor(transport: Duplex, options: SpdySessionOptions, head?: Buffer) {
    this.#transport = transport;
    this.#options = options;
    transport.on('data', (chunk: Buffer) => this.#receive(chunk));
    transport.on('end', () => this.#queue(async () => this.close()));
    transport.on('close', () => this.#queue(async () => this.close()));
    transport.on('error', () => this.close());
    if (head && head.length > 0) this.#receive(head);
  }

  /** Whether the session is over. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Sends GOAWAY and ends the transport; every open stream ends. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const body = Buffer.alloc(8);
    body.writeUInt32BE(this.#lastStreamId & 0x7fffffff, 0);
    this.#write(control(TYPE_GOAWAY, 0, body));
    this.#transport.end();
    for (const stream of this.#streams.values()) {
      stream.remoteEnd();
      stream.destroy();
    }
    this.#streams.clear();
    this.#reader.close();
    void this.#replies.then(() => this.#writer.close());
    this.#options.onClose?.();
  }

  /** @internal Sends SYN_REPLY; replies leave in the order asked for (one deflater). */
  sendReply(id: number): Promise<void> {
    this.#replies = this.#replies.then(async () => {
      const body = Buffer.alloc(4);
      body.writeUInt32BE(id & 0x7fffffff);
      const block = await this.#writer.compress(encodeHeaderBlock({}));
      this.#write(control(TYPE_SYN_REPLY, 0, Buffer.concat([body, block])));
    });
    return this.#replies;
  }

  /** @internal */
  sendData(id: number, data: Buffer, fin: boolean): void {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(id & 0x7fffffff, 0);
    head.writeUInt32BE(((fin ? FLAG_FIN : 0) << 24) | data.length, 4);
    this.#write(data.length > 0 ? Buffer.concat([head, data]) : head);
  }

  /** @internal */
  sendReset(id: number, status: number): void {
    const body = Buffer.alloc(8);
    body.writeUInt32BE(id & 0x7fffffff, 0);
    body.writeUInt32BE(status, 4);
    this.#write(control(TYPE_RST_STREAM, 0, body));
  }

  /** @internal A stream both sides have finished. */
  forget(id: number): void {
    this.#streams.delete(id);
  }

  #write(bytes: Buffer): void {
    if (this.#transport.writable) this.#transport.write(bytes);
  }

  #queue(task: () => Promise<void>): void {
    this.#inbox = this.#inbox.then(task).catch(() => this.close());
  }

  #receive(chunk: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    while (this.#buffer.length >= 8) {
      const length = this.#buffer.readUInt32BE(4) & 0xffffff;
      if (this.#buffer.length < 8 + length) return;
      const frame = Buffer.from(this.#buffer.subarray(0, 8 + length));
      this.#buffer = this.#buffer.subarray(8 + length);
      this.#queue(() => this.#handle(frame));
    }
  }

  async #handle(frame: Buffer): Promise<void> {
    if (this.#closed) return;
    const first = frame.readUInt32BE(0);
    const flags = frame[4]!;
    const body = frame.subarray(8);
    if ((first & 0x80000000) === 0) {
      const stream = this.#streams.get(first & 0x7fffffff);
      stream?.receive(body, (flags & FLAG_FIN) !== 0);
      return;
    }
    const version = (first >>> 16) & 0x7fff;
    const type = first & 0xffff;
    if (version !== VERSION) return this.close();
    switch (type) {
      case TYPE_SYN_STREAM: {
        const id = body.readUInt32BE(0) & 0x7fffffff;
        const headers = decodeHeaderBlock(await this.#reader.decompress(body.subarray(10)));
        if (this.#closed) return;
        this.#lastStreamId = id;
        const stream = new SpdyStream(this, id, headers);
        this.#streams.set(id, stream);
        if (flags & FLAG_FIN) stream.remoteEnd();
        this.#options.onStream(stream);
        return;
      }
      case TYPE_HEADERS:
        // Keeps the inflater in step; extra headers are not used by kubectl's protocols.
        await this.#reader.decompress(body.subarray(4));
        return;
      case TYPE_RST_STREAM: {
        const id = body.readUInt32BE(0) & 0x7fffffff;
        const stream = this.#streams.get(id);
        if (stream) {
          this.#streams.delete(id);
          stream.remoteEnd();
          stream.destroy();
        }
        return;
      }
      case TYPE_PING:
        // The peer's pings (odd ids from a client) are echoed.
        this.#write(frame);
        return;
      case TYPE_GOAWAY:
        this.close();
        return;
      case TYPE_SYN_REPLY:
        // This side opens no streams: nothing to reply to, but keep the inflater in step.
        await this.#reader.decompress(body.subarray(4));
        return;
      default:
        // SETTINGS, WINDOW_UPDATE and the rest need no answer.
        return;
    }
  }
}

function control(type: number, flags: number, body: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE((0x80000000 | (VERSION << 16) | type) >>> 0, 0);
  head.writeUInt32BE(((flags << 24) | body.length) >>> 0, 4);
  return Buffer.concat([head, body]);
}

/** The `101 Switching Protocols` head that accepts a SPDY/3.1 upgrade with stream protocol `protocol`. */
export function acceptSpdyUpgrade(protocol: string): string {
  return ['HTTP/1.1 101 Switching Protocols', 'Connection: Upgrade', 'Upgrade: SPDY/3.1', `X-Stream-Protocol-Version: ${protocol}`, '', ''].join('\r\n');
}
