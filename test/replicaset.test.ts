/**
 * The ReplicaSet controller against a real `skiff server`, simulated nodes (`skiff sim`) and the
 * real kubectl: replicas kept, scale-down order, adoption and release, status fields, and
 * creation failures.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Event, Pod } from 'kubernetes-types/core/v1.js';
import { Client, HttpTransport, kinds } from '../src/client/index.ts';
import { cleanup, kubectl, startServer, type TestServer } from './helpers/cluster.ts';
import { startSim, type TestSim } from './helpers/sim.ts';

let server: TestServer;
let sim: TestSim;
let transport: HttpTransport;
let client: Client;

before(async () => {
  server = await startServer();
  sim = await startSim(server, { nodes: 2, maxGracePeriod: '0s' });
  transport = HttpTransport.fromKubeconfig(server.kubeconfig, { userAgent: 'replicaset-test' });
  client = new Client(transport);
});

after(async () => {
  transport?.close();
  await sim?.stop();
  await cleanup(server);
});

/** Polls `check` until it stops throwing (20 s at most). */
async function eventually<T>(check: () => Promise<T>, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${(error as Error).message}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

async function apply(yaml: string): Promise<void> {
  const result = await kubectl(server, ['apply', '-f', '-'], { input: yaml });
  assert.equal(result.code, 0, result.stderr);
}

function replicaSetYaml(namespace: string, name: string, replicas: number, extra = ''): string {
  return `apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: ${name}, namespace: ${namespace}}
spec:
  replicas: ${replicas}${extra}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}, tier: web}}
    spec: {containers: [{name: c, image: nginx:1}]}
`;
}

async function namespace(name: string): Promise<void> {
  const result = await kubectl(server, ['create', 'namespace', name]);
  assert.equal(result.code, 0, result.stderr);
}

/** Live (not terminating) pods of a namespace. */
async function livePods(ns: string): Promise<Pod[]> {
  const list = await client.resource(kinds.pods).list({ namespace: ns });
  return list.items.filter((p) => !p.metadata?.deletionTimestamp);
}

async function replicaSet(ns: string, name: string): Promise<ReplicaSet> {
  return client.resource(kinds.replicaSets).get(ns, name);
}

async function events(ns: string, reason: string): Promise<Event[]> {
  return (await client.resource(kinds.events).list({ namespace: ns })).items.filter((e) => e.reason === reason);
}

/** Waits for `count` Running, Ready pods and the matching status. */
async function settled(ns: string, name: string, count: number): Promise<Pod[]> {
  return eventually(async () => {
    const pods = await livePods(ns);
    assert.equal(pods.length, count);
    for (const pod of pods) assert.ok(pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'), `${pod.metadata?.name} ready`);
    const rs = await replicaSet(ns, name);
    assert.equal(rs.status?.readyReplicas ?? 0, count);
    assert.equal(rs.status?.replicas, count);
    return pods;
  }, `${count} ready pods of ${ns}/${name}`);
}

test('a ReplicaSet creates its pods from the template, replaces a deleted one, and reports status', async () => {
  await namespace('keep');
  await apply(replicaSetYaml('keep', 'web', 3));
  const pods = await settled('keep', 'web', 3);
  const rs = await replicaSet('keep', 'web');
  for (const pod of pods) {
    assert.match(pod.metadata!.name!, /^web-[a-z0-9]{5}$/);
    assert.deepEqual(pod.metadata!.labels, { app: 'web', tier: 'web' });
    assert.deepEqual(pod.metadata!.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: rs.metadata!.uid, controller: true, blockOwnerDeletion: true }]);
  }
  assert.deepEqual(
    { ...rs.status, conditions: undefined },
    { replicas: 3, fullyLabeledReplicas: 3, readyReplicas: 3, availableReplicas: 3, observedGeneration: 1, conditions: undefined },
  );
  const created = await eventually(async () => {
    const found = await events('keep', 'SuccessfulCreate');
    assert.equal(found.length, 3);
    return found;
  }, 'SuccessfulCreate events');
  assert.deepEqual(created.map((e) => e.message).sort(), pods.map((p) => `Created pod: ${p.metadata!.name}`).sort());
  assert.equal(created[0]!.source?.component, 'replicaset-controller');

  const victim = pods[0]!.metadata!.name!;
  const deleted = await kubectl(server, ['delete', 'pod', '-n', 'keep', victim]);
  assert.equal(deleted.code, 0, deleted.stderr);
  const after = await settled('keep', 'web', 3);
  assert.ok(!after.some((p) => p.metadata!.name === victim));
  assert.equal(after.filter((p) => !pods.some((q) => q.metadata!.name === p.metadata!.name)).length, 1, 'exactly one replacement');

  // kubectl get shows the counts the status holds.
  const table = await kubectl(server, ['get', 'rs', 'web', '-n', 'keep', '--no-headers']);
  assert.match(table.stdout, /^web\s+3\s+3\s+3\s/);
});

test('scaling down deletes a not-ready pod before ready ones; scaling up creates the difference', async () => {
  await namespace('order');
  await apply(replicaSetYaml('order', 'web', 3));
  const pods = await settled('order', 'web', 3);
  const unready = pods[1]!.metadata!.name!;
  await sim.command(`set-pod-ready order/${unready} false`);
  await eventually(async () => assert.equal((await replicaSet('order', 'web')).status?.readyReplicas, 2), 'readyReplicas 2');
  const scaled = await kubectl(server, ['scale', 'rs/web', '-n', 'order', '--replicas=2']);
  assert.equal(scaled.code, 0, scaled.stderr);
  await eventually(async () => {
    const left = (await livePods('order')).map((p) => p.metadata!.name);
    assert.deepEqual(left.sort(), pods.map((p) => p.metadata!.name!).filter((n) => n !== unready).sort());
  }, 'the not-ready pod deleted');
  await eventually(async () => {
    const deletes = await events('order', 'SuccessfulDelete');
    assert.deepEqual(deletes.map((e) => e.message), [`Deleted pod: ${unready}`]);
  }, 'the SuccessfulDelete event');
  await kubectl(server, ['scale', 'rs/web', '-n', 'order', '--replicas=5']);
  await settled('order', 'web', 5);
});

