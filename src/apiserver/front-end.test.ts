import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { describe, it } from 'node:test';
import type { ApiRequest, ApiResponse } from '../client/index.ts';
import { BUSY_REQUESTS_PER_SECOND, defaultFrontEndThreads, listenInThreads, listenScaling } from './front-end.ts';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function send(port: number, agent: Agent, method: string, path: string, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, agent, headers: body ? { 'content-type': 'application/json' } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Echoes the request; `/stream` answers with a stream that the test drives. */
function echo(streams: { write?: (chunk: string) => void; end?: () => void; stopped: number }) {
  return async (r: ApiRequest): Promise<ApiResponse> => {
    if (r.path === '/stream') {
      return {
        status: 200,
        contentType: 'application/json',
        stream: {
          start(write, end) {
            streams.write = write;
            streams.end = end;
            write('first\n');
            return () => streams.stopped++;
          },
        },
      };
    }
    const body = typeof r.body === 'string' ? r.body : r.body ? new TextDecoder().decode(r.body) : '';
    return {
      status: 201,
      contentType: 'application/json',
      body: JSON.stringify({ method: r.method, path: r.path, query: r.query.toString(), body, accept: r.accept ?? null }),
      warnings: r.query.has('warn') ? ['careful'] : [],
    };
  };
}

describe('front-end threads', () => {
  it('run one thread per four cores, none on one core', () => {
    assert.equal(defaultFrontEndThreads(1), 0);
    assert.equal(defaultFrontEndThreads(2), 1);
    assert.equal(defaultFrontEndThreads(12), 3);
    assert.equal(defaultFrontEndThreads(64), 4);
  });

  it('relay requests, answers, warnings, limits and streams', async () => {
    const streams: { write?: (chunk: string) => void; end?: () => void; stopped: number } = { stopped: 0 };
    const listener = await listenInThreads({ host: '127.0.0.1', port: 0, threads: 1 }, echo(streams));
    const agent = new Agent({ keepAlive: true });
    try {
      const port = listener.address.port;
      const answer = await send(port, agent, 'POST', '/api/v1/things?dryRun=All&warn=1', '{"a":1}');
      assert.equal(answer.status, 201);
      assert.deepEqual(JSON.parse(answer.body), { method: 'POST', path: '/api/v1/things', query: 'dryRun=All&warn=1', body: '{"a":1}', accept: null });
      assert.equal(answer.headers.warning, '299 - "careful"');
      const head = await send(port, agent, 'HEAD', '/x');
      assert.equal(head.body, '');
      assert.equal((await send(port, agent, 'POST', '/x', 'x'.repeat(3 * 1024 * 1024 + 1))).status, 413);

      // A stream: chunks as they come, the end when the server ends it.
      const received: string[] = [];
      const ended = new Promise<void>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path: '/stream' }, (res) => {
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            received.push(chunk);
            if (received.join('') === 'first\n') streams.write!('second\n');
            else if (received.join('') === 'first\nsecond\n') streams.end!();
          });
          res.on('end', () => resolve());
        });
        req.on('error', reject);
        req.end();
      });
      await ended;
      assert.equal(received.join(''), 'first\nsecond\n');

      // A client that goes away stops its stream.
      await new Promise<void>((resolve) => {
        const req = request({ host: '127.0.0.1', port, path: '/stream' }, (res) => res.once('data', () => req.destroy()));
        req.on('close', () => resolve());
        req.on('error', () => undefined);
        req.end();
      });
      for (let i = 0; i < 100 && streams.stopped === 0; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(streams.stopped, 1);
    } finally {
      agent.destroy();
      await listener.close();
    }
  });

  it('keep each stream in order when streams share chunks', async () => {
    const line = Buffer.from('shared\n');
    const writers: ((chunk: string | Uint8Array) => void)[] = [];
    const handle = async (r: ApiRequest): Promise<ApiResponse> => {
      // The second stream starts in the turn in which the first is sent `line`, and sends it too.
      if (r.path === '/second') writers[0]!(line);
      return {
        status: 200,
        contentType: 'application/json',
        stream: {
          start(write) {
            writers.push(write);
            if (r.path === '/second') write(line);
            write(`${r.path} ready\n`);
            return () => undefined;
          },
        },
      };
    };
    const listener = await listenInThreads({ host: '127.0.0.1', port: 0, threads: 1 }, handle);
    const read = (path: string, until: string) =>
      new Promise<string>((resolve, reject) => {
        let text = '';
        const req = request({ host: '127.0.0.1', port: listener.address.port, path }, (res) => {
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            text += chunk;
            if (text.endsWith(until)) {
              req.destroy();
              resolve(text);
            }
          });
        });
        req.on('error', (error) => (text.endsWith(until) ? undefined : reject(error)));
        req.end();
      });
    try {
      const first = read('/first', 'shared\n');
      for (let i = 0; i < 100 && writers.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(await read('/second', '/second ready\n'), 'shared\n/second ready\n');
      assert.equal(await first, '/first ready\nshared\n');
    } finally {
      await listener.close();
    }
  });

  it('take over from the API thread once it is busy, and close with a stream open', async () => {
    const streams: { write?: (chunk: string) => void; end?: () => void; stopped: number } = { stopped: 0 };
    const listener = await listenScaling({ host: '127.0.0.1', port: 0, threads: 2 }, echo(streams));
    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    try {
      const port = listener.address.port;
      const answers: Answer[] = [];
      const deadline = performance.now() + 3000;
      // Busy for a while: the front-end thread starts, and the API thread's connections close
      // after an answer that says so; every request is answered all along.
      while (performance.now() < deadline && !answers.some((a) => a.headers.connection === 'close')) {
        answers.push(...(await Promise.all(Array.from({ length: 40 }, () => send(port, agent, 'GET', '/ping')))));
      }
      assert.ok(answers.length > BUSY_REQUESTS_PER_SECOND);
      assert.ok(answers.some((a) => a.headers.connection === 'close'), 'the API thread handed its connections over');
      // The API thread's other connections close after their next answer too (the batch that saw
      // the first close may have ended before they had one); the new ones stay open.
      let after: Answer[] = [];
      const all = [...answers];
      for (let batch = 0; batch < 3; batch++) {
        after = await Promise.all(Array.from({ length: 20 }, () => send(port, agent, 'GET', '/ping?after')));
        all.push(...after);
        if (after.every((a) => a.headers.connection !== 'close')) break;
      }
      assert.ok(all.every((a) => a.status === 201));
      assert.ok(after.every((a) => a.headers.connection !== 'close'), 'the front-end thread keeps connections alive');
      // An open stream does not keep close() from completing.
      await new Promise<void>((resolve) => {
        const req = request({ host: '127.0.0.1', port, path: '/stream' }, (res) => res.once('data', () => resolve()));
        req.on('error', () => undefined);
        req.end();
      });
    } finally {
      agent.destroy();
      await listener.close();
    }
    assert.equal(streams.stopped, 1);
  });
});
