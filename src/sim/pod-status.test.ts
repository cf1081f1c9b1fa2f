import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { parseDuration } from './duration.ts';
import { podStatus } from './pod-status.ts';

const pod: Pod = {
  metadata: { name: 'p', namespace: 'ns', uid: 'u1' },
  spec: { initContainers: [{ name: 'init', image: 'busybox' }], containers: [{ name: 'app', image: 'nginx:1.27' }], readinessGates: [{ conditionType: 'example.com/gate' }] },
};
const startedAt = new Date('2025-01-01T00:00:00Z');

test('a running pod: containers running, init containers completed, Ready held back by a readiness gate', () => {
  const status = podStatus(pod, { ip: '10.42.0.2', hostIp: '172.16.0.1', startedAt, ready: true, restarts: 0 });
  assert.equal(status.phase, 'Running');
  assert.equal(status.podIP, '10.42.0.2');
  assert.equal(status.containerStatuses?.[0]?.state?.running?.startedAt, '2025-01-01T00:00:00Z');
  assert.match(status.containerStatuses?.[0]?.imageID ?? '', /^docker\.io\/library\/nginx@sha256:[0-9a-f]{64}$/);
  assert.equal(status.initContainerStatuses?.[0]?.state?.terminated?.reason, 'Completed');
  const ready = status.conditions?.find((c) => c.type === 'Ready');
  assert.equal(ready?.status, 'False');
  assert.equal(ready?.reason, 'ReadinessGatesNotReady');
  assert.equal(status.conditions?.find((c) => c.type === 'ContainersReady')?.status, 'True');
});

test('a finished pod: Failed with the exit code, terminated containers', () => {
  const status = podStatus(pod, { ip: '10.42.0.2', hostIp: '172.16.0.1', startedAt, ready: true, restarts: 0, finished: { exitCode: 3, at: new Date('2025-01-01T00:00:05Z') } });
  assert.equal(status.phase, 'Failed');
  assert.deepEqual(status.containerStatuses?.[0]?.state?.terminated && { ...status.containerStatuses[0].state.terminated, containerID: undefined }, {
    exitCode: 3, reason: 'Error', startedAt: '2025-01-01T00:00:00Z', finishedAt: '2025-01-01T00:00:05Z', containerID: undefined,
  });
  assert.equal(status.conditions?.find((c) => c.type === 'Ready')?.reason, 'PodCompleted');
});

test('durations', () => {
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('1m30s'), 90_000);
  assert.equal(parseDuration('2'), 2000);
  assert.throws(() => parseDuration('5 minutes'), RangeError);
});
