/**
 * The pods/eviction subresource through `kubectl drain` and the API: evictions spend a
 * PodDisruptionBudget's allowed disruptions and stop at zero with a 429 naming the budget.
 * (Budgets' status comes from the disruption controller of a later issue; here the test
 * writes it, as that controller would.)
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cleanup, kubectl, startServer, type TestServer } from './helpers/cluster.ts';
import { apiClient } from './helpers/http.ts';

const objects = `apiVersion: v1
kind: Node
metadata:
  name: node1
---
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: default, labels: {app: web}}
spec: {nodeName: node1, containers: [{name: c, image: busybox}]}
---
apiVersion: v1
kind: Pod
metadata: {name: b, namespace: default, labels: {app: web}}
spec: {nodeName: node1, containers: [{name: c, image: busybox}]}
---
apiVersion: v1
kind: Pod
metadata: {name: free, namespace: default, labels: {app: other}}
spec: {containers: [{name: c, image: busybox}]}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web, namespace: default}
spec: {minAvailable: 1, selector: {matchLabels: {app: web}}}
`;

describe('eviction', () => {
  let server: TestServer;
  const ok = async (args: string[], input?: string) => {
    const r = await kubectl(server, args, input === undefined ? {} : { input });
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };

  /** Marks pods Running and Ready with the given IPs, as a kubelet would. */
  const running = async (pods: Array<[string, string]>) => {
    for (const [name, ip] of pods) {
      const status = { phase: 'Running', podIP: ip, podIPs: [{ ip }], conditions: [{ type: 'Ready', status: 'True' }] };
      await ok(['patch', 'pod', name, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status })]);
    }
  };
  /** Waits until the disruption controller lets `budget` allow one disruption. */
  const allowsOne = async (budget: string) => {
    for (let i = 0; ; i++) {
      if ((await ok(['get', 'pdb', budget, '-o', 'jsonpath={.status.disruptionsAllowed}'])) === '1') return;
      assert.ok(i < 100, `the budget ${budget} allows one disruption`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  before(async () => {
    server = await startServer();
    await ok(['apply', '-f', '-'], objects);
    await running([['a', '10.42.0.2'], ['b', '10.42.0.3']]);
    // The disruption controller: two healthy pods, one needed.
    await allowsOne('web');
  });
  after(async () => cleanup(server));

  it('evicts a pod no budget covers', async () => {
    const api = apiClient(server.kubeconfig);
    const res = await api.request('POST', '/api/v1/namespaces/default/pods/free/eviction', { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'free', namespace: 'default' } });
    api.close();
    assert.equal(res.status, 201, res.body);
    assert.notEqual((await kubectl(server, ['get', 'pod', 'free'])).code, 0);
  });

  it('drains as far as the budget allows, then answers 429', async () => {
    const drain = await kubectl(server, ['drain', 'node1', '--force', '--grace-period=0', '--timeout=4s']);
    assert.notEqual(drain.code, 0, 'the drain cannot finish');
    assert.match(drain.stdout + drain.stderr, /evicted/);
    assert.match(drain.stdout + drain.stderr, /Cannot evict pod as it would violate the pod's disruption budget/);
    const left = (await ok(['get', 'pods', '-l', 'app=web', '-o', 'name'])).trim().split('\n');
    assert.equal(left.length, 1, 'one pod stays');
    const status = JSON.parse(await ok(['get', 'pdb', 'web', '-o', 'jsonpath={.status}']));
    assert.equal(status.disruptionsAllowed, 0);
    assert.equal(status.currentHealthy, 1);
    assert.equal(await ok(['get', 'node', 'node1', '-o', 'jsonpath={.spec.unschedulable}']), 'true', 'drain cordoned the node');

    const api = apiClient(server.kubeconfig);
    const name = left[0]!.replace('pod/', '');
    const blocked = await api.request('POST', `/api/v1/namespaces/default/pods/${name}/eviction`, { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace: 'default' } });
    api.close();
    assert.equal(blocked.status, 429);
    assert.equal(blocked.json.reason, 'TooManyRequests');
    assert.equal(blocked.json.details.causes[0].reason, 'DisruptionBudget');
    assert.match(blocked.json.details.causes[0].message, /The disruption budget web needs 1 healthy pods and has 1 currently/);
  });

  it('two evictions at once under a budget allowing one: one is evicted, the other gets 429, never a conflict', async () => {
    const pair = ['p1', 'p2'].map((name) => `apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: default, labels: {app: pair}}
spec: {containers: [{name: c, image: busybox}]}`).join('\n---\n');
    await ok(['apply', '-f', '-'], `${pair}\n---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: pair, namespace: default}\nspec: {minAvailable: 1, selector: {matchLabels: {app: pair}}}\n`);
    await running([['p1', '10.42.0.4'], ['p2', '10.42.0.5']]);
    await allowsOne('pair');
    const api = apiClient(server.kubeconfig);
    const evict = (name: string) => api.request('POST', `/api/v1/namespaces/default/pods/${name}/eviction`, { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace: 'default' } });
    const answers = await Promise.all([evict('p1'), evict('p2')]);
    api.close();
    assert.deepEqual(answers.map((r) => r.status).sort(), [201, 429], answers.map((r) => r.body).join('\n'));
    assert.equal((await ok(['get', 'pods', '-l', 'app=pair', '-o', 'name'])).trim().split('\n').length, 1, 'one pod stays');
  });
});
