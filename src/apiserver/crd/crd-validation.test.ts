import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { FieldError } from '../resource.ts';
import { validateCustomResourceDefinition } from './crd-validation.ts';

/** CRDs as tests edit them: plain JSON, reached into freely. */
type Json = Record<string, any>;

/** The docs' CronTab CRD as the server holds it on create: defaulted, stored version recorded. */
function crontab(): Json {
  const crd = parse(readFileSync(new URL('./testdata/crontab-crd.yaml', import.meta.url), 'utf8')) as Json;
  crd.spec.names.listKind = 'CronTabList';
  crd.spec.conversion = { strategy: 'None' };
  crd.status = { storedVersions: ['v1'] };
  return crd;
}

/** A minimal valid CRD for `widgets.example.com`, changed by `edit`. */
function widget(edit: (crd: Json) => void = () => {}): Json {
  const crd: Json = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'widgets.example.com' },
    spec: {
      group: 'example.com',
      scope: 'Namespaced',
      names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
      conversion: { strategy: 'None' },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { size: { type: 'string' } } } } } },
        },
      ],
    },
    status: { storedVersions: ['v1'] },
  };
  edit(crd);
  return crd;
}

const lines = (errors: FieldError[]) => errors.map((e) => `${e.field}: ${e.message}`);
const schemaOf = (crd: Json, i = 0) => crd.spec.versions[i].schema.openAPIV3Schema;

const DNS1035 =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";

