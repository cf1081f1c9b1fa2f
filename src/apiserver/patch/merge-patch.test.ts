import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { applyMergePatch } from './index.ts';

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const item of Object.values(value)) deepFreeze(item);
    Object.freeze(value);
  }
  return value;
}

describe('applyMergePatch', () => {
  // RFC 7386 appendix A, in order, then Kubernetes-shaped cases.
  const cases: [title: string, document: unknown, patch: unknown, expected: unknown][] = [
    ['replace a member', { a: 'b' }, { a: 'c' }, { a: 'c' }],
    ['add a member', { a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    ['null deletes', { a: 'b' }, { a: null }, {}],
    ['null deletes only its member', { a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    ['a scalar replaces an array', { a: ['b'] }, { a: 'c' }, { a: 'c' }],
    ['an array replaces a scalar', { a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    ['objects merge recursively', { a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    ['arrays replace, never merge', { a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    ['an array patch replaces an array document', ['a', 'b'], ['c', 'd'], ['c', 'd']],
    ['an array patch replaces an object document', { a: 'b' }, ['c'], ['c']],
    ['a null patch replaces the document', { a: 'foo' }, null, null],
    ['a string patch replaces the document', { a: 'foo' }, 'bar', 'bar'],
    ['nulls already in the document stay', { e: null }, { a: 1 }, { e: null, a: 1 }],
    ['an object patch on an array starts from {}', [1, 2], { a: 'b', c: null }, { a: 'b' }],
    ['nulls inside a new object vanish', {}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
    ['an object patch on undefined starts from {}', undefined, { a: 1 }, { a: 1 }],
    [
      'labels: delete one, change one, add one',
      { metadata: { name: 'web', labels: { app: 'web', tier: 'fe', old: 'x' } }, spec: { replicas: 1 } },
      { metadata: { labels: { old: null, tier: 'be', new: 'y' } } },
      { metadata: { name: 'web', labels: { app: 'web', tier: 'be', new: 'y' } }, spec: { replicas: 1 } },
    ],
    [
      'a null deep inside a nested object deletes there only',
      { spec: { template: { metadata: { annotations: { a: '1', b: '2' } } } } },
      { spec: { template: { metadata: { annotations: { a: null } } } } },
      { spec: { template: { metadata: { annotations: { b: '2' } } } } },
    ],
    ['deleting a missing member is no error', { a: 1 }, { b: null }, { a: 1 }],
    ['an empty patch changes nothing', { a: { b: [1] } }, {}, { a: { b: [1] } }],
    ['nulls inside arrays are data', { a: 1 }, { list: [null, { x: null }] }, { a: 1, list: [null, { x: null }] }],
    ['an object replaces a scalar member', { a: 1 }, { a: { b: 2, c: null } }, { a: { b: 2 } }],
  ];
  for (const [title, document, patch, expected] of cases) {
    it(title, () => {
      const result = applyMergePatch(deepFreeze(structuredClone(document)), deepFreeze(structuredClone(patch)));
      assert.deepEqual(result, expected);
    });
  }

  it('returns a result that shares nothing with its inputs', () => {
    const document = { keep: { x: [1] }, change: { y: 1 } };
    const patch = { change: { z: { deep: [2] } } };
    const result = applyMergePatch(document, patch) as Record<string, any>;
    assert.notEqual(result, document);
    assert.notEqual(result.keep, document.keep);
    assert.notEqual(result.keep.x, document.keep.x);
    assert.notEqual(result.change.z, patch.change.z);
    assert.notEqual(result.change.z.deep, patch.change.z.deep);
    assert.deepEqual(document, { keep: { x: [1] }, change: { y: 1 } });
  });

  it('keeps a __proto__ key as data', () => {
    const patch = JSON.parse('{"__proto__":{"polluted":true}}');
    const result = applyMergePatch({}, patch) as object;
    assert.equal(Object.getPrototypeOf(result), Object.prototype);
    assert.deepEqual(Object.keys(result), ['__proto__']);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});
