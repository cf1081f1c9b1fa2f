import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FieldError, KubeObject, ResourceDef } from '../resource.ts';
import { builtinKinds } from './index.ts';

const pdb = builtinKinds.find((d) => d.group === 'policy' && d.plural === 'poddisruptionbudgets') as ResourceDef;

function errors(object: KubeObject): string[] {
  pdb.defaults?.(object);
  pdb.prepareForCreate?.(object);
  return (pdb.validate?.(object, undefined) ?? []).map((e: FieldError) => `${e.type} ${e.field}: ${e.message}`);
}

test('pod disruption budgets: pdb, namespaced, with status and upstream columns', () => {
  assert.ok(pdb);
  assert.deepEqual([pdb.version, pdb.shortNames, pdb.namespaced, pdb.subresources.status, pdb.generation], ['v1', ['pdb'], true, true, true]);
  assert.equal(pdb.printerColumns.map((c) => c.name).join(' '), 'Min Available Max Unavailable Allowed Disruptions Age');
});

test('a new budget starts with a zero status, whatever the client sent', () => {
  const object: KubeObject = { metadata: { name: 'web' }, spec: { minAvailable: 2, selector: { matchLabels: { app: 'web' } } }, status: { disruptionsAllowed: 5 } };
  assert.deepEqual(errors(object), []);
  assert.deepEqual(object.spec, { minAvailable: 2, selector: { matchLabels: { app: 'web' } } });
  assert.deepEqual(object.status, { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 });
});

test('at most one of minAvailable and maxUnavailable, each a count or a percentage up to 100%', () => {
  assert.deepEqual(
    errors({
      metadata: { name: 'web' },
      spec: { minAvailable: '150%', maxUnavailable: -1, selector: { matchExpressions: [{ key: 'app', operator: 'Is' }] }, unhealthyPodEvictionPolicy: 'Sometimes' },
    }),
    [
      'FieldValueInvalid spec: Invalid value: {"minAvailable":"150%","maxUnavailable":-1,"selector":{"matchExpressions":[{"key":"app","operator":"Is"}]},"unhealthyPodEvictionPolicy":"Sometimes"}: minAvailable and maxUnavailable cannot be both set',
      'FieldValueInvalid spec.minAvailable: Invalid value: "150%": must not be greater than 100%',
      'FieldValueInvalid spec.maxUnavailable: Invalid value: -1: must be greater than or equal to 0',
      'FieldValueInvalid spec.selector.matchExpressions[0].operator: Invalid value: "Is": not a valid selector operator',
      'FieldValueNotSupported spec.unhealthyPodEvictionPolicy: Unsupported value: "Sometimes": supported values: "AlwaysAllow", "IfHealthyBudget"',
    ],
  );
  // Upstream accepts a budget with neither: it then allows no voluntary disruption at all.
  assert.deepEqual(errors({ metadata: { name: 'none' }, spec: { selector: {} } }), []);
});

test('cells show the budget as written and N/A for the unset side', () => {
  const now = new Date('2024-05-01T12:00:00Z');
  const row = (object: KubeObject) => Object.fromEntries(pdb.printerColumns.map((c) => [c.name, c.cell(object, now)]));
  assert.deepEqual(row({ metadata: { name: 'web', creationTimestamp: '2024-05-01T11:58:00Z' }, spec: { maxUnavailable: '25%' }, status: { disruptionsAllowed: 1 } }), {
    'Min Available': 'N/A', 'Max Unavailable': '25%', 'Allowed Disruptions': 1, 'Age': '2m',
  });
});
