/**
 * The shape of the generated schemas and the helpers every part of the OpenAPI code shares.
 * Schemas are plain JSON objects in OpenAPI 3 form, referring to each other by
 * `#/components/schemas/<name>`.
 */

/** A JSON schema object. */
export type Schema = Record<string, unknown>;

/** Where component schemas live in an OpenAPI 3 document. */
export const COMPONENT_REF_PREFIX = '#/components/schemas/';

/** The name upstream gives the int-or-string type (which `kubernetes-types` inlines). */
export const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';

/** Upstream's name of ObjectMeta, every kind's `metadata`. */
export const OBJECT_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';
/** Upstream's name of ListMeta, every list kind's `metadata`. */
export const LIST_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta';

/** Whether a value is a JSON object (not an array, not null). */
export function isSchema(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The names of the component schemas a schema refers to, anywhere inside it. Follows only the
 * keywords that hold schemas, so a field named `default` or `$ref` (JSONSchemaProps has both)
 * is a field, not a keyword.
 */
export function referencedNames(schema: unknown, into: Set<string> = new Set()): Set<string> {
  if (Array.isArray(schema)) {
    for (const item of schema) referencedNames(item, into);
    return into;
  }
  if (!isSchema(schema)) return into;
  if (typeof schema.$ref === 'string' && schema.$ref.startsWith(COMPONENT_REF_PREFIX)) {
    into.add(schema.$ref.slice(COMPONENT_REF_PREFIX.length));
  }
  for (const key of ['items', 'additionalProperties', 'additionalItems', 'not', 'allOf', 'anyOf', 'oneOf']) {
    referencedNames(schema[key], into);
  }
  for (const key of ['properties', 'patternProperties', 'definitions']) {
    const map = schema[key];
    if (isSchema(map)) for (const value of Object.values(map)) referencedNames(value, into);
  }
  return into;
}

/**
 * The component a field's schema stands for: its `$ref`, a described reference
 * (`allOf: [{$ref}]`), or the `$ref` of its list elements or map values.
 */
export function targetName(schema: Schema): string | undefined {
  const candidates = [schema, Array.isArray(schema.allOf) ? schema.allOf[0] : undefined, schema.items, schema.additionalProperties];
  for (const candidate of candidates) {
    if (isSchema(candidate) && typeof candidate.$ref === 'string' && candidate.$ref.startsWith(COMPONENT_REF_PREFIX)) {
      return candidate.$ref.slice(COMPONENT_REF_PREFIX.length);
    }
  }
  return undefined;
}
