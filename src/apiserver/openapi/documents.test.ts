import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { resourceDefsFromCrd } from '../crd/index.ts';
import { builtinKinds, reviewKinds } from '../kinds/index.ts';
import { openapiV2, openapiV3GroupVersion, openapiV3Root } from '../openapi.ts';
import { ResourceRegistry } from '../registry.ts';
import type { Schema } from './schema.ts';

const CRD = parse(readFileSync(join(import.meta.dirname, '..', 'crd', 'testdata', 'crontab-crd.yaml'), 'utf8'));

interface V3Document {
  paths: Record<string, Record<string, { parameters: { name: string }[]; 'x-kubernetes-group-version-kind': unknown }>>;
  components: { schemas: Record<string, Schema> };
}

function v3(registry: ResourceRegistry, gvPath: string): V3Document {
  const text = openapiV3GroupVersion(registry, gvPath);
  assert.ok(text, `${gvPath} is served`);
  return JSON.parse(text) as V3Document;
}

/** Every `$ref` in `value`, with where it is. */
function refs(value: unknown, at = ''): [string, string][] {
  if (Array.isArray(value)) return value.flatMap((v, i) => refs(v, `${at}[${i}]`));
  if (!value || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) => (k === '$ref' && typeof v === 'string' ? [[at, v] as [string, string]] : refs(v, `${at}.${k}`)));
}

const props = (schema: Schema | undefined) => (schema?.properties ?? {}) as Record<string, Schema>;

