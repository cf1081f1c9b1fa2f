/**
 * Custom resources against their structural schema (`openAPIV3Schema`): validation as
 * kube-openapi's schema validator does it (and as the API server words its 422s), defaulting
 * and pruning as apiextensions-apiserver's `schema/defaulting` and `schema/pruning` do.
 *
 * Messages and field paths are upstream's: a type error reads
 * `spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"`
 * (the value quoted is the JSON type found), an enum error
 * `spec.size: Unsupported value: "XL": supported values: "S", "M"`.
 *
 * Not covered: CEL rules (`x-kubernetes-validations`) are accepted and not evaluated, and
 * validation ratcheting (errors on unchanged fields being tolerated on update) is not done.
 */
import type { JSONSchemaProps, ValidationRule } from 'kubernetes-types/apiextensions/v1.js';
import type { FieldError, ObjectMeta } from '../resource.ts';
import { dns1035LabelErrors, isValidPathSegmentName, validateObjectMeta } from '../validation/index.ts';
import { effectiveFormat, isSupportedStringFormat, matchesFormat } from './formats.ts';
import { errorValue, goFloat, goNumber, goQuote } from './go-format.ts';

/** A schema node with the Kubernetes extensions `kubernetes-types` leaves out. */
export interface KubeSchema extends JSONSchemaProps {
  properties?: Record<string, KubeSchema>;
  items?: KubeSchema | KubeSchema[];
  additionalProperties?: KubeSchema | boolean;
  allOf?: KubeSchema[];
  anyOf?: KubeSchema[];
  oneOf?: KubeSchema[];
  not?: KubeSchema;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-list-type'?: string;
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: string;
  'x-kubernetes-validations'?: ValidationRule[];
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The single schema of `items` (structural schemas never use the array form). */
export function itemsSchema(schema: KubeSchema | undefined): KubeSchema | undefined {
  const items = schema?.items;
  return Array.isArray(items) ? undefined : items;
}

/** The schema `additionalProperties` applies to other keys, if it is one. */
export function additionalSchema(schema: KubeSchema | undefined): KubeSchema | undefined {
  const additional = schema?.additionalProperties;
  return isObject(additional) ? (additional as KubeSchema) : undefined;
}

/** A default is set when present and not JSON `null` (a `null` default means none, upstream). */
export function hasDefault(schema: KubeSchema | undefined): boolean {
  return schema?.default !== undefined && schema.default !== null;
}

/** Canonical JSON (sorted keys), for comparing values as Go's `reflect.DeepEqual` would. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isObject(value)) {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

function deepEqual(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

// ---------------------------------------------------------------------------------------------
// Regular expressions: schemas carry Go (RE2) patterns.

const patterns = new Map<string, RegExp | string>();

/** JavaScript's reasons a pattern does not compile, in Go's words. */
const REGEXP_ERRORS: [RegExp, string][] = [
  [/Unterminated group/, 'missing closing )'],
  [/Unmatched '\)'/, 'unexpected )'],
  [/Unterminated character class/, 'missing closing ]'],
  [/Nothing to repeat/, 'missing argument to repetition operator'],
  [/Invalid escape|\\ at end of pattern/, 'invalid escape sequence'],
  [/Range out of order/, 'invalid character class range'],
  [/Invalid group/, 'invalid or unsupported Perl syntax'],
];

/** Go's `regexp.Compile` error text: `error parsing regexp: missing closing ): \`(a\``. */
function goRegexpError(pattern: string, jsMessage: string): string {
  const code = REGEXP_ERRORS.find(([re]) => re.test(jsMessage))?.[1] ?? jsMessage.replace(/^Invalid regular expression: \/.*\/[a-z]*: /, '').toLowerCase();
  return `error parsing regexp: ${code}: \`${pattern}\``;
}

/**
 * A Go regular expression as a JavaScript one, or the reason it does not compile. Leading
 * inline flags (`(?i)`) become JavaScript flags; `\A` and `\z` become `^` and `$`.
 */
export function compilePattern(pattern: string): RegExp | string {
  const cached = patterns.get(pattern);
  if (cached !== undefined) return cached;
  let source = pattern;
  let flags = '';
  const inline = /^\(\?([imsU]+)\)/.exec(source);
  if (inline) {
    source = source.slice(inline[0].length);
    for (const f of inline[1]!) if (f === 'i' || f === 'm' || f === 's') flags += f;
  }
  source = source.replaceAll('\\A', '^').replaceAll('\\z', '$');
  let result: RegExp | string;
  try {
    result = new RegExp(source, `${flags}u`);
  } catch {
    try {
      result = new RegExp(source, flags);
    } catch (error) {
      result = goRegexpError(pattern, (error as Error).message);
    }
  }
  if (patterns.size > 4096) patterns.clear();
  patterns.set(pattern, result);
  return result;
}

// ---------------------------------------------------------------------------------------------
// Validation, in kube-openapi's shape: each failure names the offending value by its "body" path
// (`spec.replicas`, `spec.ports[0]`), later turned into a field error.

type Failure =
  | { code: 'type' | 'invalid'; name: string; value: unknown; message: string }
  | { code: 'required'; name: string }
  | { code: 'enum'; name: string; value: unknown; values: unknown[] }
  | { code: 'tooLong'; name: string; max: number }
  | { code: 'tooMany'; name: string; count: number; max: number }
  | { code: 'composite'; message: string };

/** kube-openapi's path of a property: `spec` at the root, `spec.replicas` below. */
function child(name: string, property: string): string {
  return name === '' ? property : `${name}.${property}`;
}

/** kube-openapi's `"<name> in body …"` message prefix. */
function inBody(name: string): string {
  return `${name} in body`;
}

/** The JSON type kube-openapi infers for a decoded value. */
function jsonType(value: unknown): string {
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  if (Array.isArray(value)) return 'array';
  return 'object';
}

function schemaTypes(schema: KubeSchema): string[] {
  if (schema['x-kubernetes-int-or-string']) return ['integer', 'string'];
  return schema.type ? [schema.type] : [];
}

function typeFailures(data: unknown, schema: KubeSchema, name: string): Failure[] {
  const types = schemaTypes(schema);
  const format = effectiveFormat(schema.format, types.length === 1 ? types[0] : undefined);
  if (types.length === 0 && format === '') return [];
  if (data === null || data === undefined) {
    if (types.length > 0 && !schema.nullable) {
      return [{ code: 'type', name, value: 'null', message: `${inBody(name)} must be of type ${types.join(',')}: "null"` }];
    }
    return [];
  }
  const found = jsonType(data);
  const isNumeric = types.includes('number') || types.includes('integer');
  if (typeof data !== 'string' && !Array.isArray(data) && format !== '') {
    const foundFormat = typeof data === 'number' ? (found === 'integer' ? 'int64' : 'float64') : '';
    // (Decoded JSON numbers are int64 or float64, so upstream's int32/float32 widening never applies.)
    const compatible = types.includes(found) || foundFormat === format || (found === 'integer' && types.includes('number'));
    if (!compatible) {
      return [{ code: 'type', name, value: foundFormat, message: `${inBody(name)} must be of type ${format}: ${goQuote(foundFormat)}` }];
    }
  }
  // A string format on a string (or list) leaves the check to the format validator, as upstream.
  if (!isNumeric && format !== '' && (typeof data === 'string' || Array.isArray(data))) return [];
  if (types.length === 0) return [];
  if (types.includes(found) || (found === 'integer' && types.includes('number'))) return [];
  return [{ code: 'type', name, value: found, message: `${inBody(name)} must be of type ${types.join(',')}: ${goQuote(found)}` }];
}

function enumFailures(data: unknown, schema: KubeSchema, name: string): Failure[] {
  const values = schema.enum as unknown[] | undefined;
  if (!values || values.length === 0) return [];
  if (data !== null && data !== undefined && values.some((v) => deepEqual(v, data))) return [];
  return [{ code: 'enum', name, value: data, values }];
}

function stringFailures(data: string, schema: KubeSchema, name: string): Failure[] {
  // Lengths count Unicode code points, as Go's utf8.RuneCount.
  const length = [...data].length;
  if (schema.maxLength !== undefined && length > schema.maxLength) return [{ code: 'tooLong', name, max: schema.maxLength }];
  if (schema.minLength !== undefined && length < schema.minLength) {
    return [{ code: 'invalid', name, value: data, message: `${inBody(name)} should be at least ${schema.minLength} chars long` }];
  }
  if (schema.pattern) {
    const re = compilePattern(schema.pattern);
    if (typeof re === 'string') {
      return [{ code: 'invalid', name, value: data, message: `${inBody(name)} should match '${schema.pattern}, but pattern is invalid: ${re}'` }];
    }
    if (!re.test(data)) return [{ code: 'invalid', name, value: data, message: `${inBody(name)} should match '${schema.pattern}'` }];
  }
  return [];
}

function formatFailures(data: string, schema: KubeSchema, name: string): Failure[] {
  const types = schemaTypes(schema);
  const format = effectiveFormat(schema.format, types.length === 1 ? types[0] : undefined);
  if (format === '' || !isSupportedStringFormat(format) || matchesFormat(format, data)) return [];
  return [{ code: 'type', name, value: data, message: `${inBody(name)} must be of type ${format}: ${goQuote(data)}` }];
}

function numberFailures(data: number, schema: KubeSchema, name: string): Failure[] {
  const failures: Failure[] = [];
  // Integers are checked against bounds converted to int64 (truncated), floats against floats.
  const integral = Number.isSafeInteger(data);
  const bound = (b: number) => (integral ? Math.trunc(b) : b);
  const show = (b: number) => (integral ? String(Math.trunc(b)) : goFloat(b));
  if (schema.multipleOf !== undefined) {
    const factor = schema.multipleOf;
    if (factor < 0) {
      failures.push({ code: 'invalid', name, value: factor, message: `factor MultipleOf declared for ${name} must be positive: ${goNumber(factor)}` });
    } else {
      const quotient = factor < 1 ? (1 / factor) * data : data / factor;
      if (!Number.isInteger(quotient)) {
        failures.push({ code: 'invalid', name, value: data, message: `${inBody(name)} should be a multiple of ${goNumber(factor)}` });
      }
    }
  }
  if (schema.minimum !== undefined) {
    const min = bound(schema.minimum);
    const exclusive = schema.exclusiveMinimum === true;
    if (exclusive ? data <= min : data < min) {
      const relation = exclusive ? 'greater than' : 'greater than or equal to';
      failures.push({ code: 'invalid', name, value: data, message: `${inBody(name)} should be ${relation} ${show(schema.minimum)}` });
    }
  }
  if (schema.maximum !== undefined) {
    const max = bound(schema.maximum);
    const exclusive = schema.exclusiveMaximum === true;
    if (exclusive ? data >= max : data > max) {
      const relation = exclusive ? 'less than' : 'less than or equal to';
      failures.push({ code: 'invalid', name, value: data, message: `${inBody(name)} should be ${relation} ${show(schema.maximum)}` });
    }
  }
  return failures;
}

function arrayFailures(data: unknown[], schema: KubeSchema, name: string): Failure[] {
  const failures: Failure[] = [];
  const items = itemsSchema(schema);
  if (items) data.forEach((item, i) => failures.push(...valueFailures(item, items, `${name}[${i}]`)));
  if (schema.minItems !== undefined && data.length < schema.minItems) {
    failures.push({ code: 'invalid', name, value: data.length, message: `${inBody(name)} should have at least ${schema.minItems} items` });
  }
  if (schema.maxItems !== undefined && data.length > schema.maxItems) {
    failures.push({ code: 'tooMany', name, count: data.length, max: schema.maxItems });
  }
  if (schema.uniqueItems) {
    const seen = new Set<string>();
    for (const item of data) {
      const key = canonicalJson(item);
      if (seen.has(key)) {
        failures.push({ code: 'invalid', name, value: '', message: `${inBody(name)} shouldn't contain duplicates` });
        break;
      }
      seen.add(key);
    }
  }
  return failures;
}

function objectFailures(data: Json, schema: KubeSchema, name: string): Failure[] {
  const keys = Object.keys(data);
  if (schema.minProperties !== undefined && keys.length < schema.minProperties) {
    return [{ code: 'invalid', name, value: keys.length, message: `${inBody(name)} should have at least ${schema.minProperties} properties` }];
  }
  if (schema.maxProperties !== undefined && keys.length > schema.maxProperties) {
    return [{ code: 'tooMany', name, count: keys.length, max: schema.maxProperties }];
  }
  const failures: Failure[] = [];
  const properties = schema.properties ?? {};
  if (schema.additionalProperties === false) {
    for (const key of keys) {
      if (!Object.hasOwn(properties, key)) {
        failures.push({ code: 'invalid', name, value: key, message: `${name}.${key} in body is a forbidden property` });
      }
    }
  } else {
    const additional = additionalSchema(schema);
    if (additional) {
      for (const key of keys) {
        if (!Object.hasOwn(properties, key)) failures.push(...valueFailures(data[key], additional, `${name}.${key}`));
      }
    }
  }
  for (const [property, propertySchema] of Object.entries(properties)) {
    if (Object.hasOwn(data, property)) failures.push(...valueFailures(data[property], propertySchema, child(name, property)));
  }
  for (const property of schema.required ?? []) {
    if (!Object.hasOwn(data, property)) failures.push({ code: 'required', name: `${name}.${property}` });
  }
  return failures;
}

/** `allOf`, `anyOf`, `oneOf` and `not`, with kube-openapi's messages. */
function junctorFailures(data: unknown, schema: KubeSchema, name: string): Failure[] {
  const failures: Failure[] = [];
  const path = goQuote(name);
  if (schema.anyOf && schema.anyOf.length > 0) {
    const results = schema.anyOf.map((branch) => valueFailures(data, branch, name));
    if (!results.some((r) => r.length === 0)) {
      failures.push({ code: 'composite', message: `${path} must validate at least one schema (anyOf)` });
      // The branch that came closest explains the failure best.
      failures.push(...results.reduce((best, r) => (r.length < best.length ? r : best)));
    }
  }
  if (schema.oneOf && schema.oneOf.length > 0) {
    const results = schema.oneOf.map((branch) => valueFailures(data, branch, name));
    const valid = results.filter((r) => r.length === 0).length;
    if (valid !== 1) {
      const detail = valid === 0 ? 'Found none valid' : `Found ${valid} valid alternatives`;
      failures.push({ code: 'composite', message: `${path} must validate one and only one schema (oneOf). ${detail}` });
      if (valid === 0) failures.push(...results.reduce((best, r) => (r.length < best.length ? r : best)));
    }
  }
  if (schema.allOf && schema.allOf.length > 0) {
    let valid = 0;
    for (const branch of schema.allOf) {
      const result = valueFailures(data, branch, name);
      if (result.length === 0) valid++;
      failures.push(...result);
    }
    if (valid !== schema.allOf.length) {
      failures.push({ code: 'composite', message: `${path} must validate all the schemas (allOf)${valid === 0 ? '. None validated' : ''}` });
    }
  }
  if (schema.not && valueFailures(data, schema.not, name).length === 0) {
    failures.push({ code: 'composite', message: `${path} must not validate the schema (not)` });
  }
  return failures;
}

/** One value against one schema node, in kube-openapi's validator order. */
function valueFailures(data: unknown, schema: KubeSchema, name: string): Failure[] {
  if (data === null || data === undefined) return [...typeFailures(data, schema, name), ...enumFailures(data, schema, name)];
  const failures = [...typeFailures(data, schema, name), ...junctorFailures(data, schema, name)];
  if (typeof data === 'string') failures.push(...stringFailures(data, schema, name), ...formatFailures(data, schema, name));
  if (typeof data === 'number') failures.push(...numberFailures(data, schema, name));
  if (Array.isArray(data)) failures.push(...arrayFailures(data, schema, name));
  failures.push(...enumFailures(data, schema, name));
  if (isObject(data)) failures.push(...objectFailures(data, schema, name));
  return failures;
}

/** A path with a child: `field.Path.Child`. */
function joinPath(prefix: string | undefined, childPath: string): string {
  return prefix === undefined || prefix === '' ? childPath : `${prefix}.${childPath}`;
}

/** The API server's conversion of kube-openapi results into field errors. */
function toFieldError(failure: Failure, prefix: string | undefined): FieldError {
  const root = prefix === undefined || prefix === '' ? '<nil>' : prefix;
  if (failure.code === 'composite') {
    return { type: 'FieldValueInvalid', field: root, message: `Invalid value: "": ${failure.message}` };
  }
  const name = failure.name;
  const field = name !== '' && name !== '.' ? joinPath(prefix, name.replace(/^\./, '')) : root;
  switch (failure.code) {
    case 'required':
      return { type: 'FieldValueRequired', field, message: 'Required value' };
    case 'enum': {
      const supported = failure.values.map((v) => goQuote(typeof v === 'string' ? v : JSON.stringify(v)));
      const detail = supported.length > 0 ? `: supported values: ${supported.join(', ')}` : '';
      return { type: 'FieldValueNotSupported', field, message: `Unsupported value: ${errorValue(failure.value)}${detail}` };
    }
    case 'tooLong':
      return { type: 'FieldValueTooLong', field, message: `Too long: may not be more than ${failure.max} ${failure.max === 1 ? 'byte' : 'bytes'}` };
    case 'tooMany':
      return { type: 'FieldValueTooMany', field, message: `Too many: ${failure.count}: must have at most ${failure.max} items` };
    case 'type':
      return { type: 'FieldValueTypeInvalid', field, message: `Invalid value: ${errorValue(failure.value ?? '')}: ${failure.message}` };
    case 'invalid':
      return { type: 'FieldValueInvalid', field, message: `Invalid value: ${errorValue(failure.value ?? '')}: ${failure.message}` };
  }
}

/**
 * kube-openapi's validation of `value` against `schema` alone (no embedded-resource or list
 * checks), its messages naming fields from `name` and its field errors placed under `prefix`.
 * Defaults are validated this way, under `….default`.
 */
export function openApiErrors(value: unknown, schema: KubeSchema, options: { name: string; prefix?: string }): FieldError[] {
  return valueFailures(value, schema, options.name).map((f) => toFieldError(f, options.prefix));
}

// ---------------------------------------------------------------------------------------------
// Embedded resources and list types, which the API server checks after the schema.

const GROUP_VERSION_ERROR = (gv: string) => `unexpected GroupVersion string: ${gv}`;

function embeddedResourceErrors(path: string, object: Json): FieldError[] {
  const at = (field: string) => joinPath(path, field);
  const errors: FieldError[] = [];
  if (!Object.hasOwn(object, 'apiVersion')) errors.push({ type: 'FieldValueRequired', field: at('apiVersion'), message: 'Required value' });
  if (!Object.hasOwn(object, 'kind')) errors.push({ type: 'FieldValueRequired', field: at('kind'), message: 'Required value' });
  for (const [key, value] of Object.entries(object)) {
    if (key === 'apiVersion') {
      if (typeof value !== 'string') {
        errors.push({ type: 'FieldValueInvalid', field: at('apiVersion'), message: `Invalid value: ${errorValue(value)}: must be a string` });
      } else if (value === '') {
        errors.push({ type: 'FieldValueRequired', field: at('apiVersion'), message: 'Required value' });
      } else if (value.split('/').length > 2) {
        errors.push({ type: 'FieldValueInvalid', field: at('apiVersion'), message: `Invalid value: ${goQuote(value)}: ${GROUP_VERSION_ERROR(value)}` });
      }
    } else if (key === 'kind') {
      if (typeof value !== 'string') {
        errors.push({ type: 'FieldValueInvalid', field: at('kind'), message: `Invalid value: ${errorValue(value)}: must be a string` });
      } else if (value === '') {
        errors.push({ type: 'FieldValueRequired', field: at('kind'), message: 'Required value' });
      } else {
        const problems = dns1035LabelErrors(value.toLowerCase());
        if (problems.length > 0) {
          errors.push({
            type: 'FieldValueInvalid',
            field: at('kind'),
            message: `Invalid value: ${goQuote(value)}: may have mixed case, but should otherwise match: ${problems.join(',')}`,
          });
        }
      }
    } else if (key === 'metadata') {
      if (!isObject(value)) {
        errors.push({ type: 'FieldValueInvalid', field: at('metadata'), message: `Invalid value: ${errorValue(value)}: expected object` });
        continue;
      }
      // Upstream validates embedded metadata with a stand-in name when it has none.
      const meta = { ...value, name: typeof value.name === 'string' && value.name !== '' ? value.name : 'fakename' } as ObjectMeta;
      const metaErrors = validateObjectMeta(meta, {
        namespaced: typeof meta.namespace === 'string' && meta.namespace !== '',
        nameErrors: isValidPathSegmentName,
      });
      for (const e of metaErrors) errors.push({ ...e, field: joinPath(path, e.field) });
    }
  }
  return errors;
}

/**
 * `apiVersion`, `kind` and `metadata` of the embedded resources (`x-kubernetes-embedded-resource`)
 * in `value`, as upstream's `objectmeta.Validate`; `path` is where `value` sits.
 */
export function embeddedErrors(value: unknown, schema: KubeSchema | undefined, path: string): FieldError[] {
  if (!schema) return [];
  const errors: FieldError[] = [];
  if (isObject(value)) {
    if (schema['x-kubernetes-embedded-resource']) errors.push(...embeddedResourceErrors(path, value));
    const additional = additionalSchema(schema);
    for (const [key, v] of Object.entries(value)) {
      const property = schema.properties?.[key];
      if (property) errors.push(...embeddedErrors(v, property, joinPath(path, key)));
      else if (schema.additionalProperties !== undefined) errors.push(...embeddedErrors(v, additional, `${path}[${key}]`));
    }
  } else if (Array.isArray(value)) {
    const items = itemsSchema(schema);
    value.forEach((v, i) => errors.push(...embeddedErrors(v, items, `${path}[${i}]`)));
  }
  return errors;
}

/** The indexes of the second appearance of each repeated value, as upstream reports them. */
function repeatedIndexes(keys: string[]): number[] {
  const counts = new Map<string, number>();
  const out: number[] = [];
  keys.forEach((k, i) => {
    const n = counts.get(k) ?? 0;
    if (n === 1) out.push(i);
    counts.set(k, n + 1);
  });
  return out;
}

/**
 * Duplicates in `x-kubernetes-list-type: set` lists (whole items) and `map` lists (their
 * `x-kubernetes-list-map-keys`), as upstream's `listtype.ValidateListSetsAndMaps`.
 */
export function listTypeErrors(value: unknown, schema: KubeSchema | undefined, path: string): FieldError[] {
  if (!schema) return [];
  const errors: FieldError[] = [];
  if (isObject(value)) {
    const additional = additionalSchema(schema);
    if (additional) for (const [key, v] of Object.entries(value)) errors.push(...listTypeErrors(v, additional, `${path}[${key}]`));
    if (schema.properties) {
      for (const [key, v] of Object.entries(value)) {
        const property = schema.properties[key];
        if (property) errors.push(...listTypeErrors(v, property, joinPath(path, key)));
      }
    }
    return errors;
  }
  if (!Array.isArray(value)) return errors;
  const listType = schema['x-kubernetes-list-type'];
  if (listType === 'set') {
    for (const i of repeatedIndexes(value.map(canonicalJson))) {
      errors.push({ type: 'FieldValueDuplicate', field: `${path}[${i}]`, message: `Duplicate value: ${errorValue(value[i])}` });
    }
  } else if (listType === 'map') {
    errors.push(...listMapErrors(value, schema['x-kubernetes-list-map-keys'] ?? [], path));
  }
  const items = itemsSchema(schema);
  if (items) value.forEach((v, i) => errors.push(...listTypeErrors(v, items, `${path}[${i}]`)));
  return errors;
}

function listMapErrors(list: unknown[], keyFields: string[], path: string): FieldError[] {
  const notObject = list.findIndex((x) => x !== null && !isObject(x));
  if (notObject >= 0) {
    return [{
      type: 'FieldValueInvalid',
      field: `${path}[${notObject}]`,
      message: `Invalid value: ${errorValue(list[notObject])}: must be an object for an array of list-type map`,
    }];
  }
  if (list.length <= 1) return [];
  // A missing key field is its own value, distinct from any JSON value.
  const keys = list.map((x) => {
    const key: Json = {};
    for (const k of keyFields) if (isObject(x) && Object.hasOwn(x, k)) key[k] = x[k];
    return key;
  });
  const ids = keys.map((key) => (keyFields.length === 1 && !Object.hasOwn(key, keyFields[0]!) ? '\u0000unspecified' : canonicalJson(key)));
  return repeatedIndexes(ids).map((i) => ({ type: 'FieldValueDuplicate', field: `${path}[${i}]`, message: `Duplicate value: ${errorValue(keys[i])}` }));
}

/**
 * Validates `value` against a structural schema as the API server validates a custom resource:
 * the OpenAPI checks (type with `nullable` and `x-kubernetes-int-or-string`, `required`,
 * `properties`/`additionalProperties`, `items`, `enum`, numeric bounds, string length,
 * `pattern`, list and property counts, `uniqueItems`, supported `format`s, `allOf`/`anyOf`/
 * `oneOf`/`not`), then `apiVersion`/`kind`/`metadata` of embedded resources
 * (`x-kubernetes-embedded-resource`), then duplicates in `x-kubernetes-list-type: set|map`
 * lists. `path` is where `value` sits in the object (`''` for a whole object); errors are in
 * upstream's order and wording. CEL rules (`x-kubernetes-validations`) are not evaluated.
 */
export function validateAgainstSchema(value: unknown, schema: JSONSchemaProps, path: string): FieldError[] {
  const s = schema as KubeSchema;
  return [
    ...openApiErrors(value, s, { name: path }),
    ...embeddedErrors(value, s, path),
    ...(isObject(value) ? listTypeErrors(value, s, path) : []),
  ];
}

// ---------------------------------------------------------------------------------------------
// Defaulting

function isNonNullableNull(value: unknown, schema: KubeSchema | undefined): boolean {
  return value === null && schema !== undefined && !schema.nullable;
}

function defaultCopy(schema: KubeSchema): unknown {
  return structuredClone(schema.default);
}

/**
 * Fills `default`s into `value` in place, as upstream's structural defaulting: a property that
 * is missing, or `null` where the schema is not `nullable`, takes its schema's default (a deep
 * copy); then every property, map value and list item is defaulted in turn, so defaults nested
 * in a defaulted object apply too. Values that do not match the schema's shape are left alone.
 */
export function applyDefaults(value: unknown, schema: JSONSchemaProps): void {
  defaultInPlace(value, schema as KubeSchema);
}

function defaultInPlace(value: unknown, schema: KubeSchema | undefined): void {
  if (!schema) return;
  if (isObject(value)) {
    for (const [key, property] of Object.entries(schema.properties ?? {})) {
      if (!hasDefault(property)) continue;
      if (!Object.hasOwn(value, key) || isNonNullableNull(value[key], property)) value[key] = defaultCopy(property);
    }
    const additional = additionalSchema(schema);
    for (const key of Object.keys(value)) {
      const property = schema.properties?.[key];
      if (property) {
        defaultInPlace(value[key], property);
      } else if (additional) {
        if (isNonNullableNull(value[key], additional) && hasDefault(additional)) value[key] = defaultCopy(additional);
        defaultInPlace(value[key], additional);
      }
    }
  } else if (Array.isArray(value)) {
    const items = itemsSchema(schema);
    for (let i = 0; i < value.length; i++) {
      if (isNonNullableNull(value[i], items) && hasDefault(items)) value[i] = defaultCopy(items!);
      defaultInPlace(value[i], items);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Pruning

const META_FIELDS = new Set(['apiVersion', 'kind', 'metadata']);

function pruneInPlace(value: unknown, schema: KubeSchema | undefined, embedded: boolean, path: string, pruned: string[]): void {
  if (schema?.['x-kubernetes-preserve-unknown-fields']) {
    skipPrune(value, schema, embedded, path, pruned);
    return;
  }
  if (isObject(value)) {
    for (const key of Object.keys(value)) {
      if (schema && embedded && META_FIELDS.has(key)) continue;
      const property = schema?.properties?.[key];
      const at = joinPath(path, key);
      if (property) {
        pruneInPlace(value[key], property, property['x-kubernetes-embedded-resource'] === true, at, pruned);
      } else if (schema && schema.additionalProperties !== undefined && schema.additionalProperties !== false) {
        const additional = additionalSchema(schema);
        pruneInPlace(value[key], additional, additional?.['x-kubernetes-embedded-resource'] === true, at, pruned);
      } else {
        delete value[key];
        pruned.push(at);
      }
    }
  } else if (Array.isArray(value)) {
    const items = itemsSchema(schema);
    value.forEach((v, i) => pruneInPlace(v, items, items?.['x-kubernetes-embedded-resource'] === true, `${path}[${i}]`, pruned));
  }
}

/** Below `x-kubernetes-preserve-unknown-fields`: unknown keys stay, known ones are pruned. */
function skipPrune(value: unknown, schema: KubeSchema, embedded: boolean, path: string, pruned: string[]): void {
  if (isObject(value)) {
    const additional = additionalSchema(schema);
    for (const key of Object.keys(value)) {
      if (embedded && META_FIELDS.has(key)) continue;
      const property = schema.properties?.[key];
      const at = joinPath(path, key);
      if (property) pruneInPlace(value[key], property, property['x-kubernetes-embedded-resource'] === true, at, pruned);
      else if (additional) pruneInPlace(value[key], additional, additional['x-kubernetes-embedded-resource'] === true, at, pruned);
    }
  } else if (Array.isArray(value)) {
    const items = itemsSchema(schema);
    if (!items) return;
    value.forEach((v, i) => skipPrune(v, items, items['x-kubernetes-embedded-resource'] === true, `${path}[${i}]`, pruned));
  }
}

function pruneNulls(value: unknown, schema: KubeSchema | undefined): void {
  if (isObject(value)) {
    for (const key of Object.keys(value)) {
      const field = schema?.properties?.[key] ?? additionalSchema(schema);
      if (value[key] === null && field && !field.nullable && !hasDefault(field)) delete value[key];
      else pruneNulls(value[key], field);
    }
  } else if (Array.isArray(value)) {
    const items = itemsSchema(schema);
    for (const item of value) pruneNulls(item, items);
  }
}

/**
 * Drops, in place, the fields of an object its schema does not specify, as the API server does
 * when it decodes a custom resource: `apiVersion`, `kind` and `metadata` stay at the root and in
 * embedded resources (`x-kubernetes-embedded-resource`), everything below
 * `x-kubernetes-preserve-unknown-fields` stays unless its schema names it, map values follow
 * `additionalProperties`. Then, as upstream's decoder does next, `null`s where the schema is
 * neither `nullable` nor has a `default` are removed. Returns the paths pruned
 * (`spec.foo`, `spec.items[0].bar`), for `fieldValidation=Warn|Strict`.
 */
export function pruneUnknownFields(value: unknown, schema: JSONSchemaProps): string[] {
  const pruned = pruneFields(value, schema as KubeSchema, true);
  pruneNulls(value, schema as KubeSchema);
  return pruned;
}

/**
 * Upstream's `pruning.Prune` alone: drops unknown fields in place, keeping `apiVersion`, `kind`
 * and `metadata` when `isResourceRoot` or the schema is an embedded resource. Returns the
 * pruned paths.
 */
export function pruneFields(value: unknown, schema: KubeSchema, isResourceRoot: boolean): string[] {
  const pruned: string[] = [];
  pruneInPlace(value, schema, isResourceRoot || schema['x-kubernetes-embedded-resource'] === true, '', pruned);
  return pruned;
}
