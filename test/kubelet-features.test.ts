/**
 * The node agent's pod features as a user sees them, as root, with real runc containers and the
 * real kubectl, on one `skiff server` with its embedded agent (node name, pod subnet, bridge and
 * cgroup root unique to the run; images from a real registry on 127.0.0.1):
 * probes (httpGet, tcpSocket, grpc — a gRPC health server run by Node inside a container whose
 * libraries come from the host through hostPath mounts — with the timing fields; readiness
 * drives Ready and the Service's Endpoints), sidecars, lifecycle hooks, volumes (hostPath,
 * downwardAPI, projected, subPath, readOnly, emptyDir on tmpfs), hostPort through portmap and
 * hostNetwork, termination messages and the environment's `valueFrom` sources. Scenarios run at
 * once; at the end nothing of the node remains on the machine.
 */
import assert from 'node:assert/strict';
import { readFileSync, realpathSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, get as httpGet, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Event, Pod } from 'kubernetes-types/core/v1.js';
import { Client, HttpTransport, kinds } from '../src/client/index.ts';
import { hostNames } from '../src/kubelet/index.ts';
import { cleanupNode, imageRegistry, nodeLeftovers, nodeLeftoversSettled, uniqueNode } from './helpers/agent.ts';
import { cleanup, kubectl, startServer, type TestServer } from './helpers/cluster.ts';
import { settled, until } from './helpers/until.ts';

const isRoot = process.getuid?.() === 0;
const skip = isRoot ? undefined : 'needs root: runs real containers';

type Registry = Awaited<ReturnType<typeof imageRegistry>>;

function podManifest(name: string, spec: Record<string, unknown>, labels?: Record<string, string>): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', ...(labels ? { labels } : {}) }, spec: { terminationGracePeriodSeconds: 1, ...spec } as Pod['spec'] };
}

