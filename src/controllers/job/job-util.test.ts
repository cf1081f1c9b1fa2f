import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PodFailurePolicy } from 'kubernetes-types/batch/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { backoffRemaining, formatIndexes, matchPodFailurePolicy, nextBackoffRecord, parseIndexes } from './job-util.ts';

const failedPod = (exitCode: number, conditions: { type: string; status: string }[] = [], finishedAt = '2024-01-01T00:00:10Z'): Pod => ({
  metadata: { name: 'p', namespace: 'ns' },
  status: {
    phase: 'Failed',
    conditions,
    containerStatuses: [{ name: 'main', image: 'x', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode, finishedAt } } }],
  },
});

test('completed indexes are written as ascending ranges and read back', () => {
  assert.equal(formatIndexes([5, 1, 3, 4]), '1,3-5');
  assert.equal(formatIndexes([0, 1, 2, 3]), '0-3');
  assert.equal(formatIndexes([]), '');
  assert.equal(formatIndexes([7]), '7');
  assert.deepEqual([...parseIndexes('1,3-5', 10)].sort(), [1, 3, 4, 5]);
  // Indexes at or past completions are dropped; malformed parts are skipped.
  assert.deepEqual([...parseIndexes('0-2,8-12,x', 10)].sort((a, b) => a - b), [0, 1, 2, 8, 9]);
});

test('pod failure policy: first matching rule wins; exit code 0 never matches; conditions by type and status', () => {
  const policy: PodFailurePolicy = {
    rules: [
      { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
      { action: 'FailJob', onExitCodes: { containerName: 'main', operator: 'In', values: [42] } },
      { action: 'Count', onExitCodes: { operator: 'NotIn', values: [42, 43] } },
    ],
  };
  assert.deepEqual(matchPodFailurePolicy(policy, failedPod(42, [{ type: 'DisruptionTarget', status: 'True' }])), { action: 'Ignore', counts: false });
  assert.deepEqual(matchPodFailurePolicy(policy, failedPod(42)), {
    action: 'FailJob',
    counts: true,
    message: 'Container main for pod ns/p failed with exit code 42 matching FailJob rule at index 1',
  });
  assert.deepEqual(matchPodFailurePolicy(policy, failedPod(1)), { action: 'Count', counts: true });
  assert.deepEqual(matchPodFailurePolicy(policy, failedPod(43)), { counts: true });
  assert.deepEqual(matchPodFailurePolicy(policy, failedPod(0, [{ type: 'DisruptionTarget', status: 'False' }])), { counts: true });
  assert.deepEqual(matchPodFailurePolicy(undefined, failedPod(42)), { counts: true });
  const onCondition: PodFailurePolicy = { rules: [{ action: 'FailJob', onPodConditions: [{ type: 'ConfigIssue', status: 'True' }] }] };
  assert.equal(matchPodFailurePolicy(onCondition, failedPod(1, [{ type: 'ConfigIssue', status: 'True' }])).message, 'Pod ns/p has condition ConfigIssue matching FailJob rule at index 0');
});

test('back-off doubles per failure since the last success, up to the maximum', () => {
  const now = new Date('2024-01-01T00:00:10Z');
  let record = nextBackoffRecord({ failuresAfterLastSuccess: 0 }, [], [failedPod(1)], now);
  assert.equal(record.failuresAfterLastSuccess, 1);
  assert.equal(backoffRemaining(record, now, 10_000, 360_000), 10_000);
  assert.equal(backoffRemaining(record, new Date(now.getTime() + 4_000), 10_000, 360_000), 6_000);
  record = nextBackoffRecord(record, [], [failedPod(1), failedPod(1)], now);
  assert.equal(backoffRemaining(record, now, 10_000, 360_000), 40_000);
  record = { failuresAfterLastSuccess: 12, lastFailureTime: now.getTime() };
  assert.equal(backoffRemaining(record, now, 10_000, 360_000), 360_000);
  // A success after the failures clears the record; failures after it start again.
  const success: Pod = { ...failedPod(0, [], '2024-01-01T00:00:20Z'), status: { ...failedPod(0, [], '2024-01-01T00:00:20Z').status, phase: 'Succeeded' } };
  assert.deepEqual(nextBackoffRecord(record, [success], [failedPod(1)], now), { failuresAfterLastSuccess: 0 });
  assert.equal(nextBackoffRecord(record, [success], [failedPod(1, [], '2024-01-01T00:00:30Z')], now).failuresAfterLastSuccess, 1);
});
