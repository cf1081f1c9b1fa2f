import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../resource.ts';
import { podStatusCells, readinessGatesCell } from './pod-status.ts';

const now = new Date('2024-05-01T12:00:00Z');
const minutesAgo = (n: number) => new Date(now.getTime() - n * 60_000).toISOString();

function pod(spec: Record<string, unknown>, status: Record<string, unknown>, metadata: Record<string, unknown> = {}): KubeObject {
  return { metadata: { name: 'p', ...metadata }, spec: { containers: [{ name: 'app', image: 'nginx' }], ...spec }, status };
}

test('a pod no node has picked yet is Pending', () => {
  assert.deepEqual(podStatusCells(pod({}, { phase: 'Pending' }), now), { ready: '0/1', status: 'Pending', restarts: '0' });
});

test('a pod whose containers are being created reads ContainerCreating', () => {
  const p = pod({}, {
    phase: 'Pending',
    containerStatuses: [{ name: 'app', ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } }],
  });
  assert.equal(podStatusCells(p, now).status, 'ContainerCreating');
});

test('a running, ready pod reads Running with its ready count', () => {
  const p = pod({ containers: [{ name: 'a' }, { name: 'b' }] }, {
    phase: 'Running',
    containerStatuses: [
      { name: 'a', ready: true, restartCount: 0, state: { running: {} } },
      { name: 'b', ready: false, restartCount: 0, state: { running: {} } },
    ],
  });
  assert.deepEqual(podStatusCells(p, now), { ready: '1/2', status: 'Running', restarts: '0' });
});

test('a crash-looping container shows CrashLoopBackOff and when it last restarted', () => {
  const p = pod({}, {
    phase: 'Running',
    containerStatuses: [{
      name: 'app',
      ready: false,
      restartCount: 5,
      state: { waiting: { reason: 'CrashLoopBackOff' } },
      lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt: minutesAgo(5) } },
    }],
  });
  assert.deepEqual(podStatusCells(p, now), { ready: '0/1', status: 'CrashLoopBackOff', restarts: '5 (5m ago)' });
});

test('a finished pod reads Completed; a failed one its exit code when there is no reason', () => {
  const done = pod({ restartPolicy: 'Never' }, {
    phase: 'Succeeded',
    containerStatuses: [{ name: 'app', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } }],
  });
  assert.deepEqual(podStatusCells(done, now), { ready: '0/1', status: 'Completed', restarts: '0' });
  const failed = pod({ restartPolicy: 'Never' }, {
    phase: 'Failed',
    containerStatuses: [{ name: 'app', ready: false, restartCount: 0, state: { terminated: { exitCode: 3 } } }],
  });
  assert.equal(podStatusCells(failed, now).status, 'ExitCode:3');
});

test('init containers show progress as Init:i/n, or their problem', () => {
  const spec = { initContainers: [{ name: 'one' }, { name: 'two' }] };
  const first = pod(spec, {
    phase: 'Pending',
    initContainerStatuses: [
      { name: 'one', ready: false, restartCount: 0, state: { running: {} } },
      { name: 'two', ready: false, restartCount: 0, state: { waiting: { reason: 'PodInitializing' } } },
    ],
  });
  assert.equal(podStatusCells(first, now).status, 'Init:0/2');
  const second = pod(spec, {
    phase: 'Pending',
    initContainerStatuses: [
      { name: 'one', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } },
      { name: 'two', ready: false, restartCount: 0, state: { running: {} } },
    ],
  });
  assert.equal(podStatusCells(second, now).status, 'Init:1/2');
  const crashing = pod(spec, {
    phase: 'Pending',
    initContainerStatuses: [{ name: 'one', ready: false, restartCount: 2, state: { waiting: { reason: 'CrashLoopBackOff' } } }],
  });
  assert.deepEqual(podStatusCells(crashing, now), { ready: '0/1', status: 'Init:CrashLoopBackOff', restarts: '2' });
  const failed = pod(spec, {
    phase: 'Pending',
    initContainerStatuses: [{ name: 'one', ready: false, restartCount: 0, state: { terminated: { exitCode: 2 } } }],
  });
  assert.equal(podStatusCells(failed, now).status, 'Init:ExitCode:2');
});

test('running sidecars count as containers and do not hold up initialisation', () => {
  const p = pod({ initContainers: [{ name: 'proxy', restartPolicy: 'Always' }] }, {
    phase: 'Running',
    conditions: [{ type: 'Initialized', status: 'True' }],
    initContainerStatuses: [{ name: 'proxy', ready: true, started: true, restartCount: 1, state: { running: {} } }],
    containerStatuses: [{ name: 'app', ready: true, restartCount: 0, state: { running: {} } }],
  });
  assert.deepEqual(podStatusCells(p, now), { ready: '2/2', status: 'Running', restarts: '1' });
});

test('a deleted pod that has not finished reads Terminating; on a lost node, Unknown', () => {
  const running = pod({}, { phase: 'Running', containerStatuses: [{ name: 'app', ready: true, restartCount: 0, state: { running: {} } }] }, { deletionTimestamp: minutesAgo(1) });
  assert.equal(podStatusCells(running, now).status, 'Terminating');
  const lost = pod({}, { phase: 'Running', reason: 'NodeLost' }, { deletionTimestamp: minutesAgo(1) });
  assert.equal(podStatusCells(lost, now).status, 'Unknown');
  const finished = pod({}, { phase: 'Succeeded' }, { deletionTimestamp: minutesAgo(1) });
  assert.equal(podStatusCells(finished, now).status, 'Succeeded');
});

test('a pod held by scheduling gates reads SchedulingGated', () => {
  const p = pod({}, { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated' }] });
  assert.equal(podStatusCells(p, now).status, 'SchedulingGated');
});

test('readiness gates read satisfied/total, <none> without gates', () => {
  assert.equal(readinessGatesCell(pod({}, {})), '<none>');
  const gated = pod({ readinessGates: [{ conditionType: 'a' }, { conditionType: 'b' }] }, {
    conditions: [{ type: 'a', status: 'True' }, { type: 'b', status: 'False' }],
  });
  assert.equal(readinessGatesCell(gated), '1/2');
});