/** GET from the host; resolves with status and body. */
function fetchText(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpGet(url, { timeout: 2000, agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/** A gRPC health server (grpc.health.v1.Health/Check) for Node, run inside a container. */
const GRPC_HEALTH_SERVER = `
const http2 = require('node:http2');
const fs = require('node:fs');
const server = http2.createServer();
server.on('stream', (stream, headers) => {
  const chunks = [];
  stream.on('data', (d) => chunks.push(d));
  stream.on('end', () => {
    const body = Buffer.concat(chunks);
    const msg = body.subarray(5, 5 + body.readUInt32BE(1));
    const service = msg.length ? msg.subarray(2, 2 + msg[1]).toString() : '';
    const reply = (grpcStatus, payload) => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': grpcStatus }));
      stream.end(payload);
    };
    if (headers[':path'] !== '/grpc.health.v1.Health/Check') return reply('12');
    if (service !== '' && service !== 'skiff') return reply('5');
    // The overall health ('') follows a file; the named service is always SERVING.
    const status = service === '' && fs.existsSync('/tmp/not-serving') ? 2 : 1;
    reply('0', Buffer.from([0, 0, 0, 0, 2, 0x08, status]));
  });
});
server.listen(50051);
process.on('SIGTERM', () => process.exit(0));
`;

describe('kubelet features: probes, sidecars, hooks, volumes, host ports, env', { skip, concurrency: true, timeout: 170_000 }, () => {
  let registry: Registry;
  let server: TestServer;
  let client: Client;
  let transport: HttpTransport;
  let tmp: string;
  let hookServer: Server;
  let hookPort = 0;
  const hookHits: { url: string; headers: IncomingHttpHeaders }[] = [];
  const node = uniqueNode();
  const bb = () => registry.busybox;

  const get = (name: string) => client.resource(kinds.pods).get('default', name);
  const create = (pod: Pod) => client.resource(kinds.pods).create(pod);
  const events = async (name: string) => (await client.resource(kinds.events).list({ namespace: 'default', fieldSelector: `involvedObject.name=${name}` })).items;
  const phase = (name: string, want: string, timeoutMs = 30_000) => until(`${name} ${want}`, async () => { const p = await get(name); return p.status?.phase === want && p; }, timeoutMs);
  const readyOf = async (name: string) => (await get(name)).status?.conditions?.find((c) => c.type === 'Ready')?.status;
  const sh = async (pod: string, script: string, container?: string) => {
    const r = await kubectl(server, ['exec', pod, ...(container ? ['-c', container] : []), '--', 'sh', '-c', script]);
    return r;
  };
  const deleteAndWait = async (name: string) => {
    await client.resource(kinds.pods).delete('default', name).catch(() => {});
    await until(`pod ${name} gone`, async () => (await get(name).then(() => false, () => true)) || undefined, 30_000);
  };

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'skiff-test-features-'));
    hookServer = createServer((req, res) => {
      hookHits.push({ url: req.url ?? '', headers: req.headers });
      res.end('ok');
    });
    await new Promise<void>((r) => hookServer.listen(0, '127.0.0.1', r));
    hookPort = (hookServer.address() as AddressInfo).port;
    registry = await imageRegistry();
    server = await startServer({ agent: true, extraArgs: ['--node-name', node.nodeName, '--cluster-cidr', node.podCidr, '--kubelet-arg', 'allowed-unsafe-sysctls=net.core.somaxconn'] });
    transport = HttpTransport.fromKubeconfig(server.kubeconfig);
    client = new Client(transport);
  });

  after(async () => {
    // Whatever fails on the way, the node's containers, mounts, bridge and cgroups still go.
    let left: string[] = [];
    let leftAll: string[] = [];
    try {
      if (server) {
        try {
          if (process.env.SKIFF_TEST_LOG) console.error(server.log());
          const pods = await client.resource(kinds.pods).list({ namespace: 'default' });
          await Promise.all(pods.items.map((p) => deleteAndWait(p.metadata!.name!)));
          left = await nodeLeftoversSettled(node.nodeName, server.dataDir, node.octet);
        } finally {
          await server.stop();
          transport.close();
          await cleanupNode(node.nodeName, server.dataDir);
          leftAll = nodeLeftovers(node.nodeName, server.dataDir, node.octet, { all: true });
        }
      }
    } finally {
      await cleanup(server);
      await registry?.stop();
      hookServer?.close();
      if (tmp) await rm(tmp, { recursive: true, force: true });
    }
    assert.deepEqual(left, [], 'nothing of the pods remains after they are deleted');
    assert.deepEqual(leftAll, []);
  });

  test('httpGet readiness (timing fields) flips Ready and the Service endpoints; tcpSocket liveness holds', async () => {
    await client.resource(kinds.services).create({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web-probe', namespace: 'default' }, spec: { selector: { app: 'web-probe' }, ports: [{ port: 80, targetPort: 8080 }] } });
    await create(podManifest('web-probe', {
      containers: [{
        name: 'web', image: bb(), command: ['sh', '-c', 'mkdir -p /www && exec httpd -f -p 8080 -h /www'],
        ports: [{ name: 'http', containerPort: 8080 }],
        readinessProbe: { httpGet: { path: '/ready', port: 'http', httpHeaders: [{ name: 'X-Probe', value: 'yes' }] }, initialDelaySeconds: 1, periodSeconds: 1, timeoutSeconds: 1, successThreshold: 2, failureThreshold: 1 },
        livenessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1, failureThreshold: 3 },
      }],
    }, { app: 'web-probe' }));
    const pod = await phase('web-probe', 'Running');
    const ip = pod.status!.podIP!;
    const endpoints = async () => (await kubectl(server, ['get', 'endpoints', 'web-probe', '-o', 'jsonpath={.subsets[*].addresses[*].ip}'])).stdout.trim();
    // Not ready while /ready is missing (404): no address in the endpoints.
    await until('an Unhealthy 404 event', async () => (await events('web-probe')).some((e) => e.reason === 'Unhealthy' && e.message === 'Readiness probe failed: HTTP probe failed with statuscode: 404'));
    assert.equal(await readyOf('web-probe'), 'False');
    assert.equal(await endpoints(), '');
    const touched = Date.now();
    assert.equal((await sh('web-probe', 'echo ok > /www/ready')).code, 0);
    await until('Ready', async () => (await readyOf('web-probe')) === 'True');
    const tookMs = Date.now() - touched;
    assert.ok(tookMs >= 900, `successThreshold 2 at periodSeconds 1 takes two probes (${tookMs} ms)`);
    await until('endpoint address', async () => (await endpoints()) === ip);
    const wide = await kubectl(server, ['get', 'endpoints', 'web-probe']);
    assert.match(wide.stdout, new RegExp(`${ip.replace(/\./g, '\\.')}:8080`));
    assert.equal((await sh('web-probe', 'rm /www/ready')).code, 0);
    await until('unready again (failureThreshold 1)', async () => (await readyOf('web-probe')) === 'False', 10_000);
    await until('address gone from the endpoints', async () => (await endpoints()) === '');
    assert.equal((await get('web-probe')).status!.containerStatuses![0]!.restartCount, 0, 'tcpSocket liveness held');
    await client.resource(kinds.services).delete('default', 'web-probe');
    await deleteAndWait('web-probe');
  });

  test('failing tcpSocket and httpGet liveness restart their containers; initialDelaySeconds is waited for', async () => {
    await create(podManifest('probe-fail', {
      containers: [
        { name: 'tcp', image: bb(), command: ['sleep', '3600'], livenessProbe: { tcpSocket: { port: 9999 }, initialDelaySeconds: 3, periodSeconds: 1, failureThreshold: 2 } },
        { name: 'http', image: bb(), command: ['sh', '-c', 'mkdir -p /www && exec httpd -f -p 8081 -h /www'], livenessProbe: { httpGet: { path: '/healthz', port: 8081 }, periodSeconds: 1, failureThreshold: 1 } },
      ],
    }));
    const pod = await until('both restarted', async () => {
      const p = await get('probe-fail');
      return (p.status?.containerStatuses ?? []).every((s) => s.restartCount >= 1 && s.lastState?.terminated) && (p.status?.containerStatuses?.length ?? 0) === 2 && p;
    }, 45_000);
    const tcp = pod.status!.containerStatuses!.find((s) => s.name === 'tcp')!.lastState!.terminated!;
    const lived = (Date.parse(tcp.finishedAt!) - Date.parse(tcp.startedAt!)) / 1000;
    assert.ok(lived >= 3, `the tcp container lived through initialDelaySeconds 3 plus two failures (${lived} s)`);
    const ip = pod.status!.podIP!;
    const expected = [`Unhealthy: Liveness probe failed: dial tcp ${ip}:9999: connect: connection refused`, 'Unhealthy: Liveness probe failed: HTTP probe failed with statuscode: 404', 'Killing: Container tcp failed liveness probe, will be restarted'];
    const evs = await settled(async () => (await events('probe-fail')).map((e) => `${e.reason}: ${e.message}`), (lines) => expected.every((x) => lines.includes(x)));
    assert.ok(evs.some((e) => e === `Unhealthy: Liveness probe failed: dial tcp ${ip}:9999: connect: connection refused`), evs.join('\n'));
    assert.ok(evs.some((e) => e === 'Unhealthy: Liveness probe failed: HTTP probe failed with statuscode: 404'), evs.join('\n'));
    assert.ok(evs.some((e) => e === 'Killing: Container tcp failed liveness probe, will be restarted'), evs.join('\n'));
    await deleteAndWait('probe-fail');
  });

  test('grpc probes against a gRPC health server inside the container (service name, NOT_SERVING)', async () => {
    const app = join(tmp, 'grpc');
    await mkdir(app, { recursive: true });
    await writeFile(join(app, 'health.cjs'), GRPC_HEALTH_SERVER);
    const nodeBin = dirname(realpathSync(process.execPath));
    const ro = (name: string, path: string) => ({ name, hostPath: { path, type: 'Directory' } });
    await create(podManifest('grpc-probe', {
      containers: [{
        name: 'grpc', image: bb(), command: ['/node/node', '/app/health.cjs'],
        readinessProbe: { grpc: { port: 50051 }, periodSeconds: 1, failureThreshold: 1 },
        livenessProbe: { grpc: { port: 50051, service: 'skiff' }, initialDelaySeconds: 2, periodSeconds: 1, failureThreshold: 2 },
        volumeMounts: [
          { name: 'lib', mountPath: '/lib', readOnly: true },
          { name: 'lib64', mountPath: '/lib64', readOnly: true },
          { name: 'node', mountPath: '/node', readOnly: true },
          { name: 'app', mountPath: '/app', readOnly: true },
        ],
      }],
      volumes: [ro('lib', '/usr/lib'), ro('lib64', '/usr/lib64'), ro('node', nodeBin), ro('app', app)],
    }));
    await until('grpc Ready', async () => (await readyOf('grpc-probe')) === 'True', 40_000);
    assert.equal((await sh('grpc-probe', 'touch /tmp/not-serving')).code, 0);
    await until('grpc unready on NOT_SERVING', async () => (await readyOf('grpc-probe')) === 'False', 10_000);
    const notServing = 'Unhealthy: Readiness probe failed: service unhealthy (responded with "NOT_SERVING")';
    const evs = await settled(async () => (await events('grpc-probe')).map((e) => `${e.reason}: ${e.message}`), (lines) => lines.includes(notServing));
    assert.ok(evs.includes(notServing), evs.join('\n'));
    assert.equal((await sh('grpc-probe', 'rm /tmp/not-serving')).code, 0);
    await until('grpc Ready again', async () => (await readyOf('grpc-probe')) === 'True', 10_000);
    assert.equal((await get('grpc-probe')).status!.containerStatuses![0]!.restartCount, 0, 'liveness on service "skiff" held');
    await deleteAndWait('grpc-probe');
  });

  test('sidecar: starts before the app container, restarts when it exits, is stopped when the app finishes; pod Succeeded', async () => {
    const w = [{ name: 'w', mountPath: '/w' }];
    await create(podManifest('sidecar', {
      restartPolicy: 'Never',
      initContainers: [
        { name: 'setup', image: bb(), command: ['sh', '-c', 'echo setup >> /w/log'], volumeMounts: w },
        {
          name: 'side', image: bb(), restartPolicy: 'Always', volumeMounts: w,
          command: ['sh', '-c', 'if [ -f /w/once ]; then echo side2 >> /w/log; exec sleep 3600; fi; touch /w/once; echo side1 >> /w/log; sleep 3; exit 2'],
          startupProbe: { exec: { command: ['grep', '-q', 'side', '/w/log'] }, periodSeconds: 1 },
        },
      ],
      containers: [{
        name: 'main', image: bb(), volumeMounts: w,
        command: ['sh', '-c', 'grep -q side1 /w/log && echo main >> /w/log; until grep -q side2 /w/log; do sleep 0.1; done; cat /w/log > /dev/termination-log'],
      }],
      volumes: [{ name: 'w', emptyDir: {} }],
    }));
    await phase('sidecar', 'Succeeded', 40_000);
    // The terminal phase comes first; the sidecar is then stopped (SIGTERM within the grace period).
    const pod = await until('sidecar stopped', async () => { const p = await get('sidecar'); return p.status?.initContainerStatuses?.find((s) => s.name === 'side')?.state?.terminated && p; }, 10_000);
    const main = pod.status!.containerStatuses![0]!;
    assert.equal(main.state!.terminated!.message, 'setup\nside1\nmain\nside2\n');
    const side = pod.status!.initContainerStatuses!.find((s) => s.name === 'side')!;
    assert.ok(side.restartCount >= 1, 'the sidecar was restarted');
    assert.equal(side.lastState?.terminated?.exitCode, 2);
    assert.equal(pod.status!.phase, 'Succeeded');
    const evs = await settled(async () => (await events('sidecar')).map((e) => `${e.reason}: ${e.message}`), (lines) => lines.includes('Killing: Stopping container side'));
    assert.ok(evs.includes('Killing: Stopping container side'), evs.join('\n'));
    assert.equal(pod.status!.conditions!.find((c) => c.type === 'Ready')?.reason, 'PodCompleted');
    await deleteAndWait('sidecar');
  });

  test('the readiness of a sidecar counts for the Ready condition of the pod', async () => {
    await create(podManifest('side-ready', {
      initContainers: [{ name: 'proxy', image: bb(), restartPolicy: 'Always', command: ['sleep', '3600'], readinessProbe: { exec: { command: ['cat', '/tmp/ready'] }, periodSeconds: 1 } }],
      containers: [{ name: 'app', image: bb(), command: ['sleep', '3600'] }],
    }));
    await phase('side-ready', 'Running');
    const cond = await until('ContainersReady False for the sidecar', async () => {
      const c = (await get('side-ready')).status?.conditions?.find((x) => x.type === 'ContainersReady');
      return c?.status === 'False' && c.message === 'containers with unready status: [proxy]' && c;
    });
    assert.equal(cond.reason, 'ContainersNotReady');
    assert.equal((await sh('side-ready', 'touch /tmp/ready', 'proxy')).code, 0);
    await until('Ready once the sidecar is', async () => (await readyOf('side-ready')) === 'True', 10_000);
    await deleteAndWait('side-ready');
  });

  test('lifecycle hooks: postStart exec seen by the process, postStart and preStop httpGet; a failing postStart kills the container', async () => {
    await create(podManifest('hooks', {
      terminationGracePeriodSeconds: 5,
      containers: [
        {
          name: 'c', image: bb(), command: ['sh', '-c', 'until [ -f /tmp/hook ]; do sleep 0.1; done; cp /tmp/hook /tmp/seen; exec sleep 3600'],
          lifecycle: { postStart: { exec: { command: ['sh', '-c', 'echo hooked > /tmp/hook'] } } },
        },
        {
          name: 'h', image: bb(), command: ['sleep', '3600'],
          lifecycle: {
            postStart: { httpGet: { host: '127.0.0.1', port: hookPort, path: '/post-start', httpHeaders: [{ name: 'X-Hook', value: 'yes' }] } },
            preStop: { httpGet: { host: '127.0.0.1', port: hookPort, path: 'pre-stop' } },
          },
        },
      ],
    }));
    await create(podManifest('hook-fail', {
      restartPolicy: 'Never',
      containers: [{ name: 'c', image: bb(), command: ['sleep', '3600'], lifecycle: { postStart: { exec: { command: ['sh', '-c', 'exit 7'] } } } }],
    }));
    await phase('hooks', 'Running');
    assert.equal((await until('the process saw the hook file', async () => { const r = await sh('hooks', 'cat /tmp/seen', 'c'); return r.code === 0 && r; })).stdout, 'hooked\n');
    const post = await until('postStart httpGet reached its server', async () => hookHits.find((h) => h.url === '/post-start'));
    assert.equal(post.headers['x-hook'], 'yes');
    assert.match(post.headers['user-agent'] ?? '', /^kube-lifecycle\//);
    assert.ok(!hookHits.some((h) => h.url === '/pre-stop'));
    await deleteAndWait('hooks');
    assert.ok(hookHits.some((h) => h.url === '/pre-stop'), 'preStop httpGet ran before the pod went');

    const failed = await phase('hook-fail', 'Failed');
    const t = failed.status!.containerStatuses![0]!.state!.terminated!;
    assert.notEqual(t.exitCode, 0);
    const evs = await settled(async () => (await events('hook-fail')).map((e) => `${e.reason}: ${e.message}`), (lines) => lines.some((l) => l.startsWith('FailedPostStartHook: ')) && lines.some((l) => l.startsWith('Killing: ')));
    const uid = failed.metadata!.uid!;
    assert.ok(evs.includes(`FailedPostStartHook: Exec lifecycle hook ([sh -c exit 7]) for Container "c" in Pod "hook-fail_default(${uid})" failed - error: command 'sh -c exit 7' exited with 7: , message: ""`), evs.join('\n'));
    assert.ok(evs.some((e) => e.startsWith('Killing: ')), evs.join('\n'));
    await deleteAndWait('hook-fail');
  });

  test('volumes: hostPath, downwardAPI (live), projected, subPath, readOnly, emptyDir on tmpfs sized by sizeLimit or the pod limit', async () => {
    const hostDir = join(tmp, 'host-dir', 'sub');
    const hostFile = join(tmp, 'host-file');
    await writeFile(hostFile, 'from host');
    await client.resource(kinds.configMaps).create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'vol-cm', namespace: 'default' }, data: { 'app.conf': 'a=1' } });
    await client.resource(kinds.secrets).create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'vol-sec', namespace: 'default' }, data: { pass: Buffer.from('p4ss').toString('base64') } });
    await create({
      ...podManifest('vols', {
        containers: [{
          name: 'c', image: bb(), command: ['sh', '-c', 'echo from-pod > /host-dir/out; exec sleep 3600'],
          resources: { limits: { memory: '64Mi', cpu: '250m' } },
          volumeMounts: [
            { name: 'hd', mountPath: '/host-dir' },
            { name: 'hf', mountPath: '/host-file' },
            { name: 'info', mountPath: '/etc/podinfo' },
            { name: 'proj', mountPath: '/proj' },
            { name: 'cm', mountPath: '/etc/app.conf', subPath: 'app.conf' },
            { name: 'scratch', mountPath: '/data/a', subPath: 'one/two' },
            { name: 'scratch', mountPath: '/data/b' },
            { name: 'mem', mountPath: '/cache' },
            { name: 'mem-pod', mountPath: '/cache2' },
            { name: 'ro', mountPath: '/ro', readOnly: true },
          ],
        }],
        volumes: [
          { name: 'hd', hostPath: { path: hostDir, type: 'DirectoryOrCreate' } },
          { name: 'hf', hostPath: { path: hostFile, type: 'File' } },
          {
            name: 'info', downwardAPI: {
              items: [
                { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
                { path: 'annotations', fieldRef: { fieldPath: 'metadata.annotations' } },
                { path: 'name', fieldRef: { fieldPath: 'metadata.name' } },
                { path: 'mem', resourceFieldRef: { containerName: 'c', resource: 'limits.memory', divisor: '1Mi' } },
                { path: 'cpu', resourceFieldRef: { containerName: 'c', resource: 'limits.cpu', divisor: '1m' } },
              ],
            },
          },
          {
            name: 'proj', projected: {
              sources: [
                { configMap: { name: 'vol-cm' } },
                { secret: { name: 'vol-sec' } },
                { downwardAPI: { items: [{ path: 'ns', fieldRef: { fieldPath: 'metadata.namespace' } }] } },
              ],
            },
          },
          { name: 'cm', configMap: { name: 'vol-cm' } },
          { name: 'scratch', emptyDir: {} },
          { name: 'mem', emptyDir: { medium: 'Memory', sizeLimit: '8Mi' } },
          { name: 'mem-pod', emptyDir: { medium: 'Memory' } },
          { name: 'ro', emptyDir: {} },
        ],
      }, { app: 'vols' }),
    });
    await create(podManifest('vols-bad', { containers: [{ name: 'c', image: bb(), command: ['sleep', '3600'], volumeMounts: [{ name: 'f', mountPath: '/f' }] }], volumes: [{ name: 'f', hostPath: { path: join(tmp, 'absent'), type: 'File' } }] }));
    // Skiff serves no TokenRequest yet: a projected serviceAccountToken fails the mount, clearly.
    await create(podManifest('vols-token', { containers: [{ name: 'c', image: bb(), command: ['sleep', '3600'], volumeMounts: [{ name: 't', mountPath: '/t' }] }], volumes: [{ name: 't', projected: { sources: [{ serviceAccountToken: { path: 'token', expirationSeconds: 3600 } }] } }] }));
    await phase('vols', 'Running');
    assert.equal(await until('the container wrote to the hostPath', () => readFile(join(hostDir, 'out'), 'utf8')), 'from-pod\n');
    const read = async (script: string) => { const r = await sh('vols', script); assert.equal(r.code, 0, r.stderr); return r.stdout; };
    assert.equal(await read('cat /host-file'), 'from host');
    assert.equal(await read('cat /etc/podinfo/name; echo; cat /etc/podinfo/mem; echo; cat /etc/podinfo/cpu; echo; cat /etc/podinfo/labels'), 'vols\n64\n250\napp="vols"');
    await client.resource(kinds.pods).patch('default', 'vols', { metadata: { labels: { tier: 'back' }, annotations: { note: 'hi' } } });
    await until('labels and annotations updated live', async () => (await read('cat /etc/podinfo/labels; echo; cat /etc/podinfo/annotations')) === 'app="vols"\ntier="back"\nnote="hi"', 20_000);
    assert.equal(await read('cd /proj && ls && cat app.conf pass ns'), 'app.conf\nns\npass\na=1p4ssdefault');
    assert.equal(await read('cat /etc/app.conf'), 'a=1');
    assert.equal(await read('echo x > /data/a/f && cat /data/b/one/two/f'), 'x\n');
    const ro = await sh('vols', 'touch /ro/x');
    assert.notEqual(ro.code, 0);
    assert.match(ro.stderr, /Read-only file system/);
    assert.match(await read('grep " /cache " /proc/mounts'), /^tmpfs \/cache tmpfs rw,.*size=8192k/);
    assert.match(await read('grep " /cache2 " /proc/mounts'), /^tmpfs \/cache2 tmpfs rw,.*size=65536k/, 'without sizeLimit: the pod memory limit');
    const big = await sh('vols', 'dd if=/dev/zero of=/cache/big bs=1M count=16');
    assert.notEqual(big.code, 0);
    assert.match(big.stderr, /No space left on device/);
    const bad = await until('FailedMount', async () => (await events('vols-bad')).find((e) => e.reason === 'FailedMount'));
    assert.equal(bad.message, `MountVolume.SetUp failed for volume "f" : hostPath type check failed: ${join(tmp, 'absent')} is not a file`);
    assert.equal((await get('vols-bad')).status?.phase, 'Pending');
    const token = await until('FailedMount for the token', async () => (await events('vols-token')).find((e) => e.reason === 'FailedMount'));
    assert.equal(token.message, 'MountVolume.SetUp failed for volume "t" : failed to fetch token: the API server does not serve TokenRequest (serviceaccounts/token)');
    await Promise.all([deleteAndWait('vols'), deleteAndWait('vols-bad'), deleteAndWait('vols-token')]);
    assert.equal(await readFile(join(hostDir, 'out'), 'utf8'), 'from-pod\n', 'hostPath content stays on the host');
  });

  test('hostPort through portmap (127.0.0.1 and the node address); hostNetwork sees the host interfaces', async () => {
    const hostPort = 30000 + Math.floor(Math.random() * 10000);
    await create(podManifest('hostport', { containers: [{ name: 'web', image: registry.helloHttp, ports: [{ containerPort: 8080, hostPort }] }] }));
    await create(podManifest('hostnet', { hostNetwork: true, restartPolicy: 'Never', containers: [{ name: 'c', image: bb(), command: ['sh', '-c', 'hostname > /dev/termination-log; cat /proc/net/dev >> /dev/termination-log'] }] }));
    const pod = await phase('hostport', 'Running');
    const viaLoopback = await until('hostPort on 127.0.0.1', () => fetchText(`http://127.0.0.1:${hostPort}/`), 15_000);
    assert.equal(viaLoopback.body, '<h1>Hello from Skiff</h1>\n');
    const viaNode = await fetchText(`http://${pod.status!.hostIP}:${hostPort}/`);
    assert.equal(viaNode.body, '<h1>Hello from Skiff</h1>\n');
    const hn = await phase('hostnet', 'Succeeded');
    assert.equal(hn.status!.podIP, hn.status!.hostIP, 'a hostNetwork pod has the host IP');
    const devs = hn.status!.containerStatuses![0]!.state!.terminated!.message!;
    assert.ok(devs.startsWith(`${hostname()}\n`), 'a hostNetwork pod has the host name of the machine');
    assert.ok(devs.includes(`${hostNames(node.nodeName, server.dataDir).bridge}:`), 'the node bridge is visible from a hostNetwork pod');
    await Promise.all([deleteAndWait('hostport'), deleteAndWait('hostnet')]);
    await assert.rejects(fetchText(`http://127.0.0.1:${hostPort}/`), 'the hostPort is gone with the pod');
  });

  test('termination message from a custom path wins over FallbackToLogsOnError; env from fieldRef, resourceFieldRef, envFrom secret with prefix', async () => {
    await client.resource(kinds.secrets).create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'env-sec', namespace: 'default' }, data: { user: Buffer.from('alice').toString('base64') } });
    await create(podManifest('msg-file', { restartPolicy: 'Never', containers: [{ name: 'c', image: bb(), terminationMessagePath: '/tmp/my-msg', terminationMessagePolicy: 'FallbackToLogsOnError', command: ['sh', '-c', 'echo custom > /tmp/my-msg; echo to-log; exit 1'] }] }));
    await create(podManifest('msg-ok', { restartPolicy: 'Never', containers: [{ name: 'c', image: bb(), terminationMessagePolicy: 'FallbackToLogsOnError', command: ['sh', '-c', 'echo only-log'] }] }));
    await create(podManifest('env', {
      restartPolicy: 'Never',
      containers: [{
        name: 'c', image: bb(),
        resources: { requests: { cpu: '100m', memory: '16Mi' }, limits: { cpu: '250m', memory: '32Mi' } },
        command: ['sh', '-c', 'echo "$MEM|$CPU_REQ|$CPU_LIM|$IP|$HOST|$NODE|$APP|$NS|$S_user" > /dev/termination-log'],
        env: [
          { name: 'MEM', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
          { name: 'CPU_REQ', valueFrom: { resourceFieldRef: { resource: 'requests.cpu', divisor: '1m' } } },
          { name: 'CPU_LIM', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } },
          { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
          { name: 'HOST', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } },
          { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
          { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
          { name: 'NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
        ],
        envFrom: [{ prefix: 'S_', secretRef: { name: 'env-sec' } }],
      }],
    }, { app: 'envy' }));
    const file = await phase('msg-file', 'Failed');
    assert.equal(file.status!.containerStatuses![0]!.state!.terminated!.message, 'custom\n');
    const ok = await phase('msg-ok', 'Succeeded');
    assert.equal(ok.status!.containerStatuses![0]!.state!.terminated!.message, undefined, 'no fallback to the log on success');
    const env = await phase('env', 'Succeeded');
    const s = env.status!;
    assert.equal(s.containerStatuses![0]!.state!.terminated!.message, `32|100|1|${s.podIP}|${s.hostIP}|${node.nodeName}|envy|default|alice\n`);
    await Promise.all(['msg-file', 'msg-ok', 'env'].map(deleteAndWait));
  });

  test('sysctls: safe and allowlisted ones reach the pod, another rejects it (SysctlForbidden); privileged; fsGroup owns an emptyDir', async () => {
    await create(podManifest('sysctl-ok', {
      restartPolicy: 'Never',
      securityContext: { sysctls: [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '80' }, { name: 'net.core.somaxconn', value: '1000' }] },
      containers: [{ name: 'c', image: bb(), command: ['sh', '-c', 'echo $(cat /proc/sys/net/ipv4/ip_unprivileged_port_start) $(cat /proc/sys/net/core/somaxconn) > /dev/termination-log'] }],
    }));
    await create(podManifest('sysctl-bad', {
      securityContext: { sysctls: [{ name: 'kernel.msgmax', value: '65536' }] },
      containers: [{ name: 'c', image: bb(), command: ['sleep', '3600'] }],
    }));
    await create(podManifest('privileged', {
      restartPolicy: 'Never',
      containers: [
        { name: 'priv', image: bb(), securityContext: { privileged: true }, command: ['sh', '-c', 'echo $(grep CapEff /proc/self/status | cut -f2) $(ls /dev | wc -l) > /dev/termination-log'] },
        { name: 'plain', image: bb(), command: ['sh', '-c', 'echo $(grep CapEff /proc/self/status | cut -f2) $(ls /dev | wc -l) > /dev/termination-log'] },
      ],
    }));
    await create(podManifest('fsgroup', {
      restartPolicy: 'Never',
      securityContext: { runAsUser: 1000, fsGroup: 2000 },
      volumes: [{ name: 'data', emptyDir: {} }],
      containers: [{ name: 'c', image: bb(), volumeMounts: [{ name: 'data', mountPath: '/data' }], command: ['sh', '-c', 'touch /data/f && echo "$(id -G)|$(stat -c %g /data)|$(stat -c %g /data/f)" > /dev/termination-log'] }],
    }));
    const ok = await phase('sysctl-ok', 'Succeeded');
    assert.equal(ok.status!.containerStatuses![0]!.state!.terminated!.message, '80 1000\n', 'a safe and an allowlisted sysctl, set in the pod\'s own namespaces');
    assert.notEqual(readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8').trim(), '80', 'the host keeps its value');
    const bad = await phase('sysctl-bad', 'Failed');
    assert.equal(bad.status!.reason, 'SysctlForbidden');
    assert.equal(bad.status!.message, 'Pod was rejected: forbidden sysctl: "kernel.msgmax" not allowlisted');
    const forbidden = (evs: Event[]) => evs.some((e) => e.reason === 'SysctlForbidden' && e.type === 'Warning');
    assert.ok(forbidden(await settled(() => events('sysctl-bad'), forbidden)));
    const priv = await phase('privileged', 'Succeeded');
    const out = Object.fromEntries(priv.status!.containerStatuses!.map((c) => [c.name, c.state!.terminated!.message!.trim().split(' ')]));
    const CAP_SYS_ADMIN = 1n << 21n;
    assert.ok((BigInt(`0x${out.priv![0]}`) & CAP_SYS_ADMIN) !== 0n, `privileged has CAP_SYS_ADMIN (${out.priv![0]})`);
    assert.equal(BigInt(`0x${out.plain![0]}`) & CAP_SYS_ADMIN, 0n, 'the default set has not');
    assert.ok(Number(out.priv![1]) > Number(out.plain![1]) + 5, `a privileged container sees the host's devices (${out.priv![1]} vs ${out.plain![1]} entries in /dev)`);
    const fs = await phase('fsgroup', 'Succeeded');
    const [groups, dirGroup, fileGroup] = fs.status!.containerStatuses![0]!.state!.terminated!.message!.trim().split('|');
    assert.ok(groups!.split(' ').includes('2000'), `the process is in the fsGroup (${groups})`);
    assert.equal(dirGroup, '2000');
    assert.equal(fileGroup, '2000', 'new files take the fsGroup (setgid directory)');
    await Promise.all(['sysctl-ok', 'sysctl-bad', 'privileged', 'fsgroup'].map(deleteAndWait));
  });
});

