/**
 * The scheduler inside `skiff server`, observed as a user would: pods placed on nodes by
 * resources and policy, `FailedScheduling` messages worded as upstream (`kubectl describe pod`),
 * the PodScheduled condition, a pending pod placed once the cluster changes, preemption by
 * PriorityClass, and pods of another scheduler left alone. Nodes are plain Node objects with
 * allocatable resources (the scheduler reads nothing else); each scenario removes its nodes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cleanup, kubectl, startServer, type TestServer } from './helpers/cluster.ts';

let server: TestServer;

async function k(args: string[], input?: string): Promise<string> {
  const result = await kubectl(server, args, input === undefined ? {} : { input });
  assert.equal(result.code, 0, `kubectl ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

interface NodeSpec {
  cpu?: string;
  labels?: Record<string, string>;
  taints?: { key: string; value?: string; effect: string }[];
}

function node(name: string, spec: NodeSpec = {}) {
  const allocatable = { cpu: spec.cpu ?? '4', memory: '8Gi', pods: '110' };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...spec.labels } },
    spec: spec.taints ? { taints: spec.taints } : {},
    status: { capacity: allocatable, allocatable },
  };
}

function pod(name: string, ns: string, options: { cpu?: string; spec?: Record<string, unknown>; labels?: Record<string, string> } = {}) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, ...(options.labels ? { labels: options.labels } : {}) },
    spec: {
      terminationGracePeriodSeconds: 0,
      containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10', resources: { requests: { cpu: options.cpu ?? '100m' } } }],
      ...options.spec,
    },
  };
}

const create = (...objects: object[]) => k(['create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
const nodeOf = (ns: string, name: string) => k(['get', 'pod', name, '-n', ns, '-o', 'jsonpath={.spec.nodeName}']);
const boundTo = (ns: string, name: string) => until(`${ns}/${name} to be bound`, async () => (await nodeOf(ns, name)) || undefined);

/** The FailedScheduling message of a pod, once the scheduler has written it. */
async function failedScheduling(ns: string, name: string): Promise<string> {
  return until(`FailedScheduling for ${ns}/${name}`, async () => {
    const out = await k(['get', 'events', '-n', ns, '--field-selector', `involvedObject.name=${name},reason=FailedScheduling`, '-o', 'jsonpath={.items[*].message}']);
    return out || undefined;
  });
}

/** Runs a scenario, then removes its pods and nodes whatever happened, so the next one starts clean. */
async function scenario(ns: string, nodes: string[], body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } finally {
    await kubectl(server, ['delete', 'pods', '--all', '-n', ns, '--force', '--grace-period=0', '--wait=false']);
    await kubectl(server, ['delete', 'nodes', ...nodes, '--ignore-not-found', '--wait=false']);
  }
}

