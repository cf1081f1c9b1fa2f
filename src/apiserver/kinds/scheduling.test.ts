import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FieldError, KubeObject, ResourceDef } from '../resource.ts';
import { builtinKinds, systemPriorityClasses } from './index.ts';

const pc = builtinKinds.find((d) => d.group === 'scheduling.k8s.io' && d.plural === 'priorityclasses') as ResourceDef;

function errors(object: KubeObject, old?: KubeObject): string[] {
  pc.defaults?.(object);
  if (!old) pc.prepareForCreate?.(object);
  return (pc.validate?.(object, old) ?? []).map((e: FieldError) => `${e.type} ${e.field}: ${e.message}`);
}

test('priority classes: pc, cluster-scoped; PREEMPTIONPOLICY is a default column after AGE, as upstream', () => {
  assert.ok(pc);
  assert.deepEqual([pc.shortNames, pc.namespaced], [['pc'], false]);
  assert.equal(pc.printerColumns.map((c) => (c.priority ? `(${c.name})` : c.name)).join(' '), 'Value Global-Default Age PreemptionPolicy');
  const now = new Date('2024-05-01T12:00:00Z');
  const object = { metadata: { name: 'high', creationTimestamp: '2024-04-30T12:00:00Z' }, value: 1000, globalDefault: true, preemptionPolicy: 'Never' };
  assert.deepEqual(Object.fromEntries(pc.printerColumns.map((c) => [c.name, c.cell(object, now)])), {
    'Value': 1000, 'Global-Default': true, 'Age': '24h', 'PreemptionPolicy': 'Never',
  });
});

test('a minimal class preempts lower priorities and has value 0', () => {
  const object: KubeObject = { metadata: { name: 'batch' } };
  assert.deepEqual(errors(object), []);
  assert.deepEqual([object.value, object.preemptionPolicy], [0, 'PreemptLowerPriority']);
});

test('user classes stay at or below one billion; system- names belong to the system classes', () => {
  assert.deepEqual(errors({ metadata: { name: 'max' }, value: 1_000_000_000 }), []);
  assert.deepEqual(errors({ metadata: { name: 'too-high' }, value: 1_000_000_001, preemptionPolicy: 'Sometimes' }), [
    'FieldValueForbidden value: Forbidden: maximum allowed value of a user defined priority is 1000000000',
    'FieldValueNotSupported preemptionPolicy: Unsupported value: "Sometimes": supported values: "PreemptLowerPriority", "Never"',
  ]);
  assert.deepEqual(errors({ metadata: { name: 'system-special' }, value: 5 }), [
    "FieldValueForbidden metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-special is not a known system priority class",
  ]);
  assert.deepEqual(errors({ metadata: { name: 'system-node-critical' }, value: 5 }), [
    "FieldValueForbidden metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: value of system-node-critical PriorityClass must be 2000001000",
  ]);
  assert.deepEqual(errors({ metadata: { name: 'system-cluster-critical' }, value: 2_000_000_000, globalDefault: true }), [
    "FieldValueForbidden metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: globalDefault of system-cluster-critical PriorityClass must be false",
  ]);
});

test('value and preemption policy cannot change; the description can', () => {
  const stored = { metadata: { name: 'high' }, value: 1, preemptionPolicy: 'PreemptLowerPriority' };
  assert.deepEqual(errors({ metadata: { name: 'high' }, value: 1, description: 'now documented' }, stored), []);
  assert.deepEqual(errors({ metadata: { name: 'high' }, value: 2, preemptionPolicy: 'Never' }, stored), [
    'FieldValueForbidden value: Forbidden: may not be changed in an update.',
    'FieldValueInvalid preemptionPolicy: Invalid value: "Never": field is immutable',
  ]);
});

test('the two system classes carry upstream\'s names, values and descriptions, and are valid', () => {
  assert.deepEqual(
    systemPriorityClasses.map((c) => [c.metadata?.name, c.value, c.description]),
    [
      ['system-node-critical', 2000001000, 'Used for system critical pods that must not be moved from their current node.'],
      ['system-cluster-critical', 2000000000, 'Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.'],
    ],
  );
  for (const c of systemPriorityClasses) {
    assert.ok(Object.isFrozen(c) && Object.isFrozen(c.metadata), 'shared constants cannot be changed by a caller');
    const copy = structuredClone(c);
    assert.deepEqual(errors(copy), []);
    assert.equal(copy.preemptionPolicy, 'PreemptLowerPriority');
  }
});