describe('validateCustomResourceDefinition on create', () => {
  it('accepts the CronTab CRD of the Kubernetes docs', () => {
    assert.deepEqual(lines(validateCustomResourceDefinition(crontab(), undefined)), []);
  });

  const cases: [string, (crd: Json) => void, string[]][] = [
    [
      'a name other than <plural>.<group>',
      (c) => (c.metadata.name = 'widget.example.com'),
      ['metadata.name: Invalid value: "widget.example.com": must be spec.names.plural+"."+spec.group'],
    ],
    ['a group without a dot', (c) => ((c.spec.group = 'example'), (c.metadata.name = 'widgets.example')), ['spec.group: Invalid value: "example": should be a domain with at least one dot']],
    ['no group', (c) => (c.spec.group = ''), ['metadata.name: Invalid value: "widgets.example.com": must be spec.names.plural+"."+spec.group', 'spec.group: Required value']],
    ['an unknown scope', (c) => (c.spec.scope = 'Global'), ['spec.scope: Unsupported value: "Global": supported values: "Cluster", "Namespaced"']],
    ['no scope', (c) => delete c.spec.scope, ['spec.scope: Required value']],
    [
      'two storage versions',
      (c) => c.spec.versions.push({ ...c.spec.versions[0], name: 'v2' }),
      [
        'spec.versions: Invalid value: []interface {}{"v1", "v2"}: must have exactly one version marked as storage version',
        'status.storedVersions: Invalid value: []string{"v1"}: must have the storage version v2',
      ],
    ],
    [
      'no storage version',
      (c) => (c.spec.versions[0].storage = false),
      [
        'spec.versions: Invalid value: []interface {}{"v1"}: must have exactly one version marked as storage version',
      ],
    ],
    [
      'no versions',
      (c) => (c.spec.versions = []),
      [
        'spec.versions: Invalid value: []interface {}{}: must have exactly one version marked as storage version',
        'status.storedVersions[0]: Invalid value: "v1": missing from spec.versions; v1 was previously a storage version, and must remain in spec.versions until a storage migration ensures no data remains persisted in v1 and removes v1 from status.storedVersions',
      ],
    ],
    [
      'a version name that is not a DNS-1035 label',
      (c) => ((c.spec.versions[0].name = 'V1'), (c.status.storedVersions = ['V1'])),
      [`spec.versions[0].name: Invalid value: "V1": ${DNS1035}`],
    ],
    [
      'a duplicate version name',
      (c) => c.spec.versions.push({ ...c.spec.versions[0], storage: false }),
      ['spec.versions: Invalid value: []interface {}{"v1", "v1"}: must contain unique version names'],
    ],
    [
      'a kind that is not CamelCase-able',
      (c) => ((c.spec.names.kind = 'Wid_get'), (c.spec.names.listKind = 'Wid_getList')),
      [
        `spec.names.kind: Invalid value: "Wid_get": may have mixed case, but should otherwise match: ${DNS1035}`,
        `spec.names.listKind: Invalid value: "Wid_getList": may have mixed case, but should otherwise match: ${DNS1035}`,
      ],
    ],
    ['an upper-case plural', (c) => ((c.spec.names.plural = 'Widgets'), (c.metadata.name = 'Widgets.example.com')), [`spec.names.plural: Invalid value: "Widgets": ${DNS1035}`]],
    ['kind equal to listKind', (c) => (c.spec.names.listKind = 'Widget'), ['spec.names.listKind: Invalid value: "Widget": kind and listKind may not be the same']],
    ['missing names', (c) => (c.spec.names = { plural: 'widgets' }), ['spec.names.singular: Required value', 'spec.names.kind: Required value', 'spec.names.listKind: Required value']],
    ['a bad short name', (c) => (c.spec.names.shortNames = ['w', 'W!']), [`spec.names.shortNames[1]: Invalid value: "W!": ${DNS1035}`]],
    ['no schema', (c) => delete c.spec.versions[0].schema, ['spec.versions[0].schema.openAPIV3Schema: Required value: schemas are required']],
    [
      'a non-structural schema (a property without type), named under spec.validation for one version',
      (c) => (schemaOf(c).properties.spec = { properties: { size: { type: 'string' } } }),
      ['spec.validation.openAPIV3Schema.properties[spec].type: Required value: must not be empty for specified object fields'],
    ],
    [
      'a root without type',
      (c) => delete schemaOf(c).type,
      ['spec.validation.openAPIV3Schema.type: Required value: must not be empty at the root'],
    ],
    [
      'array items without type',
      (c) => (schemaOf(c).properties.spec.properties.list = { type: 'array', items: {} }),
      ['spec.validation.openAPIV3Schema.properties[spec].properties[list].items.type: Required value: must not be empty for specified array items'],
    ],
    [
      'an array without items',
      (c) => (schemaOf(c).properties.spec.properties.list = { type: 'array' }),
      ['spec.validation.openAPIV3Schema.properties[spec].properties[list].items: Required value: must be specified'],
    ],
    [
      'a type inside anyOf',
      (c) => (schemaOf(c).properties.spec.properties.size.anyOf = [{ type: 'string' }, { type: 'boolean' }]),
      [
        'spec.validation.openAPIV3Schema.properties[spec].properties[size].anyOf[0].type: Forbidden: must be empty to be structural',
        'spec.validation.openAPIV3Schema.properties[spec].properties[size].anyOf[1].type: Forbidden: must be empty to be structural',
      ],
    ],
    [
      'metadata constraints beyond name',
      (c) => (schemaOf(c).properties.metadata = { type: 'object', properties: { labels: { type: 'object' } } }),
      ['spec.validation.openAPIV3Schema.properties[metadata]: Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified'],
    ],
    [
      'a default that does not validate',
      (c) => (schemaOf(c).properties.spec.properties.size.default = 5),
      ['spec.validation.openAPIV3Schema.properties[spec].properties[size].default: Invalid value: "integer":  in body must be of type string: "integer"'],
    ],
    [
      'a default with unknown fields',
      (c) => (schemaOf(c).properties.spec.default = { size: 'M', color: 'red' }),
      ['spec.validation.openAPIV3Schema.properties[spec].default: Invalid value: map[string]interface {}{"color":"red", "size":"M"}: must not have unknown fields'],
    ],
    [
      'a default in top-level metadata',
      (c) => (schemaOf(c).properties.metadata = { type: 'object', default: { name: 'x' } }),
      ['spec.validation.openAPIV3Schema.properties[metadata].default: Forbidden: must not be set in top-level metadata'],
    ],
    ['uniqueItems', (c) => (schemaOf(c).properties.spec.properties.size = { type: 'array', uniqueItems: true, items: { type: 'string' } }), [
      'spec.validation.openAPIV3Schema.properties[spec].properties[size].uniqueItems: Forbidden: uniqueItems cannot be set to true since the runtime complexity becomes quadratic',
    ]],
    ['an unknown type', (c) => (schemaOf(c).properties.spec.properties.size.type = 'text'), [
      'spec.validation.openAPIV3Schema.properties[spec].properties[size].type: Unsupported value: "text": supported values: "array", "boolean", "integer", "number", "object", "string"',
    ]],
    ['a list-map without keys', (c) => (schemaOf(c).properties.spec.properties.size = { type: 'array', 'x-kubernetes-list-type': 'map', items: { type: 'object' } }), [
      'spec.validation.openAPIV3Schema.properties[spec].properties[size].x-kubernetes-list-map-keys: Required value: must not be empty if x-kubernetes-list-type is map',
    ]],
    ['an invalid pattern', (c) => (schemaOf(c).properties.spec.properties.size.pattern = '(unclosed'), [
      'spec.validation.openAPIV3Schema.properties[spec].properties[size].pattern: Invalid value: "(unclosed": must be a valid regular expression, but isn\'t: error parsing regexp: missing closing ): `(unclosed`',
    ]],
    [
      'status subresource with more than properties at the root',
      (c) => ((c.spec.versions[0].subresources = { status: {} }), (schemaOf(c).enum = [{}])),
      [
        'spec.validation.openAPIV3Schema: Invalid value: map[string]interface {}{"enum":[]interface {}{map[string]interface {}{}}, "properties":map[string]interface {}{"spec":map[string]interface {}{"properties":map[string]interface {}{"size":map[string]interface {}{"type":"string"}}, "type":"object"}}, "type":"object"}: only [Description Type Format Title Maximum ExclusiveMaximum Minimum ExclusiveMinimum MaxLength MinLength Pattern MaxItems MinItems UniqueItems MultipleOf Required Items Properties ExternalDocs Example XPreserveUnknownFields XValidations] fields are allowed at the root of the schema if the status subresource is enabled',
      ],
    ],
    [
      'a scale path outside .spec',
      (c) => (c.spec.versions[0].subresources = { scale: { specReplicasPath: '.status.replicas', statusReplicasPath: 'status.replicas' } }),
      [
        'spec.subresources.scale.specReplicasPath: Invalid value: ".status.replicas": should be a json path under .spec',
        'spec.subresources.scale.statusReplicasPath: Invalid value: "status.replicas": must be a simple json path starting with .',
      ],
    ],
    [
      'a printer column with no JSONPath and a bad type',
      (c) => (c.spec.versions[0].additionalPrinterColumns = [{ name: 'Size', type: 'text', jsonPath: '' }]),
      [
        'spec.additionalPrinterColumns[0].type: Invalid value: "text": must be one of boolean,date,integer,number,string',
        'spec.additionalPrinterColumns[0].JSONPath: Required value',
      ],
    ],
    [
      'a printer column JSONPath that does not parse',
      (c) => (c.spec.versions[0].additionalPrinterColumns = [{ name: 'Size', type: 'string', jsonPath: '.spec.sizes[x]' }]),
      ['spec.additionalPrinterColumns[0].JSONPath: Invalid value: ".spec.sizes[x]": must be a valid JSONPath: invalid array index x'],
    ],
    ['webhook conversion without a client config', (c) => (c.spec.conversion = { strategy: 'Webhook', webhook: { conversionReviewVersions: ['v1'] } }), [
      'spec.conversion.webhookClientConfig: Required value: required when strategy is set to Webhook',
    ]],
    ['no stored versions', (c) => (c.status = {}), ['status.storedVersions: Invalid value: []string(nil): must have at least one stored version']],
    [
      'a protected group without approval',
      (c) => ((c.spec.group = 'widgets.k8s.io'), (c.metadata.name = 'widgets.widgets.k8s.io')),
      ['metadata.annotations[api-approved.kubernetes.io]: Required value: protected groups must have approval annotation "api-approved.kubernetes.io", see https://github.com/kubernetes/enhancements/pull/1111'],
    ],
    [
      'a protected group with approval',
      (c) => ((c.spec.group = 'widgets.k8s.io'), (c.metadata.name = 'widgets.widgets.k8s.io'), (c.metadata.annotations = { 'api-approved.kubernetes.io': 'https://github.com/kubernetes/kubernetes/pull/1' })),
      [],
    ],
    ['preserveUnknownFields: true', (c) => (c.spec.preserveUnknownFields = true), [
      'spec.preserveUnknownFields: Invalid value: true: cannot set to true, set x-kubernetes-preserve-unknown-fields to true in openAPIV3Schema instead',
    ]],
  ];
  for (const [name, edit, expected] of cases) {
    it(`rejects ${name}`, () => assert.deepEqual(lines(validateCustomResourceDefinition(widget(edit), undefined)), expected));
  }

  it('names per-version schema errors by version when the versions differ', () => {
    const crd = widget((c) => {
      const v2 = structuredClone(c.spec.versions[0]);
      v2.name = 'v2';
      v2.storage = false;
      v2.schema.openAPIV3Schema.properties.spec.properties.color = { description: 'no type' };
      c.spec.versions.push(v2);
    });
    assert.deepEqual(lines(validateCustomResourceDefinition(crd, undefined)), [
      'spec.versions[1].schema.openAPIV3Schema.properties[spec].properties[color].type: Required value: must not be empty for specified object fields',
    ]);
  });

  it('accepts int-or-string, preserve-unknown-fields and embedded resources without a type', () => {
    const crd = widget((c) => {
      Object.assign(schemaOf(c).properties.spec.properties, {
        port: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] },
        raw: { 'x-kubernetes-preserve-unknown-fields': true },
        template: { type: 'object', 'x-kubernetes-embedded-resource': true, 'x-kubernetes-preserve-unknown-fields': true },
      });
    });
    assert.deepEqual(lines(validateCustomResourceDefinition(crd, undefined)), []);
  });
});

