import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FieldError, KubeObject, ResourceDef } from '../resource.ts';
import { builtinKinds } from './index.ts';

const GROUP = 'rbac.authorization.k8s.io';
const now = new Date('2024-05-01T12:00:00Z');

function kind(plural: string): ResourceDef {
  const def = builtinKinds.find((d) => d.group === GROUP && d.plural === plural);
  assert.ok(def, `${plural} is defined`);
  return def;
}

function errors(def: ResourceDef, object: KubeObject, old?: KubeObject): string[] {
  def.defaults?.(object);
  if (!old) def.prepareForCreate?.(object);
  return (def.validate?.(object, old) ?? []).map((e: FieldError) => `${e.type} ${e.field}: ${e.message}`);
}

function cells(def: ResourceDef, object: KubeObject): Record<string, unknown> {
  return Object.fromEntries(def.printerColumns.map((c) => [c.name, c.cell(object, now)]));
}

test('RBAC kinds: scope, names and columns as upstream', () => {
  const shape = (plural: string) => {
    const def = kind(plural);
    return [def.kind, def.namespaced, def.shortNames.join(','), def.printerColumns.map((c) => (c.priority ? `(${c.name})` : c.name)).join(' ')];
  };
  assert.deepEqual(shape('roles'), ['Role', true, '', 'Created At']);
  assert.deepEqual(shape('clusterroles'), ['ClusterRole', false, '', 'Created At']);
  assert.deepEqual(shape('rolebindings'), ['RoleBinding', true, '', 'Role Age (Users) (Groups) (ServiceAccounts)']);
  assert.deepEqual(shape('clusterrolebindings'), ['ClusterRoleBinding', false, '', 'Role Age (Users) (Groups) (ServiceAccounts)']);
});

test('a binding gets the RBAC API group on its roleRef and on user and group subjects', () => {
  const binding: KubeObject = {
    metadata: { name: 'rb' },
    roleRef: { kind: 'Role', name: 'reader' },
    subjects: [{ kind: 'User', name: 'alice' }, { kind: 'Group', name: 'devs' }, { kind: 'ServiceAccount', name: 'default' }],
  };
  assert.deepEqual(errors(kind('rolebindings'), binding), []);
  assert.deepEqual(binding.roleRef, { kind: 'Role', name: 'reader', apiGroup: GROUP });
  assert.deepEqual(binding.subjects, [
    { kind: 'User', name: 'alice', apiGroup: GROUP },
    { kind: 'Group', name: 'devs', apiGroup: GROUP },
    { kind: 'ServiceAccount', name: 'default', apiGroup: '' },
  ]);
});

test('policy rules need verbs and either resources or (cluster roles only) non-resource URLs', () => {
  const rules = [
    { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] },
    { resources: ['pods', 'services'], resourceNames: ['web'] },
    { verbs: ['get'], nonResourceURLs: ['/healthz'] },
    { verbs: ['get'], nonResourceURLs: ['/metrics'], resources: ['pods'] },
  ];
  assert.deepEqual(errors(kind('roles'), { metadata: { name: 'r' }, rules: structuredClone(rules) }), [
    'FieldValueRequired rules[1].verbs: Required value: verbs must contain at least one value',
    'FieldValueRequired rules[1].apiGroups: Required value: resource rules must supply at least one api group',
    'FieldValueRequired rules[1].resourceNames: Required value: resource names cannot apply to multiple resources',
    'FieldValueInvalid rules[2].nonResourceURLs: Invalid value: ["/healthz"]: namespaced rules cannot apply to non-resource URLs',
    'FieldValueInvalid rules[3].nonResourceURLs: Invalid value: ["/metrics"]: namespaced rules cannot apply to non-resource URLs',
    'FieldValueInvalid rules[3].nonResourceURLs: Invalid value: ["/metrics"]: rules cannot apply to both regular resources and non-resource URLs',
  ]);
  assert.deepEqual(errors(kind('clusterroles'), { metadata: { name: 'r' }, rules: structuredClone(rules).slice(2) }), [
    'FieldValueInvalid rules[1].nonResourceURLs: Invalid value: ["/metrics"]: rules cannot apply to both regular resources and non-resource URLs',
  ]);
  assert.deepEqual(errors(kind('clusterroles'), { metadata: { name: 'agg' }, aggregationRule: { clusterRoleSelectors: [] } }), [
    'FieldValueRequired aggregationRule.clusterRoleSelectors: Required value: at least one clusterRoleSelector required if aggregationRule is non-nil',
  ]);
});

