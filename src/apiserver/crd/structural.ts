/**
 * The checks a CustomResourceDefinition's `openAPIV3Schema` must pass, as upstream's
 * `apiextensions/validation` runs them, with its field paths and messages:
 *
 * - {@link validateStructural}: the schema is structural (`schema/validation.go`,
 *   `schema/complete.go`) — every node has a `type` unless `x-kubernetes-int-or-string` or
 *   `x-kubernetes-preserve-unknown-fields` says otherwise, `allOf`/`anyOf`/`oneOf`/`not` only
 *   restrict, root `metadata` only constrains `name` and `generateName`;
 * - {@link validateDefaults}: each `default` validates against its schema and is pruned;
 * - {@link validateOpenApiSchema}: the OpenAPI v3 subset CRDs accept and the Kubernetes
 *   extensions' consistency (`x-kubernetes-list-type`, `x-kubernetes-map-type`, …).
 *
 * CEL rules get their shape checked (rule present, message on one line, known reason) but are
 * not compiled.
 */
import type { FieldError } from '../resource.ts';
import { goInvalid as invalid, goNotSupported as notSupported } from './go-format.ts';
import { forbidden, required } from '../validation/index.ts';
import {
  additionalSchema,
  canonicalJson,
  compilePattern,
  embeddedErrors,
  hasDefault,
  itemsSchema,
  openApiErrors,
  pruneFields,
  type KubeSchema,
} from './schema.ts';


/** `field.Path.Key`: `properties[spec]`. */
const keyed = (path: string, key: string) => `${path}[${key}]`;

