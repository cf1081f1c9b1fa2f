import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { CustomResourceDefinition } from 'kubernetes-types/apiextensions/v1.js';
import type { FieldError } from '../resource.ts';
import { applyDefaults, pruneUnknownFields, validateAgainstSchema, type KubeSchema } from './schema.ts';

const crontabCrd = parse(readFileSync(new URL('./testdata/crontab-crd.yaml', import.meta.url), 'utf8')) as CustomResourceDefinition;
const crontabSchema = crontabCrd.spec.versions[0]!.schema!.openAPIV3Schema as KubeSchema;

/** Field errors as the 422 Status prints them: `field: message`. */
function lines(errors: FieldError[]): string[] {
  return errors.map((e) => `${e.field}: ${e.message}`);
}

function crontab(spec: Record<string, unknown>): Record<string, unknown> {
  return { apiVersion: 'stable.example.com/v1', kind: 'CronTab', metadata: { name: 'my-new-cron-object' }, spec };
}

describe('validateAgainstSchema', () => {
  const cases: [string, Record<string, unknown>, string[]][] = [
    ['a valid CronTab', { cronSpec: '* * * * */5', image: 'my-awesome-cron-image', replicas: 3, size: 'M' }, []],
    [
      'a string where an integer belongs',
      { replicas: 'string' },
      ['spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"'],
    ],
    [
      'a fraction where an integer belongs',
      { replicas: 1.5 },
      ['spec.replicas: Invalid value: "number": spec.replicas in body must be of type integer: "number"'],
    ],
    ['an object where a string belongs', { image: { name: 'x' } }, ['spec.image: Invalid value: "object": spec.image in body must be of type string: "object"']],
    [
      'a value outside the enum',
      { size: 'XL' },
      ['spec.size: Unsupported value: "XL": supported values: "S", "M"'],
    ],
    [
      'a value above the maximum',
      { replicas: 11 },
      ['spec.replicas: Invalid value: 11: spec.replicas in body should be less than or equal to 10'],
    ],
    [
      'a value below the minimum',
      { replicas: 0 },
      ['spec.replicas: Invalid value: 0: spec.replicas in body should be greater than or equal to 1'],
    ],
    [
      'a string not matching the pattern',
      { cronSpec: 'every minute' },
      [`spec.cronSpec: Invalid value: "every minute": spec.cronSpec in body should match '^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$'`],
    ],
    ['a nested required field missing', { schedule: { startingDeadlineSeconds: 10 } }, ['spec.schedule.timeZone: Required value']],
    [
      'a map value of the wrong type',
      { env: { A: 'x', B: 2 } },
      ['spec.env.B: Invalid value: "integer": spec.env.B in body must be of type string: "integer"'],
    ],
    [
      'an int-or-string that is neither',
      { ports: [{ name: 'http', port: true }] },
      ['spec.ports[0].port: Invalid value: "boolean": spec.ports[0].port in body must be of type integer,string: "boolean"'],
    ],
    ['an int-or-string as either', { ports: [{ name: 'http', port: 80 }, { name: 'https', port: 'https' }] }, []],
    ['a duplicate in a set', { tags: ['a', 'b', 'a'] }, ['spec.tags[2]: Duplicate value: "a"']],
    [
      'a duplicate key in a map-list',
      { ports: [{ name: 'http', port: 80 }, { name: 'http', port: 8080 }] },
      ['spec.ports[1]: Duplicate value: map[string]interface {}{"name":"http"}'],
    ],
    ['anything below preserve-unknown-fields', { extra: { anything: [1, { deep: true }] } }, []],
    ['null where the schema is not nullable', { image: null }, ['spec.image: Invalid value: "null": spec.image in body must be of type string: "null"']],
  ];
  for (const [name, spec, expected] of cases) {
    it(name, () => assert.deepEqual(lines(validateAgainstSchema(crontab(spec), crontabSchema, '')), expected));
  }

  it('reports a missing required root field and the error types upstream uses', () => {
    const schema: KubeSchema = { type: 'object', required: ['spec'], properties: { spec: { type: 'object' } } };
    assert.deepEqual(validateAgainstSchema({ metadata: {} }, schema, ''), [{ type: 'FieldValueRequired', field: 'spec', message: 'Required value' }]);
    const typed = validateAgainstSchema(crontab({ replicas: 'x', size: 'XL' }), crontabSchema, '');
    assert.deepEqual(typed.map((e) => e.type), ['FieldValueTypeInvalid', 'FieldValueNotSupported']);
  });

  const keywords: [string, KubeSchema, unknown, string[]][] = [
    ['maxLength', { type: 'string', maxLength: 3 }, 'abcd', ['spec.v: Too long: may not be more than 3 bytes']],
    ['maxLength counts characters', { type: 'string', maxLength: 3 }, 'äöü', []],
    ['minLength', { type: 'string', minLength: 2 }, 'a', ['spec.v: Invalid value: "a": spec.v in body should be at least 2 chars long']],
    ['maxItems', { type: 'array', maxItems: 1, items: { type: 'string' } }, ['a', 'b'], ['spec.v: Too many: 2: must have at most 1 items']],
    ['minItems', { type: 'array', minItems: 1, items: { type: 'string' } }, [], ['spec.v: Invalid value: 0: spec.v in body should have at least 1 items']],
    ['uniqueItems', { type: 'array', uniqueItems: true, items: { type: 'integer' } }, [1, 1], ['spec.v: Invalid value: "": spec.v in body shouldn\'t contain duplicates']],
    ['maxProperties', { type: 'object', maxProperties: 1, additionalProperties: { type: 'string' } }, { a: 'x', b: 'y' }, ['spec.v: Too many: 2: must have at most 1 items']],
    ['minProperties', { type: 'object', minProperties: 1 }, {}, ['spec.v: Invalid value: 0: spec.v in body should have at least 1 properties']],
    ['exclusiveMaximum', { type: 'number', maximum: 1, exclusiveMaximum: true }, 1, ['spec.v: Invalid value: 1: spec.v in body should be less than 1']],
    ['exclusiveMinimum', { type: 'number', minimum: 0.5, exclusiveMinimum: true }, 0.5, ['spec.v: Invalid value: 0.5: spec.v in body should be greater than 0.5']],
    ['multipleOf', { type: 'integer', multipleOf: 5 }, 12, ['spec.v: Invalid value: 12: spec.v in body should be a multiple of 5']],
    ['an integer is a number', { type: 'number' }, 3, []],
    ['nullable', { type: 'string', nullable: true }, null, []],
    ['date-time', { type: 'string', format: 'date-time' }, 'yesterday', ['spec.v: Invalid value: "yesterday": spec.v in body must be of type date-time: "yesterday"']],
    ['date-time valid', { type: 'string', format: 'date-time' }, '2024-05-01T10:00:00Z', []],
    ['date', { type: 'string', format: 'date' }, '2024-02-30', ['spec.v: Invalid value: "2024-02-30": spec.v in body must be of type date: "2024-02-30"']],
    ['ipv4', { type: 'string', format: 'ipv4' }, '10.0.0.256', ['spec.v: Invalid value: "10.0.0.256": spec.v in body must be of type ipv4: "10.0.0.256"']],
    ['uuid valid', { type: 'string', format: 'uuid' }, '6ba7b810-9dad-11d1-80b4-00c04fd430c8', []],
    ['quantity', { type: 'string', format: 'quantity' }, '1Gb', ['spec.v: Invalid value: "1Gb": spec.v in body must be of type quantity: "1Gb"']],
    ['a Go inline flag in a pattern', { type: 'string', pattern: '(?i)^abc$' }, 'ABC', []],
    ['an unsupported format is ignored', { type: 'string', format: 'color' }, 'anything', []],
    ['int32 does not check the range, as upstream', { type: 'integer', format: 'int32' }, 2 ** 40, []],
    [
      'a format on an integer turns a type error into a format error, as upstream',
      { type: 'integer', format: 'int32' },
      true,
      ['spec.v: Invalid value: "": spec.v in body must be of type int32: ""'],
    ],
    ['enum of numbers', { type: 'integer', enum: [1, 2] }, 3, ['spec.v: Unsupported value: 3: supported values: "1", "2"']],
    [
      'anyOf',
      { anyOf: [{ type: 'string' }, { type: 'integer' }] } as KubeSchema,
      true,
      [
        '<nil>: Invalid value: "": "spec.v" must validate at least one schema (anyOf)',
        'spec.v: Invalid value: "boolean": spec.v in body must be of type string: "boolean"',
      ],
    ],
    [
      'embedded resource',
      { type: 'object', 'x-kubernetes-embedded-resource': true, 'x-kubernetes-preserve-unknown-fields': true },
      { kind: 'Pod', metadata: { name: 'Bad_Name' } },
      ['spec.v.apiVersion: Required value'],
    ],
  ];
  for (const [name, schema, value, expected] of keywords) {
    it(`${name}`, () => {
      const root: KubeSchema = { type: 'object', properties: { spec: { type: 'object', properties: { v: schema } } } };
      assert.deepEqual(lines(validateAgainstSchema({ spec: { v: value } }, root, '')), expected);
    });
  }

  it('validates a value in place with its path as the message name', () => {
    assert.deepEqual(lines(validateAgainstSchema(5, { type: 'string' }, 'spec.image')), [
      'spec.image: Invalid value: "integer": spec.image in body must be of type string: "integer"',
    ]);
  });
});

