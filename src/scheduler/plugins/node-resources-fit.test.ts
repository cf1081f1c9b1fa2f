import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeNode, makePod } from '../test-helpers.ts';
import { nodeResourcesFit } from './node-resources-fit.ts';

const state = new Map();

test('NodeResourcesFit: requests must fit in allocatable minus what the node\'s pods request', () => {
  const node = makeNode('n1', { cpu: '2', memory: '4Gi', pods: '110' }, { pods: [makePod('a', { cpu: '1500m', memory: '1Gi' })] });
  assert.equal(nodeResourcesFit.filter(state, makePod('p', { cpu: '500m' }), node).code, 'Success');
  const status = nodeResourcesFit.filter(state, makePod('p', { cpu: '501m', memory: '4Gi' }), node);
  assert.equal(status.code, 'Unschedulable');
  assert.deepEqual(status.reasons, ['Insufficient cpu', 'Insufficient memory']);
});

test('NodeResourcesFit: init containers count at their peak, sidecars for the whole life, overhead on top', () => {
  const node = makeNode('n1', { cpu: '2', memory: '4Gi', pods: '110' });
  const init = makePod('p', { cpu: '100m' }, { initContainers: [{ name: 'i', image: 'x', resources: { requests: { cpu: '1900m' } } }] });
  assert.equal(init.requests.milliCPU, 1900);
  assert.equal(nodeResourcesFit.filter(state, init, node).code, 'Success');
  const sidecar = makePod('p', { cpu: '1' }, { initContainers: [{ name: 's', image: 'x', restartPolicy: 'Always', resources: { requests: { cpu: '500m' } } }], overhead: { cpu: '600m' } });
  assert.equal(sidecar.requests.milliCPU, 2100);
  assert.deepEqual(nodeResourcesFit.filter(state, sidecar, node).reasons, ['Insufficient cpu']);
});

test('NodeResourcesFit: extended resources, ephemeral storage and the pod count', () => {
  const node = makeNode('n1', { cpu: '4', memory: '4Gi', pods: '1', 'example.com/gpu': '1', 'ephemeral-storage': '1Gi' }, { pods: [makePod('a')] });
  const status = nodeResourcesFit.filter(state, makePod('p', { 'example.com/gpu': '2', 'ephemeral-storage': '2Gi' }), node);
  assert.deepEqual(status.reasons, ['Too many pods', 'Insufficient ephemeral-storage', 'Insufficient example.com/gpu']);
});

test('NodeResourcesFit LeastAllocated: the emptier node scores higher; unset requests count as 100m / 200Mi', () => {
  const empty = makeNode('n1', { cpu: '4', memory: '8Gi', pods: '110' });
  const busy = makeNode('n2', { cpu: '4', memory: '8Gi', pods: '110' }, { pods: [makePod('a', { cpu: '2', memory: '4Gi' })] });
  const pod = makePod('p');
  assert.equal(pod.nonZeroMilliCPU, 100);
  assert.ok(nodeResourcesFit.score(state, pod, empty) > nodeResourcesFit.score(state, pod, busy));
  // (4000-100)/4000*100 = 97, (8Gi-200Mi)/8Gi*100 = 97 → 97
  assert.equal(nodeResourcesFit.score(state, pod, empty), 97);
});
