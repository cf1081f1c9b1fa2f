import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { sortForDeletion } from './pod-ranking.ts';

function pod(name: string, o: { node?: string; phase?: string; readySince?: string; restarts?: number; created?: string } = {}): Pod {
  return {
    metadata: { name, creationTimestamp: o.created ?? '2026-01-01T00:00:00Z' },
    spec: { containers: [{ name: 'c' }], ...(o.node ? { nodeName: o.node } : {}) },
    status: {
      phase: o.phase ?? 'Running',
      conditions: o.readySince ? [{ type: 'Ready', status: 'True', lastTransitionTime: o.readySince }] : [{ type: 'Ready', status: 'False' }],
      containerStatuses: [{ name: 'c', image: 'x', imageID: '', ready: !!o.readySince, restartCount: o.restarts ?? 0 }],
    },
  };
}

const names = (pods: Pod[]) => pods.map((p) => p.metadata!.name);

test('deletion order: unassigned, pending, unknown, not ready, crowded node, ready for less time, more restarts, newer', () => {
  const pods = [
    pod('old-ready', { node: 'a', readySince: '2026-01-01T00:00:00Z' }),
    pod('new-ready', { node: 'b', readySince: '2026-01-01T00:05:00Z' }),
    pod('unassigned', { phase: 'Pending' }),
    pod('pending', { node: 'a', phase: 'Pending' }),
    pod('unknown', { node: 'b', phase: 'Unknown' }),
    pod('not-ready', { node: 'a' }),
  ];
  assert.deepEqual(names(sortForDeletion(pods, [])), ['unassigned', 'pending', 'unknown', 'not-ready', 'new-ready', 'old-ready']);
  const same = '2026-01-01T00:00:00Z';
  const tied = [pod('calm', { node: 'a', readySince: same }), pod('restarty', { node: 'b', readySince: same, restarts: 3 })];
  assert.deepEqual(names(sortForDeletion(tied, [])), ['restarty', 'calm']);
  const ages = [pod('older', { node: 'a', readySince: same, created: '2026-01-01T00:00:00Z' }), pod('newer', { node: 'b', readySince: same, created: '2026-01-01T00:01:00Z' })];
  assert.deepEqual(names(sortForDeletion(ages, [])), ['newer', 'older']);
  // Doubled up: the pod sharing its node with more of its family goes first.
  const crowded = [pod('alone', { node: 'a', readySince: same }), pod('shared', { node: 'b', readySince: same })];
  assert.deepEqual(names(sortForDeletion(crowded, [...crowded, pod('sibling', { node: 'b', readySince: same })])), ['shared', 'alone']);
});
