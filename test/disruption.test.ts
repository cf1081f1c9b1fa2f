/**
 * PodDisruptionBudgets and `kubectl drain` against a real server with the real kubectl: the
 * disruption controller's status (ALLOWED DISRUPTIONS following readiness, expectedPods from a
 * controller's scale, percentages rounded up, a budget that cannot be computed allowing
 * nothing), and a drain that cordons its node, evicts what the budget allows, retries while the
 * budget allows nothing, and finishes once a replacement is ready elsewhere. Pods get their IPs
 * and readiness from a stand-in kubelet (test/helpers/stand-in-kubelet.ts) on plain Nodes.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cleanup, kubectl, kubectlBinary, startServer, type TestServer } from './helpers/cluster.ts';
import { startStandInKubelet, type StandInKubelet } from './helpers/stand-in-kubelet.ts';

const pod = (name: string, node: string, app: string, owner = '') => `apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: default, labels: {app: ${app}}${owner}}
spec: {nodeName: ${node}, terminationGracePeriodSeconds: 5, containers: [{name: c, image: busybox}]}
`;

describe('disruption budgets and kubectl drain', () => {
  let server: TestServer;
  let kubelet: StandInKubelet;
  const ok = async (args: string[], input?: string) => {
    const r = await kubectl(server, args, input === undefined ? {} : { input });
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const status = async (name: string) => JSON.parse(await ok(['get', 'pdb', name, '-o', 'jsonpath={.status}']));
  /** Retries `check` until it passes (15 s at most). */
  const eventually = async (check: () => Promise<void>) => {
    const deadline = Date.now() + 15_000;
    for (;;) {
      try {
        return await check();
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };
  /** The ALLOWED DISRUPTIONS cell of `kubectl get pdb NAME`. */
  const allowed = async (name: string) => {
    const [header, row] = (await ok(['get', 'pdb', name])).trim().split('\n');
    assert.match(header!, /NAME\s+MIN AVAILABLE\s+MAX UNAVAILABLE\s+ALLOWED DISRUPTIONS\s+AGE/);
    return row!.split(/\s+/)[3];
  };

  before(async () => {
    server = await startServer();
    kubelet = await startStandInKubelet(server, { nodes: { n1: 'zone-a', n2: 'zone-b' }, readyByDefault: false });
  });
  after(async () => {
    kubelet?.stop();
    await cleanup(server);
  });

  it('counts healthy pods as they become ready', async () => {
    await ok(['apply', '-f', '-'], [pod('web-a', 'n1', 'web'), pod('web-b', 'n1', 'web'), pod('web-c', 'n2', 'web')].join('---\n'));
    await ok(['create', 'pdb', 'web', '--selector=app=web', '--min-available=2']);
    await eventually(async () => {
      const s = await status('web');
      assert.deepEqual([s.currentHealthy, s.desiredHealthy, s.expectedPods, s.disruptionsAllowed], [0, 2, 3, 0]);
      assert.equal(s.observedGeneration, 1);
      const condition = s.conditions.find((c: any) => c.type === 'DisruptionAllowed');
      assert.equal(condition.status, 'False');
      assert.equal(condition.reason, 'InsufficientPods');
    });
    assert.equal(await allowed('web'), '0');
    await kubelet.setReady('default/web-a', true);
    await kubelet.setReady('default/web-b', true);
    await eventually(async () => assert.equal((await status('web')).currentHealthy, 2));
    assert.equal(await allowed('web'), '0');
    await kubelet.setReady('default/web-c', true);
    await eventually(async () => assert.equal(await allowed('web'), '1'));
    const s = await status('web');
    assert.equal(s.conditions.find((c: any) => c.type === 'DisruptionAllowed').reason, 'SufficientPods');
  });

  it("takes expectedPods from the controllers' scale, percentages rounded up", async () => {
    const rs = JSON.parse(
      await ok(['create', '-o', 'json', '-f', '-'], `apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: db, namespace: default}
spec:
  replicas: 3
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: c, image: busybox}]}
`),
    );
    const owner = `, ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: db, uid: ${rs.metadata.uid}, controller: true}]`;
    // Only two of the three replicas exist: the budget still expects three.
    await ok(['apply', '-f', '-'], [pod('db-1', 'n2', 'db', owner), pod('db-2', 'n2', 'db', owner)].join('---\n'));
    await ok(['create', 'pdb', 'db', '--selector=app=db', '--max-unavailable=50%']);
    await kubelet.setReady('default/db-1', true);
    await kubelet.setReady('default/db-2', true);
    await eventually(async () => {
      const s = await status('db');
      // 50% of 3 is 1.5, rounded up to 2 unavailable: 1 must stay healthy.
      assert.deepEqual([s.expectedPods, s.desiredHealthy, s.currentHealthy, s.disruptionsAllowed], [3, 1, 2, 1]);
    });
    await ok(['patch', 'pdb', 'db', '--type=merge', '-p', '{"spec":{"maxUnavailable":null,"minAvailable":"50%"}}']);
    await eventually(async () => {
      const s = await status('db');
      assert.deepEqual([s.expectedPods, s.desiredHealthy, s.disruptionsAllowed, s.observedGeneration], [3, 2, 0, 2]);
    });
    // The ReplicaSet controller may add the missing replica anywhere: out of the drain's way.
    await ok(['delete', 'pdb', 'db']);
    await ok(['delete', 'rs', 'db', '--wait=false']);
  });

  it('allows nothing when the expected pods cannot be counted', async () => {
    // A controller with no scale (a ConfigMap, which the garbage collector sees exists).
    const configMap = JSON.parse(await ok(['create', 'configmap', 'not-a-controller', '-o', 'json']));
    const owner = `, ownerReferences: [{apiVersion: v1, kind: ConfigMap, name: not-a-controller, uid: ${configMap.metadata.uid}, controller: true}]`;
    await ok(['apply', '-f', '-'], pod('orphan-1', 'n2', 'orphan', owner));
    await kubelet.setReady('default/orphan-1', true);
    await ok(['create', 'pdb', 'orphan', '--selector=app=orphan', '--max-unavailable=1']);
    await eventually(async () => {
      const s = await status('orphan');
      const condition = s.conditions.find((c: any) => c.type === 'DisruptionAllowed');
      assert.equal(condition.reason, 'SyncFailed');
      assert.match(condition.message, /found no controllers for pod "orphan-1"/);
      assert.equal(s.disruptionsAllowed, 0);
    });
  });

  it('drains a node as far as the budget allows, then finishes once a replacement is ready', async () => {
    // The same kubectl as the helper's, streamed: the test acts on what the drain prints.
    const drain = spawn(
      kubectlBinary(),
      ['--kubeconfig', server.kubeconfig, '--cache-dir', join(dirname(server.kubeconfig), '.kube-cache'), 'drain', 'n1', '--ignore-daemonsets', '--delete-emptydir-data', '--force', '--timeout=60s'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    drain.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    drain.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((r) => drain.once('exit', (code) => r(code)));
    try {
      await eventually(async () => {
        assert.match(output, /Cannot evict pod as it would violate the pod's disruption budget\./);
        assert.match(output, /pod\/web-[ab] evicted/);
      });
      assert.match(output, /node\/n1 cordoned/);
      assert.equal(await ok(['get', 'node', 'n1', '-o', 'jsonpath={.spec.unschedulable}']), 'true');
      const left = (await ok(['get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[*].metadata.name}'])).split(' ').sort();
      assert.equal(left.length, 2, `one of web-a and web-b is gone: ${left}`);
      await eventually(async () => {
        const s = await status('web');
        assert.deepEqual([s.expectedPods, s.currentHealthy, s.disruptionsAllowed], [2, 2, 0]);
      });

      // A replacement on the other node becomes ready: the budget allows one again.
      await ok(['apply', '-f', '-'], pod('web-d', 'n2', 'web'));
      await kubelet.setReady('default/web-d', true);
      assert.equal(await exited, 0, output);
    } finally {
      if (drain.exitCode === null && drain.signalCode === null) drain.kill('SIGKILL');
    }
    assert.match(output, /node\/n1 drained/);
    assert.equal((await ok(['get', 'pods', '--field-selector=spec.nodeName=n1', '-o', 'name'])).trim(), '');
    const s = await status('web');
    assert.deepEqual([s.expectedPods, s.currentHealthy], [2, 2]);

    await ok(['uncordon', 'n1']);
    assert.equal(await ok(['get', 'node', 'n1', '-o', 'jsonpath={.spec.unschedulable}']), '');
  });
});
