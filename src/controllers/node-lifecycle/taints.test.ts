import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Node } from 'kubernetes-types/core/v1.js';
import { tolerates } from '../../client/index.ts';
import { noExecuteKey, noScheduleKeys } from './taints.ts';

test('toleration matching follows upstream ToleratesTaint', () => {
  const taint = { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' };
  assert.equal(tolerates({ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' }, taint), true);
  assert.equal(tolerates({ operator: 'Exists' }, taint), true, 'an empty key with Exists tolerates everything');
  assert.equal(tolerates({ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoSchedule' }, taint), false);
  assert.equal(tolerates({ key: 'dedicated', value: 'a' }, { key: 'dedicated', value: 'a', effect: 'NoSchedule' }), true, 'Equal is the default operator');
  assert.equal(tolerates({ key: 'dedicated', operator: 'Equal', value: 'b' }, { key: 'dedicated', value: 'a', effect: 'NoSchedule' }), false);
});

test('conditions and cordon map to taints', () => {
  const node = (ready: string, extra: Partial<Node['spec']> = {}): Node => ({
    spec: extra,
    status: { conditions: [{ type: 'Ready', status: ready }, { type: 'DiskPressure', status: 'True' }] },
  });
  assert.deepEqual([...noScheduleKeys(node('Unknown', { unschedulable: true }))].sort(), [
    'node.kubernetes.io/disk-pressure',
    'node.kubernetes.io/unreachable',
    'node.kubernetes.io/unschedulable',
  ]);
  assert.equal(noExecuteKey(node('False')), 'node.kubernetes.io/not-ready');
  assert.equal(noExecuteKey(node('Unknown')), 'node.kubernetes.io/unreachable');
  assert.equal(noExecuteKey(node('True')), undefined);
});
