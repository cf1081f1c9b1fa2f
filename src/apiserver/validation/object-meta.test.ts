import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FieldError, ObjectMeta } from '../resource.ts';
import { dns1035LabelErrors, dns1123LabelErrors, validateObjectMeta, validateObjectMetaUpdate } from './index.ts';

/** `field: message` lines, the way a 422 Status lists its causes. */
function lines(errors: FieldError[]): string[] {
  return errors.map((e) => `${e.field}: ${e.message}`);
}

const SUBDOMAIN_RULE =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_RULE =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const NAME_PART_RULE =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

const namespaced = { namespaced: true, nameErrors: undefined };
const clusterScoped = { namespaced: false };

describe('validateObjectMeta', () => {
  const cases: [title: string, meta: ObjectMeta | undefined, options: Parameters<typeof validateObjectMeta>[1], expected: string[]][] = [
    ['a valid namespaced object', { name: 'web', namespace: 'default' }, namespaced, []],
    ['a valid cluster-scoped object', { name: 'node-1' }, clusterScoped, []],
    ['generateName alone', { generateName: 'web-', namespace: 'default' }, namespaced, []],
    ['no metadata', undefined, namespaced, ['metadata.name: Required value: name or generateName is required', 'metadata.namespace: Required value']],
    ['empty name', { name: '', namespace: 'default' }, namespaced, ['metadata.name: Required value: name or generateName is required']],
    ['bad name', { name: 'Web', namespace: 'default' }, namespaced, [`metadata.name: Invalid value: "Web": ${SUBDOMAIN_RULE}`]],
    ['bad generateName', { generateName: 'Web-', namespace: 'default' }, namespaced, [`metadata.generateName: Invalid value: "Web-": ${SUBDOMAIN_RULE}`]],
    ['name at 253 characters', { name: `${'a'.repeat(63)}.`.repeat(3) + 'a'.repeat(61), namespace: 'd' }, namespaced, []],
    [
      'name at 254 characters',
      { name: `${'a'.repeat(63)}.`.repeat(3) + 'a'.repeat(62), namespace: 'd' },
      namespaced,
      [`metadata.name: Invalid value: "${`${'a'.repeat(63)}.`.repeat(3) + 'a'.repeat(62)}": must be no more than 253 characters`],
    ],
    ['kind-specific name rule', { name: 'a.b' }, { namespaced: false, nameErrors: dns1123LabelErrors }, ['metadata.name: Invalid value: "a.b": must not contain dots']],
    [
      'service names',
      { name: '1web', namespace: 'default' },
      { namespaced: true, nameErrors: dns1035LabelErrors },
      [
        "metadata.name: Invalid value: \"1web\": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
      ],
    ],
    ['missing namespace', { name: 'web' }, namespaced, ['metadata.namespace: Required value']],
    ['bad namespace', { name: 'web', namespace: 'My_NS' }, namespaced, [`metadata.namespace: Invalid value: "My_NS": ${LABEL_RULE}`]],
    ['namespace on a cluster-scoped kind', { name: 'n1', namespace: 'default' }, clusterScoped, ['metadata.namespace: Forbidden: not allowed on this type']],
    ['negative generation', { name: 'n1', generation: -1 }, clusterScoped, ['metadata.generation: Invalid value: -1: must be greater than or equal to 0']],
    ['labels', { name: 'n1', labels: { '-a': 'b' } }, clusterScoped, [`metadata.labels: Invalid value: "-a": ${NAME_PART_RULE}`]],
    ['annotations', { name: 'n1', annotations: { 'a b': '' } }, clusterScoped, [`metadata.annotations: Invalid value: "a b": ${NAME_PART_RULE}`]],
    ['finalizers', { name: 'n1', finalizers: ['example.com/ok', 'bad name'] }, clusterScoped, [`metadata.finalizers: Invalid value: "bad name": ${NAME_PART_RULE}`]],
    [
      'conflicting deletion finalizers',
      { name: 'n1', finalizers: ['orphan', 'foregroundDeletion'] },
      clusterScoped,
      ['metadata.finalizers: Invalid value: ["orphan","foregroundDeletion"]: finalizer orphan and foregroundDeletion cannot be both set'],
    ],
    [
      'owner references with missing fields',
      { name: 'n1', ownerReferences: [{ apiVersion: 'apps/', kind: '', name: '', uid: '' }] },
      clusterScoped,
      [
        'metadata.ownerReferences.apiVersion: Invalid value: "apps/": version must not be empty',
        'metadata.ownerReferences.kind: Invalid value: "": must not be empty',
        'metadata.ownerReferences.name: Invalid value: "": must not be empty',
        'metadata.ownerReferences.uid: Invalid value: "": must not be empty',
      ],
    ],
    [
      'two controllers',
      {
        name: 'n1',
        ownerReferences: [
          { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'a', uid: '1', controller: true },
          { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'b', uid: '2', controller: true },
        ],
      },
      clusterScoped,
      [
        'metadata.ownerReferences: Invalid value: [{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"a","uid":"1","controller":true},{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"b","uid":"2","controller":true}]: Only one reference can have Controller set to true. Found "true" in references for ReplicaSet/a and ReplicaSet/b',
      ],
    ],
    [
      'an Event as owner',
      { name: 'n1', ownerReferences: [{ apiVersion: 'v1', kind: 'Event', name: 'e', uid: '1' }] },
      clusterScoped,
      ['metadata.ownerReferences: Invalid value: {"apiVersion":"v1","kind":"Event","name":"e","uid":"1"}: /v1, Kind=Event is disallowed from being an owner'],
    ],
    [
      'managed fields',
      { name: 'n1', managedFields: [{ manager: 'kubectl', operation: 'Patch', fieldsType: 'FieldsV2' }] },
      clusterScoped,
      [
        'metadata.managedFields[0].operation: Invalid value: "Patch": must be `Apply` or `Update`',
        'metadata.managedFields[0].fieldsType: Invalid value: "FieldsV2": must be `FieldsV1`',
      ],
    ],
  ];
  for (const [title, meta, options, expected] of cases) {
    it(title, () => {
      assert.deepEqual(lines(validateObjectMeta(meta, options)), expected);
    });
  }

  it('leaves what an update keeps as stored unchecked, and checks what it changes', () => {
    // Written before a rule existed (or by an older Skiff): kept as it is, it is not refused.
    const stored: ObjectMeta = { name: 'Old_Name', namespace: 'default', labels: { 'bad key!': 'v' }, annotations: { a: 'b' } };
    const update = { namespaced: true, old: stored };
    assert.deepEqual(lines(validateObjectMeta({ ...stored, labels: { 'bad key!': 'v' } }, update)), []);
    assert.deepEqual(lines(validateObjectMetaUpdate({ ...stored, labels: { 'bad key!': 'v' } }, stored)), []);
    const changed = { ...stored, labels: { 'bad key!': 'w', 'also bad!': 'x' } };
    assert.equal(lines(validateObjectMeta(changed, update)).filter((l) => l.startsWith('metadata.labels')).length, 2);
    assert.equal(lines(validateObjectMetaUpdate(changed, stored)).filter((l) => l.startsWith('metadata.labels')).length, 2);
    // Without the stored object (a create), everything is checked.
    assert.deepEqual(
      lines(validateObjectMeta(stored, { namespaced: true })).map((l) => l.slice(0, l.indexOf(':'))),
      ['metadata.name', 'metadata.labels'],
    );
  });

  it('uses upstream cause types', () => {
    const errors = validateObjectMeta({ namespace: 'x' }, clusterScoped);
    assert.deepEqual(
      errors.map((e) => e.type),
      ['FieldValueRequired', 'FieldValueForbidden'],
    );
  });
});

