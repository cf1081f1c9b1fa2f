/**
 * The component schemas of a custom resource, as upstream publishes a served CRD version:
 * `<reversed group>.<version>.<Kind>` (`com.example.stable.v1.CronTab`) is the version's
 * `openAPIV3Schema` with the standard `apiVersion`, `kind` and `metadata` fields (metadata
 * referring to ObjectMeta), and `<Kind>List` lists them; both carry
 * `x-kubernetes-group-version-kind`.
 */
import type { ResourceDef } from '../resource.ts';
import type { SchemaCatalog } from './catalog.ts';
import { COMPONENT_REF_PREFIX, isSchema, LIST_META, OBJECT_META, type Schema } from './schema.ts';

/** A kind whose own fields document the standard ones (apiVersion, kind, metadata). */
const STANDARD_FIELDS_FROM = ['', 'v1', 'ConfigMap'] as const;
const STANDARD_LIST_FIELDS_FROM = 'io.k8s.api.core.v1.ConfigMapList';

/** `stable.example.com` → `com.example.stable`. */
function reversedGroup(group: string): string {
  return group.split('.').reverse().join('.');
}

/** The schema names and schemas of a custom resource's kind and list kind. */
export function customResourceSchemas(def: ResourceDef, catalog: SchemaCatalog): Map<string, Schema> {
  const prefix = `${reversedGroup(def.group)}.${def.version}`;
  const name = `${prefix}.${def.kind}`;
  const standard = catalog.get(catalog.kindSchema(...STANDARD_FIELDS_FROM) ?? '')?.properties;
  const standardList = catalog.get(STANDARD_LIST_FIELDS_FROM)?.properties;
  // The standard fields' documentation, taken from a built-in kind's schema.
  const doc = (from: unknown, key: string): string => {
    const fieldSchema = isSchema(from) ? from[key] : undefined;
    return isSchema(fieldSchema) && typeof fieldSchema.description === 'string' ? fieldSchema.description : '';
  };
  const gvk = (kind: string) => [{ group: def.group, kind, version: def.version }];

  const given = isSchema(def.openapiSchema) ? structuredClone(def.openapiSchema) : { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
  const properties = isSchema(given.properties) ? given.properties : {};
  const kind: Schema = {
    ...given,
    properties: {
      ...properties,
      apiVersion: { type: 'string', description: doc(standard, 'apiVersion') },
      kind: { type: 'string', description: doc(standard, 'kind') },
      metadata: { allOf: [{ $ref: COMPONENT_REF_PREFIX + OBJECT_META }], description: doc(standard, 'metadata') },
    },
    'x-kubernetes-group-version-kind': gvk(def.kind),
  };
  const list: Schema = {
    description: `${def.kind}List is a list of ${def.kind}`,
    type: 'object',
    required: ['items'],
    properties: {
      apiVersion: { type: 'string', description: doc(standardList, 'apiVersion') },
      items: {
        type: 'array',
        items: { $ref: COMPONENT_REF_PREFIX + name },
        description: `List of ${def.plural}. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md`,
      },
      kind: { type: 'string', description: doc(standardList, 'kind') },
      metadata: { allOf: [{ $ref: COMPONENT_REF_PREFIX + LIST_META }], description: doc(standardList, 'metadata') },
    },
    'x-kubernetes-group-version-kind': gvk(`${def.kind}List`),
  };
  return new Map([
    [name, kind],
    [`${name}List`, list],
  ]);
}
