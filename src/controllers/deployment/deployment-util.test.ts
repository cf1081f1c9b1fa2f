import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import {
  computeHash,
  deploymentTimedOut,
  equalIgnoreHash,
  getProportion,
  maxSurge,
  maxUnavailable,
  newRSNewReplicas,
  safeEncodeString,
  setNewReplicaSetAnnotations,
} from './deployment-util.ts';

function deployment(replicas: number, maxSurgeValue: number | string, maxUnavailableValue: number | string, extra: Partial<Deployment['spec']> = {}): Deployment {
  return {
    metadata: { name: 'web', generation: 1 },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: maxSurgeValue, maxUnavailable: maxUnavailableValue } },
      ...extra,
    },
  };
}

function rs(name: string, replicas: number, annotations: Record<string, string> = {}): ReplicaSet {
  return { metadata: { name, annotations, creationTimestamp: '2026-01-01T00:00:00Z' }, spec: { replicas, selector: {} } };
}

test('percentages: maxSurge rounds up, maxUnavailable rounds down, both zero means one unavailable', () => {
  assert.equal(maxSurge(deployment(10, '25%', '25%')), 3);
  assert.equal(maxUnavailable(deployment(10, '25%', '25%')), 2);
  assert.equal(maxSurge(deployment(1, '10%', '10%')), 1);
  assert.equal(maxUnavailable(deployment(3, 0, '10%')), 1, 'rounded to zero with no surge: one may be unavailable');
  assert.equal(maxUnavailable(deployment(2, 1, 5)), 2, 'never more than the replicas');
  assert.equal(maxSurge(deployment(4, 2, 1, { strategy: { type: 'Recreate' } })), 0);
});

test('a rolling update grows the new ReplicaSet only as far as maxSurge allows', () => {
  const d = deployment(4, 1, 1);
  const old = rs('old', 4);
  const fresh = rs('new', 0);
  assert.equal(newRSNewReplicas(d, [old, fresh], fresh), 1);
  assert.equal(newRSNewReplicas(d, [rs('old', 3), rs('new', 1)], rs('new', 1)), 2);
  assert.equal(newRSNewReplicas(d, [rs('old', 4), rs('new', 1)], rs('new', 1)), 1, 'already at the surge limit');
  assert.equal(newRSNewReplicas(deployment(4, 1, 1, { strategy: { type: 'Recreate' } }), [fresh], fresh), 4);
});

test('proportional scaling shares new replicas by the size each ReplicaSet had (max-replicas)', () => {
  // 10 replicas, surge 3: old has 8, new has 5 (13 = 10 + 3); scaled to 20 (max 23): 10 more.
  const d = deployment(20, 3, 2);
  const annotations = { 'deployment.kubernetes.io/max-replicas': '13' };
  const old = rs('old', 8, annotations);
  const fresh = rs('new', 5, annotations);
  const toAdd = 23 + 3 - 13; // surge of 20 replicas at 3 absolute stays 3
  const first = getProportion(old, d, toAdd, 0);
  const second = getProportion(fresh, d, toAdd, first);
  assert.equal(first, Math.round((8 * 23) / 13) - 8);
  assert.equal(second, Math.min(Math.round((5 * 23) / 13) - 5, toAdd - first));
  assert.equal(getProportion(rs('empty', 0, annotations), d, toAdd, 0), 0, 'an empty ReplicaSet gets nothing');
});

test('the pod-template hash is stable, key-order independent, encoded without vowels, and moves with the collision count', () => {
  const a = deployment(1, 1, 1).spec!.template;
  const b = { spec: { containers: [{ image: 'nginx', name: 'c' }] }, metadata: { labels: { app: 'web' } } };
  assert.equal(computeHash(a), computeHash(b));
  assert.match(computeHash(a), /^[456789bcdf]{1,10}$/, 'decimal digits map to 4-9 and b-f, as upstream names look');
  assert.notEqual(computeHash(a, 1), computeHash(a));
  assert.notEqual(computeHash(a, 1), computeHash(a, 2));
  assert.equal(safeEncodeString('0123456789'), '456789bcdf');
  assert.ok(equalIgnoreHash(a, { ...a, metadata: { labels: { app: 'web', 'pod-template-hash': 'xyz' } } }));
});

test('new ReplicaSets get the change-cause, the next revision and the replicas annotations; revisions only go up', () => {
  const d = deployment(3, 1, 0);
  d.metadata!.annotations = { 'kubernetes.io/change-cause': 'v2', 'kubectl.kubernetes.io/last-applied-configuration': '{}', 'deployment.kubernetes.io/revision': '1' };
  const fresh = rs('new', 0);
  assert.ok(setNewReplicaSetAnnotations(d, fresh, '2', false));
  assert.deepEqual(fresh.metadata!.annotations, {
    'kubernetes.io/change-cause': 'v2',
    'deployment.kubernetes.io/revision': '2',
    'deployment.kubernetes.io/desired-replicas': '3',
    'deployment.kubernetes.io/max-replicas': '4',
  });
  assert.ok(setNewReplicaSetAnnotations(d, fresh, '5', true));
  assert.equal((fresh.metadata!.annotations as Record<string, string>)['deployment.kubernetes.io/revision-history'], '2');
  assert.equal(setNewReplicaSetAnnotations(d, fresh, '3', true), false);
});

test('the progress deadline counts from the Progressing condition\'s last update', () => {
  const d = deployment(1, 1, 0, { progressDeadlineSeconds: 10 });
  const status = { conditions: [{ type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', lastUpdateTime: '2026-01-01T00:00:00Z' }] };
  assert.equal(deploymentTimedOut(d, status, new Date('2026-01-01T00:00:09Z')), false);
  assert.equal(deploymentTimedOut(d, status, new Date('2026-01-01T00:00:11Z')), true);
  status.conditions[0]!.reason = 'NewReplicaSetAvailable';
  assert.equal(deploymentTimedOut(d, status, new Date('2026-01-01T00:00:11Z')), false);
});
