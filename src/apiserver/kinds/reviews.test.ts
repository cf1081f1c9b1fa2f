import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../resource.ts';
import { builtinKinds, reviewKinds } from './index.ts';

function review(plural: string) {
  const def = reviewKinds.find((d) => d.plural === plural);
  assert.ok(def, `${plural} is defined`);
  return def;
}

test('the review kinds are upstream\'s, and never among the stored kinds', () => {
  assert.deepEqual(
    reviewKinds.map((d) => `${d.group}/${d.version} ${d.kind} ${d.plural} ${d.namespaced ? 'namespaced' : 'cluster'}`),
    [
      'authentication.k8s.io/v1 TokenReview tokenreviews cluster',
      'authentication.k8s.io/v1 SelfSubjectReview selfsubjectreviews cluster',
      'authorization.k8s.io/v1 LocalSubjectAccessReview localsubjectaccessreviews namespaced',
      'authorization.k8s.io/v1 SelfSubjectAccessReview selfsubjectaccessreviews cluster',
      'authorization.k8s.io/v1 SelfSubjectRulesReview selfsubjectrulesreviews cluster',
      'authorization.k8s.io/v1 SubjectAccessReview subjectaccessreviews cluster',
    ],
  );
  const stored = new Set(builtinKinds.map((d) => d.group));
  for (const def of reviewKinds) assert.ok(!stored.has(def.group), `${def.group} is not served by the object store`);
});

test('access reviews ask about exactly one of resource and non-resource attributes, for someone', () => {
  const problems = (plural: string, object: KubeObject) => (review(plural).validate?.(object, undefined) ?? []).map((e) => `${e.field}: ${e.message}`);
  assert.deepEqual(problems('subjectaccessreviews', { spec: {} }), [
    'spec.resourceAttributes: Invalid value: null: exactly one of nonResourceAttributes or resourceAttributes must be specified',
    'spec.user: Invalid value: "": at least one of user or group must be specified',
  ]);
  assert.deepEqual(problems('subjectaccessreviews', { spec: { user: 'alice', resourceAttributes: { verb: 'get', resource: 'pods' } } }), []);
  assert.deepEqual(problems('selfsubjectaccessreviews', { spec: { resourceAttributes: {}, nonResourceAttributes: { path: '/healthz', verb: 'get' } } }), [
    'spec.nonResourceAttributes: Invalid value: {"path":"/healthz","verb":"get"}: cannot be specified in combination with resourceAttributes',
  ]);
  assert.deepEqual(problems('localsubjectaccessreviews', { metadata: { namespace: 'shop' }, spec: { groups: ['devs'], resourceAttributes: { namespace: 'other', verb: 'list' } } }), [
    'spec.resourceAttributes.namespace: Invalid value: "other": must match metadata.namespace',
  ]);
});
