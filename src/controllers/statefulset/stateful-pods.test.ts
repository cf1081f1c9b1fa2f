import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1.js';
import { claimOwnersFor, identityMatches, inOrdinalRange, newStatefulPod, ordinalOf, storageMatches, withIdentity } from './stateful-pods.ts';

const set = (spec: Partial<NonNullable<StatefulSet['spec']>> = {}): StatefulSet => ({
  metadata: { name: 'web', namespace: 'ns', uid: 'set-uid' },
  spec: {
    serviceName: 'svc',
    replicas: 2,
    selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c' }], volumes: [{ name: 'data', emptyDir: {} }, { name: 'other', emptyDir: {} }] } },
    volumeClaimTemplates: [{ metadata: { name: 'data', labels: { kind: 'disk' } }, spec: { accessModes: ['ReadWriteOnce'] } }],
    ...spec,
  },
});

test('a new pod has its identity, revision and claim volumes (replacing a same-named volume)', () => {
  const s = set({ ordinals: { start: 5 } });
  const pod = newStatefulPod(s, s.spec!.template, 6, 'web-abc');
  assert.equal(pod.metadata?.name, 'web-6');
  assert.equal(pod.spec?.hostname, 'web-6');
  assert.equal(pod.spec?.subdomain, 'svc');
  assert.deepEqual(pod.metadata?.labels, { app: 'web', 'statefulset.kubernetes.io/pod-name': 'web-6', 'apps.kubernetes.io/pod-index': '6', 'controller-revision-hash': 'web-abc' });
  assert.deepEqual(pod.spec?.volumes, [{ name: 'data', persistentVolumeClaim: { claimName: 'data-web-6' } }, { name: 'other', emptyDir: {} }]);
  assert.deepEqual(pod.metadata?.ownerReferences?.[0], { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'set-uid', controller: true, blockOwnerDeletion: true });
  assert.ok(identityMatches(s, pod) && storageMatches(s, pod));
  assert.ok(inOrdinalRange(pod, s));
  assert.ok(!inOrdinalRange({ metadata: { name: 'web-4' } }, s));
  assert.equal(ordinalOf({ metadata: { name: 'web-x' } }), -1);
  const stripped: Pod = { ...pod, metadata: { ...pod.metadata, labels: { app: 'web' } } };
  assert.ok(!identityMatches(s, stripped));
  assert.ok(identityMatches(s, withIdentity(s, stripped)));
});

test('claim owners follow the retention policy', () => {
  const pod: Pod = { metadata: { name: 'web-1', uid: 'pod-uid' } };
  const gone: Pod = { metadata: { name: 'web-7', uid: 'pod7-uid' } };
  const claim: PersistentVolumeClaim = { metadata: { name: 'data-web-1', ownerReferences: [{ apiVersion: 'v1', kind: 'Other', name: 'x', uid: 'other' }] } };
  assert.equal(claimOwnersFor(set(), pod, claim), undefined);
  const both = set({ persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Delete' } });
  assert.deepEqual(claimOwnersFor(both, pod, claim)?.map((r) => r.uid), ['other', 'set-uid']);
  assert.deepEqual(claimOwnersFor(both, gone, claim)?.map((r) => r.uid), ['other', 'pod7-uid']);
  const owned: PersistentVolumeClaim = { metadata: { name: 'data-web-1', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'set-uid' }] } };
  assert.equal(claimOwnersFor(both, pod, owned), undefined);
  assert.deepEqual(claimOwnersFor(set(), pod, owned), []);
});
