/** The per-key back-off: doubling from the initial delay to the maximum, expiry, reset. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Backoff } from './backoff.ts';

test('delays double from the initial one up to the maximum; remainingSince counts from the failure', () => {
  let now = 1_000_000;
  const b = new Backoff({ initialMs: 10_000, maxMs: 300_000, now: () => now });
  const delays = [];
  for (let i = 0; i < 7; i++) delays.push(b.next('k', now));
  assert.deepEqual(delays, [10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000]);
  assert.equal(b.delay('k'), 300_000);
  const failedAt = now;
  now += 100_000;
  assert.equal(b.remainingSince('k', failedAt), 200_000);
  now += 200_000;
  assert.equal(b.remainingSince('k', failedAt), 0);
  assert.equal(b.remainingSince('other', failedAt), 0);
});

test('an entry untouched for twice the maximum starts over; reset and resetPrefix forget keys', () => {
  let now = 0;
  const b = new Backoff({ initialMs: 1000, maxMs: 4000, now: () => now });
  b.next('pod-a/img', now);
  b.next('pod-a/img', now);
  assert.equal(b.delay('pod-a/img'), 2000);
  now += 8001;
  assert.equal(b.next('pod-a/img', now), 1000, 'expired after 2 × max without an update');
  b.next('pod-a/other', now);
  b.next('pod-b/img', now);
  b.resetPrefix('pod-a/');
  assert.equal(b.delay('pod-a/img'), 0);
  assert.equal(b.delay('pod-a/other'), 0);
  assert.equal(b.delay('pod-b/img'), 1000);
  b.reset('pod-b/img');
  assert.equal(b.delay('pod-b/img'), 0);
});
