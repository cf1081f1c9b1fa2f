import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FieldError, KubeObject, ResourceDef } from '../resource.ts';
import { builtinKinds } from './index.ts';

const sc = builtinKinds.find((d) => d.group === 'storage.k8s.io' && d.plural === 'storageclasses') as ResourceDef;

function errors(object: KubeObject, old?: KubeObject): string[] {
  sc.defaults?.(object);
  if (!old) sc.prepareForCreate?.(object);
  return (sc.validate?.(object, old) ?? []).map((e: FieldError) => `${e.type} ${e.field}: ${e.message}`);
}

test('a minimal storage class deletes its volumes and binds immediately; cells as upstream', () => {
  assert.ok(sc);
  assert.deepEqual([sc.shortNames, sc.namespaced], [['sc'], false]);
  const object: KubeObject = { metadata: { name: 'local-path', creationTimestamp: '2024-05-01T11:00:00Z' }, provisioner: 'rancher.io/local-path' };
  assert.deepEqual(errors(object), []);
  assert.deepEqual([object.reclaimPolicy, object.volumeBindingMode], ['Delete', 'Immediate']);
  const now = new Date('2024-05-01T12:00:00Z');
  assert.deepEqual(Object.fromEntries(sc.printerColumns.map((c) => [c.name, c.cell(object, now)])), {
    Provisioner: 'rancher.io/local-path', ReclaimPolicy: 'Delete', VolumeBindingMode: 'Immediate', AllowVolumeExpansion: false, Age: '60m',
  });
});

test('provisioner, policies and allowed topologies are checked with upstream wording', () => {
  assert.deepEqual(
    errors({
      metadata: { name: 'x' },
      provisioner: '',
      parameters: { '': 'v' },
      reclaimPolicy: 'Recycle',
      volumeBindingMode: 'Later',
      allowedTopologies: [{ matchLabelExpressions: [{ key: 'zone', values: [] }, { key: 'zone', values: ['a', 'a'] }] }],
    }),
    [
      'FieldValueRequired provisioner: Required value',
      'FieldValueInvalid parameters: Invalid value: "": field can not be empty.',
      'FieldValueNotSupported reclaimPolicy: Unsupported value: "Recycle": supported values: "Delete", "Retain"',
      'FieldValueNotSupported volumeBindingMode: Unsupported value: "Later": supported values: "Immediate", "WaitForFirstConsumer"',
      'FieldValueRequired allowedTopologies[0].matchLabelExpressions[0].values: Required value',
      'FieldValueDuplicate allowedTopologies[0].matchLabelExpressions[1].values[1]: Duplicate value: "a"',
      'FieldValueDuplicate allowedTopologies[0].matchLabelExpressions[1].key: Duplicate value: "zone"',
    ],
  );
  assert.deepEqual(errors({ metadata: { name: 'ebs' }, provisioner: 'kubernetes.io/AWS-EBS' }), [], 'provisioners are compared lower-cased');
});

test('provisioner, parameters, reclaim policy and binding mode are fixed once created', () => {
  const stored = { metadata: { name: 'local' }, provisioner: 'rancher.io/local-path', reclaimPolicy: 'Delete', volumeBindingMode: 'Immediate' };
  assert.deepEqual(errors({ ...structuredClone(stored), allowVolumeExpansion: true }, stored), []);
  assert.deepEqual(
    errors({ metadata: { name: 'local' }, provisioner: 'other.io/p', parameters: { a: 'b' }, reclaimPolicy: 'Retain', volumeBindingMode: 'WaitForFirstConsumer' }, stored),
    [
      'FieldValueForbidden parameters: Forbidden: updates to parameters are forbidden.',
      'FieldValueForbidden provisioner: Forbidden: updates to provisioner are forbidden.',
      'FieldValueForbidden reclaimPolicy: Forbidden: updates to reclaimPolicy are forbidden.',
      'FieldValueInvalid volumeBindingMode: Invalid value: "WaitForFirstConsumer": field is immutable',
    ],
  );
});
