import assert from 'node:assert/strict';
import { connect, createServer, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { ApiRequest, ApiResponse } from '../client/index.ts';
import { Http1Server, parseHead } from './http1.ts';
import { listen, MAX_BODY_BYTES, type HandingListener, type UpgradeRequest } from './listener.ts';

/** A raw client connection: bytes out, bytes in as they come. */
class Raw {
  readonly socket: Socket;
  received = '';
  closed: Promise<void>;
  #waiters: Array<() => void> = [];
  private constructor(socket: Socket) {
    this.socket = socket;
    socket.setEncoding('latin1');
    socket.on('data', (text: string) => {
      this.received += text;
      for (const w of this.#waiters.splice(0)) w();
    });
    this.closed = new Promise((resolve) => socket.on('close', () => {
      resolve();
      for (const w of this.#waiters.splice(0)) w();
    }));
  }
  static open(port: number): Promise<Raw> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => resolve(new Raw(socket)));
      socket.once('error', reject);
    });
  }
  send(text: string | Buffer): void {
    this.socket.write(text);
  }
  /** Waits until what was received satisfies `done` (or the connection closed). */
  async until(done: (received: string) => boolean, ms = 5_000): Promise<string> {
    const deadline = Date.now() + ms;
    while (!done(this.received)) {
      if (this.socket.destroyed && this.socket.readableEnded) break;
      if (Date.now() > deadline) throw new Error(`timed out; received so far:\n${this.received}`);
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
    return this.received;
  }
  /** Waits for `count` whole answers (Content-Length bodies) and returns them. */
  async answers(count: number): Promise<Answer[]> {
    await this.until((text) => splitAnswers(text).length >= count);
    return splitAnswers(this.received).slice(0, count);
  }
  close(): void {
    this.socket.destroy();
  }
}

interface Answer {
  status: string;
  headers: Map<string, string[]>;
  /** The body, decoded as UTF-8. */
  body: string;
  /** Its length in bytes. */
  bytes: number;
}

/** Splits a run of answers with Content-Length bodies (complete ones only). */
function splitAnswers(text: string): Answer[] {
  const out: Answer[] = [];
  let at = 0;
  for (;;) {
    const end = text.indexOf('\r\n\r\n', at);
    if (end === -1) return out;
    const lines = text.slice(at, end).split('\r\n');
    const headers = new Map<string, string[]>();
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).toLowerCase();
      headers.set(name, [...(headers.get(name) ?? []), line.slice(colon + 1).trim()]);
    }
    const length = Number(headers.get('content-length')?.[0] ?? 'NaN');
    if (Number.isNaN(length) || text.length < end + 4 + length) return out;
    out.push({ status: lines[0]!, headers, body: Buffer.from(text.slice(end + 4, end + 4 + length), 'latin1').toString(), bytes: length });
    at = end + 4 + length;
  }
}

/** What the handler saw, and a stream the test drives at `/watch`. */
interface Seen {
  requests: ApiRequest[];
  write?: (chunk: string) => void;
  end?: () => void;
  stopped: number;
  upgrades: Array<{ request: UpgradeRequest; head: string }>;
}

function handler(seen: Seen) {
  return async (r: ApiRequest): Promise<ApiResponse> => {
    seen.requests.push(r);
    if (r.path === '/watch') {
      return {
        status: 200,
        contentType: 'application/json',
        stream: {
          start(write, end) {
            seen.write = write;
            seen.end = end;
            write('{"type":"ADDED"}\n');
            return () => seen.stopped++;
          },
        },
      };
    }
    if (r.path === '/fail') throw new Error('planned failure');
    if (r.path === '/slow') await new Promise((resolve) => setTimeout(resolve, 50));
    const body = r.body === undefined ? '' : typeof r.body === 'string' ? r.body : Buffer.from(r.body).toString();
    return {
      status: r.method === 'POST' ? 201 : 200,
      contentType: 'application/json',
      body: JSON.stringify({ method: r.method, path: r.path, query: r.query.toString(), body, accept: r.accept ?? null, contentType: r.contentType ?? null, userAgent: r.userAgent ?? null }),
      ...(r.query.has('warn') ? { warnings: ['mind the gap', 'naïve'] } : {}),
    };
  };
}