test('bindings check the roleRef and each subject with upstream paths', () => {
  assert.deepEqual(
    errors(kind('clusterrolebindings'), {
      metadata: { name: 'crb' },
      roleRef: { apiGroup: 'example.com', kind: 'Role', name: '' },
      subjects: [{ kind: 'ServiceAccount', name: 'builder' }, { kind: 'User', name: '' }, { kind: 'Robot', name: 'r2' }, { kind: 'ServiceAccount', name: 'Bad', namespace: 'ci', apiGroup: 'x' }],
    }),
    [
      'FieldValueNotSupported roleRef.apiGroup: Unsupported value: "example.com": supported values: "rbac.authorization.k8s.io"',
      'FieldValueNotSupported roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"',
      'FieldValueRequired roleRef.name: Required value',
      'FieldValueRequired subjects[0].namespace: Required value',
      'FieldValueRequired subjects[1].name: Required value',
      'FieldValueInvalid subjects[1].name: Invalid value: "": user name cannot be empty',
      'FieldValueNotSupported subjects[2].kind: Unsupported value: "Robot": supported values: "ServiceAccount", "User", "Group"',
      'FieldValueInvalid subjects[3].name: Invalid value: "Bad": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, \'-\' or \'.\', and must start and end with an alphanumeric character (e.g. \'example.com\', regex used for validation is \'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\')',
      'FieldValueNotSupported subjects[3].apiGroup: Unsupported value: "x": supported values: ""',
    ],
  );
  // In a RoleBinding a service account without namespace means the binding's own.
  assert.deepEqual(errors(kind('rolebindings'), { metadata: { name: 'rb' }, roleRef: { kind: 'ClusterRole', name: 'view' }, subjects: [{ kind: 'ServiceAccount', name: 'default' }] }), []);
});

test('a binding\'s roleRef cannot change', () => {
  const def = kind('rolebindings');
  const stored: KubeObject = { metadata: { name: 'rb' }, roleRef: { apiGroup: GROUP, kind: 'Role', name: 'reader' } };
  assert.deepEqual(errors(def, { metadata: { name: 'rb' }, roleRef: { kind: 'Role', name: 'reader' }, subjects: [{ kind: 'User', name: 'bob' }] }, stored), []);
  assert.deepEqual(errors(def, { metadata: { name: 'rb' }, roleRef: { kind: 'Role', name: 'writer' } }, stored), [
    'FieldValueInvalid roleRef: Invalid value: {"kind":"Role","name":"writer","apiGroup":"rbac.authorization.k8s.io"}: cannot change roleRef',
  ]);
});

test('binding cells: kind/name of the role, subjects by kind in the wide columns', () => {
  const binding = {
    metadata: { name: 'rb', creationTimestamp: '2024-05-01T11:00:00Z' },
    roleRef: { apiGroup: GROUP, kind: 'ClusterRole', name: 'edit' },
    subjects: [
      { kind: 'User', name: 'alice' },
      { kind: 'User', name: 'bob' },
      { kind: 'Group', name: 'devs' },
      { kind: 'ServiceAccount', name: 'builder', namespace: 'ci' },
      { kind: 'ServiceAccount', name: 'default' },
    ],
  };
  assert.deepEqual(cells(kind('rolebindings'), binding), {
    Role: 'ClusterRole/edit', Age: '60m', Users: 'alice, bob', Groups: 'devs', ServiceAccounts: 'ci/builder, /default',
  });
  assert.deepEqual(cells(kind('roles'), { metadata: { name: 'r', creationTimestamp: '2024-05-01T11:00:00Z' } }), { 'Created At': '2024-05-01T11:00:00Z' });
});
