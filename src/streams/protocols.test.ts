import assert from 'node:assert/strict';
import { Duplex, PassThrough } from 'node:stream';
import { it } from 'node:test';
import { constants, createDeflate, createInflate } from 'node:zlib';
import { exitCodeOf, exitStatus, JsonObjectSplitter, terminalSize } from './channel-protocol.ts';
import { encodeHeaderBlock, decodeHeaderBlock, SPDY3_DICTIONARY, SpdySession } from './spdy.ts';
import { acceptKey, acceptUpgrade, WebSocket } from './websocket.ts';

/** Two connected in-memory sockets. */
function socketPair(): [Duplex, Duplex] {
  const ab = new PassThrough();
  const ba = new PassThrough();
  return [Duplex.from({ readable: ba, writable: ab }), Duplex.from({ readable: ab, writable: ba })];
}

it('computes the accept key of RFC 6455 §1.3', () => {
  assert.equal(acceptKey('dGhlIHNhbXBsZSBub25jZQ=='), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
});

it('WebSocket: masked client frames, every length form, fragments, ping, close handshake', async () => {
  const [a, b] = socketPair();
  const client = new WebSocket(a, { role: 'client' });
  const server = new WebSocket(b, { role: 'server' });
  const got: Buffer[] = [];
  server.onMessage((data, binary) => {
    assert.equal(binary, true);
    got.push(data);
    server.send(data);
  });
  const echoed: Buffer[] = [];
  client.onMessage((data) => echoed.push(data));
  const sizes = [0, 1, 125, 126, 65535, 65536, 200_000];
  for (const n of sizes) client.send(Buffer.alloc(n, n % 251));
  await new Promise<void>((resolve) => { const t = setInterval(() => { if (echoed.length === sizes.length) { clearInterval(t); resolve(); } }, 5); });
  assert.deepEqual(got.map((g) => g.length), sizes);
  assert.ok(echoed.every((e, i) => e.equals(Buffer.alloc(sizes[i]!, sizes[i]! % 251))));
  // A fragmented text message with a ping between its fragments, written by hand (server → client, unmasked).
  const frame = (fin: boolean, op: number, payload: string) => Buffer.concat([Buffer.from([(fin ? 0x80 : 0) | op, payload.length]), Buffer.from(payload)]);
  const texts: string[] = [];
  client.onMessage((data, binary) => texts.push(`${binary}:${data}`));
  b.write(Buffer.concat([frame(false, 1, 'hel'), frame(true, 9, 'p'), frame(true, 0, 'lo')]));
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(texts, ['false:hello']);
  const closed = new Promise<number>((resolve) => server.onClose((code) => resolve(code)));
  client.close(1000, 'bye');
  assert.equal(await closed, 1000);
});

it('WebSocket: a server refuses unmasked frames from a client (1002)', async () => {
  const [a, b] = socketPair();
  const server = new WebSocket(b, { role: 'server' });
  const closed = new Promise<number>((resolve) => server.onClose((code) => resolve(code)));
  a.write(Buffer.from([0x82, 0x01, 0x00]));
  assert.equal(await closed, 1002);
});

it('channel protocol: exit Status as upstream words it, resize objects split from a stream', () => {
  assert.deepEqual(exitStatus(0), { metadata: {}, status: 'Success' });
  const failed = exitStatus(3, ['sh', '-c', 'exit 3']);
  assert.equal(failed.reason, 'NonZeroExitCode');
  assert.deepEqual(failed.details?.causes, [{ reason: 'ExitCode', message: '3' }]);
  assert.equal(exitCodeOf(failed), 3);
  assert.equal(exitCodeOf({ metadata: {}, status: 'Failure', message: 'x' }), undefined);
  const split = new JsonObjectSplitter();
  assert.deepEqual(split.push('{"Width":80,"Height":24}{"Wid'), [{ Width: 80, Height: 24 }]);
  assert.deepEqual(split.push('th":100,"Height":30}\n'), [{ Width: 100, Height: 30 }]);
  assert.deepEqual(terminalSize({ Width: 100, Height: 30 }), { width: 100, height: 30 });
  assert.equal(terminalSize({ Width: '1' }), undefined);
});

it('SPDY: the SPDY/3 dictionary, name/value blocks', () => {
  assert.equal(SPDY3_DICTIONARY.length, 1423);
  assert.deepEqual(decodeHeaderBlock(encodeHeaderBlock({ streamType: ['data'], port: ['80'], multi: ['a', 'b'] })), { streamtype: ['data'], port: ['80'], multi: ['a', 'b'] });
});

it('SPDY: streams opened by a client (zlib with the dictionary) are replied to, data flows both ways, FIN ends them', async () => {
  const [clientSide, serverSide] = socketPair();
  const deflate = createDeflate({ dictionary: SPDY3_DICTIONARY, level: 9 });
  const compressed: Buffer[] = [];
  deflate.on('data', (d: Buffer) => compressed.push(d));
  const compress = async (block: Buffer) => {
    compressed.length = 0;
    deflate.write(block);
    await new Promise((r) => deflate.flush(constants.Z_SYNC_FLUSH, () => setImmediate(r)));
    return Buffer.concat(compressed);
  };
  const control = (type: number, flags: number, body: Buffer) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE((0x80000000 | (3 << 16) | type) >>> 0, 0);
    head.writeUInt32BE(((flags << 24) | body.length) >>> 0, 4);
    return Buffer.concat([head, body]);
  };
  const data = (id: number, flags: number, payload: Buffer) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(id, 0);
    head.writeUInt32BE(((flags << 24) | payload.length) >>> 0, 4);
    return Buffer.concat([head, payload]);
  };
  const syn = async (id: number, headers: Record<string, string[]>) => {
    const fixed = Buffer.alloc(10);
    fixed.writeUInt32BE(id, 0);
    return control(1, 0, Buffer.concat([fixed, await compress(encodeHeaderBlock(headers))]));
  };
  const received: string[] = [];
  new SpdySession(serverSide, {
    onStream: (stream) => {
      received.push(`${stream.id}:${stream.header('streamType')}`);
      stream.reply();
      stream.on('data', (d: Buffer) => stream.write(Buffer.from(d.toString().toUpperCase())));
      stream.on('end', () => stream.end());
    },
  });
  // What the server sends, parsed with one inflater as a client would.
  const inflate = createInflate({ dictionary: SPDY3_DICTIONARY });
  const frames: string[] = [];
  let buffer = Buffer.alloc(0);
  let chain = Promise.resolve();
  clientSide.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    while (buffer.length >= 8 && buffer.length >= 8 + (buffer.readUInt32BE(4) & 0xffffff)) {
      const frame = buffer.subarray(0, 8 + (buffer.readUInt32BE(4) & 0xffffff));
      buffer = buffer.subarray(frame.length);
      chain = chain.then(async () => {
        const first = frame.readUInt32BE(0);
        if (first & 0x80000000) {
          const type = first & 0xffff;
          if (type === 2) {
            const out: Buffer[] = [];
            const onData = (d: Buffer) => out.push(d);
            inflate.on('data', onData);
            inflate.write(frame.subarray(12));
            await new Promise((r) => inflate.flush(constants.Z_SYNC_FLUSH, () => setImmediate(r)));
            inflate.off('data', onData);
            frames.push(`reply ${frame.readUInt32BE(8)} ${JSON.stringify(decodeHeaderBlock(Buffer.concat(out)))}`);
          } else frames.push(`control ${type}`);
        } else {
          frames.push(`data ${first} ${frame[4]} ${frame.subarray(8).toString()}`);
        }
      });
    }
  });
  clientSide.write(await syn(1, { streamtype: ['error'] }));
  clientSide.write(await syn(3, { streamtype: ['data'], port: ['80'] }));
  await new Promise((r) => setTimeout(r, 30));
  clientSide.write(data(3, 0, Buffer.from('hello')));
  clientSide.write(data(3, 1, Buffer.alloc(0)));
  clientSide.write(control(6, 0, Buffer.from([0, 0, 0, 7])));
  await new Promise((r) => setTimeout(r, 50));
  await chain;
  assert.deepEqual(received, ['1:error', '3:data']);
  assert.deepEqual(frames.slice(0, 3), ['reply 1 {}', 'reply 3 {}', 'data 3 0 HELLO']);
  // The PING echo and the stream's FIN follow, in either order.
  assert.deepEqual(frames.slice(3).sort(), ['control 6', 'data 3 1 ']);
});
