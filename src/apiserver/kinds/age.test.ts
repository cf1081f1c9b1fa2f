import { test } from 'node:test';
import assert from 'node:assert/strict';
import { humanDuration, since } from './age.ts';

const s = 1000;
const m = 60 * s;
const h = 60 * m;
const d = 24 * h;
const y = 365 * d;

test('humanDuration keeps two to three significant figures, as upstream', () => {
  const table: [number, string][] = [
    [0, '0s'],
    [-1 * s, '0s'],
    [-1500, '0s'],
    [-2 * s, '<invalid>'],
    [999, '0s'],
    [59 * s, '59s'],
    [90 * s, '90s'],
    [119 * s, '119s'],
    [2 * m, '2m'],
    [2 * m + 1 * s, '2m1s'],
    [3 * m + 2 * s, '3m2s'],
    [9 * m + 59 * s, '9m59s'],
    [10 * m, '10m'],
    [10 * m + 30 * s, '10m'],
    [179 * m, '179m'],
    [3 * h, '3h'],
    [3 * h + 1 * m, '3h1m'],
    [7 * h + 59 * m, '7h59m'],
    [8 * h, '8h'],
    [26 * h, '26h'],
    [47 * h + 59 * m, '47h'],
    [48 * h, '2d'],
    [49 * h, '2d1h'],
    [7 * d + 23 * h, '7d23h'],
    [8 * d, '8d'],
    [729 * d, '729d'],
    [2 * y, '2y'],
    [2 * y + 1 * d, '2y1d'],
    [7 * y + 364 * d, '7y364d'],
    [8 * y, '8y'],
    [20 * y + 100 * d, '20y'],
  ];
  for (const [ms, want] of table) assert.equal(humanDuration(ms), want, `humanDuration(${ms})`);
});

test('since reads <unknown> for missing or unparseable timestamps', () => {
  const now = new Date('2024-05-01T12:00:00Z');
  assert.equal(since(undefined, now), '<unknown>');
  assert.equal(since('', now), '<unknown>');
  assert.equal(since('yesterday', now), '<unknown>');
  assert.equal(since('2024-05-01T11:55:00Z', now), '5m');
});