describe('validateCustomResourceDefinition on update', () => {
  it('keeps spec.group and spec.names.plural', () => {
    const old = widget();
    const changed = widget((c) => {
      c.spec.group = 'example.org';
      c.spec.names.plural = 'gadgets';
      c.metadata.name = 'gadgets.example.org';
    });
    assert.deepEqual(lines(validateCustomResourceDefinition(changed, old)), [
      'spec.group: Invalid value: "example.org": field is immutable',
      'spec.names.plural: Invalid value: "gadgets": field is immutable',
    ]);
  });

  it('freezes scope and kind once established, not before', () => {
    const changed = widget((c) => ((c.spec.scope = 'Cluster'), (c.spec.names.kind = 'Gadget'), (c.spec.names.listKind = 'GadgetList')));
    const established = widget((c) => (c.status.conditions = [{ type: 'Established', status: 'True' }]));
    assert.deepEqual(lines(validateCustomResourceDefinition(changed, established)), [
      'spec.scope: Invalid value: "Cluster": field is immutable',
      'spec.names.kind: Invalid value: "Gadget": field is immutable',
    ]);
    const notYet = widget((c) => (c.status.conditions = [{ type: 'Established', status: 'False' }]));
    assert.deepEqual(lines(validateCustomResourceDefinition(changed, notYet)), []);
  });

  it('rejects dropping a stored version from spec.versions', () => {
    const old = widget((c) => {
      c.spec.versions.push({ ...structuredClone(c.spec.versions[0]), name: 'v2', storage: false });
      c.status.storedVersions = ['v1', 'v2'];
    });
    const dropped = widget((c) => (c.status.storedVersions = ['v1', 'v2']));
    assert.deepEqual(lines(validateCustomResourceDefinition(dropped, old)), [
      'status.storedVersions[1]: Invalid value: "v2": missing from spec.versions; v2 was previously a storage version, and must remain in spec.versions until a storage migration ensures no data remains persisted in v2 and removes v2 from status.storedVersions',
    ]);
  });
});
