import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FieldRequirement } from './index.ts';
import { fieldsMatch, formatFieldSelector, parseFieldSelector, SelectorError } from './index.ts';

describe('parseFieldSelector', () => {
  const cases: [input: string, requirements: FieldRequirement[]][] = [
    ['', []],
    [',', []],
    ['metadata.name=web', [{ field: 'metadata.name', operator: '=', value: 'web' }]],
    ['metadata.name==web', [{ field: 'metadata.name', operator: '=', value: 'web' }]],
    ['status.phase!=Failed', [{ field: 'status.phase', operator: '!=', value: 'Failed' }]],
    ['metadata.name=', [{ field: 'metadata.name', operator: '=', value: '' }]],
    [
      'spec.nodeName=n1,metadata.namespace=default',
      [
        { field: 'metadata.namespace', operator: '=', value: 'default' },
        { field: 'spec.nodeName', operator: '=', value: 'n1' },
      ],
    ],
    ['a=b,', [{ field: 'a', operator: '=', value: 'b' }]],
    // Escapes: the comma does not split, and is data in the value.
    ['a=b\\,c', [{ field: 'a', operator: '=', value: 'b,c' }]],
    ['a=b\\=c', [{ field: 'a', operator: '=', value: 'b=c' }]],
    ['a=b\\\\', [{ field: 'a', operator: '=', value: 'b\\' }]],
    ['a!=\\=', [{ field: 'a', operator: '!=', value: '=' }]],
    // Not trimmed: the space is part of the field (which no kind supports).
    [' a = b', [{ field: ' a ', operator: '=', value: ' b' }]],
  ];
  for (const [input, expected] of cases) {
    it(`${JSON.stringify(input)}`, () => {
      assert.deepEqual(parseFieldSelector(input), expected);
    });
  }

  const errors: [input: string, message: string][] = [
    ['foo', "invalid selector: 'foo'; can't understand 'foo'"],
    ['a=b,c', "invalid selector: 'a=b,c'; can't understand 'c'"],
    ['a=b=c', 'invalid field selector: unescaped character in value: ='],
    ['a==b=c', 'invalid field selector: unescaped character in value: ='],
    ['a!==b', 'invalid field selector: unescaped character in value: ='],
    ['a=b\\x', 'invalid field selector: invalid escape sequence: \\x'],
    ['a=b\\', 'invalid field selector: invalid escape sequence: \\'],
  ];
  for (const [input, message] of errors) {
    it(`rejects ${JSON.stringify(input)}`, () => {
      assert.throws(() => parseFieldSelector(input), (error: unknown) => {
        assert.ok(error instanceof SelectorError);
        assert.equal(error.message, message);
        return true;
      });
    });
  }
});

describe('fieldsMatch', () => {
  const fields: Record<string, string> = { 'metadata.name': 'web', 'status.phase': 'Running' };
  const get = (field: string): string | undefined => fields[field];
  const cases: [selector: string, matches: boolean][] = [
    ['', true],
    ['metadata.name=web', true],
    ['metadata.name=db', false],
    ['metadata.name!=db', true],
    ['metadata.name=web,status.phase=Running', true],
    ['metadata.name=web,status.phase!=Running', false],
    // An absent field reads as the empty string.
    ['spec.nodeName=', true],
    ['spec.nodeName!=', false],
    ['spec.nodeName=n1', false],
  ];
  for (const [selector, expected] of cases) {
    it(`${JSON.stringify(selector)} ${expected ? 'matches' : 'does not match'}`, () => {
      assert.equal(fieldsMatch(parseFieldSelector(selector), get), expected);
    });
  }
});

describe('formatFieldSelector', () => {
  it('escapes values so that they parse back', () => {
    const requirements: FieldRequirement[] = [
      { field: 'a', operator: '=', value: 'x,y=z\\' },
      { field: 'b', operator: '!=', value: '' },
    ];
    const text = formatFieldSelector(requirements);
    assert.equal(text, 'a=x\\,y\\=z\\\\,b!=');
    assert.deepEqual(parseFieldSelector(text), requirements);
  });
});
