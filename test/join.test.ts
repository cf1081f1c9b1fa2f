/**
 * Joining a cluster with its token, as k3s nodes do: a `skiff server --disable-agent`, then
 * `skiff sim --server URL --token TOKEN` and `skiff agent --server URL --token TOKEN` (real runc
 * containers, as root) register nodes; a wrong password is refused with 401, a token naming
 * another CA is refused before anything is sent, and a second machine cannot take a joined
 * node's name (node password). The agent's pod reaches Running and its logs reach kubectl
 * through the cluster CA the agent learned from the token.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { Client, HttpTransport, kinds } from '../src/client/index.ts';
import { caBundleHash } from '../src/pki/index.ts';
import { cleanupNode, imageRegistry, nodeLeftovers, uniqueNode } from './helpers/agent.ts';
import { cleanup, kubectl, startServer, type TestServer } from './helpers/cluster.ts';
import { until } from './helpers/until.ts';

const isRoot = process.getuid?.() === 0;
const skiff = resolve(import.meta.dirname, '..', 'bin', 'skiff');

/** A `skiff` child process whose output is collected; stopped by its PID. */
interface Child {
  process: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

function run(args: string[]): Child {
  const child = spawn(skiff, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return {
    process: child,
    output: () => output,
    exited,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      await exited;
    },
  };
}

describe('joining with the cluster token', { timeout: 120_000 }, () => {
  let server: TestServer;
  let client: Client;
  let transport: HttpTransport;
  let token: string;
  const children: Child[] = [];
  const dirs: string[] = [];
  const rand = Math.random().toString(16).slice(2, 8);

  before(async () => {
    server = await startServer();
    transport = HttpTransport.fromKubeconfig(server.kubeconfig);
    client = new Client(transport);
    token = (await readFile(join(server.dataDir, 'server', 'token'), 'utf8')).trim();
  });

  after(async () => {
    try {
      for (const child of children) await child.stop('SIGKILL');
      transport?.close();
    } finally {
      await cleanup(server);
      for (const dir of dirs) await rm(dir, { recursive: true, force: true });
    }
  });

  test('the token names the CA served at /cacerts (k3s: K10<sha256 of the CA file>::server:<password>)', async () => {
    const ca = readFileSync(join(server.dataDir, 'server', 'tls', 'server-ca.crt'), 'utf8');
    assert.match(token, /^K10[0-9a-f]{64}::server:[0-9a-f]{32}$/);
    assert.equal(token.slice(3, 67), caBundleHash(ca));
    const served = await fetchInsecure(`${server.url}/cacerts`);
    assert.equal(served, ca, '/cacerts answers without credentials, byte for byte the CA file');
    assert.ok(new X509Certificate(served).ca);
  });

  test('skiff sim --server --token registers its nodes', async () => {
    const sim = run(['sim', '--server', server.url, '--token', token, '--nodes', '2', '--node-name-prefix', `skiff-test-${rand}-sim-`]);
    children.push(sim);
    await until('sim nodes ready', async () => sim.output().includes('nodes ready') || (sim.process.exitCode !== null ? Promise.reject(new Error(sim.output())) : false));
    const ready = await until('2 Ready nodes', async () => {
      const nodes = (await client.resource(kinds.nodes).list()).items.filter((n) => n.metadata!.name!.startsWith(`skiff-test-${rand}-sim-`));
      return nodes.length === 2 && nodes.every((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) && nodes;
    });
    assert.deepEqual(ready.map((n) => n.metadata!.name).sort(), [`skiff-test-${rand}-sim-0`, `skiff-test-${rand}-sim-1`]);
    assert.match(server.log(), /issued a client certificate for system:skiff-sim/);
    await sim.stop();
  });

  test('a wrong password is refused with 401 and a clear message', async () => {
    const wrong = `${token.slice(0, token.lastIndexOf(':') + 1)}not-the-password`;
    const sim = run(['sim', '--server', server.url, '--token', wrong, '--nodes', '1', '--node-name-prefix', `skiff-test-${rand}-wrong-`]);
    children.push(sim);
    assert.equal(await sim.exited, 1);
    assert.match(sim.output(), /refused to join the simulator \(401\): the join token is not valid for this cluster/);
    // Straight to the endpoint: a Status, as the API's errors.
    const answer = await postInsecure(`${server.url}/v1-skiff/client-kubelet.crt`, JSON.stringify({ password: 'nope', nodeName: 'x', nodePassword: '0123456789abcdef0', csr: 'x' }));
    assert.equal(answer.status, 401);
    assert.equal(JSON.parse(answer.body).reason, 'Unauthorized');
    assert.equal((await client.resource(kinds.nodes).list()).items.filter((n) => n.metadata!.name!.startsWith(`skiff-test-${rand}-wrong-`)).length, 0);
  });

  test('a token naming another CA: the agent refuses to connect before sending anything', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'skiff-test-join-'));
    dirs.push(dataDir);
    const other = `K10${'0'.repeat(64)}${token.slice(67)}`;
    const agent = run(['agent', '--server', server.url, '--token', other, '--node-name', `skiff-test-${rand}-mitm`, '--data-dir', dataDir]);
    children.push(agent);
    assert.equal(await agent.exited, 1);
    assert.match(agent.output(), /refusing to connect: the CA of https:\/\/127\.0\.0\.1:\d+ \(hash [0-9a-f]{64}\) is not the one the token names \(0{64}\)/);
    assert.doesNotMatch(server.log(), new RegExp(`skiff-test-${rand}-mitm`), 'the server heard nothing of it');
    // A token without a CA hash cannot be checked: refused too.
    const bare = run(['sim', '--server', server.url, '--token', token.slice(token.lastIndexOf(':') + 1), '--nodes', '1']);
    children.push(bare);
    assert.equal(await bare.exited, 1);
    assert.match(bare.output(), /the token carries no CA hash/);
  });

