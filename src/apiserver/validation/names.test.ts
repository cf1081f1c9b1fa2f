import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  dns1035LabelErrors,
  dns1123LabelErrors,
  dns1123SubdomainErrors,
  isValidPathSegmentName,
  labelValueErrors,
  qualifiedNameErrors,
  validateAnnotations,
  validateLabels,
} from './index.ts';

const SUBDOMAIN_RULE =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_RULE =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1035_RULE =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const NAME_PART_RULE =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const LABEL_VALUE_RULE =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

/** A valid subdomain of exactly `length` characters: 63-character labels joined by dots. */
function subdomainOf(length: number): string {
  let name = '';
  while (name.length < length) name += name === '' ? 'a' : name.length % 64 === 63 ? '.' : 'a';
  return name;
}

type Case = [value: string, errors: string[]];

function table(check: (value: string) => string[], cases: Case[]): void {
  for (const [value, expected] of cases) {
    const shown = value.length > 40 ? `${value.slice(0, 12)}… (${value.length} chars)` : JSON.stringify(value);
    it(`${shown} → ${expected.length === 0 ? 'valid' : expected.join(' | ').slice(0, 60)}`, () => {
      assert.deepEqual(check(value), expected);
    });
  }
}

describe('dns1123SubdomainErrors', () => {
  assert.equal(subdomainOf(253).length, 253);
  table(dns1123SubdomainErrors, [
    ['example.com', []],
    ['a', []],
    ['0', []],
    ['web-1', []],
    ['a.b-c.d', []],
    [subdomainOf(253), []],
    [subdomainOf(254), ['must be no more than 253 characters']],
    [`${subdomainOf(253)}-`, ['must be no more than 253 characters', SUBDOMAIN_RULE]],
    ['', [SUBDOMAIN_RULE]],
    ['Web', [SUBDOMAIN_RULE]],
    ['-web', [SUBDOMAIN_RULE]],
    ['web-', [SUBDOMAIN_RULE]],
    ['web..x', [SUBDOMAIN_RULE]],
    ['web_x', [SUBDOMAIN_RULE]],
    ['.web', [SUBDOMAIN_RULE]],
  ]);
});

describe('dns1123LabelErrors', () => {
  table(dns1123LabelErrors, [
    ['default', []],
    ['kube-system', []],
    ['1abc', []],
    ['a'.repeat(63), []],
    ['a'.repeat(64), ['must be no more than 63 characters']],
    ['a.b', ['must not contain dots']],
    ['A', [LABEL_RULE]],
    ['', [LABEL_RULE]],
    ['a_b', [LABEL_RULE]],
  ]);
});

describe('dns1035LabelErrors', () => {
  table(dns1035LabelErrors, [
    ['my-service', []],
    ['a'.repeat(63), []],
    ['a'.repeat(64), ['must be no more than 63 characters']],
    ['1abc', [DNS1035_RULE]],
    ['a.b', [DNS1035_RULE]],
    ['abc-', [DNS1035_RULE]],
  ]);
});

describe('qualifiedNameErrors', () => {
  table(qualifiedNameErrors, [
    ['app', []],
    ['App.Name_1', []],
    ['example.com/app', []],
    ['kubernetes.io/metadata.name', []],
    ['a'.repeat(63), []],
    [`${subdomainOf(253)}/${'a'.repeat(63)}`, []],
    ['a'.repeat(64), ['name part must be no more than 63 characters']],
    ['', ['name part must be non-empty', NAME_PART_RULE]],
    ['-app', [NAME_PART_RULE]],
    ['app_', [NAME_PART_RULE]],
    ['example.com/', ['name part must be non-empty', NAME_PART_RULE]],
    ['/app', ['prefix part must be non-empty']],
    ['Example.com/app', [`prefix part ${SUBDOMAIN_RULE}`]],
    [`${subdomainOf(254)}/app`, ['prefix part must be no more than 253 characters']],
    [
      'a/b/c',
      [
        "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
      ],
    ],
  ]);
});

describe('labelValueErrors', () => {
  table(labelValueErrors, [
    ['', []],
    ['web', []],
    ['My_Value-1.2', []],
    ['a'.repeat(63), []],
    ['a'.repeat(64), ['must be no more than 63 characters']],
    ['-web', [LABEL_VALUE_RULE]],
    ['a b', [LABEL_VALUE_RULE]],
    ['a/b', [LABEL_VALUE_RULE]],
  ]);
});

describe('isValidPathSegmentName', () => {
  table(isValidPathSegmentName, [
    ['web', []],
    ['a.b', []],
    ['...', []],
    ['.', ["may not be '.'"]],
    ['..', ["may not be '..'"]],
    ['a/b', ["may not contain '/'"]],
    ['a%2F', ["may not contain '%'"]],
    ['a/%', ["may not contain '/'", "may not contain '%'"]],
  ]);
});

describe('validateLabels', () => {
  it('accepts valid and absent labels', () => {
    assert.deepEqual(validateLabels({ app: 'web', 'example.com/tier': '' }, 'metadata.labels'), []);
    assert.deepEqual(validateLabels(undefined, 'metadata.labels'), []);
    assert.deepEqual(validateLabels(null, 'metadata.labels'), []);
  });

  it('reports bad keys and values on the map field', () => {
    assert.deepEqual(validateLabels({ '-app': 'web', tier: 'a b' }, 'spec.template.metadata.labels'), [
      {
        type: 'FieldValueInvalid',
        field: 'spec.template.metadata.labels',
        message: `Invalid value: "-app": ${NAME_PART_RULE}`,
      },
      {
        type: 'FieldValueInvalid',
        field: 'spec.template.metadata.labels',
        message: `Invalid value: "a b": ${LABEL_VALUE_RULE}`,
      },
    ]);
  });

  it('rejects what is not a map of strings', () => {
    assert.equal(validateLabels(['a'], 'metadata.labels').length, 1);
    assert.equal(validateLabels({ a: 1 }, 'metadata.labels')[0]?.message, 'Invalid value: 1: label values must be strings');
  });
});

describe('validateAnnotations', () => {
  it('compares keys case-insensitively and allows any value', () => {
    assert.deepEqual(
      validateAnnotations({ 'Example.COM/Some-Key': 'anything at all: {"json": true}\n' }, 'metadata.annotations'),
      [],
    );
  });

  it('reports a bad key with its original spelling', () => {
    assert.deepEqual(validateAnnotations({ 'Bad Key': 'v' }, 'metadata.annotations'), [
      { type: 'FieldValueInvalid', field: 'metadata.annotations', message: `Invalid value: "Bad Key": ${NAME_PART_RULE}` },
    ]);
  });

  it('limits keys plus values to 256 KiB', () => {
    const key = 'a';
    const atLimit = { [key]: 'x'.repeat(256 * 1024 - key.length) };
    assert.deepEqual(validateAnnotations(atLimit, 'metadata.annotations'), []);
    const overLimit = { [key]: 'x'.repeat(256 * 1024 - key.length + 1) };
    assert.deepEqual(validateAnnotations(overLimit, 'metadata.annotations'), [
      { type: 'FieldValueTooLong', field: 'metadata.annotations', message: 'Too long: may not be more than 262144 bytes' },
    ]);
  });

  it('counts bytes, not characters', () => {
    const value = 'é'.repeat(128 * 1024); // 2 bytes each: 256 KiB exactly, plus the key
    assert.equal(validateAnnotations({ k: value }, 'metadata.annotations').length, 1);
  });
});
