/**
 * Node pressure from real figures, end to end as root: an embedded agent told by
 * `--kubelet-arg eviction-hard=…` that it needs more memory than any machine has reports
 * MemoryPressure (upstream's reason and message), and the node lifecycle controller taints the
 * node as upstream's taint-by-condition does; the other conditions stay False.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Node } from 'kubernetes-types/core/v1.js';
import { Client, HttpTransport, kinds } from '../src/client/index.ts';
import { cleanupNode, uniqueNode } from './helpers/agent.ts';
import { cleanup, kubectl, startServer, type TestServer } from './helpers/cluster.ts';
import { until } from './helpers/until.ts';

const skip = process.getuid?.() === 0 ? undefined : 'needs root: runs the node agent';

describe('node pressure conditions from --kubelet-arg eviction-hard', { skip, timeout: 90_000 }, () => {
  let server: TestServer;
  let transport: HttpTransport;
  let client: Client;
  const node = uniqueNode();

  before(async () => {
    server = await startServer({ agent: true, extraArgs: ['--node-name', node.nodeName, '--cluster-cidr', node.podCidr, '--kubelet-arg', 'eviction-hard=memory.available<1000Ti'] });
    transport = HttpTransport.fromKubeconfig(server.kubeconfig);
    client = new Client(transport);
  });

  after(async () => {
    try {
      if (server) {
        await server.stop();
        transport.close();
        await cleanupNode(node.nodeName, server.dataDir);
      }
    } finally {
      await cleanup(server);
    }
  });

  test('MemoryPressure True with upstream\'s reason, the memory-pressure taint, the other conditions False', async () => {
    const found = await until('MemoryPressure on the node', async () => {
      const n = await client.resource(kinds.nodes).get('', node.nodeName);
      return n.status?.conditions?.some((c) => c.type === 'MemoryPressure' && c.status === 'True') && n;
    }) as Node;
    const memory = found.status!.conditions!.find((c) => c.type === 'MemoryPressure')!;
    assert.equal(memory.reason, 'KubeletHasInsufficientMemory');
    assert.equal(memory.message, 'kubelet has insufficient memory available');
    for (const type of ['DiskPressure', 'PIDPressure']) assert.equal(found.status!.conditions!.find((c) => c.type === type)?.status, 'False', type);
    await until('the memory-pressure taint', async () => (await client.resource(kinds.nodes).get('', node.nodeName)).spec?.taints?.some((t) => t.key === 'node.kubernetes.io/memory-pressure' && t.effect === 'NoSchedule'));
    const described = await kubectl(server, ['describe', 'node', node.nodeName]);
    assert.match(described.stdout, /MemoryPressure\s+True\s+.*KubeletHasInsufficientMemory/);
  });
});
