/**
 * Simulated nodes (`skiff sim`): nodes register Ready with capacity and renew their Leases;
 * pods bound to them go Running with an address; Job-like pods finish; deleted pods go away
 * after their grace period, removed by their node; a stopped heartbeat stops the Lease.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cleanup, kubectl, startServer, type TestServer } from './helpers/cluster.ts';
import { startSim, type TestSim } from './helpers/sim.ts';

/** Polls `check` until it returns a value (not undefined), or fails after `ms`. */
async function until<T>(what: string, check: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
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
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('skiff sim', () => {
  let server: TestServer;
  let sim: TestSim;
  const ok = async (args: string[], input?: string) => {
    const r = await kubectl(server, args, input === undefined ? {} : { input });
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const json = async <T = any>(args: string[]): Promise<T> => JSON.parse(await ok([...args, '-o', 'json'])) as T;
  const pod = (name: string, extra: { annotations?: Record<string, string>; restartPolicy?: string; grace?: number; node?: string } = {}) => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  namespace: default
  annotations: ${JSON.stringify(extra.annotations ?? {})}
spec:
  nodeName: ${extra.node ?? 'sim-1'}
  restartPolicy: ${extra.restartPolicy ?? 'Always'}
  terminationGracePeriodSeconds: ${extra.grace ?? 30}
  initContainers: [{name: init, image: busybox}]
  containers: [{name: app, image: nginx:1.27}, {name: sidecar, image: busybox}]
`;

  before(async () => {
    server = await startServer();
    sim = await startSim(server, { nodes: 3, cpu: '8', memory: '16Gi', pods: '50', labels: { zone: 'a' }, taints: ['dedicated=sim:PreferNoSchedule'], maxGracePeriod: '2s' });
  });
  after(async () => {
    await sim?.stop();
    await cleanup(server);
  });

  it('registers Ready nodes with capacity, labels, taints and a pod CIDR', async () => {
    const table = await ok(['get', 'nodes']);
    for (const name of ['sim-0', 'sim-1', 'sim-2']) assert.match(table, new RegExp(`^${name}\\s+Ready\\s`, 'm'));
    const node = await json(['get', 'node', 'sim-1']);
    assert.equal(node.status.capacity.cpu, '8');
    assert.equal(node.status.allocatable.memory, '16Gi');
    assert.equal(node.status.capacity.pods, '50');
    assert.equal(node.metadata.labels['kubernetes.io/hostname'], 'sim-1');
    assert.equal(node.metadata.labels['kubernetes.io/os'], 'linux');
    assert.equal(node.metadata.labels.zone, 'a');
    assert.deepEqual(node.spec.taints, [{ key: 'dedicated', value: 'sim', effect: 'PreferNoSchedule' }]);
    assert.match(node.spec.podCIDR, /^10\.42\.\d+\.0\/24$/);
    const types = Object.fromEntries(node.status.conditions.map((c: any) => [c.type, c.status]));
    assert.deepEqual(types, { MemoryPressure: 'False', DiskPressure: 'False', PIDPressure: 'False', Ready: 'True' });
    assert.match(await ok(['describe', 'node', 'sim-1']), /KubeletReady\s+kubelet is posting ready status/);
  });

  it('renews each node\'s Lease, and stops when its heartbeat is stopped', async () => {
    const lease = await json(['get', 'lease', '-n', 'kube-node-lease', 'sim-2']);
    assert.equal(lease.spec.holderIdentity, 'sim-2');
    assert.equal(lease.spec.leaseDurationSeconds, 40);
    assert.equal(lease.metadata.ownerReferences[0].kind, 'Node');
    await until('a renewed lease', async () => {
      const next = await json(['get', 'lease', '-n', 'kube-node-lease', 'sim-2']);
      return next.spec.renewTime !== lease.spec.renewTime ? true : undefined;
    });
    await sim.command('stop-heartbeat sim-2');
    await new Promise((r) => setTimeout(r, 1200)); // one renewal in flight may still land
    const stopped = await json(['get', 'lease', '-n', 'kube-node-lease', 'sim-2']);
    await new Promise((r) => setTimeout(r, 2500));
    const still = await json(['get', 'lease', '-n', 'kube-node-lease', 'sim-2']);
    assert.equal(still.spec.renewTime, stopped.spec.renewTime);
    await sim.command('resume-heartbeat sim-2');
    await until('a renewal after resuming', async () => {
      const next = await json(['get', 'lease', '-n', 'kube-node-lease', 'sim-2']);
      return next.spec.renewTime !== stopped.spec.renewTime ? true : undefined;
    });
    await assert.rejects(sim.command('stop-heartbeat nope-7'), /not one of this simulator's nodes/);
  });

  it('runs a bound pod: Running and Ready with an address from its node\'s CIDR', async () => {
    await ok(['apply', '-f', '-'], pod('web'));
    await ok(['wait', '--for=condition=Ready', 'pod/web', '--timeout=30s']);
    const wide = await ok(['get', 'pod', 'web', '-o', 'wide']);
    assert.match(wide, /^web\s+2\/2\s+Running\s+0\s+\S+\s+10\.42\.\d+\.\d+\s+sim-1\s/m);
    const p = await json(['get', 'pod', 'web']);
    const node = await json(['get', 'node', 'sim-1']);
    assert.equal(p.status.podIP.split('.').slice(0, 3).join('.'), node.spec.podCIDR.split('.').slice(0, 3).join('.'));
    assert.equal(p.status.hostIP, node.status.addresses.find((a: any) => a.type === 'InternalIP').address);
    assert.ok(p.status.startTime);
    const conditions = Object.fromEntries(p.status.conditions.map((c: any) => [c.type, c.status]));
    assert.equal(conditions.Initialized, 'True');
    assert.equal(conditions.ContainersReady, 'True');
    assert.equal(conditions.PodScheduled, 'True');
    for (const c of p.status.containerStatuses) {
      assert.equal(c.ready, true);
      assert.equal(c.started, true);
      assert.ok(c.state.running.startedAt);
      assert.match(c.containerID, /^sim:\/\//);
    }
    assert.equal(p.status.initContainerStatuses[0].state.terminated.reason, 'Completed');
  });

  it('finishes pods that ask to: exit code 3 is Failed, 0 is Succeeded', async () => {
    await ok(['apply', '-f', '-'], pod('fails', { annotations: { 'skiff.dev/sim-exit-code': '3', 'skiff.dev/sim-duration': '1s' }, restartPolicy: 'Never' }));
    await ok(['apply', '-f', '-'], pod('succeeds', { annotations: { 'skiff.dev/sim-duration': '500ms' }, restartPolicy: 'Never' }));
    await ok(['wait', '--for=jsonpath={.status.phase}=Failed', 'pod/fails', '--timeout=30s']);
    await ok(['wait', '--for=jsonpath={.status.phase}=Succeeded', 'pod/succeeds', '--timeout=30s']);
    const failed = await json(['get', 'pod', 'fails']);
    assert.equal(failed.status.containerStatuses[0].state.terminated.exitCode, 3);
    assert.equal(failed.status.containerStatuses[0].state.terminated.reason, 'Error');
    assert.match(await ok(['get', 'pod', 'fails']), /fails\s+0\/2\s+Error\s/);
    assert.match(await ok(['get', 'pod', 'succeeds']), /succeeds\s+0\/2\s+Completed\s/);
  });

  it('restarts the containers of a restartPolicy Always pod that fails, and turns a pod unready on command', async () => {
    await ok(['apply', '-f', '-'], pod('crashy', { node: 'sim-0' }));
    await ok(['wait', '--for=condition=Ready', 'pod/crashy', '--timeout=30s']);
    await sim.command('fail-pod default/crashy 2');
    await until('a restart', async () => ((await json(['get', 'pod', 'crashy'])).status.containerStatuses[0].restartCount === 1 ? true : undefined));
    const p = await json(['get', 'pod', 'crashy']);
    assert.equal(p.status.phase, 'Running');
    assert.equal(p.status.containerStatuses[0].lastState.terminated.exitCode, 2);
    await sim.command('set-pod-ready default/crashy false');
    await ok(['wait', '--for=condition=Ready=false', 'pod/crashy', '--timeout=30s']);
    assert.match(await ok(['get', 'pod', 'crashy']), /crashy\s+0\/2\s+Running\s+2 \(/);
  });

  it('deletes a pod after its grace period, capped; the node removes the object', async () => {
    await ok(['apply', '-f', '-'], pod('graceful', { node: 'sim-2', grace: 30 }));
    await ok(['wait', '--for=condition=Ready', 'pod/graceful', '--timeout=30s']);
    const started = Date.now();
    await ok(['delete', 'pod', 'graceful', '--wait=false']);
    const marked = await json(['get', 'pod', 'graceful']);
    assert.ok(marked.metadata.deletionTimestamp, 'the pod waits for its node');
    await ok(['wait', '--for=delete', 'pod/graceful', '--timeout=30s']);
    const took = Date.now() - started;
    assert.ok(took >= 1500, `deleted after ${took} ms, before the 2 s cap`);
  });

  it('leaves pods on nodes it does not run alone', async () => {
    await ok(['apply', '-f', '-'], pod('elsewhere', { node: 'not-a-sim-node' }));
    await new Promise((r) => setTimeout(r, 1500));
    const p = await json(['get', 'pod', 'elsewhere']);
    assert.equal(p.status.phase, 'Pending');
    assert.equal(p.status.podIP, undefined);
  });

  it('a restarted simulator takes its nodes and running pods over', async () => {
    const before = await json(['get', 'pod', 'web']);
    await sim.stop();
    sim = await startSim(server, { nodes: 3, cpu: '8', memory: '16Gi', pods: '50', maxGracePeriod: '2s' });
    await ok(['apply', '-f', '-'], pod('web2'));
    await ok(['wait', '--for=condition=Ready', 'pod/web2', '--timeout=30s']);
    const after = await json(['get', 'pod', 'web']);
    assert.equal(after.status.phase, 'Running');
    assert.equal(after.status.podIP, before.status.podIP);
    assert.equal(after.status.startTime, before.status.startTime);
    assert.notEqual((await json(['get', 'pod', 'web2'])).status.podIP, before.status.podIP, 'the running pod keeps its address to itself');
    assert.match(await ok(['get', 'node', 'sim-1']), /sim-1\s+Ready\s/);
  });
});
