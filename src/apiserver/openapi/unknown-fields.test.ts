import assert from 'node:assert/strict';
import { it } from 'node:test';
import { SchemaCatalog } from './catalog.ts';
import { pruneUnknownFields, unknownFields } from './unknown-fields.ts';

const catalog = SchemaCatalog.load();
const deployment = () => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', labels: { any: 'label' }, annotations: { 'a/b': 'c' } },
  spec: {
    replicas: 1,
    strategy: { rollingUpdate: { maxSurge: '25%' } },
    selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: { containers: [{ name: 'c', image: 'x', imagePullPolice: 'Always', ports: [{ containerPort: 80, protocl: 'TCP' }], resources: { limits: { cpu: '1' } } }] },
    },
  },
  status: { replicas: 1 },
});

it('finds fields a built-in schema does not define, with upstream paths', () => {
  const name = catalog.kindSchema('apps', 'v1', 'Deployment')!;
  assert.deepEqual(unknownFields(catalog, name, deployment()), [
    'spec.template.spec.containers[0].imagePullPolice',
    'spec.template.spec.containers[0].ports[0].protocl',
  ]);
  assert.deepEqual(unknownFields(catalog, name, { ...deployment(), spex: {} }), [
    'spec.template.spec.containers[0].imagePullPolice',
    'spec.template.spec.containers[0].ports[0].protocl',
    'spex',
  ]);
});

it('prunes them in place and leaves everything known', () => {
  const name = catalog.kindSchema('apps', 'v1', 'Deployment')!;
  const object = deployment();
  pruneUnknownFields(catalog, name, object);
  assert.deepEqual(object.spec.template.spec.containers[0], { name: 'c', image: 'x', ports: [{ containerPort: 80 }], resources: { limits: { cpu: '1' } } });
  assert.deepEqual(unknownFields(catalog, name, object), []);
  assert.deepEqual(object.metadata.labels, { any: 'label' });
});

it('leaves CRD schemas (JSONSchemaProps) alone', () => {
  const name = catalog.kindSchema('apiextensions.k8s.io', 'v1', 'CustomResourceDefinition')!;
  const crd = {
    spec: {
      group: 'example.com',
      names: { plural: 'ws', kind: 'W' },
      scope: 'Namespaced',
      versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
    },
  };
  assert.deepEqual(unknownFields(catalog, name, crd), []);
  pruneUnknownFields(catalog, name, crd);
  assert.equal(crd.spec.versions[0]!.schema.openAPIV3Schema['x-kubernetes-preserve-unknown-fields'], true);
});

it('leaves RawExtension contents alone and reports wrong JSON types as Go does', async () => {
  const { typeErrors } = await import('./unknown-fields.ts');
  const revision = catalog.kindSchema('apps', 'v1', 'ControllerRevision')!;
  const object = { metadata: { name: 'r' }, revision: 1, data: { spec: { template: { anything: true } } } };
  assert.deepEqual(unknownFields(catalog, revision, object), []);
  pruneUnknownFields(catalog, revision, object);
  assert.deepEqual(object.data, { spec: { template: { anything: true } } });
  const configMap = catalog.kindSchema('', 'v1', 'ConfigMap')!;
  assert.deepEqual(typeErrors(catalog, configMap, { data: [1, 2] }), ['json: cannot unmarshal array into Go struct field ConfigMap.data of type object']);
  assert.deepEqual(typeErrors(catalog, configMap, { data: { a: 1 } }), ['json: cannot unmarshal number into Go struct field ConfigMap.data.a of type string']);
  const pod = catalog.kindSchema('', 'v1', 'Pod')!;
  assert.deepEqual(typeErrors(catalog, pod, { spec: { containers: [{ name: 'c', resources: { limits: { cpu: 1, memory: '1Gi' } }, ports: [{ containerPort: 80, targetPort: 'http' }] }] } }), []);
  assert.deepEqual(typeErrors(catalog, pod, { metadata: { creationTimestamp: null }, spec: { containers: null } }), []);
});
