import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FieldError, KubeObject, ResourceDef } from '../resource.ts';
import { builtinKinds } from './index.ts';

const rc = builtinKinds.find((d) => d.group === 'node.k8s.io' && d.plural === 'runtimeclasses') as ResourceDef;

function errors(object: KubeObject, old?: KubeObject): string[] {
  rc.defaults?.(object);
  return (rc.validate?.(object, old) ?? []).map((e: FieldError) => `${e.type} ${e.field}: ${e.message}`);
}

test('runtime classes: cluster-scoped, HANDLER column', () => {
  assert.ok(rc);
  assert.deepEqual([rc.version, rc.namespaced, rc.shortNames], ['v1', false, []]);
  const now = new Date('2024-05-01T12:00:00Z');
  const object = { metadata: { name: 'gvisor', creationTimestamp: '2024-05-01T11:59:30Z' }, handler: 'runsc' };
  assert.deepEqual(errors(structuredClone(object)), []);
  assert.deepEqual(Object.fromEntries(rc.printerColumns.map((c) => [c.name, c.cell(object, now)])), { Handler: 'runsc', Age: '30s' });
});

test('the handler is a required DNS label and cannot change; overhead quantities are checked', () => {
  assert.deepEqual(errors({ metadata: { name: 'x' }, handler: '' }), [
    'FieldValueInvalid handler: Invalid value: "": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or \'-\', and must start and end with an alphanumeric character (e.g. \'my-name\',  or \'123-abc\', regex used for validation is \'[a-z0-9]([-a-z0-9]*[a-z0-9])?\')',
  ]);
  assert.deepEqual(errors({ metadata: { name: 'x' }, handler: 'runsc', overhead: { podFixed: { cpu: '250m', memory: 'lots' } }, scheduling: { nodeSelector: { 'sandbox/ok': 'yes' } } }), [
    'FieldValueInvalid overhead.podFixed[memory]: Invalid value: "lots": quantities must match the regular expression \'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$\'',
  ]);
  assert.deepEqual(errors({ metadata: { name: 'x' }, handler: 'kata' }, { metadata: { name: 'x' }, handler: 'runsc' }), [
    'FieldValueInvalid handler: Invalid value: "kata": field is immutable',
  ]);
});