describe('applyDefaults', () => {
  it('fills missing properties, recursively, including inside defaulted objects and list items', () => {
    const schema: KubeSchema = {
      type: 'object',
      properties: {
        spec: {
          type: 'object',
          default: {},
          properties: {
            replicas: { type: 'integer', default: 1 },
            strategy: { type: 'object', default: { type: 'Rolling' }, properties: { type: { type: 'string' }, maxSurge: { type: 'integer', default: 1 } } },
            ports: { type: 'array', items: { type: 'object', properties: { protocol: { type: 'string', default: 'TCP' } } } },
            labels: { type: 'object', additionalProperties: { type: 'string', default: 'x' } },
            keep: { type: 'string', default: 'no' },
          },
        },
      },
    };
    const object = { spec: { ports: [{ name: 'a' }, { name: 'b', protocol: 'UDP' }], labels: { a: null, b: 'y' }, keep: 'yes' } };
    applyDefaults(object, schema);
    assert.deepEqual(object, {
      spec: {
        replicas: 1,
        strategy: { type: 'Rolling', maxSurge: 1 },
        ports: [{ name: 'a', protocol: 'TCP' }, { name: 'b', protocol: 'UDP' }],
        labels: { a: 'x', b: 'y' },
        keep: 'yes',
      },
    });
    const empty = {};
    applyDefaults(empty, schema);
    assert.deepEqual(empty, { spec: { replicas: 1, strategy: { type: 'Rolling', maxSurge: 1 }, keep: 'no' } });
  });

  it('replaces null where the schema is not nullable, keeps it where it is', () => {
    const schema: KubeSchema = {
      type: 'object',
      properties: { a: { type: 'string', default: 'x' }, b: { type: 'string', nullable: true, default: 'y' } },
    };
    const object = { a: null, b: null };
    applyDefaults(object, schema);
    assert.deepEqual(object, { a: 'x', b: null });
  });

  it('copies defaults, so objects never share them', () => {
    const schema: KubeSchema = { type: 'object', properties: { o: { type: 'object', default: { list: [1] }, properties: { list: { type: 'array', items: { type: 'integer' } } } } } };
    const one: Record<string, { list: number[] }> = {};
    const two: Record<string, { list: number[] }> = {};
    applyDefaults(one, schema);
    applyDefaults(two, schema);
    one.o!.list.push(2);
    assert.deepEqual(two.o!.list, [1]);
  });

  it('fills the CronTab defaults', () => {
    const object = crontab({ cronSpec: '* * * * */5', ports: [{ name: 'http', port: 80 }] });
    applyDefaults(object, crontabSchema);
    assert.deepEqual(object.spec, { cronSpec: '* * * * */5', replicas: 1, size: 'S', ports: [{ name: 'http', port: 80, protocol: 'TCP' }] });
  });
});

