import assert from 'node:assert/strict';
import { test } from 'node:test';
import { controllerEnabled } from './manager.ts';

test('--controllers follows upstream: * for all, -name to leave one out, a name to add one', () => {
  assert.equal(controllerEnabled(['*'], 'cronjob-controller'), true);
  assert.equal(controllerEnabled(['*', '-cronjob-controller'], 'cronjob-controller'), false);
  assert.equal(controllerEnabled(['*', '-cronjob-controller'], 'job-controller'), true);
  assert.equal(controllerEnabled(['job-controller'], 'job-controller'), true);
  assert.equal(controllerEnabled(['job-controller'], 'cronjob-controller'), false);
});