describe('scheduler', { timeout: 240_000 }, () => {
  before(async () => {
    server = await startServer();
    await k(['create', 'namespace', 's1']);
    await k(['create', 'namespace', 's2']);
    await k(['create', 'namespace', 's3']);
    await k(['create', 'namespace', 's4']);
  });
  after(() => cleanup(server));

  it('NodeResourcesFit and TaintToleration: the message counts reasons per node; a new node takes the pending pod', async () => {
    await scenario('s1', ['a1', 'a2', 'a3', 'a4'], async () => {
      await create(
        node('a1', { cpu: '1' }),
        node('a2', { cpu: '1' }),
        node('a3', { taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] }),
      );
      await create(pod('small', 's1', { cpu: '500m' }));
      assert.match(await boundTo('s1', 'small'), /^a[12]$/);
      await create(pod('big', 's1', { cpu: '2' }));
      const message =
        '0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu. ' +
        'preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.';
      assert.equal(await failedScheduling('s1', 'big'), message);
      const describe = await k(['describe', 'pod', 'big', '-n', 's1']);
      assert.match(describe, /Warning\s+FailedScheduling\s+\S+\s+default-scheduler\s+0\/3 nodes are available/);
      const condition = JSON.parse(await k(['get', 'pod', 'big', '-n', 's1', '-o', 'jsonpath={.status.conditions[?(@.type=="PodScheduled")]}']));
      assert.deepEqual([condition.status, condition.reason, condition.message], ['False', 'Unschedulable', message]);

      await create(node('a4', { cpu: '4' }));
      assert.equal(await boundTo('s1', 'big'), 'a4');
      const scheduled = await k(['get', 'events', '-n', 's1', '--field-selector', 'involvedObject.name=big,reason=Scheduled', '-o', 'jsonpath={.items[*].message}']);
      assert.equal(scheduled, 'Successfully assigned s1/big to a4');
    });
  });

  it('NodeUnschedulable, NodeAffinity and NodePorts: one reason per node; uncordoning lets the pod in', async () => {
    await scenario('s2', ['b1', 'b2', 'b3'], async () => {
      await create(node('b1', { labels: { disk: 'ssd' } }), node('b2', { labels: { disk: 'ssd' } }), node('b3', { labels: { disk: 'hdd' } }));
      await k(['cordon', 'b1']);
      const port = (name: string, extra: Record<string, unknown> = {}) =>
        pod(name, 's2', { spec: { containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10', ports: [{ containerPort: 80, hostPort: 8080 }] }], ...extra } });
      await create(port('holder', { nodeName: 'b2' }));
      await create(port('web', { nodeSelector: { disk: 'ssd' } }));
      assert.equal(
        await failedScheduling('s2', 'web'),
        "0/3 nodes are available: 1 node(s) didn't have free ports for the requested pod ports, 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) were unschedulable. " +
          'preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.',
      );
      await k(['uncordon', 'b1']);
      assert.equal(await boundTo('s2', 'web'), 'b1');
    });
  });

  it('InterPodAffinity and PodTopologySpread: required (anti-)affinity and DoNotSchedule skew', async () => {
    await scenario('s3', ['c1', 'c2'], async () => {
      const zone = 'topology.kubernetes.io/zone';
      await create(node('c1', { labels: { [zone]: 'z1' } }), node('c2', { labels: { [zone]: 'z2' } }));
      const anti = { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'web' } }, topologyKey: 'kubernetes.io/hostname' }] } } };
      for (const name of ['web-0', 'web-1']) {
        await create(pod(name, 's3', { labels: { app: 'web' }, spec: anti }));
        await boundTo('s3', name);
      }
      assert.notEqual(await nodeOf('s3', 'web-0'), await nodeOf('s3', 'web-1'));
      await create(pod('web-2', 's3', { labels: { app: 'web' }, spec: anti }));
      assert.equal(
        await failedScheduling('s3', 'web-2'),
        "0/2 nodes are available: 2 node(s) didn't match pod anti-affinity rules. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.",
      );
      const affinity = { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'db' } }, topologyKey: zone }] } } };
      await create(pod('follower', 's3', { labels: { app: 'cache' }, spec: affinity }));
      assert.equal(
        await failedScheduling('s3', 'follower'),
        "0/2 nodes are available: 2 node(s) didn't match pod affinity rules. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.",
      );
      // The first pod of a set whose affinity selects itself may start anywhere.
      await create(pod('db-0', 's3', { labels: { app: 'db' }, spec: { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'db' } }, topologyKey: zone }] } } } }));
      const dbNode = await boundTo('s3', 'db-0');
      // ... and the follower waiting for a db pod follows it into its zone.
      assert.equal(await boundTo('s3', 'follower'), dbNode);

      const spread = {
        nodeSelector: { [zone]: 'z1' },
        topologySpreadConstraints: [{ maxSkew: 1, topologyKey: zone, whenUnsatisfiable: 'DoNotSchedule', nodeAffinityPolicy: 'Ignore', labelSelector: { matchLabels: { app: 'spread' } } }],
      };
      await create(pod('spread-0', 's3', { labels: { app: 'spread' }, spec: spread }));
      assert.equal(await boundTo('s3', 'spread-0'), 'c1');
      await create(pod('spread-1', 's3', { labels: { app: 'spread' }, spec: spread }));
      assert.equal(
        await failedScheduling('s3', 'spread-1'),
        "0/2 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) didn't match pod topology spread constraints. " +
          'preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, 1 Preemption is not helpful for scheduling.',
      );
    });
  });

  it('preemption: a high-priority pod evicts the fewest lower-priority pods, is nominated, then placed; other schedulers\' pods are left alone', async () => {
    await scenario('s4', ['d1'], async () => {
      await k(['create', 'priorityclass', 'high', '--value=1000']);
      await create(node('d1', { cpu: '2' }));
      await create(pod('low-0', 's4', { cpu: '1' }));
      await boundTo('s4', 'low-0');
      await create(pod('low-1', 's4', { cpu: '1' }));
      await boundTo('s4', 'low-1');
      await create(pod('other', 's4', { spec: { schedulerName: 'other-scheduler' } }));
      await create(pod('urgent', 's4', { cpu: '1', spec: { priorityClassName: 'high' } }));
      assert.equal(await boundTo('s4', 'urgent'), 'd1');
      const urgentUid = await k(['get', 'pod', 'urgent', '-n', 's4', '-o', 'jsonpath={.metadata.uid}']);
      const pods = await k(['get', 'pods', '-n', 's4', '-o', 'jsonpath={.items[*].metadata.name}']);
      // One victim only; the younger low-priority pod goes, the older stays.
      assert.deepEqual(pods.split(' ').sort(), ['low-0', 'other', 'urgent']);
      const preempted = await k(['get', 'events', '-n', 's4', '--field-selector', 'involvedObject.name=low-1,reason=Preempted', '-o', 'jsonpath={.items[*].message}']);
      assert.equal(preempted, `Preempted by pod ${urgentUid} on node d1`);
      const failed = await k(['get', 'events', '-n', 's4', '--field-selector', 'involvedObject.name=urgent,reason=FailedScheduling', '-o', 'jsonpath={.items[*].message}']);
      assert.equal(failed, '0/1 nodes are available: 1 Insufficient cpu.');
      // A pod for another scheduler: no node, no event from this one.
      assert.equal(await nodeOf('s4', 'other'), '');
      const otherEvents = await k(['get', 'events', '-n', 's4', '--field-selector', 'involvedObject.name=other', '-o', 'jsonpath={.items[*].reason}']);
      assert.equal(otherEvents, '');
    });
  });
});
