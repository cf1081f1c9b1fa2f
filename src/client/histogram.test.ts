import assert from 'node:assert/strict';
import { it } from 'node:test';
import { Histogram } from './histogram.ts';

it('counts each observation under every bound at or above it, and all of them in count and sum', () => {
  const histogram = new Histogram([0.001, 0.01, 0.1]);
  assert.deepEqual(histogram.read(), { bounds: [0.001, 0.01, 0.1], counts: [0, 0, 0], sum: 0, count: 0 });
  for (const value of [0.0005, 0.001, 0.002, 0.01, 0.05, 3]) histogram.observe(value);
  const { counts, sum, count } = histogram.read();
  // A value equal to a bound is within it (Prometheus' `le`); 3 is above every bound.
  assert.deepEqual(counts, [2, 4, 5]);
  assert.equal(count, 6);
  assert.equal(histogram.count, 6);
  assert.ok(Math.abs(sum - 3.0635) < 1e-12);
});
