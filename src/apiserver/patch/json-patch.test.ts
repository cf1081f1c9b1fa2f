import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { applyJsonPatch, PatchError } from './index.ts';

/** Freezes a value all the way down, so any mutation of a test input throws. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const item of Object.values(value)) deepFreeze(item);
    Object.freeze(value);
  }
  return value;
}

const pod = {
  metadata: { name: 'web', labels: { app: 'web', 'a/b': 'slash', 'm~n': 'tilde' } },
  spec: { containers: [{ name: 'a' }, { name: 'b' }], nodeName: 'n1' },
};

describe('applyJsonPatch', () => {
  const cases: [title: string, document: unknown, operations: unknown[], expected: unknown][] = [
    ['no operations', pod, [], pod],
    [
      'add a member',
      { a: 1 },
      [{ op: 'add', path: '/b', value: { c: [1] } }],
      { a: 1, b: { c: [1] } },
    ],
    ['add replaces an existing member', { a: 1 }, [{ op: 'add', path: '/a', value: 2 }], { a: 2 }],
    ['add inserts into an array', { x: [1, 3] }, [{ op: 'add', path: '/x/1', value: 2 }], { x: [1, 2, 3] }],
    ['add at the array length appends', { x: [1] }, [{ op: 'add', path: '/x/1', value: 2 }], { x: [1, 2] }],
    ['add with - appends', { x: [1] }, [{ op: 'add', path: '/x/-', value: 2 }], { x: [1, 2] }],
    ['add with - to an empty array', { x: [] }, [{ op: 'add', path: '/x/-', value: { a: 1 } }], { x: [{ a: 1 }] }],
    ['add with a negative index counts from the end', { x: [1, 2] }, [{ op: 'add', path: '/x/-1', value: 9 }], { x: [1, 2, 9] }],
    ['add the whole document', { a: 1 }, [{ op: 'add', path: '', value: [1] }], [1]],
    ['add null', { a: 1 }, [{ op: 'add', path: '/b', value: null }], { a: 1, b: null }],
    ['add under an escaped key', { 'a/b': { 'c~d': 1 } }, [{ op: 'add', path: '/a~1b/c~0d', value: 2 }], { 'a/b': { 'c~d': 2 } }],
    ['~01 is ~1, not /', { '~1': 1 }, [{ op: 'replace', path: '/~01', value: 2 }], { '~1': 2 }],
    ['add an empty key', { a: 1 }, [{ op: 'add', path: '/', value: 2 }], { a: 1, '': 2 }],
    ['remove a member', { a: 1, b: 2 }, [{ op: 'remove', path: '/a' }], { b: 2 }],
    ['remove an array element', { x: [1, 2, 3] }, [{ op: 'remove', path: '/x/1' }], { x: [1, 3] }],
    ['remove the last array element by -1', { x: [1, 2, 3] }, [{ op: 'remove', path: '/x/-1' }], { x: [1, 2] }],
    ['remove an escaped label', pod, [{ op: 'remove', path: '/metadata/labels/a~1b' }, { op: 'remove', path: '/metadata/labels/m~0n' }], {
      metadata: { name: 'web', labels: { app: 'web' } },
      spec: pod.spec,
    }],
    ['replace a member', { a: { b: 1 } }, [{ op: 'replace', path: '/a/b', value: 'x' }], { a: { b: 'x' } }],
    ['replace an array element', { x: [1, 2] }, [{ op: 'replace', path: '/x/0', value: 0 }], { x: [0, 2] }],
    ['replace the whole document', { a: 1 }, [{ op: 'replace', path: '', value: { b: 2 } }], { b: 2 }],
    ['move a member', { a: { b: 1 }, c: {} }, [{ op: 'move', from: '/a/b', path: '/c/d' }], { a: {}, c: { d: 1 } }],
    ['move within an array', { x: [1, 2, 3] }, [{ op: 'move', from: '/x/0', path: '/x/-' }], { x: [2, 3, 1] }],
    ['move onto itself', { a: { b: 1 } }, [{ op: 'move', from: '/a', path: '/a' }], { a: { b: 1 } }],
    ['move to a sibling sharing a prefix', { a: 1 }, [{ op: 'move', from: '/a', path: '/ab' }], { ab: 1 }],
    ['move to the root', { a: { b: 1 } }, [{ op: 'move', from: '/a', path: '' }], { b: 1 }],
    ['copy a member', { a: { b: [1] } }, [{ op: 'copy', from: '/a', path: '/c' }], { a: { b: [1] }, c: { b: [1] } }],
    ['copy the whole document into itself', { a: 1 }, [{ op: 'copy', from: '', path: '/b' }], { a: 1, b: { a: 1 } }],
    [
      'test then replace',
      pod,
      [
        { op: 'test', path: '/metadata/labels/app', value: 'web' },
        { op: 'replace', path: '/metadata/labels/app', value: 'db' },
      ],
      { ...pod, metadata: { ...pod.metadata, labels: { ...pod.metadata.labels, app: 'db' } } },
    ],
    ['test compares objects regardless of key order', { a: { x: 1, y: [1, { z: 2 }] } }, [{ op: 'test', path: '/a', value: { y: [1, { z: 2 }], x: 1 } }], { a: { x: 1, y: [1, { z: 2 }] } }],
    ['test an absent member against null', { a: 1 }, [{ op: 'test', path: '/b', value: null }], { a: 1 }],
    ['test the whole document', [1, 2], [{ op: 'test', path: '', value: [1, 2] }], [1, 2]],
    ['unknown members are ignored', { a: 1 }, [{ op: 'add', path: '/b', value: 2, comment: 'hi' }], { a: 1, b: 2 }],
    [
      'a __proto__ key is plain data',
      {},
      [{ op: 'add', path: '/__proto__', value: { polluted: true } }],
      JSON.parse('{"__proto__":{"polluted":true}}'),
    ],
  ];
  for (const [title, document, operations, expected] of cases) {
    it(title, () => {
      const result = applyJsonPatch(deepFreeze(structuredClone(document)), deepFreeze(structuredClone(operations)));
      assert.deepEqual(result, expected);
    });
  }

  it('leaves no prototype pollution behind', () => {
    const result = applyJsonPatch({}, [{ op: 'add', path: '/__proto__', value: { polluted: true } }]) as object;
    assert.equal(Object.getPrototypeOf(result), Object.prototype);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('returns a document that shares nothing with its inputs', () => {
    const value = { deep: { list: [1] } };
    const document = { keep: { x: 1 } };
    const result = applyJsonPatch(document, [{ op: 'add', path: '/v', value }]) as Record<string, any>;
    assert.notEqual(result, document);
    assert.notEqual(result.keep, document.keep);
    assert.notEqual(result.v, value);
    assert.notEqual(result.v.deep.list, value.deep.list);
  });

  it('copies by value: later changes to the copy leave the source alone', () => {
    const result = applyJsonPatch({ a: { b: 1 } }, [
      { op: 'copy', from: '/a', path: '/c' },
      { op: 'replace', path: '/c/b', value: 2 },
    ]);
    assert.deepEqual(result, { a: { b: 1 }, c: { b: 2 } });
  });

  const failures: [title: string, document: unknown, operations: unknown, message: string, code?: string][] = [
    ['replace a missing member', pod, [{ op: 'replace', path: '/spec/foo', value: 1 }], 'replace operation does not apply: doc is missing key: /spec/foo'],
    ['replace under a missing parent', pod, [{ op: 'replace', path: '/status/phase', value: 1 }], 'replace operation does not apply: doc is missing path: /status/phase'],
    ['replace past the end of an array', { x: [1] }, [{ op: 'replace', path: '/x/1', value: 1 }], 'replace operation does not apply: invalid array index "1" in path: /x/1'],
    ['replace with -', { x: [1] }, [{ op: 'replace', path: '/x/-', value: 1 }], 'replace operation does not apply: invalid array index "-" in path: /x/-'],
    ['add under a missing parent', pod, [{ op: 'add', path: '/status/phase', value: 'Running' }], 'add operation does not apply: doc is missing path: /status/phase'],
    ['add under a scalar', { a: 1 }, [{ op: 'add', path: '/a/b', value: 1 }], 'add operation does not apply: doc is missing path: /a/b'],
    ['add beyond the array end', { x: [1] }, [{ op: 'add', path: '/x/3', value: 1 }], 'add operation does not apply: invalid array index "3" in path: /x/3'],
    ['add at a non-numeric index', { x: [1] }, [{ op: 'add', path: '/x/a', value: 1 }], 'add operation does not apply: invalid array index "a" in path: /x/a'],
    ['remove a missing member', { a: 1 }, [{ op: 'remove', path: '/b' }], 'remove operation does not apply: doc is missing key: /b'],
    ['remove past the array end', { x: [1] }, [{ op: 'remove', path: '/x/1' }], 'remove operation does not apply: invalid array index "1" in path: /x/1'],
    ['remove the whole document', { a: 1 }, [{ op: 'remove', path: '' }], 'remove operation does not apply: the whole document cannot be removed'],
    ['move into its own child', { a: { b: {} } }, [{ op: 'move', from: '/a', path: '/a/b/c' }], 'move operation does not apply: cannot move /a into its own child /a/b/c'],
    ['move the document into a child', { a: {} }, [{ op: 'move', from: '', path: '/a/b' }], 'move operation does not apply: cannot move the whole document into its own child /a/b'],
    ['move from a missing path', { a: 1 }, [{ op: 'move', from: '/b', path: '/c' }], 'move operation does not apply: doc is missing from path: /b'],
    ['move from under a missing parent', { a: 1 }, [{ op: 'move', from: '/b/c', path: '/c' }], 'move operation does not apply: doc is missing from path: /b/c'],
    ['move to a missing destination', { a: 1 }, [{ op: 'move', from: '/a', path: '/b/c' }], 'move operation does not apply: doc is missing destination path: /b/c'],
    ['copy from a missing path', { a: 1 }, [{ op: 'copy', from: '/b', path: '/c' }], 'copy operation does not apply: doc is missing from path: /b'],
    ['copy to a missing destination', { a: 1 }, [{ op: 'copy', from: '/a', path: '/b/c' }], 'copy operation does not apply: doc is missing destination path: /b/c'],
    ['a failing test', pod, [{ op: 'test', path: '/metadata/labels/app', value: 'db' }], 'testing value /metadata/labels/app failed'],
    ['test that a present value is null', { a: 1 }, [{ op: 'test', path: '/a', value: null }], 'testing value /a failed'],
    ['test an absent value', { a: 1 }, [{ op: 'test', path: '/b', value: 1 }], 'testing value /b failed'],
    ['test distinguishes 1 and "1"', { a: 1 }, [{ op: 'test', path: '/a', value: '1' }], 'testing value /a failed'],
    ['test distinguishes array order', { a: [1, 2] }, [{ op: 'test', path: '/a', value: [2, 1] }], 'testing value /a failed'],
    ['test under a missing parent', { a: 1 }, [{ op: 'test', path: '/b/c', value: 1 }], 'test operation does not apply: doc is missing path: /b/c'],
    // Malformed patches: nothing is applied, and the code says 400 rather than 422.
    ['not a list', {}, { op: 'add' }, 'a JSON patch must be a list of operations, got {"op":"add"}', 'PATCH_MALFORMED'],
    ['not an object', {}, ['add'], 'operation 0 must be an object, got "add"', 'PATCH_MALFORMED'],
    ['an unknown op', {}, [{ op: 'merge', path: '/a' }], 'operation 0 has unsupported op "merge": must be one of add, remove, replace, move, copy, test', 'PATCH_MALFORMED'],
    ['no op', {}, [{ path: '/a' }], 'operation 0 has unsupported op nothing: must be one of add, remove, replace, move, copy, test', 'PATCH_MALFORMED'],
    ['no path', {}, [{ op: 'remove' }], 'remove operation 0 is missing "path" (a JSON pointer string)', 'PATCH_MALFORMED'],
    ['no from', {}, [{ op: 'copy', path: '/a' }], 'copy operation 0 is missing "from" (a JSON pointer string)', 'PATCH_MALFORMED'],
    ['no value', {}, [{ op: 'add', path: '/a' }], 'add operation 0 (path /a) is missing "value"', 'PATCH_MALFORMED'],
    ['a path that is not a pointer', {}, [{ op: 'add', path: 'a', value: 1 }], 'add operation 0 has invalid path "a": a JSON pointer must be empty or start with "/"', 'PATCH_MALFORMED'],
    [
      'a later malformed operation stops the whole patch',
      { a: 1 },
      [{ op: 'remove', path: '/a' }, { op: 'jump' }],
      'operation 1 has unsupported op "jump": must be one of add, remove, replace, move, copy, test',
      'PATCH_MALFORMED',
    ],
    [
      'too many operations',
      {},
      Array.from({ length: 10001 }, () => ({ op: 'test', path: '', value: {} })),
      'The allowed maximum operations in a JSON patch is 10000, got 10001',
      'PATCH_MALFORMED',
    ],
  ];
  for (const [title, document, operations, message, code = 'PATCH_NOT_APPLICABLE'] of failures) {
    it(`fails: ${title}`, () => {
      const input = deepFreeze(structuredClone(document));
      assert.throws(() => applyJsonPatch(input, deepFreeze(structuredClone(operations))), (error: unknown) => {
        assert.ok(error instanceof PatchError);
        assert.equal(error.name, 'PatchError');
        assert.equal(error.message, message);
        assert.equal(error.code, code);
        return true;
      });
    });
  }

  it('leaves the input alone when a later operation fails', () => {
    const document = { a: 1, b: [1, 2] };
    assert.throws(() =>
      applyJsonPatch(document, [
        { op: 'remove', path: '/a' },
        { op: 'add', path: '/b/-', value: 3 },
        { op: 'test', path: '/b/0', value: 9 },
      ]),
    );
    assert.deepEqual(document, { a: 1, b: [1, 2] });
  });
});
