import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { CustomResourceDefinition } from 'kubernetes-types/apiextensions/v1.js';
import type { KubeObject, ResourceDef } from '../resource.ts';
import { resourceDefsFromCrd } from './resource-def.ts';

function crontabCrd(): CustomResourceDefinition {
  return parse(readFileSync(new URL('./testdata/crontab-crd.yaml', import.meta.url), 'utf8')) as CustomResourceDefinition;
}

function crontab(spec: Record<string, unknown>, extra: Partial<KubeObject> = {}): KubeObject {
  return {
    apiVersion: 'stable.example.com/v1',
    kind: 'CronTab',
    metadata: { name: 'my-new-cron-object', namespace: 'default', creationTimestamp: '2024-05-01T10:00:00Z' },
    spec,
    ...extra,
  };
}

function onlyDef(crd: CustomResourceDefinition): ResourceDef {
  const defs = resourceDefsFromCrd(crd);
  assert.equal(defs.length, 1);
  return defs[0]!;
}

describe('resourceDefsFromCrd', () => {
  it('serves the CronTab kind with its names, scope and subresources', () => {
    const def = onlyDef(crontabCrd());
    assert.deepEqual(
      {
        group: def.group,
        version: def.version,
        kind: def.kind,
        plural: def.plural,
        singular: def.singular,
        shortNames: def.shortNames,
        categories: def.categories,
        namespaced: def.namespaced,
        status: def.subresources.status,
        generation: def.generation,
      },
      {
        group: 'stable.example.com',
        version: 'v1',
        kind: 'CronTab',
        plural: 'crontabs',
        singular: 'crontab',
        shortNames: ['ct'],
        categories: [],
        namespaced: true,
        status: true,
        generation: true,
      },
    );
  });

  it('prints the additional printer columns as kubectl shows them', () => {
    const def = onlyDef(crontabCrd());
    const now = new Date('2024-05-01T10:05:00Z');
    const object = crontab({ cronSpec: '* * * * */5', replicas: 3 });
    assert.deepEqual(
      def.printerColumns.map((c) => [c.name, c.type, c.priority, c.cell(object, now)]),
      [
        ['Spec', 'string', 0, '* * * * */5'],
        ['Replicas', 'integer', 0, 3],
        ['Age', 'date', 0, '5m'],
      ],
    );
    assert.equal(def.printerColumns[0]!.description, 'The cron spec defining the interval a CronJob is run');
    assert.equal(def.printerColumns[2]!.description, 'Custom resource definition column (in JSONPath format): .metadata.creationTimestamp');
    assert.equal(def.printerColumns[1]!.cell(crontab({}), now), null);
  });

  it('shows AGE when a version declares no columns, and wide columns with -o wide', () => {
    const crd = crontabCrd();
    const version = crd.spec.versions[0]!;
    delete version.additionalPrinterColumns;
    const def = onlyDef(crd);
    assert.deepEqual(def.printerColumns.map((c) => [c.name, c.type, c.cell(crontab({}), new Date('2024-05-03T10:00:00Z'))]), [['Age', 'date', '2d']]);

    version.additionalPrinterColumns = [{ name: 'Image', type: 'string', jsonPath: '.spec.image', priority: 1 }];
    assert.deepEqual(onlyDef(crd).printerColumns.map((c) => [c.name, c.priority]), [['Image', 1]]);
  });

  it('reads and writes replicas through the scale paths', () => {
    const scale = onlyDef(crontabCrd()).subresources.scale!;
    const object = crontab({ replicas: 3 }, { status: { replicas: 2, labelSelector: 'app=cron' } });
    assert.equal(scale.specReplicas(object), 3);
    assert.equal(scale.statusReplicas(object), 2);
    assert.equal(scale.selector(object), 'app=cron');
    const scaled = scale.setSpecReplicas(object, 5);
    assert.equal((scaled.spec as { replicas: number }).replicas, 5);
    assert.equal((object.spec as { replicas: number }).replicas, 3, 'the original is untouched');
    const bare = crontab({});
    delete bare.spec;
    assert.deepEqual([scale.specReplicas(bare), scale.statusReplicas(bare), scale.selector(bare)], [0, 0, '']);
    assert.deepEqual(scale.setSpecReplicas(bare, 2).spec, { replicas: 2 });
  });

  it('defaults by pruning unknown fields, then filling schema defaults', () => {
    const def = onlyDef(crontabCrd());
    const object = crontab({ cronSpec: '* * * * */5', unknown: 'x', extra: { anything: 1 } }, { status: { replicas: 1, bogus: true } });
    def.defaults!(object);
    assert.deepEqual(object.spec, { cronSpec: '* * * * */5', extra: { anything: 1 }, replicas: 1, size: 'S' });
    assert.deepEqual(object.status, { replicas: 1 });
    assert.deepEqual(object.metadata?.name, 'my-new-cron-object');
  });

  it('validates against the schema and checks the scale paths are integers', () => {
    const def = onlyDef(crontabCrd());
    const messages = (object: KubeObject) => def.validate!(object, undefined).map((e) => `${e.field}: ${e.message}`);
    assert.deepEqual(messages(crontab({ cronSpec: '* * * * */5', replicas: 3 })), []);
    assert.deepEqual(messages(crontab({ replicas: 'three', size: 'XL' })), [
      'spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"',
      'spec.size: Unsupported value: "XL": supported values: "S", "M"',
      '.spec.replicas: Invalid value: 0: .spec.replicas accessor error: three is of the type string, expected int64',
    ]);
    assert.deepEqual(messages(crontab({ replicas: 1 }, { status: { replicas: -1, labelSelector: 7 } })), [
      'status.labelSelector: Invalid value: "integer": status.labelSelector in body must be of type string: "integer"',
      '.status.replicas: Invalid value: -1: should be a non-negative integer',
      '.status.labelSelector: Invalid value: "": .status.labelSelector accessor error: 7 is of the type int64, expected string',
    ]);
  });

  it('drops status on create when status is a subresource', () => {
    const def = onlyDef(crontabCrd());
    const object = crontab({}, { status: { replicas: 4 } });
    def.prepareForCreate!(object);
    assert.equal(object.status, undefined);
  });

  it('serves only served versions, each with its own schema; cluster scope', () => {
    const crd = crontabCrd();
    crd.spec.scope = 'Cluster';
    const v1 = crd.spec.versions[0]!;
    v1.storage = false;
    crd.spec.versions.push(
      { name: 'v2', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { image: { type: 'integer' } } } } } } },
      { name: 'v0', served: false, storage: false, schema: v1.schema! },
    );
    const defs = resourceDefsFromCrd(crd);
    assert.deepEqual(defs.map((d) => [d.version, d.namespaced, Boolean(d.subresources.status)]), [['v1', false, true], ['v2', false, false]]);
    const image = crontab({ image: 'x' });
    assert.deepEqual(defs.map((d) => d.validate!(image, undefined).length), [0, 1]);
    assert.equal(defs[1]!.prepareForCreate, undefined);
  });

  it('turns selectable fields into field selectors', () => {
    const crd = crontabCrd();
    crd.spec.versions[0]!.selectableFields = [{ jsonPath: '.spec.image' }, { jsonPath: '.spec.replicas' }];
    const selectors = onlyDef(crd).fieldSelectors!;
    const object = crontab({ image: 'nginx', replicas: 2 });
    assert.deepEqual(Object.keys(selectors), ['spec.image', 'spec.replicas']);
    assert.deepEqual([selectors['spec.image']!(object), selectors['spec.replicas']!(object), selectors['spec.image']!(crontab({}))], ['nginx', '2', '']);
  });
});
