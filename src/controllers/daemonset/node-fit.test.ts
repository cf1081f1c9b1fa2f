import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DaemonSet } from 'kubernetes-types/apps/v1.js';
import type { Node, PodSpec } from 'kubernetes-types/core/v1.js';
import { tolerates } from '../../client/index.ts';
import { nodeShouldRunDaemonPod, pinnedAffinity, targetNodeName, withDaemonTolerations } from './node-fit.ts';

const node = (name: string, labels: Record<string, string> = {}, taints: NonNullable<Node['spec']>['taints'] = []): Node => ({
  metadata: { name, labels: { 'kubernetes.io/hostname': name, ...labels } },
  spec: { taints },
});
const ds = (spec: Partial<PodSpec> = {}): DaemonSet => ({
  metadata: { name: 'd', namespace: 'ns' },
  spec: { selector: { matchLabels: { a: 'b' } }, template: { spec: { containers: [{ name: 'c' }], ...spec } } },
});

test('default tolerations: upstream keys and effects, network-unavailable only with hostNetwork; matching ones replaced', () => {
  const keys = (spec: PodSpec) => withDaemonTolerations(spec).tolerations!.map((t) => `${t.key}:${t.effect}`);
  assert.deepEqual(keys({ containers: [] }), [
    'node.kubernetes.io/not-ready:NoExecute',
    'node.kubernetes.io/unreachable:NoExecute',
    'node.kubernetes.io/disk-pressure:NoSchedule',
    'node.kubernetes.io/memory-pressure:NoSchedule',
    'node.kubernetes.io/pid-pressure:NoSchedule',
    'node.kubernetes.io/unschedulable:NoSchedule',
  ]);
  assert.ok(keys({ containers: [], hostNetwork: true }).includes('node.kubernetes.io/network-unavailable:NoSchedule'));
  const own = withDaemonTolerations({ containers: [], tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 }] });
  assert.equal(own.tolerations!.length, 6);
  assert.equal(own.tolerations![0]!.tolerationSeconds, undefined);
});

test('tolerations match taints as upstream', () => {
  const taint = { key: 'k', value: 'v', effect: 'NoSchedule' };
  assert.ok(tolerates({ key: 'k', operator: 'Equal', value: 'v' }, taint));
  assert.ok(tolerates({ key: 'k', value: 'v', effect: 'NoSchedule' }, taint));
  assert.ok(!tolerates({ key: 'k', value: 'w' }, taint));
  assert.ok(!tolerates({ key: 'k', operator: 'Exists', effect: 'NoExecute' }, taint));
  assert.ok(tolerates({ operator: 'Exists' }, taint));
});

test('nodes that should run the pod: nodeSelector, affinity, taints; NoSchedule lets a pod stay, NoExecute does not', () => {
  assert.deepEqual(nodeShouldRunDaemonPod(node('n'), ds()), { shouldRun: true, shouldContinueRunning: true });
  assert.equal(nodeShouldRunDaemonPod(node('n'), ds({ nodeSelector: { role: 'edge' } })).shouldRun, false);
  assert.equal(nodeShouldRunDaemonPod(node('n', { role: 'edge' }), ds({ nodeSelector: { role: 'edge' } })).shouldRun, true);
  const affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'cores', operator: 'Gt', values: ['4'] }] }] } } };
  assert.equal(nodeShouldRunDaemonPod(node('n', { cores: '8' }), ds({ affinity })).shouldRun, true);
  assert.equal(nodeShouldRunDaemonPod(node('n', { cores: '2' }), ds({ affinity })).shouldRun, false);
  assert.deepEqual(nodeShouldRunDaemonPod(node('n', {}, [{ key: 'x', effect: 'NoSchedule' }]), ds()), { shouldRun: false, shouldContinueRunning: true });
  assert.deepEqual(nodeShouldRunDaemonPod(node('n', {}, [{ key: 'x', effect: 'NoExecute' }]), ds()), { shouldRun: false, shouldContinueRunning: false });
  assert.equal(nodeShouldRunDaemonPod(node('n', {}, [{ key: 'x', effect: 'NoSchedule' }]), ds({ tolerations: [{ key: 'x', operator: 'Exists' }] })).shouldRun, true);
  // Cordoned and not-ready nodes still run daemon pods, through the default tolerations.
  assert.equal(nodeShouldRunDaemonPod(node('n', {}, [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }, { key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' }]), ds()).shouldRun, true);
  assert.equal(nodeShouldRunDaemonPod(node('n'), ds({ nodeName: 'other' })).shouldRun, false);
});

test('pods are pinned to their node through matchFields on metadata.name', () => {
  const affinity = pinnedAffinity({ nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'a', operator: 'Exists' }] }] } } }, 'n1');
  assert.deepEqual(affinity.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution, {
    nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }] }],
  });
  assert.equal(targetNodeName({ spec: { containers: [], affinity } }), 'n1');
  assert.equal(targetNodeName({ spec: { containers: [], affinity, nodeName: 'n2' } }), 'n2');
  assert.equal(targetNodeName({ spec: { containers: [] } }), undefined);
});
