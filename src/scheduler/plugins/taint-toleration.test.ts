import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeNode, makePod } from '../test-helpers.ts';
import { nodeName } from './node-name.ts';
import { nodeUnschedulable } from './node-unschedulable.ts';
import { taintToleration } from './taint-toleration.ts';

const state = new Map();

test('TaintToleration: the first untolerated NoSchedule/NoExecute taint is the reason, worded as upstream', () => {
  const node = makeNode('n1', undefined, { spec: { taints: [{ key: 'soft', effect: 'PreferNoSchedule' }, { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] } });
  const status = taintToleration.filter(state, makePod('p'), node);
  assert.equal(status.code, 'UnschedulableAndUnresolvable');
  assert.deepEqual(status.reasons, ['node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }']);
  const tolerant = makePod('p', {}, { tolerations: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' }] });
  assert.equal(taintToleration.filter(state, tolerant, node).code, 'Success');
  const valued = makeNode('n2', undefined, { spec: { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoExecute' }] } });
  assert.deepEqual(taintToleration.filter(state, makePod('p'), valued).reasons, ['node(s) had untolerated taint {dedicated: gpu}']);
  const equal = makePod('p', {}, { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu' }] });
  assert.equal(taintToleration.filter(state, equal, valued).code, 'Success');
});

test('TaintToleration score: fewer untolerated PreferNoSchedule taints is better (reversed)', () => {
  const clean = makeNode('n1');
  const soft = makeNode('n2', undefined, { spec: { taints: [{ key: 'a', effect: 'PreferNoSchedule' }, { key: 'b', effect: 'PreferNoSchedule' }] } });
  const pod = makePod('p');
  const s = new Map();
  taintToleration.preScore(s, pod);
  const scores = new Float64Array([taintToleration.score(s, pod, clean), taintToleration.score(s, pod, soft)]);
  taintToleration.normalize(s, pod, scores);
  assert.deepEqual([...scores], [100, 0]);
});

test('NodeUnschedulable and NodeName', () => {
  const cordoned = makeNode('n1', undefined, { spec: { unschedulable: true } });
  assert.deepEqual(nodeUnschedulable.filter(state, makePod('p'), cordoned).reasons, ['node(s) were unschedulable']);
  const tolerant = makePod('p', {}, { tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }] });
  assert.equal(nodeUnschedulable.filter(state, tolerant, cordoned).code, 'Success');
  const named = makePod('p', {}, { nodeName: 'n2' });
  assert.deepEqual(nodeName.filter(state, named, cordoned).reasons, ["node(s) didn't match the requested node name"]);
});