describe('OpenAPI documents', () => {
  it('publish each group-version with the schemas its kinds reach, and nothing dangling', () => {
    const registry = new ResourceRegistry([...builtinKinds, ...reviewKinds]);
    const gvPaths = Object.keys(openapiV3Root(registry).paths as object);
    assert.ok(gvPaths.includes('api/v1') && gvPaths.includes('apis/apps/v1') && gvPaths.includes('apis/authorization.k8s.io/v1'));
    for (const gvPath of gvPaths) {
      const doc = v3(registry, gvPath);
      const schemas = doc.components.schemas;
      for (const [at, ref] of refs(schemas)) {
        assert.ok(schemas[ref.replace('#/components/schemas/', '')], `${gvPath}: ${at} refers to ${ref}, which the document lacks`);
      }
      // Every served kind has its schema, found by group, version and kind as kubectl looks for it.
      const gv = gvPath === 'api/v1' ? ['', 'v1'] : gvPath.slice('apis/'.length).split('/');
      for (const def of registry.inGroupVersion(gv.join('/').replace(/^\//, ''))) {
        const gvk = { group: def.group, kind: def.kind, version: def.version };
        const found = Object.values(schemas).some((s) => (s['x-kubernetes-group-version-kind'] as unknown[] | undefined)?.some((g) => JSON.stringify(g) === JSON.stringify(gvk)));
        assert.ok(found, `${gvPath}: no schema for ${def.kind}`);
      }
    }
    const apps = v3(registry, 'apis/apps/v1').components.schemas;
    assert.ok(apps['io.k8s.api.apps.v1.Deployment'] && apps['io.k8s.api.apps.v1.DeploymentList']);
    assert.ok(apps['io.k8s.api.core.v1.PodSpec'] && apps['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta']);
    assert.ok(!apps['io.k8s.api.core.v1.Service'], 'only what apps/v1 reaches');
  });

  it('keep what kubectl relies on in the operations: fieldValidation and the group-version-kind on every PATCH', () => {
    const registry = new ResourceRegistry(builtinKinds);
    const doc = v3(registry, 'apis/apps/v1');
    const patch = doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}']!.patch!;
    assert.ok(patch.parameters.some((p) => p.name === 'fieldValidation'));
    assert.deepEqual(patch['x-kubernetes-group-version-kind'], { group: 'apps', version: 'v1', kind: 'Deployment' });
  });

  it('mark the lists strategic merge patch merges, with upstream extensions', () => {
    const registry = new ResourceRegistry(builtinKinds);
    const schemas = v3(registry, 'apis/apps/v1').components.schemas;
    const containers = props(schemas['io.k8s.api.core.v1.PodSpec']).containers!;
    assert.equal(containers['x-kubernetes-patch-strategy'], 'merge');
    assert.equal(containers['x-kubernetes-patch-merge-key'], 'name');
    assert.equal(props(schemas['io.k8s.api.core.v1.PodSpec']).volumes!['x-kubernetes-patch-strategy'], 'merge,retainKeys');
    assert.equal(props(schemas['io.k8s.api.core.v1.Container']).ports!['x-kubernetes-patch-merge-key'], 'containerPort');
    assert.equal(props(schemas['io.k8s.api.apps.v1.DeploymentSpec']).strategy!['x-kubernetes-patch-strategy'], 'retainKeys');
    assert.equal(props(schemas['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta']).ownerReferences!['x-kubernetes-patch-merge-key'], 'uid');
    assert.equal(props(schemas['io.k8s.api.core.v1.PodSpec']).tolerations!['x-kubernetes-patch-strategy'], undefined, 'atomic upstream');
  });

  it('follow custom resources as they are served and withdrawn, rebuilding once per change', () => {
    const registry = new ResourceRegistry(builtinKinds);
    const rootBefore = openapiV3Root(registry);
    assert.equal(openapiV3Root(registry), rootBefore, 'cached until the registry changes');
    assert.equal(openapiV3GroupVersion(registry, 'apis/stable.example.com/v1'), undefined);
    const [def] = resourceDefsFromCrd(CRD);
    registry.add(def!);

    const rootServed = openapiV3Root(registry);
    assert.notEqual(rootServed, rootBefore);
    assert.match(JSON.stringify(rootServed), /"apis\/stable\.example\.com\/v1":\{"serverRelativeURL":"\/openapi\/v3\/apis\/stable\.example\.com\/v1\?hash=[0-9A-F]{32}"/);
    const schemas = v3(registry, 'apis/stable.example.com/v1').components.schemas;
    const cronTab = schemas['com.example.stable.v1.CronTab']!;
    assert.deepEqual(cronTab['x-kubernetes-group-version-kind'], [{ group: 'stable.example.com', kind: 'CronTab', version: 'v1' }]);
    assert.deepEqual(props(cronTab).metadata!.allOf, [{ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' }]);
    assert.deepEqual(props(props(cronTab).spec).size!.enum, ['S', 'M']);
    assert.ok(schemas['com.example.stable.v1.CronTabList'] && schemas['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta']);
    const v2 = JSON.parse(openapiV2(registry, false).body as string) as { definitions: Record<string, Schema> };
    assert.ok(v2.definitions['com.example.stable.v1.CronTab']);

    registry.remove(def!.group, def!.version, def!.plural);
    assert.equal(openapiV3GroupVersion(registry, 'apis/stable.example.com/v1'), undefined);
    assert.deepEqual(openapiV3Root(registry), rootBefore);
    assert.ok(!Object.hasOwn((JSON.parse(openapiV2(registry, false).body as string) as { definitions: object }).definitions, 'com.example.stable.v1.CronTab'));
  });

  it('publish v2 definitions kubectl can parse: v2 references, no $ref beside a type, items on every array', () => {
    const registry = new ResourceRegistry([...builtinKinds, ...resourceDefsFromCrd(CRD)]);
    const json = openapiV2(registry, false);
    assert.equal(json.contentType, 'application/json');
    const { definitions } = JSON.parse(json.body as string) as { definitions: Record<string, Schema> };
    const walk = (schema: Schema, at: string) => {
      if (typeof schema.$ref === 'string') {
        assert.ok(schema.$ref.startsWith('#/definitions/') && definitions[schema.$ref.slice('#/definitions/'.length)], `${at}: ${schema.$ref}`);
        assert.ok(schema.type === undefined && schema.properties === undefined, `${at}: $ref beside a type`);
      }
      if (schema.type === 'array') assert.ok(schema.items && typeof schema.items === 'object' && !Array.isArray(schema.items), `${at}: array without items`);
      for (const key of ['oneOf', 'anyOf', 'nullable']) assert.ok(!(key in schema), `${at}: ${key} is not Swagger 2.0`);
      for (const [name, sub] of Object.entries(props(schema))) walk(sub, `${at}.${name}`);
      if (schema.items) walk(schema.items as Schema, `${at}[]`);
      if (schema.additionalProperties && typeof schema.additionalProperties === 'object') walk(schema.additionalProperties as Schema, `${at}{}`);
    };
    for (const [name, schema] of Object.entries(definitions)) walk(schema, name);
    assert.deepEqual(definitions['io.k8s.api.apps.v1.DeploymentSpec']!.properties && props(definitions['io.k8s.api.apps.v1.DeploymentSpec']).strategy, {
      $ref: '#/definitions/io.k8s.api.apps.v1.DeploymentStrategy',
      description: 'The deployment strategy to use to replace existing pods with new ones.',
      'x-kubernetes-patch-strategy': 'retainKeys',
    });
    assert.deepEqual(definitions['io.k8s.apimachinery.pkg.util.intstr.IntOrString'], {
      format: 'int-or-string',
      'x-kubernetes-int-or-string': true,
      type: 'string',
    });

    const protobuf = openapiV2(registry, true);
    assert.equal(protobuf.contentType, 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf');
    assert.ok(protobuf.body instanceof Uint8Array);
    // Document.swagger (field 1) = "2.0" comes first.
    assert.deepEqual([...protobuf.body.subarray(0, 5)], [0x0a, 3, 0x32, 0x2e, 0x30]);
    assert.equal(openapiV2(registry, true).body, protobuf.body, 'encoded once');
  });
});
