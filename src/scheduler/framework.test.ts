import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultProfile } from './default-profile.ts';
import { fitErrorMessage, Framework, numFeasibleNodesToFind, unresolvable, unschedulable } from './framework.ts';
import { PodInfo } from './pod-info.ts';
import { makeNode, makePod, makeSnapshot } from './test-helpers.ts';

test('the FailedScheduling message counts reasons over nodes and sorts them as upstream', () => {
  const statuses = new Map([
    ['a', unschedulable('Insufficient cpu')],
    ['b', unschedulable('Insufficient cpu', 'Insufficient memory')],
    ['c', unresolvable('node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }')],
  ]);
  assert.equal(
    fitErrorMessage({ numAllNodes: 3, statuses, preFilterMessage: '' }, 'preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.'),
    '0/3 nodes are available: 1 Insufficient memory, 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.',
  );
});

test('percentageOfNodesToScore: all nodes under 100; adaptive 50% − nodes/125 (at least 5%, at least 100 nodes)', () => {
  assert.equal(numFeasibleNodesToFind(99, 0), 99);
  assert.equal(numFeasibleNodesToFind(500, 0), 230);
  assert.equal(numFeasibleNodesToFind(5000, 0), 500);
  assert.equal(numFeasibleNodesToFind(10_000, 0), 500);
  assert.equal(numFeasibleNodesToFind(200, 10), 100);
  assert.equal(numFeasibleNodesToFind(5000, 100), 5000);
});

test('a cycle picks the emptiest feasible node and reports every rejection', () => {
  const nodes = [
    makeNode('full', { cpu: '1', memory: '1Gi', pods: '110' }, { pods: [makePod('a', { cpu: '1' })] }),
    makeNode('busy', { cpu: '4', memory: '8Gi', pods: '110' }, { pods: [makePod('b', { cpu: '3' })] }),
    makeNode('idle', { cpu: '4', memory: '8Gi', pods: '110' }),
    makeNode('tainted', undefined, { spec: { taints: [{ key: 'k', value: 'v', effect: 'NoSchedule' }] } }),
  ];
  const framework = new Framework(defaultProfile());
  const result = framework.schedule(makePod('p', { cpu: '500m' }), makeSnapshot(nodes));
  assert.equal(result.node?.name, 'idle');
  const fail = framework.schedule(makePod('big', { cpu: '5' }), makeSnapshot(nodes));
  assert.ok(!fail.node);
  assert.equal(fitErrorMessage(fail.diagnosis), '0/4 nodes are available: 1 node(s) had untolerated taint {k: v}, 3 Insufficient cpu.');
});

test('room held by a pod nominated after preemption is not given to a less important pod', () => {
  const node = makeNode('n', { cpu: '1', memory: '8Gi', pods: '110' });
  const nominated = new PodInfo({ metadata: { name: 'urgent', namespace: 'default', uid: 'u' }, spec: { containers: [{ name: 'c', image: 'x', resources: { requests: { cpu: '1' } } }] } }, 1000);
  const snapshot = { ...makeSnapshot([node]), nominatedPods: () => [nominated] };
  const framework = new Framework(defaultProfile());
  const low = framework.schedule(makePod('low', { cpu: '500m' }), snapshot);
  assert.ok(!low.node);
  assert.equal(fitErrorMessage(low.diagnosis), '0/1 nodes are available: 1 Insufficient cpu.');
  assert.equal(framework.schedule(nominated, snapshot).node?.name, 'n', 'the nominated pod itself fits');
  assert.equal(node.pods.size, 0, 'the what-if leaves the node as it was');
});
