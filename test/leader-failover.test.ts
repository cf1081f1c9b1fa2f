/**
 * Two `skiff server` processes on one real etcd: one runs the controllers and the scheduler (the
 * lease holder), the other stands by. When the leader is killed (`kill -9`), the other takes
 * over; the cluster keeps reconciling, and no pod is ever created twice.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Client, HttpTransport, kinds } from '../src/client/index.ts';
import { etcdUnavailableReason, startEtcd } from '../src/storage/etcd/test-etcd.ts';
import { cleanup, kubectl, startServer, type TestServer } from './helpers/cluster.ts';
import { startSim } from './helpers/sim.ts';

const timing = ['leader-elect-lease-duration=3s', 'leader-elect-renew-deadline=2s', 'leader-elect-retry-period=250ms'];
const args = timing.flatMap((t) => ['--kube-controller-manager-arg', t, '--kube-scheduler-arg', t]);

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('the standby server takes over the controllers and the scheduler when the leader dies; no pod is created twice', { skip: etcdUnavailableReason() ?? false, timeout: 120_000 }, async () => {
  const etcd = await startEtcd();
  const servers: TestServer[] = [];
  let sim: Awaited<ReturnType<typeof startSim>> | undefined;
  let transport: HttpTransport | undefined;
  let stopWatch: (() => void) | undefined;
  try {
    const a = await startServer({ datastoreEndpoint: etcd.endpoint, extraArgs: args });
    servers.push(a);
    await until('a to lead', () => /kube-controller-manager: leading/.test(a.log()) && /kube-scheduler: leading/.test(a.log()));
    const b = await startServer({ datastoreEndpoint: etcd.endpoint, extraArgs: args });
    servers.push(b);

    // Everything the test does goes through b, which outlives a.
    sim = await startSim(b, { nodes: 3 });
    transport = HttpTransport.fromKubeconfig(b.kubeconfig);
    const client = new Client(transport);
    const added = new Map<string, number>();
    stopWatch = await client.resource(kinds.pods).watch({ namespace: 'default' }, (event) => {
      if (event.type === 'ADDED') added.set(event.object.metadata!.name!, (added.get(event.object.metadata!.name!) ?? 0) + 1);
    }, () => undefined);

    const created = await kubectl(b, ['create', 'deployment', 'web', '--image=busybox', '--replicas=4']);
    assert.equal(created.code, 0, created.stderr);
    const rolled = await kubectl(b, ['rollout', 'status', 'deployment/web', '--timeout=60s']);
    assert.equal(rolled.code, 0, rolled.stderr + rolled.stdout);
    assert.doesNotMatch(b.log(), /leading \(/, 'the standby does not lead while the leader renews');
    const leaseHolder = async (name: string) => (await client.resource(kinds.leases).get('kube-system', name)).spec!.holderIdentity;
    const before = await leaseHolder('kube-controller-manager');

    await a.kill();
    await until('b to lead both', () => /kube-controller-manager: leading/.test(b.log()) && /kube-scheduler: leading/.test(b.log()));
    assert.notEqual(await leaseHolder('kube-controller-manager'), before);
    assert.equal((await client.resource(kinds.leases).get('kube-system', 'kube-controller-manager')).spec!.leaseTransitions, 1);

    // The new leader reconciles: a deleted pod is replaced, and a scale-up is scheduled and runs.
    const pods = await client.resource(kinds.pods).list({ namespace: 'default' });
    assert.equal((await kubectl(b, ['delete', 'pod', pods.items[0]!.metadata!.name!, '--wait=false'])).code, 0);
    assert.equal((await kubectl(b, ['scale', 'deployment/web', '--replicas=6'])).code, 0);
    const after = await kubectl(b, ['rollout', 'status', 'deployment/web', '--timeout=60s']);
    assert.equal(after.code, 0, after.stderr + after.stdout);
    await until('six running pods', async () => {
      const list = await client.resource(kinds.pods).list({ namespace: 'default' });
      return list.items.filter((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp).length === 6;
    });
    // 4 at first, 1 replacement, 2 from the scale-up: each created once, by one controller.
    assert.equal(added.size, 7, `pods created: ${[...added.keys()].join(', ')}`);
    assert.ok([...added.values()].every((n) => n === 1));
  } finally {
    stopWatch?.();
    transport?.close();
    await sim?.stop();
    for (const server of servers.reverse()) await cleanup(server);
    await etcd.stop();
  }
});
