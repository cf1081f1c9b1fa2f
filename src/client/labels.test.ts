import assert from 'node:assert/strict';
import { test } from 'node:test';
import { selectorIsEmpty, selectorMatches, selectorToString } from './labels.ts';

test('label selectors match as upstream: matchLabels and every operator; {} matches all, undefined none', () => {
  const labels = { app: 'web', tier: 'front' };
  assert.equal(selectorMatches({}, labels), true);
  assert.equal(selectorMatches(undefined, labels), false);
  assert.equal(selectorMatches({ matchLabels: { app: 'web' } }, labels), true);
  assert.equal(selectorMatches({ matchLabels: { app: 'db' } }, labels), false);
  assert.equal(selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'In', values: ['front', 'back'] }] }, labels), true);
  assert.equal(selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['front'] }] }, labels), false);
  assert.equal(selectorMatches({ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }, labels), true, 'NotIn matches an absent key');
  assert.equal(selectorMatches({ matchExpressions: [{ key: 'zone', operator: 'Exists' }] }, labels), false);
  assert.equal(selectorMatches({ matchExpressions: [{ key: 'zone', operator: 'DoesNotExist' }] }, labels), true);
  assert.equal(selectorMatches({ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, undefined), false);
  assert.equal(selectorIsEmpty({}), true);
  assert.equal(selectorIsEmpty({ matchLabels: { a: 'b' } }), false);
  assert.equal(
    selectorToString({ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['b', 'a'] }, { key: 'x', operator: 'DoesNotExist' }] }),
    'app=web,tier in (a,b),!x',
  );
});