  describe('skiff agent --server --token with real containers', { skip: isRoot ? undefined : 'needs root: runs real containers', timeout: 90_000 }, () => {
    let registry: Awaited<ReturnType<typeof imageRegistry>>;
    let agent: Child | undefined;
    let agentDir: string;
    const node = uniqueNode();

    before(async () => {
      registry = await imageRegistry();
      agentDir = await mkdtemp(join(tmpdir(), 'skiff-test-join-agent-'));
    });

    after(async () => {
      try {
        const pods = await client.resource(kinds.pods).list({ namespace: 'default' }).catch(() => ({ items: [] as Pod[] }));
        for (const p of pods.items) await client.resource(kinds.pods).delete('default', p.metadata!.name!, { gracePeriodSeconds: 1 }).catch(() => {});
        await until('pods gone', async () => (await client.resource(kinds.pods).list({ namespace: 'default' })).items.length === 0, 30_000).catch(() => {});
        const left = nodeLeftovers(node.nodeName, agentDir, node.octet);
        await agent?.stop();
        await cleanupNode(node.nodeName, agentDir);
        assert.deepEqual(left, [], `nothing of the pods remains (agent log: ${agent?.output().slice(-2000)})`);
      } finally {
        await agent?.stop('SIGKILL');
        await registry?.stop();
        await rm(agentDir, { recursive: true, force: true });
      }
    });

    test('registers its node as system:node:<name>; its pod runs and its logs reach kubectl; the name is its own', async () => {
      agent = run(['agent', '--server', server.url, '--token', token, '--node-name', node.nodeName, '--pod-cidr', node.podCidr, '--data-dir', agentDir]);
      children.push(agent);
      await until('agent running', async () => agent!.output().includes(`node ${node.nodeName} running`) || (agent!.process.exitCode !== null ? Promise.reject(new Error(agent!.output())) : false));
      assert.match(agent.output(), new RegExp(`joined ${server.url.replace(/[.]/g, '\\.')} as system:node:${node.nodeName}`));
      assert.match(server.log(), new RegExp(`issued a client certificate for system:node:${node.nodeName}`));
      assert.match(readFileSync(join(agentDir, 'agent', 'node-password'), 'utf8'), /^[0-9a-f]{32}\n$/);
      const secret = await client.resource(kinds.secrets).get('kube-system', `${node.nodeName}.node-password.skiff`);
      assert.match(Buffer.from(secret.data!.hash!, 'base64').toString(), /^scrypt\$/);
      await until('node Ready', async () => {
        const n = await client.resource(kinds.nodes).get(undefined, node.nodeName);
        return n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
      });

      await client.resource(kinds.pods).create({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'joined', namespace: 'default' },
        spec: { nodeName: node.nodeName, terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: registry.busybox, command: ['sh', '-c', 'echo hello from a joined node; sleep 3600'] }] },
      });
      const pod = await until('pod Running', async () => {
        const p = await client.resource(kinds.pods).get('default', 'joined');
        return p.status?.phase === 'Running' && p;
      }, 40_000);
      assert.match(pod.status!.podIP!, new RegExp(`^10\\.88\\.${node.octet}\\.`));
      const logs = await until('logs', async () => {
        const r = await kubectl(server, ['logs', 'joined']);
        return r.code === 0 && r.stdout.includes('hello') && r;
      });
      assert.equal(logs.stdout, 'hello from a joined node\n');

      // Another machine (another data dir, so another node password) cannot take the name.
      const otherDir = await mkdtemp(join(tmpdir(), 'skiff-test-join-'));
      dirs.push(otherDir);
      const impostor = run(['agent', '--server', server.url, '--token', token, '--node-name', node.nodeName, '--data-dir', otherDir]);
      children.push(impostor);
      assert.equal(await impostor.exited, 1);
      assert.match(impostor.output(), new RegExp(`refused to join node ${node.nodeName} \\(403\\): node password rejected`));
    });
  });
});

function fetchInsecure(url: string): Promise<string> {
  return postInsecure(url, undefined).then((r) => r.body);
}

async function postInsecure(url: string, body: string | undefined): Promise<{ status: number; body: string }> {
  const { request } = await import('node:https');
  return new Promise((resolvePromise, reject) => {
    const req = request(url, { method: body === undefined ? 'GET' : 'POST', rejectUnauthorized: false }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
