import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../resource.ts';
import { customResourceDefinitionsKind as crds } from './apiextensions.ts';
import { builtinKinds } from './index.ts';

function widgetCrd(): KubeObject {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'widgets.example.com', creationTimestamp: '2024-05-01T10:00:00Z' },
    spec: {
      group: 'example.com',
      scope: 'Namespaced',
      names: { plural: 'widgets', kind: 'Widget' },
      versions: [
        { name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object' } } } } },
      ],
    },
  };
}

/** What the server does on create: defaults, prepareForCreate, validation. */
function create(object: KubeObject): string[] {
  crds.defaults!(object);
  crds.prepareForCreate!(object);
  return crds.validate!(object, undefined).map((e) => `${e.field}: ${e.message}`);
}

describe('CustomResourceDefinition kind', () => {
  it('is served as apiextensions.k8s.io/v1 customresourcedefinitions, cluster-scoped, crd/crds', () => {
    assert.ok(builtinKinds.includes(crds));
    assert.deepEqual(
      [crds.group, crds.version, crds.kind, crds.plural, crds.singular, crds.shortNames, crds.categories, crds.namespaced, crds.subresources.status, crds.generation],
      ['apiextensions.k8s.io', 'v1', 'CustomResourceDefinition', 'customresourcedefinitions', 'customresourcedefinition', ['crd', 'crds'], ['api-extensions'], false, true, true],
    );
  });

  it('lists as NAME and CREATED AT, as kubectl get crd shows', () => {
    assert.deepEqual(crds.printerColumns.map((c) => [c.name, c.type, c.cell(widgetCrd(), new Date())]), [['Created At', 'date', '2024-05-01T10:00:00Z']]);
  });

  it('defaults singular, listKind and conversion, records the storage version and validates', () => {
    const crd = widgetCrd();
    crd.status = { conditions: [{ type: 'Established', status: 'True' }] };
    assert.deepEqual(create(crd), []);
    const spec = crd.spec as { names: unknown; conversion: unknown };
    assert.deepEqual(spec.names, { plural: 'widgets', kind: 'Widget', singular: 'widget', listKind: 'WidgetList' });
    assert.deepEqual(spec.conversion, { strategy: 'None' });
    assert.deepEqual(crd.status, { storedVersions: ['v1'] }, 'a new CRD starts without conditions');
  });

  it('keeps what the client set and defaults a webhook service port', () => {
    const crd = widgetCrd();
    const spec = crd.spec as Record<string, any>;
    spec.names.singular = 'wdgt';
    spec.names.listKind = 'Widgets';
    spec.conversion = { strategy: 'Webhook', webhook: { clientConfig: { service: { name: 'conv', namespace: 'default' } }, conversionReviewVersions: ['v1'] } };
    crds.defaults!(crd);
    assert.equal(spec.names.singular, 'wdgt');
    assert.equal(spec.names.listKind, 'Widgets');
    assert.equal(spec.conversion.webhook.clientConfig.service.port, 443);
  });

  it('adds a new storage version to status.storedVersions on update', () => {
    const crd = widgetCrd();
    crd.status = { storedVersions: ['v1'] };
    const versions = (crd.spec as { versions: Record<string, unknown>[] }).versions;
    versions[0]!.storage = false;
    versions.push({ ...versions[0], name: 'v2', storage: true });
    crds.defaults!(crd);
    assert.deepEqual((crd.status as { storedVersions: string[] }).storedVersions, ['v1', 'v2']);
  });

  it('rejects a CRD whose name is not <plural>.<group> and a non-structural schema', () => {
    const crd = widgetCrd();
    crd.metadata!.name = 'widget.example.com';
    const spec = crd.spec as { versions: { schema: { openAPIV3Schema: Record<string, unknown> } }[] };
    spec.versions[0]!.schema.openAPIV3Schema.properties = { spec: { properties: { size: { type: 'string' } } } };
    assert.deepEqual(create(crd), [
      'metadata.name: Invalid value: "widget.example.com": must be spec.names.plural+"."+spec.group',
      'spec.validation.openAPIV3Schema.properties[spec].type: Required value: must not be empty for specified object fields',
    ]);
  });
});
