import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Expectations } from './expectations.ts';

test('expectations hold a controller back until every expected creation and deletion is seen', () => {
  let now = 0;
  const e = new Expectations({ now: () => now, ttlMs: 1000 });
  assert.equal(e.satisfied('ns/web'), true, 'nothing expected');
  e.expect('ns/web', 2, 1);
  assert.equal(e.satisfied('ns/web'), false);
  e.creationObserved('ns/web');
  e.creationObserved('ns/web');
  assert.equal(e.satisfied('ns/web'), false, 'a deletion is still on its way');
  e.deletionObserved('ns/web');
  assert.equal(e.satisfied('ns/web'), true);
  e.expect('ns/web', 1, 0);
  now = 1001;
  assert.equal(e.satisfied('ns/web'), true, 'an expired record no longer holds the controller back');
  e.expect('ns/other', 1, 0);
  e.delete('ns/other');
  assert.equal(e.satisfied('ns/other'), true);
});
