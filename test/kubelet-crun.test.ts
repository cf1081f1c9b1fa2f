/**
 * The node agent with `--runtime crun`, end to end as root: a separate `skiff agent` process on
 * a `--disable-agent` server runs a pod in a real crun container (on this machine's hybrid cgroup
 * layout crun runs through the wrapper in src/kubelet/runtime/runc/runtime-command.ts), kubectl
 * reaches it, and nothing of it remains afterwards.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { Client, HttpTransport, kinds } from '../src/client/index.ts';
import { hostNames } from '../src/kubelet/index.ts';
import { cleanupNode, imageRegistry, nodeLeftovers, uniqueNode } from './helpers/agent.ts';
import { cleanup, kubectl, startServer, type TestServer } from './helpers/cluster.ts';
import { until } from './helpers/until.ts';

const skip = process.getuid?.() === 0 ? undefined : 'needs root: runs real containers';
const skiff = resolve(import.meta.dirname, '..', 'bin', 'skiff');

describe('kubelet with --runtime crun', { skip, timeout: 120_000 }, () => {
  let registry: Awaited<ReturnType<typeof imageRegistry>>;
  let server: TestServer;
  let agent: ChildProcess | undefined;
  let client: Client;
  let transport: HttpTransport;
  let agentLog = '';
  const node = uniqueNode();
  const crunRoot = () => join(hostNames(node.nodeName, server.dataDir).runtimeRoot, 'crun');

  before(async () => {
    registry = await imageRegistry();
    server = await startServer();
    transport = HttpTransport.fromKubeconfig(server.kubeconfig);
    client = new Client(transport);
    agent = spawn(skiff, ['agent', '--kubeconfig', server.kubeconfig, '--runtime', 'crun', '--node-name', node.nodeName, '--pod-cidr', node.podCidr, '--data-dir', server.dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    agent.stderr!.on('data', (d: Buffer) => (agentLog += d.toString()));
    agent.stdout!.on('data', (d: Buffer) => (agentLog += d.toString()));
    await until('agent running', async () => agentLog.includes(`node ${node.nodeName} running`) || (agent!.exitCode !== null ? Promise.reject(new Error(agentLog)) : false));
  });

  after(async () => {
    try {
      if (server) {
        const left = nodeLeftovers(node.nodeName, server.dataDir, node.octet);
        if (agent && agent.exitCode === null) {
          const exited = new Promise((r) => agent!.once('exit', r));
          agent.kill('SIGTERM');
          await exited;
        }
        await server.stop();
        transport.close();
        await cleanupNode(node.nodeName, server.dataDir);
        assert.deepEqual(left, [], `nothing of the pod remains (agent log: ${agentLog.slice(-2000)})`);
      }
    } finally {
      if (agent && agent.exitCode === null) agent.kill('SIGKILL');
      await cleanup(server);
      await registry?.stop();
    }
  });

  test('a pod runs in a crun container: Running with an IP, logs and exec through kubectl, gone after delete', async () => {
    const nodeObj = await until('node registered', () => client.resource(kinds.nodes).get('', node.nodeName).catch(() => undefined)) as Node;
    assert.match(nodeObj.status!.nodeInfo!.containerRuntimeVersion!, /^crun:\/\/\d/);
    const pod: Pod = {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'on-crun', namespace: 'default' },
      spec: { nodeName: node.nodeName, terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: registry.busybox, command: ['sh', '-c', 'echo started in $(cat /proc/1/comm); sleep 3600'], resources: { limits: { memory: '64Mi' } } }] },
    };
    await client.resource(kinds.pods).create(pod);
    const running = await until('Running', async () => { const p = await client.resource(kinds.pods).get('default', 'on-crun'); return p.status?.phase === 'Running' && p; });
    assert.match(running.status!.podIP!, new RegExp(`^10\\.88\\.${node.octet}\\.`));
    const containerId = running.status!.containerStatuses![0]!.containerID!;
    assert.match(containerId, /^crun:\/\//);
    assert.ok(execFileSync('crun', ['--root', crunRoot(), 'list', '-q'], { encoding: 'utf8' }).includes(containerId.slice(7)), 'crun lists the container');
    assert.match((await until('logs', async () => { const r = await kubectl(server, ['logs', 'on-crun']); return r.stdout.includes('started') && r; })).stdout, /started in sh/);
    const limit = await kubectl(server, ['exec', 'on-crun', '--', 'cat', '/sys/fs/cgroup/memory/memory.limit_in_bytes']);
    assert.equal(limit.stdout.trim(), String(64 * 1024 * 1024), 'the memory limit is set in the container\'s cgroup');
    const failing = await kubectl(server, ['exec', 'on-crun', '--', 'sh', '-c', 'exit 7']);
    assert.equal(failing.code, 7);
    await client.resource(kinds.pods).delete('default', 'on-crun');
    await until('pod gone', async () => client.resource(kinds.pods).get('default', 'on-crun').then(() => false, () => true));
    assert.ok(!execFileSync('crun', ['--root', crunRoot(), 'list', '-q'], { encoding: 'utf8' }).includes(containerId.slice(7)), 'container gone');
  });
});