describe('pruneUnknownFields', () => {
  it('drops unknown fields, keeps apiVersion, kind and metadata, keeps what preserve-unknown-fields covers', () => {
    const object = {
      ...crontab({ cronSpec: '* * * * */5', bogus: 1, schedule: { timeZone: 'UTC', junk: true }, extra: { free: { form: [1] } } }),
      metadata: { name: 'x', labels: { a: 'b' }, unknownMeta: 'kept' },
      topLevel: 'dropped',
      status: { replicas: 1, phase: 'dropped' },
    };
    const pruned = pruneUnknownFields(object, crontabSchema);
    assert.deepEqual(object, {
      apiVersion: 'stable.example.com/v1',
      kind: 'CronTab',
      metadata: { name: 'x', labels: { a: 'b' }, unknownMeta: 'kept' },
      spec: { cronSpec: '* * * * */5', schedule: { timeZone: 'UTC' }, extra: { free: { form: [1] } } },
      status: { replicas: 1 },
    });
    assert.deepEqual(pruned.sort(), ['spec.bogus', 'spec.schedule.junk', 'status.phase', 'topLevel']);
  });

  it('prunes inside list items and under additionalProperties, and the known fields under preserve-unknown-fields', () => {
    const schema: KubeSchema = {
      type: 'object',
      properties: {
        items: { type: 'array', items: { type: 'object', properties: { a: { type: 'string' } } } },
        map: { type: 'object', additionalProperties: { type: 'object', properties: { keep: { type: 'string' } } } },
        loose: {
          type: 'object',
          'x-kubernetes-preserve-unknown-fields': true,
          properties: { strict: { type: 'object', properties: { only: { type: 'string' } } } },
        },
        embedded: { type: 'object', 'x-kubernetes-embedded-resource': true, properties: { spec: { type: 'object' } } },
      },
    };
    const object = {
      items: [{ a: 'x', b: 'y' }],
      map: { k: { keep: 'x', drop: 'y' } },
      loose: { anything: 1, strict: { only: 'x', not: 'y' } },
      embedded: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: {}, other: 1 },
    };
    pruneUnknownFields(object, schema);
    assert.deepEqual(object, {
      items: [{ a: 'x' }],
      map: { k: { keep: 'x' } },
      loose: { anything: 1, strict: { only: 'x' } },
      embedded: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: {} },
    });
  });

  it('removes nulls the schema neither allows nor defaults', () => {
    const schema: KubeSchema = {
      type: 'object',
      properties: { a: { type: 'string' }, b: { type: 'string', nullable: true }, c: { type: 'string', default: 'x' } },
    };
    const object = { a: null, b: null, c: null };
    pruneUnknownFields(object, schema);
    assert.deepEqual(object, { b: null, c: null });
  });
});