const get = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: x\r\n${extra}\r\n`;
const post = (path: string, body: string, extra = '') => `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;

describe('HTTP/1.1 connections', () => {
  let listener: HandingListener;
  let port: number;
  const seen: Seen = { requests: [], stopped: 0, upgrades: [] };
  const open: Raw[] = [];
  const client = async () => {
    const raw = await Raw.open(port);
    open.push(raw);
    return raw;
  };

  before(async () => {
    listener = await listen({ host: '127.0.0.1', port: 0 }, handler(seen), (request, socket, head) => {
      seen.upgrades.push({ request, head: head.toString() });
      socket.end('HTTP/1.1 101 Switching Protocols\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\nhello');
    });
    port = listener.address.port;
  });
  after(async () => {
    for (const raw of open) raw.close();
    await listener.close();
  });

  it('answers with the status line and headers Node would send, and keeps the connection', async () => {
    const raw = await client();
    raw.send(get('/a?x=1&y=two', 'Accept: application/json\r\nUser-Agent: kubectl/v1.32\r\n'));
    const [first] = await raw.answers(1);
    assert.equal(first!.status, 'HTTP/1.1 200 OK');
    assert.deepEqual(first!.headers.get('content-type'), ['application/json']);
    assert.deepEqual(first!.headers.get('cache-control'), ['no-cache, private']);
    assert.deepEqual(first!.headers.get('connection'), ['keep-alive']);
    assert.deepEqual(first!.headers.get('keep-alive'), ['timeout=65']);
    assert.ok(Math.abs(Date.parse(first!.headers.get('date')![0]!) - Date.now()) < 5_000);
    assert.deepEqual(JSON.parse(first!.body), { method: 'GET', path: '/a', query: 'x=1&y=two', body: '', accept: 'application/json', contentType: null, userAgent: 'kubectl/v1.32' });
    raw.send(post('/b', '{"ü":1}'));
    const answers = await raw.answers(2);
    assert.equal(answers[1]!.status, 'HTTP/1.1 201 Created');
    assert.equal(JSON.parse(answers[1]!.body).body, '{"ü":1}');
    assert.equal(answers[1]!.bytes, Buffer.byteLength(answers[1]!.body));
  });

  it('answers pipelined requests in order, and requests that arrive a byte at a time', async () => {
    const raw = await client();
    raw.send(get('/slow') + post('/second', 'two') + get('/third'));
    const answers = await raw.answers(3);
    assert.deepEqual(answers.map((a) => JSON.parse(a.body).path), ['/slow', '/second', '/third']);
    const text = post('/bytes', '{"a":"bcdef"}');
    for (const byte of Buffer.from(text)) {
      raw.send(Buffer.from([byte]));
      await new Promise((resolve) => setImmediate(resolve));
    }
    const [, , , fourth] = await raw.answers(4);
    assert.equal(JSON.parse(fourth!.body).body, '{"a":"bcdef"}');
  });

  it('sends no body for HEAD, warnings as Warning headers, and joins repeated Accept headers', async () => {
    const raw = await client();
    raw.send(`HEAD /h HTTP/1.1\r\nHost: x\r\n\r\n`);
    await raw.until((t) => t.includes('\r\n\r\n'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const [headPart, rest] = raw.received.split('\r\n\r\n');
    assert.match(headPart!, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(headPart!, /\r\nContent-Length: [1-9]\d*/);
    assert.equal(rest, '');
    raw.received = '';
    raw.send(get('/w?warn=1', 'Accept: application/json\r\nAccept: application/yaml\r\n'));
    const [answer] = await raw.answers(1);
    assert.deepEqual(answer!.headers.get('warning'), ['299 - "mind the gap"', Buffer.from('299 - "naïve"').toString('latin1')]);
    assert.equal(JSON.parse(answer!.body).accept, 'application/json, application/yaml');
  });

  it('closes the connection after an answer when the client asks', async () => {
    const raw = await client();
    raw.send(get('/bye', 'Connection: close\r\n'));
    const [answer] = await raw.answers(1);
    assert.deepEqual(answer!.headers.get('connection'), ['close']);
    await raw.closed;
  });

  it('streams a watch as a chunked answer and serves the next request after it ends', async () => {
    const raw = await client();
    raw.send(get('/watch'));
    await raw.until((t) => t.includes('{"type":"ADDED"}'));
    assert.match(raw.received, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(raw.received, /\r\nTransfer-Encoding: chunked\r\n/);
    seen.write!('{"type":"MODIFIED","n":"é"}\n');
    seen.write!('{"type":"DELETED"}\n');
    await raw.until((t) => t.includes('DELETED'));
    // The two events of one turn leave as one chunk, sized in bytes.
    const second = `{"type":"MODIFIED","n":"é"}\n{"type":"DELETED"}\n`;
    assert.ok(raw.received.includes(`${Buffer.byteLength(second).toString(16)}\r\n${Buffer.from(second).toString('latin1')}\r\n`));
    seen.end!();
    await raw.until((t) => t.endsWith('0\r\n\r\n'));
    raw.received = '';
    raw.send(get('/after'));
    const [answer] = await raw.answers(1);
    assert.equal(JSON.parse(answer!.body).path, '/after');
  });

  it('stops a watch when its client goes away', async () => {
    const raw = await client();
    const before = seen.stopped;
    raw.send(get('/watch'));
    await raw.until((t) => t.includes('{"type":"ADDED"}'));
    raw.close();
    for (let i = 0; i < 100 && seen.stopped === before; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(seen.stopped, before + 1);
  });

  it('answers 500 and closes when the handler fails', async () => {
    const raw = await client();
    const errors: unknown[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => errors.push(args);
    try {
      raw.send(get('/fail'));
      const [answer] = await raw.answers(1);
      assert.equal(answer!.status, 'HTTP/1.1 500 Internal Server Error');
      await raw.closed;
    } finally {
      console.error = original;
    }
    assert.equal(errors.length, 1);
  });

  it("hands Node's server the requests it does not serve, with the bytes already read", async () => {
    // A chunked body: Node's server reads it.
    const chunked = await client();
    chunked.send('POST /chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n');
    const [answer] = await chunked.answers(1);
    assert.equal(JSON.parse(answer!.body).body, 'hello world');
    // The connection stays with Node's server, which serves its next request too.
    chunked.send(get('/next'));
    assert.equal(JSON.parse((await chunked.answers(2))[1]!.body).path, '/next');

    // Over the body cap: Node's path answers 413 and closes.
    const big = await client();
    big.send(`POST /big HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${MAX_BODY_BYTES + 1}\r\n\r\n{`);
    const [tooLarge] = await big.answers(1);
    assert.equal(tooLarge!.status, 'HTTP/1.1 413 Payload Too Large');
    assert.equal(JSON.parse(tooLarge!.body).reason, 'RequestEntityTooLarge');
    await big.closed;

    // Not HTTP, no Host, a header block over 16 KiB: Node's errors.
    for (const [text, status] of [
      ['BREW /pot HTCPCP/1.0\r\n\r\n', '400'],
      ['GET / HTTP/1.1\r\n\r\n', '400'],
      [`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(17 * 1024)}\r\n\r\n`, '431'],
    ] as const) {
      const raw = await client();
      raw.send(text);
      await raw.until((t) => t.startsWith('HTTP/1.1 ') && t.includes('\r\n\r\n'));
      assert.equal(raw.received.slice(9, 12), status, raw.received);
      await raw.closed;
    }

    // An upgrade goes to the upgrade handler with its headers and the bytes after the request.
    const upgrade = await client();
    upgrade.send('GET /exec?command=sh HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\nX-Stream-Protocol-Version: channel.k8s.io\r\n\r\nearly bytes');
    await upgrade.until((t) => t.endsWith('hello'));
    const last = seen.upgrades.at(-1)!;
    assert.equal(last.request.url, '/exec?command=sh');
    assert.equal(last.request.headers.upgrade, 'SPDY/3.1');
    assert.equal(last.request.headers['x-stream-protocol-version'], 'v4.channel.k8s.io, channel.k8s.io');
    assert.equal(last.head, 'early bytes');
  });

  it('closes connections after their next answer once handed over', async () => {
    const other = await listen({ host: '127.0.0.1', port: 0 }, handler({ requests: [], stopped: 0, upgrades: [] }));
    const raw = await Raw.open(other.address.port);
    open.push(raw);
    raw.send(get('/one'));
    await raw.answers(1);
    other.handOver();
    raw.send(get('/two'));
    const [, second] = await raw.answers(2);
    assert.deepEqual(second!.headers.get('connection'), ['close']);
    await raw.closed;
    await other.close();
  });
});

describe('HTTP/1.1 request heads', () => {
  it('read the method, target, and the headers the API uses', () => {
    const parsed = parseHead('PUT /api/v1/namespaces/a/configmaps/b?dryRun=All HTTP/1.1\r\nhost: x\r\ncontent-TYPE:  application/json \r\ncontent-length: 12\r\nuser-agent: k\r\nconnection: keep-alive', 100);
    assert.notEqual(parsed, 'fallback');
    if (parsed === 'fallback') return;
    assert.equal(parsed.request.method, 'PUT');
    assert.equal(parsed.request.path, '/api/v1/namespaces/a/configmaps/b');
    assert.equal(parsed.request.query.get('dryRun'), 'All');
    assert.equal(parsed.request.contentType, 'application/json');
    assert.equal(parsed.request.userAgent, 'k');
    assert.equal(parsed.length, 12);
    assert.equal(parsed.close, false);
  });

  it('leave to Node what they do not serve', () => {
    const fallbacks = [
      'GET / HTTP/1.0\r\nHost: x',
      'GET http://x/ HTTP/1.1\r\nHost: x',
      'CONNECT x:1 HTTP/1.1\r\nHost: x',
      'GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked',
      'GET / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue',
      'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade',
      'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 1',
      'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1',
      'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 101',
      'GET / HTTP/1.1\r\nHost: x\r\nContent-Type: a\r\nContent-Type: b',
      'GET / HTTP/1.1\r\nHost: x\r\n folded: value',
      'GET / HTTP/1.1\r\nHost: x\r\nBad Name: value',
      'GET / HTTP/1.1\r\nHost: x\r\nX: a\u0000b',
      'GET / HTTP/1.1\r\nHost: x\r\nno colon',
      'GET / HTTP/1.1',
      'GET /a b HTTP/1.1\r\nHost: x',
    ];
    for (const head of fallbacks) assert.equal(parseHead(head, 100), 'fallback', head);
  });
});

describe('HTTP/1.1 connection timeouts', () => {
  it('close an idle connection, and one that sends part of a request', async () => {
    const fast = new Http1Server({ handle: handler({ requests: [], stopped: 0, upgrades: [] }), fallback: (s) => s.destroy(), maxBody: 100, keepAliveMs: 300, partialRequestMs: 300 });
    const server = createServer((socket) => fast.accept(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const idle = await Raw.open(port);
      idle.send(get('/x'));
      await idle.answers(1);
      const partial = await Raw.open(port);
      partial.send('GET / HTTP/1.1\r\nHo');
      const busy = await Raw.open(port);
      busy.send(get('/watch'));
      const started = Date.now();
      await Promise.all([idle.closed, partial.closed]);
      assert.ok(Date.now() - started >= 250);
      // A connection whose answer is still streaming is not idle.
      assert.equal(busy.socket.destroyed, false);
      busy.close();
    } finally {
      fast.closeAll();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
