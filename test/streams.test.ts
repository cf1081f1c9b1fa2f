/**
 * Streams at the protocol level, against a `skiff server` whose embedded agent runs real runc
 * containers: the kubelet's HTTPS server accepts only client certificates of the cluster CA;
 * exec through the API server with WebSocket `v5.channel.k8s.io` (stdin closed by the close
 * signal, output and the exit Status on their channels) and `v4.channel.k8s.io`; `pods/log`
 * streamed while the container writes; errors as Status; discovery lists the subresources.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request, type RequestOptions } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { channelMessage, CLOSE, ERROR, exitCodeOf, STDIN, STDOUT, V4_PROTOCOL, V5_PROTOCOL, WebSocket, type ExecStatus } from '../src/streams/index.ts';
import { Client, HttpTransport, kinds, readKubeconfig } from '../src/client/index.ts';
import { ensureSelfSignedCertificate } from '../src/pki/index.ts';
import { cleanupNode, imageRegistry, nodeLeftovers, uniqueNode } from './helpers/agent.ts';
import { cleanup, startServer, type TestServer } from './helpers/cluster.ts';

const isRoot = process.getuid?.() === 0;
const skip = isRoot ? undefined : 'needs root: runs real containers';

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

interface Session {
  protocol: string;
  ws: WebSocket;
  /** Messages by channel, concatenated. */
  channels: Map<number, Buffer>;
  closed: Promise<void>;
}

