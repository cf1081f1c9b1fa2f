/**
 * Streams end to end with the real kubectl against a `skiff server` whose embedded agent runs
 * real runc containers: `kubectl logs` (plain, -f, --tail, --since, --since-time, --timestamps,
 * --previous, --limit-bytes), `kubectl exec` (exit codes, stdin, stderr, a tty), `kubectl attach`,
 * `kubectl port-forward` with an HTTP request through it, and `kubectl cp` both ways — with
 * kubectl 1.32 (WebSocket; port-forward as SPDY tunnelled in a WebSocket) and kubectl 1.27
 * (SPDY/3.1). At the end nothing of the node remains on the machine.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { Client, HttpTransport, kinds } from '../src/client/index.ts';
import { cleanupNode, imageRegistry, nodeLeftovers, uniqueNode } from './helpers/agent.ts';
import { cleanup, kubectl, kubectlBinary, startServer, type TestServer } from './helpers/cluster.ts';
import { until } from './helpers/until.ts';

const isRoot = process.getuid?.() === 0;
const skip = isRoot ? undefined : 'needs root: runs real containers';

type Registry = Awaited<ReturnType<typeof imageRegistry>>;

/** A long-running kubectl whose output is watched; stopped by its PID. */
function background(server: TestServer, args: string[], version?: string) {
  const child = spawn(kubectlBinary(version), ['--kubeconfig', server.kubeconfig, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return {
    child,
    out: () => out,
    err: () => err,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

function httpGet(port: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const VERSIONS = [
  { version: '1.32', protocol: 'WebSocket' },
  { version: '1.27', protocol: 'SPDY' },
];

describe('kubectl streams: logs, exec, attach, port-forward, cp', { skip, concurrency: true, timeout: 170_000 }, () => {
  let registry: Registry;
  let server: TestServer;
  let client: Client;
  let transport: HttpTransport;
  let work: string;
  const node = uniqueNode();

  const pod = (name: string, spec: Record<string, unknown>): Pod =>
    ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { terminationGracePeriodSeconds: 1, ...spec } }) as Pod;
  const get = (name: string) => client.resource(kinds.pods).get('default', name);
  const running = (name: string) => until(`${name} Running`, async () => { const p = await get(name); return p.status?.phase === 'Running' && p; }, 60_000);
  let ready: Promise<void>;

  before(async () => {
    registry = await imageRegistry();
    work = await mkdtemp(join(tmpdir(), 'skiff-test-streams-'));
    server = await startServer({ agent: true, extraArgs: ['--node-name', node.nodeName, '--cluster-cidr', node.podCidr, '--kubelet-arg', 'port=0'] });
    transport = HttpTransport.fromKubeconfig(server.kubeconfig);
    client = new Client(transport);
    const bb = registry.busybox;
    const create = (p: Pod) => client.resource(kinds.pods).create(p);
    await Promise.all([
      create(pod('shell', { containers: [{ name: 'c', image: bb, command: ['sleep', '3600'] }] })),
      create(pod('talker', { containers: [{ name: 'c', image: bb, command: ['sh', '-c', 'echo one; sleep 0.2; echo two >&2; sleep 0.2; echo three; sleep 3600'] }] })),
      create(pod('counter', { restartPolicy: 'Never', containers: [{ name: 'c', image: bb, command: ['sh', '-c', 'for i in 1 2 3; do echo line$i; sleep 0.3; done'] }] })),
      create(pod('crasher', { containers: [{ name: 'c', image: bb, command: ['sh', '-c', 'echo run-$(cat /proc/sys/kernel/random/uuid); sleep 0.5; exit 1'] }] })),
      create(pod('echoer', { containers: [{ name: 'c', image: bb, stdin: true, command: ['sh', '-c', 'echo ready; while read l; do echo got:$l; done'] }] })),
      create(pod('web', { containers: [{ name: 'c', image: registry.helloHttp }] })),
    ]);
    ready = Promise.all(['shell', 'talker', 'echoer', 'web'].map(running)).then(() => {});
    await ready;
  });

  after(async () => {
    try {
      if (server) {
        if (process.env.SKIFF_TEST_LOG) console.error(server.log());
        const pods = await client.resource(kinds.pods).list({ namespace: 'default' });
        await Promise.all(pods.items.map((p) => client.resource(kinds.pods).delete('default', p.metadata!.name!).catch(() => {})));
        await until('pods gone', async () => (await client.resource(kinds.pods).list({ namespace: 'default' })).items.length === 0, 60_000);
        const left = nodeLeftovers(node.nodeName, server.dataDir, node.octet);
        await server.stop();
        transport.close();
        await cleanupNode(node.nodeName, server.dataDir);
        assert.deepEqual(left, [], 'nothing of the pods remains after they are deleted');
      }
    } finally {
      await cleanup(server);
      await registry?.stop();
      if (work) await rm(work, { recursive: true, force: true });
    }
  });

  test('kubectl logs: plain, --tail, --timestamps, --limit-bytes, --since, --since-time', async () => {
    await until('talker output', async () => (await kubectl(server, ['logs', 'talker'])).stdout.includes('three'));
    const plain = await kubectl(server, ['logs', 'talker']);
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal(plain.stdout, 'one\ntwo\nthree\n');
    assert.equal((await kubectl(server, ['logs', 'talker', '--tail=1'])).stdout, 'three\n');
    assert.equal((await kubectl(server, ['logs', 'talker', '-c', 'c', '--tail=2'])).stdout, 'two\nthree\n');
    const stamped = await kubectl(server, ['logs', 'talker', '--timestamps']);
    assert.match(stamped.stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z one\n\S+ two\n\S+ three\n$/);
    assert.equal((await kubectl(server, ['logs', 'talker', '--limit-bytes=6'])).stdout, 'one\ntw');
    assert.equal((await kubectl(server, ['logs', 'talker', '--since=1h'])).stdout, 'one\ntwo\nthree\n');
    const future = new Date(Date.now() + 3_600_000).toISOString().replace(/\.\d+Z$/, 'Z');
    assert.equal((await kubectl(server, ['logs', 'talker', `--since-time=${future}`])).stdout, '');
    const missing = await kubectl(server, ['logs', 'talker', '-c', 'nope']);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /container nope is not valid for pod talker/);
  });

  test('kubectl logs -f follows until the container exits; --previous shows the last run', async () => {
    await until('counter started', async () => (await get('counter')).status?.containerStatuses?.[0]?.state?.waiting === undefined);
    for (const { version } of VERSIONS) {
      const follow = await kubectl(server, ['logs', '-f', 'counter'], { version, timeoutMs: 30_000 });
      assert.equal(follow.code, 0, follow.stderr);
      assert.equal(follow.stdout, 'line1\nline2\nline3\n', `kubectl ${version}`);
    }
    const crashed = await until('crasher restarted', async () => { const p = await get('crasher'); return (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1 && p; }, 60_000);
    assert.ok(crashed);
    const previous = await until('previous log', async () => { const r = await kubectl(server, ['logs', 'crasher', '--previous']); return r.code === 0 && r.stdout !== '' && r.stdout; });
    assert.match(previous, /^run-[0-9a-f-]{36}\n$/);
    const noPrevious = await kubectl(server, ['logs', 'talker', '--previous']);
    assert.notEqual(noPrevious.code, 0);
    assert.match(noPrevious.stderr, /previous terminated container "c" in pod "talker" not found/);
  });

  for (const { version, protocol } of VERSIONS) {
    test(`kubectl ${version} exec (${protocol}): output, exit codes, stdin, stderr, tty`, async () => {
      await ready;
      const hi = await kubectl(server, ['exec', 'shell', '--', 'echo', 'hi'], { version });
      assert.equal(hi.code, 0, hi.stderr);
      assert.equal(hi.stdout, 'hi\n');
      const three = await kubectl(server, ['exec', 'shell', '--', 'sh', '-c', 'exit 3'], { version });
      assert.equal(three.code, 3, three.stderr);
      const stdin = await kubectl(server, ['exec', '-i', 'shell', '--', 'sh', '-c', 'cat; echo done'], { version, input: 'from stdin\n' });
      assert.equal(stdin.code, 0, stdin.stderr);
      assert.equal(stdin.stdout, 'from stdin\ndone\n');
      const err = await kubectl(server, ['exec', 'shell', '--', 'sh', '-c', 'echo out; echo err >&2; exit 1'], { version });
      assert.equal(err.code, 1);
      assert.equal(err.stdout, 'out\n');
      assert.match(err.stderr, /^err\n/);
      // A tty: kubectl needs a terminal on its stdin, which script(1) gives it.
      const tty = await new Promise<{ code: number | null; out: string }>((resolve) => {
        const command = `${kubectlBinary(version)} --kubeconfig ${server.kubeconfig} exec -it shell -- sh -c 'tty; echo cols=$(stty size)'`;
        const child = spawn('script', ['-qec', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, COLUMNS: '100', LINES: '30' } });
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (out += d.toString()));
        child.on('exit', (code) => resolve({ code, out }));
      });
      assert.equal(tty.code, 0, tty.out);
      assert.match(tty.out, /\/dev\/pts\/\d+/);
    });

    test(`kubectl ${version} attach (${protocol}): output and stdin`, async () => {
      await ready;
      const session = background(server, ['attach', '-i', 'echoer'], version);
      try {
        // kubectl has attached once what is typed comes back.
        await until('attached', async () => {
          session.child.stdin.write(`ping-${version}\n`);
          return session.out().includes(`got:ping-${version}`);
        });
      } finally {
        await session.stop();
      }
    });

    test(`kubectl ${version} port-forward (${protocol}): an HTTP request through it`, async () => {
      await ready;
      const forward = background(server, ['port-forward', 'pod/web', ':8080'], version);
      try {
        const port = await until('forwarding', async () => Number(/Forwarding from 127\.0\.0\.1:(\d+)/.exec(forward.out())?.[1]) || undefined);
        for (let i = 0; i < 3; i++) {
          const res = await httpGet(port);
          assert.equal(res.status, 200);
          assert.match(res.body, /hello/i);
        }
      } finally {
        await forward.stop();
      }
      assert.doesNotMatch(forward.err(), /error/i);
    });

    test(`kubectl ${version} cp (${protocol}): to the pod and back`, async () => {
      await ready;
      const data = randomBytes(300_000);
      const local = join(work, `up-${version}.bin`);
      await writeFile(local, data);
      const up = await kubectl(server, ['cp', local, `shell:/tmp/up-${version}.bin`], { version });
      assert.equal(up.code, 0, up.stderr);
      const back = join(work, `down-${version}.bin`);
      const down = await kubectl(server, ['cp', `shell:/tmp/up-${version}.bin`, back], { version });
      assert.equal(down.code, 0, down.stderr);
      assert.ok((await readFile(back)).equals(data), 'the file comes back unchanged');
    });
  }
});
