/**
 * Fields of a built-in object that its schema does not define, for server-side field
 * validation (`fieldValidation=Strict|Warn`). The schemas are the ones generated from
 * `kubernetes-types`; paths are written as upstream writes them (`spec.replicas`,
 * `spec.template.spec.containers[0].imagePullPolice`).
 */
import type { SchemaCatalog } from './catalog.ts';
import { COMPONENT_REF_PREFIX, INT_OR_STRING, isSchema, type Schema } from './schema.ts';

/** The unknown fields of `object`, a built-in kind whose schema is `name`. */
export function unknownFields(catalog: SchemaCatalog, name: string, object: unknown): string[] {
  const out: string[] = [];
  walk(catalog, { $ref: `${COMPONENT_REF_PREFIX}${name}` }, object, '', out, false);
  return out;
}

/**
 * Removes, in place, the fields the schema does not define — what upstream's decoding into Go
 * types does to every built-in object, whatever `fieldValidation` says. Returns their paths.
 */
export function pruneUnknownFields(catalog: SchemaCatalog, name: string, object: unknown): string[] {
  const out: string[] = [];
  walk(catalog, { $ref: `${COMPONENT_REF_PREFIX}${name}` }, object, '', out, true);
  return out;
}

const JSON_SCHEMA_PROPS = 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps';
const RAW_EXTENSION = 'io.k8s.apimachinery.pkg.runtime.RawExtension';

function resolve(catalog: SchemaCatalog, schema: Schema): Schema | undefined {
  let current: Schema | undefined = schema;
  // A described reference is `allOf: [{ $ref }]`; a plain one is `$ref`.
  for (let hops = 0; current && hops < 4; hops++) {
    const ref = typeof current.$ref === 'string' ? current.$ref : Array.isArray(current.allOf) && isSchema(current.allOf[0]) ? (current.allOf[0] as Schema).$ref : undefined;
    if (typeof ref !== 'string') return current;
    const target = ref.slice(COMPONENT_REF_PREFIX.length);
    // IntOrString accepts anything of its shape. A CRD's JSONSchemaProps is left alone: the
    // generated schema lacks its `x-kubernetes-*` keys (kubernetes-types does not declare them),
    // and the CRD's own validation checks it field by field.
    // A RawExtension holds any JSON (ControllerRevision.data, …).
    if (target === INT_OR_STRING || target === JSON_SCHEMA_PROPS || target === RAW_EXTENSION) return undefined;
    current = catalog.get(target);
  }
  return current;
}

function walk(catalog: SchemaCatalog, schema: Schema, value: unknown, path: string, out: string[], prune: boolean): void {
  const resolved = resolve(catalog, schema);
  if (!resolved || resolved['x-kubernetes-preserve-unknown-fields'] === true || resolved['x-kubernetes-int-or-string'] === true) return;
  if (Array.isArray(value)) {
    if (isSchema(resolved.items)) value.forEach((item, i) => walk(catalog, resolved.items as Schema, item, `${path}[${i}]`, out, prune));
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  const properties = isSchema(resolved.properties) ? (resolved.properties as Record<string, Schema>) : undefined;
  const additional = resolved.additionalProperties;
  if (!properties) {
    if (isSchema(additional)) {
      for (const [key, v] of Object.entries(value)) walk(catalog, additional as Schema, v, path ? `${path}.${key}` : key, out, prune);
    }
    return;
  }
  for (const [key, v] of Object.entries(value)) {
    const child = path ? `${path}.${key}` : key;
    const property = properties[key];
    if (property) walk(catalog, property, v, child, out, prune);
    else if (isSchema(additional)) walk(catalog, additional as Schema, v, child, out, prune);
    else {
      out.push(child);
      if (prune) delete (value as Record<string, unknown>)[key];
    }
  }
}

/**
 * Fields whose JSON type does not match the schema (`data` given as a list), worded as Go's
 * JSON decoder words them upstream: `json: cannot unmarshal array into Go struct field
 * ConfigMap.data of type object`. `null` matches anything, as in Go.
 */
export function typeErrors(catalog: SchemaCatalog, name: string, object: unknown): string[] {
  const out: string[] = [];
  checkTypes(catalog, { $ref: `${COMPONENT_REF_PREFIX}${name}` }, object, name.split('.').pop()!, out);
  return out;
}

function jsonType(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return 'number';
  return typeof value; // string, boolean, object
}

function checkTypes(catalog: SchemaCatalog, schema: Schema, value: unknown, path: string, out: string[]): void {
  if (value === null || value === undefined) return;
  const resolved = resolve(catalog, schema);
  if (!resolved || resolved['x-kubernetes-preserve-unknown-fields'] === true || resolved['x-kubernetes-int-or-string'] === true) return;
  const type = resolved.type;
  const actual = jsonType(value);
  const fits =
    type === undefined ||
    (type === 'integer' && typeof value === 'number' && Number.isInteger(value)) ||
    (type === 'number' && typeof value === 'number') ||
    (type === 'string' && typeof value === 'string') ||
    (type === 'boolean' && typeof value === 'boolean') ||
    (type === 'array' && Array.isArray(value)) ||
    (type === 'object' && actual === 'object');
  if (!fits) {
    out.push(`json: cannot unmarshal ${actual === 'number' && type === 'integer' ? 'number' : actual} into Go struct field ${path} of type ${String(type)}`);
    return;
  }
  if (Array.isArray(value)) {
    if (isSchema(resolved.items)) value.forEach((item) => checkTypes(catalog, resolved.items as Schema, item, path, out));
    return;
  }
  if (actual !== 'object') return;
  const properties = isSchema(resolved.properties) ? (resolved.properties as Record<string, Schema>) : undefined;
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    const property = properties?.[key] ?? (isSchema(resolved.additionalProperties) ? (resolved.additionalProperties as Schema) : undefined);
    if (property) checkTypes(catalog, property, v, `${path}.${key}`, out);
  }
}
