/**
 * Probe and lifecycle-hook handlers against servers on loopback: grpc health (SERVING,
 * NOT_SERVING, an error status, a server without the health service, nothing listening),
 * tcpSocket and httpGet failures worded as upstream's Go messages, the User-Agent of probes and
 * hooks, and hooks' rule that any HTTP response succeeds.
 */
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type IncomingHttpHeaders } from 'node:http';
import { createServer as createHttp2Server, type Http2Server } from 'node:http2';
import type { AddressInfo, Server } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { ContainerRuntime } from '../runtime/container-runtime.ts';
import { LIFECYCLE_USER_AGENT, runLifecycleHook } from './hooks.ts';
import { PROBE_USER_AGENT, runProbe, type ProbeTarget } from './probes.ts';

const runtime = {} as ContainerRuntime;
const target: ProbeTarget = { podKey: 'default/p', podUid: 'u1', containerId: 'c1', container: { name: 'c', ports: [{ name: 'web', containerPort: 0 }] }, host: '127.0.0.1', startedAt: 0 };

async function listen(server: Server | Http2Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

/** A port with nothing listening (bound, then closed). */
async function closedPort(): Promise<number> {
  const s = createHttpServer();
  const port = await listen(s);
  await new Promise((r) => s.close(r));
  return port;
}

describe('probes: grpc health', () => {
  let server: Http2Server;
  let port = 0;
  before(async () => {
    server = createHttp2Server();
    server.on('stream', (stream, headers) => {
      const chunks: Buffer[] = [];
      stream.on('data', (d: Buffer) => chunks.push(d));
      stream.on('end', () => {
        const body = Buffer.concat(chunks);
        const msg = body.subarray(5);
        const service = msg.length ? msg.subarray(2, 2 + msg[1]!).toString() : '';
        const reply = (status: string, payload?: Buffer, message?: string) => {
          stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
          stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': status, ...(message ? { 'grpc-message': encodeURIComponent(message) } : {}) }));
          stream.end(payload);
        };
        if (headers[':path'] !== '/grpc.health.v1.Health/Check') return reply('12', undefined, 'unknown service');
        if (service === 'absent') return reply('5', undefined, 'unknown service absent');
        if (service === 'none') return reply('12', undefined, 'unknown service grpc.health.v1.Health');
        reply('0', Buffer.from([0, 0, 0, 0, 2, 0x08, service === 'down' ? 2 : 1]));
      });
    });
    port = await listen(server);
  });
  after(() => server.close());

  test('SERVING succeeds; NOT_SERVING, error statuses and Unimplemented fail with upstream wording', async () => {
    assert.deepEqual(await runProbe({ grpc: { port } }, target, runtime), { ok: true, message: '' });
    assert.deepEqual(await runProbe({ grpc: { port, service: 'up' } }, target, runtime), { ok: true, message: '' });
    assert.deepEqual(await runProbe({ grpc: { port, service: 'down' } }, target, runtime), { ok: false, message: 'service unhealthy (responded with "NOT_SERVING")' });
    assert.deepEqual(await runProbe({ grpc: { port, service: 'absent' } }, target, runtime), { ok: false, message: 'rpc error: code = NotFound desc = unknown service absent' });
    assert.deepEqual(await runProbe({ grpc: { port, service: 'none' } }, target, runtime), { ok: false, message: 'this server does not implement the grpc health protocol (grpc.health.v1.Health): unknown service grpc.health.v1.Health' });
    const long = 'x'.repeat(200);
    assert.equal((await runProbe({ grpc: { port, service: long } }, target, runtime)).ok, true, 'a service name longer than 127 bytes is varint-framed');
  });

  test('nothing listening fails', async () => {
    const closed = await closedPort();
    const r = await runProbe({ grpc: { port: closed } }, target, runtime);
    assert.equal(r.ok, false);
    assert.equal(r.message, `timeout: failed to connect service "127.0.0.1:${closed}" within 1s: dial tcp 127.0.0.1:${closed}: connect: connection refused`);
  });
});

describe('probes and hooks: tcpSocket and httpGet', () => {
  let port = 0;
  const seen: IncomingHttpHeaders[] = [];
  const server = createHttpServer((req, res) => {
    seen.push(req.headers);
    res.statusCode = req.url === '/fail' ? 500 : 200;
    res.end();
  });
  before(async () => {
    port = await listen(server);
  });
  after(() => server.close());

  test('tcpSocket: connected succeeds; refused is worded as Go dial errors', async () => {
    assert.equal((await runProbe({ tcpSocket: { port } }, target, runtime)).ok, true);
    const closed = await closedPort();
    assert.deepEqual(await runProbe({ tcpSocket: { port: closed } }, target, runtime), { ok: false, message: `dial tcp 127.0.0.1:${closed}: connect: connection refused` });
  });

  test('httpGet: status below 400 succeeds, 500 fails; kube-probe User-Agent; a refused connection as Go reports it', async () => {
    assert.equal((await runProbe({ httpGet: { port, path: '/ok' } }, target, runtime)).ok, true);
    assert.equal(seen.at(-1)!['user-agent'], PROBE_USER_AGENT);
    assert.equal(PROBE_USER_AGENT, 'kube-probe/1.32');
    assert.deepEqual(await runProbe({ httpGet: { port, path: '/fail' } }, target, runtime), { ok: false, message: 'HTTP probe failed with statuscode: 500' });
    const closed = await closedPort();
    assert.deepEqual(await runProbe({ httpGet: { port: closed, path: '/x' } }, target, runtime), { ok: false, message: `Get "http://127.0.0.1:${closed}/x": dial tcp 127.0.0.1:${closed}: connect: connection refused` });
  });

  test('httpGet hooks: any response succeeds, kube-lifecycle User-Agent; a failed request fails with upstream wording', async () => {
    const pod: Pod = { metadata: { name: 'p', namespace: 'default', uid: 'u1' } };
    assert.deepEqual(await runLifecycleHook({ httpGet: { port, path: '/fail' } }, target, { runtime, pod, timeoutSeconds: 2 }), { ok: true, message: '' });
    assert.equal(seen.at(-1)!['user-agent'], LIFECYCLE_USER_AGENT);
    assert.equal(LIFECYCLE_USER_AGENT, 'kube-lifecycle/1.32');
    const closed = await closedPort();
    const r = await runLifecycleHook({ httpGet: { port: closed, path: '/x' } }, target, { runtime, pod, timeoutSeconds: 2 });
    assert.deepEqual(r, { ok: false, message: `HTTP lifecycle hook (/x) for Container "c" in Pod "p_default(u1)" failed - error: Get "http://127.0.0.1:${closed}/x": dial tcp 127.0.0.1:${closed}: connect: connection refused` });
  });

  test('exec hooks: a non-zero exit is worded as upstream', async () => {
    const pod: Pod = { metadata: { name: 'p', namespace: 'default', uid: 'u1' } };
    const execRuntime = { execSync: async () => ({ exitCode: 7, stdout: Buffer.from('out\n'), stderr: Buffer.from('') }) } as unknown as ContainerRuntime;
    const r = await runLifecycleHook({ exec: { command: ['sh', '-c', 'exit 7'] } }, target, { runtime: execRuntime, pod, timeoutSeconds: 2 });
    assert.deepEqual(r, { ok: false, message: `Exec lifecycle hook ([sh -c exit 7]) for Container "c" in Pod "p_default(u1)" failed - error: command 'sh -c exit 7' exited with 7: , message: "out\\n"` });
  });
});