describe('validateObjectMetaUpdate', () => {
  const old: ObjectMeta = {
    name: 'web',
    namespace: 'default',
    uid: 'u-1',
    resourceVersion: '5',
    generation: 2,
    creationTimestamp: '2024-01-01T00:00:00Z',
    labels: { app: 'web' },
  };

  const cases: [title: string, next: ObjectMeta, old: ObjectMeta, expected: string[]][] = [
    ['an unchanged object', { ...old }, old, []],
    ['label and generation changes', { ...old, labels: { app: 'db' }, generation: 3 }, old, []],
    ['renamed', { ...old, name: 'db' }, old, ['metadata.name: Invalid value: "db": field is immutable']],
    ['name removed', { ...old, name: undefined }, old, ['metadata.name: Invalid value: "": field is immutable']],
    ['moved', { ...old, namespace: 'other' }, old, ['metadata.namespace: Invalid value: "other": field is immutable']],
    ['new uid', { ...old, uid: 'u-2' }, old, ['metadata.uid: Invalid value: "u-2": field is immutable']],
    [
      'new creation time',
      { ...old, creationTimestamp: '2025-01-01T00:00:00Z' },
      old,
      ['metadata.creationTimestamp: Invalid value: "2025-01-01T00:00:00Z": field is immutable'],
    ],
    [
      'deletion timestamp set by an update',
      { ...old, deletionTimestamp: '2025-01-01T00:00:00Z' },
      old,
      ['metadata.deletionTimestamp: Invalid value: "2025-01-01T00:00:00Z": field is immutable'],
    ],
    [
      'deletion timestamp cleared by an update',
      { ...old, deletionTimestamp: undefined },
      { ...old, deletionTimestamp: '2025-01-01T00:00:00Z' },
      ['metadata.deletionTimestamp: Invalid value: null: field is immutable'],
    ],
    [
      'grace period changed',
      { ...old, deletionGracePeriodSeconds: 0 },
      { ...old, deletionGracePeriodSeconds: 30 },
      ['metadata.deletionGracePeriodSeconds: Invalid value: 0: field is immutable'],
    ],
    ['generation decremented', { ...old, generation: 1 }, old, ['metadata.generation: Invalid value: 1: must not be decremented']],
    [
      'finalizer added while deleting',
      { ...old, deletionTimestamp: 'T', finalizers: ['a', 'c', 'b'] },
      { ...old, deletionTimestamp: 'T', finalizers: ['a'] },
      ['metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{"b", "c"}'],
    ],
    [
      'finalizer removed while deleting',
      { ...old, deletionTimestamp: 'T', finalizers: [] },
      { ...old, deletionTimestamp: 'T', finalizers: ['a'] },
      [],
    ],
    ['invalid labels', { ...old, labels: { app: 'a b' } }, old, [
      "metadata.labels: Invalid value: \"a b\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
    ]],
  ];
  for (const [title, next, before, expected] of cases) {
    it(title, () => {
      assert.deepEqual(lines(validateObjectMetaUpdate(next, before)), expected);
    });
  }
});