test('orphans matching the selector are adopted (unassigned ones deleted first); pods relabelled away are released', async () => {
  await namespace('adopt');
  // An orphan no scheduler will place (its schedulerName is nobody's): it stays unassigned.
  const orphan: Pod = {
    metadata: { name: 'stray', namespace: 'adopt', labels: { app: 'web', tier: 'web' } },
    spec: { schedulerName: 'nobody', containers: [{ name: 'c', image: 'nginx:1' }] },
  };
  await client.resource(kinds.pods).create(orphan);
  await apply(replicaSetYaml('adopt', 'web', 2));
  const rs = await replicaSet('adopt', 'web');
  await eventually(async () => {
    const pods = await livePods('adopt');
    assert.equal(pods.length, 2, 'the orphan counts: only one pod created');
    const stray = pods.find((p) => p.metadata!.name === 'stray')!;
    assert.equal(stray.metadata!.ownerReferences?.[0]?.uid, rs.metadata!.uid);
    assert.equal(stray.metadata!.ownerReferences?.[0]?.controller, true);
    assert.equal((await replicaSet('adopt', 'web')).status?.replicas, 2);
  }, 'adoption of the orphan');

  // Scale down: the unassigned pod goes before the running one.
  await kubectl(server, ['scale', 'rs/web', '-n', 'adopt', '--replicas=1']);
  const kept = await eventually(async () => {
    const pods = await livePods('adopt');
    assert.equal(pods.length, 1);
    assert.notEqual(pods[0]!.metadata!.name, 'stray');
    return pods[0]!.metadata!.name!;
  }, 'the unassigned pod deleted first');

  // Relabelled away from the selector: released (no controller), and replaced.
  const relabel = await kubectl(server, ['label', 'pod', kept, '-n', 'adopt', 'app=elsewhere', '--overwrite']);
  assert.equal(relabel.code, 0, relabel.stderr);
  await eventually(async () => {
    const pods = await livePods('adopt');
    const released = pods.find((p) => p.metadata!.name === kept)!;
    assert.deepEqual(released.metadata!.ownerReferences ?? [], []);
    const owned = pods.filter((p) => p.metadata!.ownerReferences?.some((r) => r.uid === rs.metadata!.uid));
    assert.equal(owned.length, 1);
    assert.notEqual(owned[0]!.metadata!.name, kept);
  }, 'release and replacement');
});

test('with minReadySeconds, pods count as available only after being ready that long', async () => {
  await namespace('minready');
  const start = Date.now();
  await apply(replicaSetYaml('minready', 'web', 2, '\n  minReadySeconds: 2'));
  await eventually(async () => {
    const status = (await replicaSet('minready', 'web')).status!;
    assert.equal(status.readyReplicas, 2);
    assert.equal(status.availableReplicas ?? 0, 0);
  }, 'ready but not yet available');
  await eventually(async () => assert.equal((await replicaSet('minready', 'web')).status?.availableReplicas, 2), 'available after minReadySeconds');
  // Ready times are whole seconds (as the API writes them), so up to one second is lost.
  assert.ok(Date.now() - start >= 1000, 'not before minReadySeconds');
});

test('a template the API refuses as a pod gives FailedCreate events and a ReplicaFailure condition', async () => {
  await namespace('failing');
  await apply(`apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: bad, namespace: failing}
spec:
  replicas: 3
  selector: {matchLabels: {app: bad}}
  template:
    metadata: {labels: {app: bad}, finalizers: ["not a finalizer!"]}
    spec: {containers: [{name: c, image: nginx:1}]}
`);
  const condition = await eventually(async () => {
    const found = (await replicaSet('failing', 'bad')).status?.conditions?.find((c) => c.type === 'ReplicaFailure');
    assert.ok(found);
    return found;
  }, 'the ReplicaFailure condition');
  assert.equal(condition.status, 'True');
  assert.equal(condition.reason, 'FailedCreate');
  assert.match(condition.message!, /^Pod "bad-[a-z0-9]{5}" is invalid: metadata\.finalizers/);
  // The event may be written a moment after the condition.
  const failed = await eventually(async () => {
    const found = await events('failing', 'FailedCreate');
    assert.ok(found.length >= 1);
    return found;
  }, 'the FailedCreate event');
  assert.match(failed[0]!.message!, /^Error creating: Pod "bad-[a-z0-9]{5}" is invalid/);
  assert.equal(failed[0]!.type, 'Warning');
  // Slow start: each attempt is a batch of one, so failures never come in a burst of three.
  assert.equal((await livePods('failing')).length, 0);

  // Fixed template: the condition goes away and the pods come.
  const fixed = await kubectl(server, ['patch', 'rs', 'bad', '-n', 'failing', '--type=json', '-p', '[{"op":"remove","path":"/spec/template/metadata/finalizers"}]']);
  assert.equal(fixed.code, 0, fixed.stderr);
  await settled('failing', 'bad', 3);
  await eventually(async () => {
    const rs = await replicaSet('failing', 'bad');
    assert.equal(rs.status?.conditions?.find((c) => c.type === 'ReplicaFailure'), undefined);
    assert.equal(rs.status?.observedGeneration, 2);
  }, 'the condition cleared');
});