/** Opens a WebSocket with `protocols` to `options` (TLS). */
function openWebSocket(options: RequestOptions, protocols: string[]): Promise<Session> {
  return new Promise((resolve, reject) => {
    const req = request({
      ...options,
      headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-protocol': protocols.join(', ') },
    });
    req.on('upgrade', (res, socket, head) => {
      const ws = new WebSocket(socket, { role: 'client', head });
      const channels = new Map<number, Buffer>();
      ws.onMessage((data) => channels.set(data[0]!, Buffer.concat([channels.get(data[0]!) ?? Buffer.alloc(0), data.subarray(1)])));
      resolve({ protocol: String(res.headers['sec-websocket-protocol']), ws, channels, closed: new Promise((r) => ws.onClose(() => r())) });
    });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => reject(Object.assign(new Error(`${res.statusCode}: ${body}`), { status: res.statusCode, body })));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('streams: kubelet server and API server protocols', { skip, concurrency: true, timeout: 120_000 }, () => {
  let registry: Awaited<ReturnType<typeof imageRegistry>>;
  let server: TestServer;
  let client: Client;
  let transport: HttpTransport;
  let api: RequestOptions;
  let kubelet: { host: string; port: number };
  const node = uniqueNode();

  before(async () => {
    registry = await imageRegistry();
    server = await startServer({ agent: true, extraArgs: ['--node-name', node.nodeName, '--cluster-cidr', node.podCidr, '--kubelet-arg', 'port=0'] });
    transport = HttpTransport.fromKubeconfig(server.kubeconfig);
    client = new Client(transport);
    const creds = readKubeconfig(server.kubeconfig);
    const url = new URL(server.url);
    api = { host: url.hostname, port: Number(url.port), ca: creds.ca, cert: creds.cert, key: creds.key, agent: false };
    const spec = (command: string[]): Pod['spec'] => ({ terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: registry.busybox, command }] });
    await client.resource(kinds.pods).create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'box', namespace: 'default' }, spec: spec(['sleep', '3600']) });
    await client.resource(kinds.pods).create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'ticker', namespace: 'default' }, spec: spec(['sh', '-c', 'i=0; while true; do i=$((i+1)); echo tick$i; sleep 0.2; done']) });
    await until('pods Running', async () => {
      const pods = await client.resource(kinds.pods).list({ namespace: 'default' });
      return pods.items.length === 2 && pods.items.every((p) => p.status?.phase === 'Running');
    }, 60_000);
    const n: Node = await client.resource(kinds.nodes).get(undefined, node.nodeName);
    kubelet = { host: '127.0.0.1', port: n.status!.daemonEndpoints!.kubeletEndpoint!.Port };
  });

  after(async () => {
    try {
      if (server) {
        const pods = await client.resource(kinds.pods).list({ namespace: 'default' });
        await Promise.all(pods.items.map((p) => client.resource(kinds.pods).delete('default', p.metadata!.name!).catch(() => {})));
        await until('pods gone', async () => (await client.resource(kinds.pods).list({ namespace: 'default' })).items.length === 0, 60_000);
        const left = nodeLeftovers(node.nodeName, server.dataDir, node.octet);
        await server.stop();
        transport.close();
        await cleanupNode(node.nodeName, server.dataDir);
        assert.deepEqual(left, []);
      }
    } finally {
      await cleanup(server);
      await registry?.stop();
    }
  });

  test('the Node tells where its kubelet listens; the kubelet wants a client certificate of the cluster CA', async () => {
    assert.ok(kubelet.port > 0 && kubelet.port !== 10250, 'port=0 picked a free port, reported in daemonEndpoints');
    const get = (options: RequestOptions) => new Promise<number>((resolve, reject) => {
      const req = request({ host: kubelet.host, port: kubelet.port, path: '/healthz', rejectUnauthorized: false, agent: false, ...options }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    // No certificate, or one of another authority: the handshake fails.
    await assert.rejects(get({}));
    const stranger = await ensureSelfSignedCertificate(join(server.dataDir, 'stranger'), { name: 'x', commonName: 'system:admin', hosts: ['localhost'] });
    await assert.rejects(get({ cert: stranger.cert, key: stranger.key }));
    // The API server's own kubelet client certificate is accepted.
    const tls = join(server.dataDir, 'server', 'tls');
    const cert = readFileSync(join(tls, 'client-kube-apiserver-kubelet.crt'), 'utf8');
    const key = readFileSync(join(tls, 'client-kube-apiserver-kubelet.key'), 'utf8');
    assert.equal(await get({ cert, key }), 200);
  });

  test('exec over WebSocket v5 through the API server: stdin, the close signal, stdout, exit Status', async () => {
    const path = '/api/v1/namespaces/default/pods/box/exec?command=sh&command=-c&command=cat%3B%20exit%207&stdin=true&stdout=true&stderr=true';
    const s = await openWebSocket({ ...api, path }, [V5_PROTOCOL, V4_PROTOCOL]);
    assert.equal(s.protocol, V5_PROTOCOL);
    s.ws.send(channelMessage(STDIN, 'through stdin\n'));
    s.ws.send(Buffer.from([CLOSE, STDIN]));
    await s.closed;
    assert.equal(s.channels.get(STDOUT)?.toString(), 'through stdin\n');
    const status = JSON.parse(s.channels.get(ERROR)!.toString()) as ExecStatus;
    assert.equal(status.reason, 'NonZeroExitCode');
    assert.equal(exitCodeOf(status), 7);
  });

  test('exec over WebSocket v4: output and Success', async () => {
    const path = '/api/v1/namespaces/default/pods/box/exec?command=echo&command=v4&stdout=true&container=c';
    const s = await openWebSocket({ ...api, path }, [V4_PROTOCOL]);
    assert.equal(s.protocol, V4_PROTOCOL);
    await s.closed;
    assert.equal(s.channels.get(STDOUT)?.toString(), 'v4\n');
    assert.equal(exitCodeOf(JSON.parse(s.channels.get(ERROR)!.toString()) as ExecStatus), 0);
  });

  test('errors as Status: unknown container, missing pod, no upgrade', async () => {
    await assert.rejects(openWebSocket({ ...api, path: '/api/v1/namespaces/default/pods/box/exec?command=true&container=nope' }, [V5_PROTOCOL]), (e: { status: number; body: string }) => {
      assert.equal(e.status, 400);
      assert.match(JSON.parse(e.body).message, /container nope is not valid for pod box/);
      return true;
    });
    await assert.rejects(openWebSocket({ ...api, path: '/api/v1/namespaces/default/pods/ghost/exec?command=true' }, [V5_PROTOCOL]), (e: { status: number }) => e.status === 404);
    const plain = await transport.request({ method: 'POST', path: '/api/v1/namespaces/default/pods/box/exec', query: { command: 'true' } });
    assert.equal(plain.status, 400);
  });

  test('pods/log streams while the container writes (follow), and the stream ends when the client leaves', async () => {
    const lines = await new Promise<string[]>((resolve, reject) => {
      const req = request({ ...api, path: '/api/v1/namespaces/default/pods/ticker/log?follow=true&tailLines=1' }, (res) => {
        assert.equal(res.statusCode, 200);
        let text = '';
        res.on('data', (d: Buffer) => {
          text += d.toString();
          const got = text.split('\n').filter(Boolean);
          if (got.length >= 4) {
            req.destroy();
            resolve(got);
          }
        });
      });
      req.on('error', (e) => (e.message.includes('socket hang up') ? undefined : reject(e)));
      req.end();
    });
    const numbers = lines.map((l) => Number(/^tick(\d+)$/.exec(l)?.[1]));
    assert.ok(numbers.every((n, i) => i === 0 || n === numbers[i - 1]! + 1), `consecutive: ${lines}`);
  });

  test('discovery lists pods/log, exec, attach, portforward', async () => {
    const res = await transport.request({ method: 'GET', path: '/api/v1' });
    const names = (res.body as { resources: { name: string; verbs: string[] }[] }).resources.map((r) => r.name);
    for (const name of ['pods/log', 'pods/exec', 'pods/attach', 'pods/portforward']) assert.ok(names.includes(name), name);
  });
});
