import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { ClusterEvent } from './framework.ts';
import { SchedulingQueue } from './queue.ts';

const pod = (name: string, priority = 0): Pod => ({ metadata: { name, namespace: 'd', uid: name }, spec: { containers: [], priority } });

test('queue: higher priority first, then first come; back-off doubles from 1 s up to 10 s', () => {
  let now = 1000;
  const q = new SchedulingQueue({ now: () => now });
  q.add(pod('low'), 'd/low');
  q.add(pod('high', 10), 'd/high');
  q.add(pod('low2'), 'd/low2');
  assert.deepEqual([q.tryPop()?.key, q.tryPop()?.key], ['d/high', 'd/low']);
  let item = q.tryPop()!;
  assert.equal(item.key, 'd/low2');
  q.addUnschedulable(item, new Set());
  assert.equal(q.tryPop(), undefined, 'waiting for an event');
  const backoffs: number[] = [item.backoffUntil - now];
  for (let i = 0; i < 5; i++) {
    now = item.backoffUntil;
    q.onEvent('NodeAdd');
    item = q.tryPop()!;
    q.addUnschedulable(item, new Set());
    backoffs.push(item.backoffUntil - now);
  }
  assert.deepEqual(backoffs, [1000, 2000, 4000, 8000, 10_000, 10_000]);
  q.close();
});

test('queue: an unschedulable pod returns on an event its rejecting plugin registered for, not on others', () => {
  let now = 0;
  const pluginEvents = new Map<string, ReadonlySet<ClusterEvent>>([
    ['NodeResourcesFit', new Set<ClusterEvent>(['NodeAdd', 'AssignedPodDelete'])],
    ['TaintToleration', new Set<ClusterEvent>(['NodeAdd', 'NodeUpdate'])],
  ]);
  const q = new SchedulingQueue({ now: () => now, pluginEvents });
  q.add(pod('p'), 'd/p');
  const item = q.tryPop()!;
  q.addUnschedulable(item, new Set(['NodeResourcesFit']));
  now += 5000; // back-off over
  q.onEvent('NodeUpdate');
  assert.equal(q.tryPop(), undefined);
  q.onEvent('AssignedPodDelete');
  assert.equal(q.tryPop()?.key, 'd/p');
  q.close();
});

test('queue: a pod deleted or updated while in flight is dropped or keeps its update', () => {
  const q = new SchedulingQueue();
  q.add(pod('p'), 'd/p');
  const item = q.tryPop()!;
  q.delete('d/p');
  q.addUnschedulable(item, new Set());
  assert.equal(q.pendingCount, 0);
  q.add(pod('r'), 'd/r');
  const r = q.tryPop()!;
  q.update(pod('r', 5), 'd/r');
  q.requeueWithBackoff(r);
  assert.equal(r.priority, 5);
  q.close();
});