/** Go's "not the zero value" for a JSONSchemaProps field (numbers are pointers there: 0 is set). */
function isSet(value: unknown): boolean {
  if (value === undefined || value === null || value === false || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return Object.keys(value).length > 0;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Structural schema

type Level = 'root' | 'item' | 'field';

const EXTENSIONS = [
  ['x-kubernetes-preserve-unknown-fields', 'must be false to be structural'],
  ['x-kubernetes-embedded-resource', 'must be false to be structural'],
  ['x-kubernetes-int-or-string', 'must be false to be structural'],
  ['x-kubernetes-list-map-keys', 'must be empty to be structural'],
  ['x-kubernetes-list-type', 'must be undefined to be structural'],
  ['x-kubernetes-map-type', 'must be undefined to be structural'],
  ['x-kubernetes-validations', 'must be empty to be structural'],
] as const;

/** `anyOf: [{type: integer}, {type: string}]`, the one place a nested `type` is allowed. */
function isIntOrStringAnyOf(anyOf: KubeSchema[] | undefined): boolean {
  if (!anyOf || anyOf.length !== 2) return false;
  return canonicalJson(anyOf) === canonicalJson([{ type: 'integer' }, { type: 'string' }]);
}

function valueValidationErrors(s: KubeSchema, skipAnyOf: boolean, skipFirstAllOfAnyOf: boolean, lvl: Level, path: string): FieldError[] {
  const errors: FieldError[] = [];
  if (!skipAnyOf) s.anyOf?.forEach((v, i) => errors.push(...nestedErrors(v, false, lvl, `${path}.anyOf[${i}]`)));
  s.allOf?.forEach((v, i) => errors.push(...nestedErrors(v, skipFirstAllOfAnyOf && i === 0, lvl, `${path}.allOf[${i}]`)));
  s.oneOf?.forEach((v, i) => errors.push(...nestedErrors(v, false, lvl, `${path}.oneOf[${i}]`)));
  if (s.not) errors.push(...nestedErrors(s.not, false, lvl, `${path}.not`));
  if (s.pattern) {
    const re = compilePattern(s.pattern);
    if (typeof re === 'string') errors.push(invalid(`${path}.pattern`, s.pattern, `must be a valid regular expression, but isn't: ${re}`));
  }
  return errors;
}

/** A schema under `allOf`/`anyOf`/`oneOf`/`not`: value validation only. */
function nestedErrors(v: KubeSchema, skipAnyOf: boolean, lvl: Level, path: string): FieldError[] {
  const errors = valueValidationErrors(v, skipAnyOf, false, lvl, path);
  const items = itemsSchema(v);
  if (items) errors.push(...nestedErrors(items, false, lvl, `${path}.items`));
  for (const [k, p] of Object.entries(v.properties ?? {})) errors.push(...nestedErrors(p, false, 'field', keyed(`${path}.properties`, k)));
  if (v.type) errors.push(forbidden(`${path}.type`, 'must be empty to be structural'));
  if (v.additionalProperties !== undefined) errors.push(forbidden(`${path}.additionalProperties`, 'must be undefined to be structural'));
  if (hasDefault(v)) errors.push(forbidden(`${path}.default`, 'must be undefined to be structural'));
  if (v.title) errors.push(forbidden(`${path}.title`, 'must be empty to be structural'));
  if (v.description) errors.push(forbidden(`${path}.description`, 'must be empty to be structural'));
  if (v.nullable) errors.push(forbidden(`${path}.nullable`, 'must be false to be structural'));
  if (v.externalDocs) errors.push(forbidden(`${path}.externalDocs`, 'must be undefined to be structural'));
  for (const [extension, detail] of EXTENSIONS) {
    if (isSet(v[extension])) errors.push(forbidden(`${path}.${extension}`, detail));
  }
  if (v.properties && Object.hasOwn(v.properties, 'metadata')) {
    errors.push(forbidden(keyed(`${path}.properties`, 'metadata'), 'must not be specified in a nested context'));
  }
  return errors;
}

const TYPE_REQUIRED: Record<Level, string> = {
  root: 'must not be empty at the root',
  item: 'must not be empty for specified array items',
  field: 'must not be empty for specified object fields',
};

/** What a structural schema node keeps besides `type`, `default` and `properties`. */
const STRUCTURAL_KEYS = [
  'description', 'title', 'nullable', 'items', 'additionalProperties', 'format', 'maximum', 'exclusiveMaximum', 'minimum',
  'exclusiveMinimum', 'maxLength', 'minLength', 'pattern', 'maxItems', 'minItems', 'uniqueItems', 'multipleOf', 'enum',
  'maxProperties', 'minProperties', 'required', 'allOf', 'oneOf', 'anyOf', 'not', ...EXTENSIONS.map(([k]) => k),
];

function metadataErrors(metadata: KubeSchema, checkMetadata: boolean, lvl: Level, path: string): FieldError[] {
  const errors: FieldError[] = [];
  if (checkMetadata && metadata.type !== 'object') errors.push(invalid(`${path}.type`, metadata.type ?? '', 'must be object'));
  if (lvl === 'root') {
    // Only name and generateName may be constrained; type and default are checked elsewhere.
    const names = Object.keys(metadata.properties ?? {});
    const onlyNames = names.length > 0 && names.length <= 2 && names.every((n) => n === 'name' || n === 'generateName');
    const others = STRUCTURAL_KEYS.filter((k) => isSet((metadata as Record<string, unknown>)[k]));
    if (others.length > 0 || (names.length > 0 && !onlyNames)) {
      errors.push(forbidden(path, 'must not specify anything other than name and generateName, but metadata is implicitly specified'));
    }
  }
  return errors;
}

function invariantErrors(s: KubeSchema | undefined, lvl: Level, path: string): FieldError[] {
  if (!s) return [];
  const errors: FieldError[] = [];
  const items = itemsSchema(s);
  if (s.type === 'array' && !items) errors.push(required(`${path}.items`, 'must be specified'));
  errors.push(...invariantErrors(items, 'item', `${path}.items`));
  for (const [k, p] of Object.entries(s.properties ?? {})) errors.push(...invariantErrors(p, 'field', keyed(`${path}.properties`, k)));
  if (s.additionalProperties !== undefined) {
    if (lvl === 'root') errors.push(forbidden(`${path}.additionalProperties`, 'must not be used at the root'));
    errors.push(...invariantErrors(additionalSchema(s), 'field', `${path}.additionalProperties`));
  }
  const intOrString = s['x-kubernetes-int-or-string'] === true;
  const preserve = s['x-kubernetes-preserve-unknown-fields'] === true;
  const embedded = s['x-kubernetes-embedded-resource'] === true;
  if (intOrString && preserve) {
    errors.push(invalid(`${path}.x-kubernetes-preserve-unknown-fields`, true, 'must be false if x-kubernetes-int-or-string is true'));
  }
  if (intOrString && embedded) {
    errors.push(invalid(`${path}.x-kubernetes-embedded-resource`, true, 'must be false if x-kubernetes-int-or-string is true'));
  }
  const skipAnyOf = isIntOrStringAnyOf(s.anyOf);
  const skipFirstAllOfAnyOf = isIntOrStringAnyOf(s.allOf?.[0]?.anyOf);
  errors.push(...valueValidationErrors(s, skipAnyOf, skipFirstAllOfAnyOf, lvl, path));

  const checkMetadata = lvl === 'root' || embedded;
  if (embedded && s.type !== 'object') {
    errors.push(
      s.type
        ? invalid(`${path}.type`, s.type, 'must be object if x-kubernetes-embedded-resource is true')
        : required(`${path}.type`, 'must be object if x-kubernetes-embedded-resource is true'),
    );
  } else if (!s.type && !intOrString && !preserve) {
    errors.push(required(`${path}.type`, TYPE_REQUIRED[lvl]));
  }
  if (embedded && s.additionalProperties !== undefined) {
    errors.push(forbidden(`${path}.additionalProperties`, 'must not be used if x-kubernetes-embedded-resource is set'));
  }
  if (lvl === 'root' && s.type && s.type !== 'object') errors.push(invalid(`${path}.type`, s.type, 'must be object at the root'));
  for (const typeMeta of ['kind', 'apiVersion']) {
    const p = s.properties?.[typeMeta];
    if (p && checkMetadata && p.type !== 'string') {
      errors.push(invalid(`${keyed(`${path}.properties`, typeMeta)}.type`, p.type ?? '', 'must be string'));
    }
  }
  const metadata = s.properties?.metadata;
  if (metadata) errors.push(...metadataErrors(metadata, checkMetadata, lvl, keyed(`${path}.properties`, 'metadata')));
  if (embedded && !preserve && Object.keys(s.properties ?? {}).length === 0) {
    errors.push(required(`${path}.properties`, 'must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields'));
  }
  return errors;
}

/** Everything a value validation names must also be specified by the structure it restricts. */
function completenessErrors(v: KubeSchema, s: KubeSchema | undefined, sPath: string, vPath: string): FieldError[] {
  const errors: FieldError[] = [];
  const nested = (n: KubeSchema, p: string) => errors.push(...nestedCompletenessErrors(n, s, sPath, p));
  if (v.not) nested(v.not, `${vPath}.not`);
  v.allOf?.forEach((n, i) => nested(n, `${vPath}.allOf[${i}]`));
  v.anyOf?.forEach((n, i) => nested(n, `${vPath}.anyOf[${i}]`));
  v.oneOf?.forEach((n, i) => nested(n, `${vPath}.oneOf[${i}]`));
  return errors;
}

function nestedCompletenessErrors(v: KubeSchema, s: KubeSchema | undefined, sPath: string, vPath: string): FieldError[] {
  if (!s) return [required(sPath, `because it is defined in ${vPath}`)];
  const errors = completenessErrors(v, s, sPath, vPath);
  const vItems = itemsSchema(v);
  if (vItems) errors.push(...nestedCompletenessErrors(vItems, itemsSchema(s), `${sPath}.items`, `${vPath}.items`));
  for (const [k, p] of Object.entries(v.properties ?? {})) {
    const sProperty = s.properties?.[k];
    if (!sProperty) {
      errors.push(required(keyed(`${sPath}.properties`, k), `because it is defined in ${keyed(`${vPath}.properties`, k)}`));
    } else {
      errors.push(...nestedCompletenessErrors(p, sProperty, keyed(`${sPath}.properties`, k), keyed(`${vPath}.properties`, k)));
    }
  }
  return errors;
}

/**
 * Upstream's `ValidateStructural`: the structural-schema rules, errors sorted by their text as
 * upstream sorts them. `path` is the schema's field path (`spec.versions[0].schema.openAPIV3Schema`).
 */
export function validateStructural(schema: KubeSchema, path: string): FieldError[] {
  const errors = [...invariantErrors(schema, 'root', path), ...completenessErrors(schema, schema, path, path)];
  const text = (e: FieldError) => `${e.field}: ${e.message}`;
  return errors.sort((a, b) => (text(a) < text(b) ? -1 : text(a) > text(b) ? 1 : 0));
}

// ---------------------------------------------------------------------------------------------
// Defaults

const META_FIELDS = new Set(['apiVersion', 'kind', 'metadata']);

function defaultErrors(s: KubeSchema, path: string, insideMeta: boolean, isRoot: boolean): FieldError[] {
  const embedded = isRoot || s['x-kubernetes-embedded-resource'] === true;
  const meta = embedded ? false : insideMeta;
  const errors: FieldError[] = [];
  if (hasDefault(s)) {
    const at = `${path}.default`;
    if (!meta) {
      const pruned = structuredClone(s.default);
      pruneFields(pruned, s, embedded);
      if (canonicalJson(pruned) !== canonicalJson(s.default)) errors.push(invalid(at, s.default, 'must not have unknown fields'));
    }
    const metaErrors = meta ? [] : embeddedErrors(s.default, s, at);
    errors.push(...(metaErrors.length > 0 ? metaErrors : openApiErrors(s.default, s, { name: '', prefix: at })));
  }
  // additionalProperties is not followed: defaults are not allowed below it.
  const items = itemsSchema(s);
  if (items) errors.push(...defaultErrors(items, `${path}.items`, meta, false));
  for (const [k, p] of Object.entries(s.properties ?? {})) {
    const subMeta = embedded && META_FIELDS.has(k) ? true : meta;
    errors.push(...defaultErrors(p, keyed(`${path}.properties`, k), subMeta, false));
  }
  return errors;
}

/**
 * Upstream's `ValidateDefaults` for a resource's root schema: every `default` must validate
 * against its own schema (errors under `….default`) and must not carry fields pruning would
 * drop (`must not have unknown fields`).
 */
export function validateDefaults(schema: KubeSchema, path: string): FieldError[] {
  return defaultErrors(schema, path, false, true);
}

// ---------------------------------------------------------------------------------------------
// The OpenAPI subset and the Kubernetes extensions

interface SchemaContext {
  allowDefaults: boolean;
  disallowDefaultsReason: string;
  insideResourceMeta: boolean;
}

const OPENAPI_TYPES = ['array', 'boolean', 'integer', 'number', 'object', 'string'];
const VALIDATION_REASONS = ['FieldValueDuplicate', 'FieldValueForbidden', 'FieldValueInvalid', 'FieldValueRequired'];

function nodeErrors(s: KubeSchema, path: string, ctx: SchemaContext): FieldError[] {
  const errors: FieldError[] = [];
  if (s.type && !OPENAPI_TYPES.includes(s.type)) errors.push(notSupported(`${path}.type`, s.type, OPENAPI_TYPES));
  if (hasDefault(s) && !ctx.allowDefaults) {
    errors.push(forbidden(`${path}.default`, `must not be set${ctx.disallowDefaultsReason ? ` ${ctx.disallowDefaultsReason}` : ''}`));
  }
  if (s.id) errors.push(forbidden(`${path}.id`, 'id is not supported'));
  if (s.additionalItems !== undefined) errors.push(forbidden(`${path}.additionalItems`, 'additionalItems is not supported'));
  if (isSet(s.patternProperties)) errors.push(forbidden(`${path}.patternProperties`, 'patternProperties is not supported'));
  if (isSet(s.definitions)) errors.push(forbidden(`${path}.definitions`, 'definitions is not supported'));
  if (s.dependencies !== undefined) errors.push(forbidden(`${path}.dependencies`, 'dependencies is not supported'));
  if (s.$ref !== undefined) errors.push(forbidden(`${path}.$ref`, '$ref is not supported'));
  if (s.type === 'null') errors.push(forbidden(`${path}.type`, 'type cannot be set to null, use nullable as an alternative'));
  if (Array.isArray(s.items) && s.items.length > 0) errors.push(forbidden(`${path}.items`, 'items must be a schema object and not an array'));
  if (ctx.insideResourceMeta && s['x-kubernetes-embedded-resource']) {
    errors.push(forbidden(`${path}.x-kubernetes-embedded-resource`, 'must not be used inside of resource meta'));
  }
  return errors;
}

function listAndMapErrors(s: KubeSchema, path: string): FieldError[] {
  const errors: FieldError[] = [];
  const listType = s['x-kubernetes-list-type'];
  const mapType = s['x-kubernetes-map-type'];
  const mapKeys = s['x-kubernetes-list-map-keys'] ?? [];
  const items = itemsSchema(s);
  if (s['x-kubernetes-preserve-unknown-fields'] === false) {
    errors.push(invalid(`${path}.x-kubernetes-preserve-unknown-fields`, false, 'must be true or undefined'));
  }
  if (mapType !== undefined && s.type !== 'object') {
    const detail = 'must be object if x-kubernetes-map-type is specified';
    errors.push(s.type ? invalid(`${path}.type`, s.type, detail) : required(`${path}.type`, detail));
  }
  if (mapType !== undefined && mapType !== 'atomic' && mapType !== 'granular') {
    errors.push(notSupported(`${path}.x-kubernetes-map-type`, mapType, ['atomic', 'granular']));
  }
  if (listType !== undefined && s.type !== 'array') {
    const detail = 'must be array if x-kubernetes-list-type is specified';
    errors.push(s.type ? invalid(`${path}.type`, s.type, detail) : required(`${path}.type`, detail));
  } else if (listType === 'set' && items) {
    const detail = 'must be atomic as item of a list with x-kubernetes-list-type=set';
    if (items.type === 'array' && items['x-kubernetes-list-type'] !== undefined && items['x-kubernetes-list-type'] !== 'atomic') {
      errors.push(invalid(`${path}.items.x-kubernetes-list-type`, items['x-kubernetes-list-type'], detail));
    }
    if (items.type === 'object' && items['x-kubernetes-map-type'] !== 'atomic') {
      // Upstream reports the items' list type here, a nil pointer for objects.
      errors.push(invalid(`${path}.items.x-kubernetes-map-type`, items['x-kubernetes-list-type'] ?? null, detail));
    }
  }
  if (listType !== undefined && !['atomic', 'set', 'map'].includes(listType)) {
    errors.push(notSupported(`${path}.x-kubernetes-list-type`, listType, ['atomic', 'set', 'map']));
  }
  if (mapKeys.length > 0) {
    const detail = 'must be map if x-kubernetes-list-map-keys is non-empty';
    if (listType === undefined) errors.push(required(`${path}.x-kubernetes-list-type`, detail));
    else if (listType !== 'map') errors.push(invalid(`${path}.x-kubernetes-list-type`, listType, detail));
  }
  if (listType === 'map') {
    if (mapKeys.length === 0) errors.push(required(`${path}.x-kubernetes-list-map-keys`, 'must not be empty if x-kubernetes-list-type is map'));
    if (s.items === undefined) errors.push(required(`${path}.items`, 'must have a schema if x-kubernetes-list-type is map'));
    if (Array.isArray(s.items)) errors.push(invalid(`${path}.items`, s.items, 'must only have a single schema if x-kubernetes-list-type is map'));
    if (items && items.type !== 'object') {
      errors.push(invalid(`${path}.items.type`, items.type ?? '', "must be object if parent array's x-kubernetes-list-type is map"));
    }
    if (items && items.type === 'object') {
      const seen = new Set<string>();
      for (const k of mapKeys) {
        const p = items.properties?.[k];
        if (p) {
          if (p.type === 'array' || p.type === 'object') {
            errors.push(invalid(`${keyed(`${path}.items.properties`, k)}.type`, items.type, "must be a scalar type if parent array's x-kubernetes-list-type is map"));
          }
        } else {
          errors.push(invalid(`${path}.x-kubernetes-list-map-keys`, mapKeys, 'entries must all be names of item properties'));
        }
        if (seen.has(k)) errors.push(invalid(`${path}.x-kubernetes-list-map-keys`, mapKeys, 'must not contain duplicate entries'));
        seen.add(k);
      }
    }
  }
  // Set and map list items cannot be null, and map keys must always have a value.
  if (items && (listType === 'set' || listType === 'map')) {
    if (items.nullable) errors.push(forbidden(`${path}.items.nullable`, `cannot be nullable when x-kubernetes-list-type is ${listType}`));
    if (listType === 'map') {
      const requiredKeys = new Set(items.required ?? []);
      for (const k of mapKeys) {
        const p = items.properties?.[k];
        if (!p) continue;
        const at = keyed(`${path}.items.properties`, k);
        if (!requiredKeys.has(k) && !hasDefault(p)) {
          errors.push(required(`${at}.default`, 'this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property'));
        }
        if (p.nullable) errors.push(forbidden(`${at}.nullable`, 'this property is in x-kubernetes-list-map-keys, so it cannot be nullable'));
      }
    }
  }
  return errors;
}

const hasNewlines = (s: string) => /[\n\r]/.test(s);

/** The shape of CEL rules; the expressions themselves are not compiled. */
function celRuleErrors(s: KubeSchema, path: string): FieldError[] {
  const errors: FieldError[] = [];
  (s['x-kubernetes-validations'] ?? []).forEach((rule, i) => {
    const at = `${path}.x-kubernetes-validations[${i}]`;
    const trimmedRule = (rule.rule ?? '').trim();
    const message = rule.message ?? '';
    const trimmedMessage = message.trim();
    if (trimmedRule === '') errors.push(required(`${at}.rule`, 'rule is not specified'));
    else if (message !== '' && trimmedMessage === '') errors.push(invalid(`${at}.message`, message, 'message must be non-empty if specified'));
    else if (hasNewlines(trimmedMessage)) errors.push(invalid(`${at}.message`, message, 'message must not contain line breaks'));
    else if (hasNewlines(trimmedRule) && trimmedMessage === '') {
      errors.push(required(`${at}.message`, 'message must be specified if rule contains line breaks'));
    }
    if (rule.messageExpression !== undefined && rule.messageExpression !== '' && rule.messageExpression.trim() === '') {
      errors.push(required(`${at}.messageExpression`, 'messageExpression must be non-empty if specified'));
    }
    if (rule.reason !== undefined && !VALIDATION_REASONS.includes(rule.reason)) {
      errors.push(notSupported(`${at}.reason`, rule.reason, VALIDATION_REASONS));
    }
    const fieldPath = rule.fieldPath ?? '';
    if (fieldPath !== '' && fieldPath.trim() === '') errors.push(invalid(`${at}.fieldPath`, fieldPath, 'fieldPath must be non-empty if specified'));
    if (hasNewlines(fieldPath)) errors.push(invalid(`${at}.fieldPath`, fieldPath, 'fieldPath must not contain line breaks'));
  });
  return errors;
}

function openApiSchemaErrors(s: KubeSchema | undefined, path: string, ctx: SchemaContext, isRoot: boolean): FieldError[] {
  if (!s) return [];
  const errors = nodeErrors(s, path, ctx);
  if (s.uniqueItems) errors.push(forbidden(`${path}.uniqueItems`, 'uniqueItems cannot be set to true since the runtime complexity becomes quadratic'));
  if (s.additionalProperties !== undefined) {
    if (Object.keys(s.properties ?? {}).length > 0 && (s.additionalProperties === false || additionalSchema(s))) {
      errors.push(forbidden(`${path}.additionalProperties`, 'additionalProperties and properties are mutual exclusive'));
    }
    // Defaults below additionalProperties in metadata would be ambiguous to prune.
    const sub = ctx.insideResourceMeta
      ? { ...ctx, allowDefaults: false, disallowDefaultsReason: 'inside additionalProperties applying to object metadata' }
      : ctx;
    errors.push(...openApiSchemaErrors(additionalSchema(s), `${path}.additionalProperties`, sub, false));
  }
  for (const [k, p] of Object.entries(s.properties ?? {})) {
    let sub = ctx;
    if ((isRoot || s['x-kubernetes-embedded-resource']) && META_FIELDS.has(k)) {
      sub = { ...sub, insideResourceMeta: true };
      if (isRoot) sub = { ...sub, allowDefaults: false, disallowDefaultsReason: `in top-level ${k}` };
    }
    errors.push(...openApiSchemaErrors(p, keyed(`${path}.properties`, k), sub, false));
  }
  errors.push(...openApiSchemaErrors(s.not, `${path}.not`, ctx, false));
  s.allOf?.forEach((p, i) => errors.push(...openApiSchemaErrors(p, `${path}.allOf[${i}]`, ctx, false)));
  s.oneOf?.forEach((p, i) => errors.push(...openApiSchemaErrors(p, `${path}.oneOf[${i}]`, ctx, false)));
  s.anyOf?.forEach((p, i) => errors.push(...openApiSchemaErrors(p, `${path}.anyOf[${i}]`, ctx, false)));
  for (const [k, p] of Object.entries(s.definitions ?? {})) {
    errors.push(...openApiSchemaErrors(p as KubeSchema, keyed(`${path}.definitions`, k), ctx, false));
  }
  if (Array.isArray(s.items)) s.items.forEach((p, i) => errors.push(...openApiSchemaErrors(p, `${path}.items[${i}]`, ctx, false)));
  else errors.push(...openApiSchemaErrors(s.items, `${path}.items`, ctx, false));
  errors.push(...listAndMapErrors(s, path), ...celRuleErrors(s, path));
  return errors;
}

/**
 * Upstream's `ValidateCustomResourceDefinitionOpenAPISchema` for a root schema at `path`: the
 * OpenAPI features CRDs do not support, `default`s where they are forbidden (top-level
 * `metadata`, `apiVersion`, `kind`), and the consistency of the Kubernetes extensions.
 */
export function validateOpenApiSchema(schema: KubeSchema, path: string): FieldError[] {
  return openApiSchemaErrors(schema, path, { allowDefaults: true, disallowDefaultsReason: '', insideResourceMeta: false }, true);
}

// ---------------------------------------------------------------------------------------------
// The root of a schema with the status subresource

/** Go's field names of JSONSchemaProps in declaration order, with their JSON names. */
const ROOT_FIELDS: [string, string][] = [
  ['id', 'ID'], ['$schema', 'Schema'], ['$ref', 'Ref'], ['description', 'Description'], ['type', 'Type'],
  ['format', 'Format'], ['title', 'Title'], ['default', 'Default'], ['maximum', 'Maximum'],
  ['exclusiveMaximum', 'ExclusiveMaximum'], ['minimum', 'Minimum'], ['exclusiveMinimum', 'ExclusiveMinimum'],
  ['maxLength', 'MaxLength'], ['minLength', 'MinLength'], ['pattern', 'Pattern'], ['maxItems', 'MaxItems'],
  ['minItems', 'MinItems'], ['uniqueItems', 'UniqueItems'], ['multipleOf', 'MultipleOf'], ['enum', 'Enum'],
  ['maxProperties', 'MaxProperties'], ['minProperties', 'MinProperties'], ['required', 'Required'],
  ['items', 'Items'], ['allOf', 'AllOf'], ['oneOf', 'OneOf'], ['anyOf', 'AnyOf'], ['not', 'Not'],
  ['properties', 'Properties'], ['additionalProperties', 'AdditionalProperties'],
  ['patternProperties', 'PatternProperties'], ['dependencies', 'Dependencies'], ['additionalItems', 'AdditionalItems'],
  ['definitions', 'Definitions'], ['externalDocs', 'ExternalDocs'], ['example', 'Example'], ['nullable', 'Nullable'],
  ['x-kubernetes-preserve-unknown-fields', 'XPreserveUnknownFields'], ['x-kubernetes-embedded-resource', 'XEmbeddedResource'],
  ['x-kubernetes-int-or-string', 'XIntOrString'], ['x-kubernetes-list-map-keys', 'XListMapKeys'],
  ['x-kubernetes-list-type', 'XListType'], ['x-kubernetes-map-type', 'XMapType'], ['x-kubernetes-validations', 'XValidations'],
];
const ALLOWED_AT_ROOT = [
  'Description', 'Type', 'Format', 'Title', 'Maximum', 'ExclusiveMaximum', 'Minimum', 'ExclusiveMinimum', 'MaxLength',
  'MinLength', 'Pattern', 'MaxItems', 'MinItems', 'UniqueItems', 'MultipleOf', 'Required', 'Items', 'Properties',
  'ExternalDocs', 'Example', 'XPreserveUnknownFields', 'XValidations',
];

/**
 * With the status subresource, the root schema may only carry what still holds once `status` is
 * validated on its own: `type: object`, `properties`, `required` and a few annotations.
 */
export function statusRootErrors(schema: KubeSchema, path: string): FieldError[] {
  for (const [json, goName] of ROOT_FIELDS) {
    const value = (schema as Record<string, unknown>)[json];
    if (!isSet(value)) continue;
    if (goName === 'Type') {
      if (schema.type !== 'object') {
        return [invalid(`${path}.openAPIV3Schema.type`, schema.type, 'only "object" is allowed as the type at the root of the schema if the status subresource is enabled')];
      }
      continue;
    }
    if (!ALLOWED_AT_ROOT.includes(goName)) {
      return [invalid(`${path}.openAPIV3Schema`, schema, `only [${ALLOWED_AT_ROOT.join(' ')}] fields are allowed at the root of the schema if the status subresource is enabled`)];
    }
  }
  return [];
}
