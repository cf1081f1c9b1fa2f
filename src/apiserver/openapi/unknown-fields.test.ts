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
