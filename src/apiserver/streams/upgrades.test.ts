/**
 * Upgraded connections through the API server's listener: served on the API thread, relayed
 * from a front-end thread, and refused where no handler takes them.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { it } from 'node:test';
import { acceptKey, acceptUpgrade, newKey, WebSocket } from '../../streams/index.ts';
import { listenInThreads } from '../front-end.ts';
import { listen, type UpgradeHandler } from '../listener.ts';

/** An upgrade handler that answers a WebSocket handshake and echoes each message upper-cased. */
const echoUpgrade: UpgradeHandler = (req, socket, head) => {
  socket.write(acceptUpgrade(req.headers, String(req.headers['sec-websocket-protocol'] ?? '')));
  const ws = new WebSocket(socket, { role: 'server', head });
  ws.onMessage((data) => ws.send(Buffer.from(data.toString().toUpperCase())));
};

async function webSocketEcho(port: number): Promise<{ protocol: string; replies: string[] }> {
  return new Promise((resolve, reject) => {
    const key = newKey();
    const req = request({ host: '127.0.0.1', port, path: '/x', headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-key': key, 'sec-websocket-version': '13', 'sec-websocket-protocol': 'v5.channel.k8s.io' } });
    req.on('upgrade', (res, socket, head) => {
      assert.equal(res.headers['sec-websocket-accept'], acceptKey(key));
      const ws = new WebSocket(socket, { role: 'client', head });
      const replies: string[] = [];
      ws.onMessage((data) => {
        replies.push(data.toString());
        if (replies.length === 2) {
          ws.close();
          resolve({ protocol: String(res.headers['sec-websocket-protocol']), replies });
        }
      });
      ws.send('one');
      ws.send(Buffer.alloc(100_000, 'a'));
    });
    req.on('response', (res) => reject(new Error(`no upgrade: ${res.statusCode}`)));
    req.on('error', reject);
    req.end();
  });
}

it('upgrades: served on the API thread, and relayed from a front-end thread', async () => {
  const handle = async () => ({ status: 200, contentType: 'text/plain', body: 'ok' });
  const local = await listen({ host: '127.0.0.1', port: 0 }, handle, echoUpgrade);
  const threaded = await listenInThreads({ host: '127.0.0.1', port: 0, threads: 1 }, handle, echoUpgrade);
  try {
    for (const port of [local.address.port, threaded.address.port]) {
      const { protocol, replies } = await webSocketEcho(port);
      assert.equal(protocol, 'v5.channel.k8s.io');
      assert.deepEqual(replies, ['ONE', 'A'.repeat(100_000)]);
    }
    // A listener without an upgrade handler refuses upgrades.
    const plain = await listen({ host: '127.0.0.1', port: 0 }, handle);
    const answer = await new Promise<string>((resolve) => {
      const s = connect((plain.address as AddressInfo).port, '127.0.0.1', () => s.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n'));
      let text = '';
      s.on('data', (d) => (text += d.toString()));
      s.on('close', () => resolve(text));
    });
    assert.match(answer, /^HTTP\/1.1 400/);
    await plain.close();
  } finally {
    await Promise.all([local.close(), threaded.close()]);
  }
});
