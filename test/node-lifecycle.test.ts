/**
 * Node lifecycle with simulated nodes: a node whose heartbeats stop turns Unknown and gets the
 * `unreachable` taints; its pods are evicted once their `tolerationSeconds` have passed (a pod
 * with a longer toleration stays); resuming the heartbeat lifts the taints. A node reporting
 * NotReady gets the `not-ready` taints; a cordoned node the `unschedulable` one. Every pod gets
 * the default 300 s tolerations at admission.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cleanup, kubectl, startServer, type TestServer } from './helpers/cluster.ts';
import { startSim, type TestSim } from './helpers/sim.ts';

async function until<T>(what: string, check: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const podYaml = (name: string, node: string, tolerationSeconds?: number) => `apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: default}
spec:
  nodeName: ${node}
  containers: [{name: app, image: nginx}]
${tolerationSeconds === undefined ? '' : `  tolerations: [{key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: ${tolerationSeconds}}]`}
`;

describe('node lifecycle', () => {
  let server: TestServer;
  let sim: TestSim;
  const ok = async (args: string[], input?: string) => {
    const r = await kubectl(server, args, input === undefined ? {} : { input });
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const json = async (args: string[]): Promise<any> => JSON.parse(await ok([...args, '-o', 'json']));
  const taintsOf = async (node: string) => ((await json(['get', 'node', node])).spec.taints ?? []) as { key: string; effect: string; timeAdded?: string }[];

  before(async () => {
    server = await startServer({
      extraArgs: ['--kube-controller-manager-arg', 'node-monitor-grace-period=3s', '--kube-controller-manager-arg', 'node-monitor-period=1s'],
    });
    sim = await startSim(server, { nodes: 3, heartbeatInterval: '1s', nodeStatusInterval: '1s' });
  });
  after(async () => {
    await sim?.stop();
    await cleanup(server);
  });

  it('gives every new pod the default not-ready/unreachable tolerations of 300 s', async () => {
    await ok(['apply', '-f', '-'], podYaml('plain', 'sim-0'));
    const pod = await json(['get', 'pod', 'plain']);
    assert.deepEqual(
      pod.spec.tolerations.map((t: any) => `${t.key}:${t.effect}:${t.tolerationSeconds}`),
      ['node.kubernetes.io/not-ready:NoExecute:300', 'node.kubernetes.io/unreachable:NoExecute:300'],
    );
  });

  it('marks a silent node Unknown, taints it unreachable, evicts pods after their toleration, and heals', async () => {
    await ok(['apply', '-f', '-'], podYaml('short', 'sim-1', 2) + '---\n' + podYaml('long', 'sim-1', 3600));
    await ok(['wait', '--for=condition=Ready', 'pod/short', 'pod/long', '--timeout=30s']);
    assert.deepEqual(await taintsOf('sim-1'), []);

    await sim.command('stop-heartbeat sim-1');
    await until('sim-1 NotReady', async () => (/^sim-1\s+NotReady\s/m.test(await ok(['get', 'nodes'])) ? true : undefined));
    const describe = await ok(['describe', 'node', 'sim-1']);
    assert.match(describe, /Ready\s+Unknown\s.*NodeStatusUnknown\s+Kubelet stopped posting node status\./);
    assert.match(describe, /node\.kubernetes\.io\/unreachable:NoExecute/);
    const taints = await until('the unreachable taints', async () => {
      const t = await taintsOf('sim-1');
      return t.some((x) => x.effect === 'NoExecute') && t.some((x) => x.effect === 'NoSchedule') ? t : undefined;
    });
    const noExecute = taints.find((t) => t.effect === 'NoExecute')!;
    assert.equal(noExecute.key, 'node.kubernetes.io/unreachable');
    assert.ok(noExecute.timeAdded, 'a NoExecute taint records when it was added');
    assert.ok(taints.some((t) => t.key === 'node.kubernetes.io/unreachable' && t.effect === 'NoSchedule'));

    // The pod tolerating 2 s is marked for deletion about 2 s after the taint; its node is dead,
    // so it stays Terminating until the node comes back.
    const evicted = await until('the eviction of short', async () => {
      const pod = await json(['get', 'pod', 'short']);
      return pod.metadata.deletionTimestamp ? pod : undefined;
    });
    const markedAt = Date.parse(evicted.metadata.deletionTimestamp) - evicted.metadata.deletionGracePeriodSeconds * 1000;
    assert.ok(markedAt - Date.parse(noExecute.timeAdded!) >= 1000, `evicted ${markedAt - Date.parse(noExecute.timeAdded!)} ms after the taint`);
    const disruption = evicted.status.conditions.find((c: any) => c.type === 'DisruptionTarget');
    assert.equal(disruption?.reason, 'DeletionByTaintManager');
    assert.equal(disruption?.message, 'Taint manager: deleting due to NoExecute taint');
    const events = await ok(['get', 'events', '--field-selector', 'involvedObject.name=short']);
    assert.match(events, /TaintManagerEviction\s+.*Marking for deletion Pod default\/short/);
    assert.match(await ok(['get', 'pod', 'short']), /Terminating/);

    const long = await json(['get', 'pod', 'long']);
    assert.equal(long.metadata.deletionTimestamp, undefined);
    assert.equal(long.status.conditions.find((c: any) => c.type === 'Ready').status, 'False', 'pods of a silent node are not Ready');

    await sim.command('resume-heartbeat sim-1');
    await until('sim-1 Ready', async () => (/^sim-1\s+Ready\s/m.test(await ok(['get', 'nodes'])) ? true : undefined));
    await until('the taints lifted', async () => ((await taintsOf('sim-1')).length === 0 ? true : undefined));
    await ok(['wait', '--for=delete', 'pod/short', '--timeout=30s']);
    await ok(['wait', '--for=condition=Ready', 'pod/long', '--timeout=30s']);
    assert.equal((await json(['get', 'pod', 'long'])).metadata.deletionTimestamp, undefined);
  });

  it('taints a node reporting NotReady not-ready, and lifts it when Ready', async () => {
    await sim.command('set-node-ready sim-2 false');
    const taints = await until('the not-ready taints', async () => {
      const t = await taintsOf('sim-2');
      return t.length === 2 ? t : undefined;
    });
    assert.deepEqual(taints.map((t) => `${t.key}:${t.effect}`).sort(), ['node.kubernetes.io/not-ready:NoExecute', 'node.kubernetes.io/not-ready:NoSchedule']);
    await sim.command('set-node-ready sim-2 true');
    await until('the taints lifted', async () => ((await taintsOf('sim-2')).length === 0 ? true : undefined));
  });

  it('taints a cordoned node unschedulable', async () => {
    await ok(['cordon', 'sim-0']);
    await until('the unschedulable taint', async () => ((await taintsOf('sim-0')).some((t) => t.key === 'node.kubernetes.io/unschedulable' && t.effect === 'NoSchedule') ? true : undefined));
    await ok(['uncordon', 'sim-0']);
    await until('the taint lifted', async () => ((await taintsOf('sim-0')).length === 0 ? true : undefined));
  });

  it('replaces the pods of a dead node elsewhere (ReplicaSet controller and scheduler)', async () => {
    await ok(['apply', '-f', '-'], `apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: web, namespace: default}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: app, image: nginx}]
      tolerations: [{key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 2}]
`);
    const readyPods = async () => {
      const list = await json(['get', 'pods', '-l', 'app=web']);
      return (list.items as any[]).filter((p) => !p.metadata.deletionTimestamp && p.status.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True'));
    };
    const before = await until('3 ready replicas', async () => {
      const pods = await readyPods();
      return pods.length === 3 ? pods : undefined;
    });
    const dead = before[0].spec.nodeName as string;
    await sim.command(`stop-heartbeat ${dead}`);
    const after = await until(
      'replacements running elsewhere',
      async () => {
        const pods = await readyPods();
        return pods.length === 3 && pods.every((p) => p.spec.nodeName !== dead) ? pods : undefined;
      },
      60_000,
    );
    assert.ok(after.every((p) => p.spec.nodeName !== dead));
    await sim.command(`resume-heartbeat ${dead}`);
  });
});
