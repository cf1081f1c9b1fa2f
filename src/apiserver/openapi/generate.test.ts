import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { generateSchemas } from './generate.ts';
import type { Schema } from './schema.ts';

const root = join(import.meta.dirname, '..', '..', '..');
const committed = join(import.meta.dirname, 'generated');

describe('generated OpenAPI schemas', () => {
  const files = generateSchemas();
  const schemas = new Map<string, Schema>();
  for (const text of files.values()) for (const [name, schema] of Object.entries(JSON.parse(text) as Record<string, Schema>)) schemas.set(name, schema);
  const schema = (name: string) => {
    const found = schemas.get(name);
    assert.ok(found, `${name} is generated`);
    return found;
  };
  const property = (name: string, field: string) => {
    const found = (schema(name).properties as Record<string, Schema> | undefined)?.[field];
    assert.ok(found, `${name} has ${field}`);
    return found;
  };

  it('names kinds as upstream does and marks them with their group, version and kind', () => {
    const deployment = schema('io.k8s.api.apps.v1.Deployment');
    assert.equal(deployment.type, 'object');
    assert.deepEqual(deployment['x-kubernetes-group-version-kind'], [{ group: 'apps', kind: 'Deployment', version: 'v1' }]);
    assert.deepEqual(schema('io.k8s.api.core.v1.Pod')['x-kubernetes-group-version-kind'], [{ group: '', kind: 'Pod', version: 'v1' }]);
    assert.deepEqual(schema('io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition')['x-kubernetes-group-version-kind'], [
      { group: 'apiextensions.k8s.io', kind: 'CustomResourceDefinition', version: 'v1' },
    ]);
    assert.equal(schema('io.k8s.api.apps.v1.DeploymentSpec')['x-kubernetes-group-version-kind'], undefined, 'not a kind');
  });

  it('refers to named types, describing the reference', () => {
    assert.deepEqual(property('io.k8s.api.apps.v1.Deployment', 'metadata'), {
      allOf: [{ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' }],
      description: "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata",
    });
    const containers = property('io.k8s.api.core.v1.PodSpec', 'containers');
    assert.equal(containers.type, 'array');
    assert.deepEqual(containers.items, { $ref: '#/components/schemas/io.k8s.api.core.v1.Container' });
    const labels = property('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', 'labels');
    assert.deepEqual(labels.additionalProperties, { type: 'string' });
  });

  it('types int-or-string fields, quantities and times as upstream', () => {
    const maxSurge = property('io.k8s.api.apps.v1.RollingUpdateDeployment', 'maxSurge');
    assert.deepEqual(maxSurge.allOf, [{ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.util.intstr.IntOrString' }]);
    assert.match(String(maxSurge.description), /^The maximum number of pods that can be scheduled above the desired number of pods/);
    const intOrString = schema('io.k8s.apimachinery.pkg.util.intstr.IntOrString');
    assert.equal(intOrString['x-kubernetes-int-or-string'], true);
    assert.equal(intOrString.format, 'int-or-string');
    assert.deepEqual(schema('io.k8s.apimachinery.pkg.api.resource.Quantity').oneOf, [{ type: 'string' }, { type: 'number' }]);
    const time = schema('io.k8s.apimachinery.pkg.apis.meta.v1.Time');
    assert.equal(time.type, 'string');
    assert.equal(time.format, 'date-time');
  });

  it('takes descriptions and required fields from the declarations', () => {
    assert.equal(schema('io.k8s.api.apps.v1.Deployment').description, 'Deployment enables declarative updates for Pods and ReplicaSets.');
    assert.match(String(property('io.k8s.api.core.v1.Container', 'image').description), /^Container image name\./);
    assert.deepEqual(schema('io.k8s.api.core.v1.Container').required, ['name']);
    assert.equal(schema('io.k8s.api.apps.v1.Deployment').required, undefined);
    // Every kind is described (a few helper types have no documentation upstream either).
    const undescribed = [...schemas].filter(([, s]) => s['x-kubernetes-group-version-kind'] && !s.description).map(([n]) => n);
    assert.deepEqual(undescribed, []);
  });

  it('formats numbers and bytes from the facts table', () => {
    assert.deepEqual(property('io.k8s.api.apps.v1.DeploymentSpec', 'replicas').format, 'int32');
    assert.deepEqual(property('io.k8s.api.apps.v1.DeploymentSpec', 'replicas').type, 'integer');
    assert.deepEqual(property('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', 'generation').format, 'int64');
    assert.deepEqual(property('io.k8s.api.core.v1.PodSecurityContext', 'supplementalGroups').items, { type: 'integer', format: 'int64' });
    assert.deepEqual(property('io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps', 'maximum').format, 'double');
    assert.deepEqual(property('io.k8s.api.core.v1.Secret', 'data').additionalProperties, { type: 'string', format: 'byte' });
  });

  it('leaves no reference dangling', () => {
    const dangling: string[] = [];
    const walk = (value: unknown, from: string) => {
      if (Array.isArray(value)) value.forEach((v) => walk(v, from));
      else if (value && typeof value === 'object') {
        for (const [key, v] of Object.entries(value)) {
          if (key === '$ref' && typeof v === 'string' && !schemas.has(v.replace('#/components/schemas/', ''))) dangling.push(`${from}: ${v}`);
          else walk(v, from);
        }
      }
    };
    for (const [name, s] of schemas) walk(s, name);
    assert.deepEqual(dangling, []);
  });

  it('matches the committed files (run scripts/generate-openapi.ts after upgrading kubernetes-types)', async () => {
    const out = await mkdtemp(join(tmpdir(), 'skiff-openapi-'));
    try {
      await promisify(execFile)(process.execPath, [join(root, 'scripts', 'generate-openapi.ts'), '--out', out]);
      const written = (await readdir(out)).sort();
      assert.deepEqual(written, [...files.keys()].sort());
      assert.deepEqual((await readdir(committed)).filter((f) => f.endsWith('.json')).sort(), written, 'the committed file set');
      for (const name of written) {
        const fresh = await readFile(join(out, name), 'utf8');
        assert.equal(fresh, files.get(name), `${name} is generated deterministically`);
        assert.ok(fresh === (await readFile(join(committed, name), 'utf8')), `generated/${name} is out of date: run node scripts/generate-openapi.ts`);
      }
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});
