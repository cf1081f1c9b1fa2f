/**
 * OpenAPI v2 (Swagger) from the OpenAPI 3 component schemas, as JSON or as gnostic's
 * `openapi_v2.Document` protobuf: kubectl parses it on `apply` (to set up validation, and to
 * look for strategic-merge operations) and for `explain --output plaintext-openapiv2`.
 *
 * kubectl parses every v2 definition into its own models before using any, and refuses the
 * whole document over one it cannot read: a `$ref` to a missing definition, a `$ref` beside a
 * `type` or `properties`, an `array` without exactly one `items` schema. The conversion keeps to
 * what that parser accepts.
 */
import { isSchema as isObject, type Schema } from './schema.ts';
import { ProtoWriter } from './proto-writer.ts';

const V3_PREFIX = '#/components/schemas/';
const V2_PREFIX = '#/definitions/';

/** Keys a Swagger 2.0 schema may have (besides `x-` extensions). */
const V2_KEYS = new Set([
  '$ref',
  'format',
  'title',
  'description',
  'default',
  'multipleOf',
  'maximum',
  'exclusiveMaximum',
  'minimum',
  'exclusiveMinimum',
  'maxLength',
  'minLength',
  'pattern',
  'maxItems',
  'minItems',
  'uniqueItems',
  'maxProperties',
  'minProperties',
  'required',
  'enum',
  'additionalProperties',
  'type',
  'items',
  'allOf',
  'properties',
  'readOnly',
  'example',
]);

/**
 * One schema in v2 form: `$ref`s point into `#/definitions/`; a one-element `allOf` holding a
 * `$ref` (OpenAPI 3's way of describing a reference) becomes the `$ref` itself; a value of
 * several types (`oneOf` of types, as IntOrString and Quantity are) becomes a `string`, as
 * upstream publishes them in v2; keywords Swagger lacks (`oneOf`, `anyOf`, `not`, `nullable`)
 * are dropped.
 */
export function toV2Schema(schema: Schema): Schema {
  const out: Schema = {};
  const allOf = schema.allOf;
  const single = Array.isArray(allOf) && allOf.length === 1 && isObject(allOf[0]) && typeof allOf[0].$ref === 'string' ? allOf[0] : undefined;
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'allOf' && single) continue;
    if (!V2_KEYS.has(key) && !key.startsWith('x-')) continue;
    out[key] = convertKeyword(key, value);
  }
  if (single && out.type === undefined && out.properties === undefined) out.$ref = convertRef(single.$ref as string);
  if (out.type === undefined && out.$ref === undefined) {
    const alternatives = [schema.oneOf, schema.anyOf].find(Array.isArray) as unknown[] | undefined;
    const types = alternatives?.map((a) => (isObject(a) ? a.type : undefined));
    if (types && types.length > 0 && types.includes('string') && types.every((t) => typeof t === 'string')) out.type = 'string';
  }
  // kubectl's parser wants `items` on every array, and one schema there.
  if (out.type === 'array' && !isObject(out.items)) delete out.type;
  return out;
}

function convertKeyword(key: string, value: unknown): unknown {
  if (key.startsWith('x-')) return value;
  switch (key) {
    case '$ref':
      return typeof value === 'string' ? convertRef(value) : value;
    case 'items':
      return isObject(value) ? toV2Schema(value) : Array.isArray(value) && isObject(value[0]) ? toV2Schema(value[0]) : value;
    case 'additionalProperties':
      return isObject(value) ? toV2Schema(value) : value;
    case 'allOf':
      return Array.isArray(value) ? value.filter(isObject).map(toV2Schema) : value;
    case 'properties':
      return isObject(value) ? Object.fromEntries(Object.entries(value).filter(([, v]) => isObject(v)).map(([k, v]) => [k, toV2Schema(v as Schema)])) : value;
    default:
      return value;
  }
}

function convertRef(ref: string): string {
  return ref.startsWith(V3_PREFIX) ? V2_PREFIX + ref.slice(V3_PREFIX.length) : ref;
}

/** The parts of a v2 document Skiff publishes. */
export interface V2Document {
  title: string;
  version: string;
  /** Definition name → v2 schema (see {@link toV2Schema}). */
  definitions: Record<string, Schema>;
}

/** The document as Swagger 2.0 JSON. */
export function v2Json(doc: V2Document): string {
  return JSON.stringify({ swagger: '2.0', info: { title: doc.title, version: doc.version }, paths: {}, definitions: doc.definitions });
}

/**
 * The document as gnostic's `openapi_v2.Document` protobuf (field numbers from gnostic-models'
 * `openapiv2/OpenAPIv2.proto`): swagger = 1, info = 2 (title = 1, version = 2), paths = 8,
 * definitions = 9 (a `NamedSchema` list: name = 1, value = 2).
 */
export function v2Protobuf(doc: V2Document): Uint8Array {
  const info = new ProtoWriter().string(1, doc.title).string(2, doc.version);
  const definitions = new ProtoWriter();
  for (const [name, schema] of Object.entries(doc.definitions)) {
    definitions.message(1, new ProtoWriter().string(1, name).message(2, schemaMessage(schema)));
  }
  return new ProtoWriter().string(1, '2.0').message(2, info).message(8, new ProtoWriter()).message(9, definitions).finish();
}

/** gnostic's `Any`: a value as YAML text (field 2); JSON is YAML. */
function anyMessage(value: unknown): ProtoWriter {
  return new ProtoWriter().string(2, JSON.stringify(value));
}

function num(value: unknown): number | undefined {
  return typeof value === 'number' ? value : undefined;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** gnostic's `Schema` message. */
function schemaMessage(schema: Schema): ProtoWriter {
  const w = new ProtoWriter();
  w.string(1, str(schema.$ref));
  w.string(2, str(schema.format));
  w.string(3, str(schema.title));
  w.string(4, str(schema.description));
  if (schema.default !== undefined) w.message(5, anyMessage(schema.default));
  w.double(6, num(schema.multipleOf));
  w.double(7, num(schema.maximum));
  w.bool(8, schema.exclusiveMaximum === true);
  w.double(9, num(schema.minimum));
  w.bool(10, schema.exclusiveMinimum === true);
  w.int64(11, num(schema.maxLength));
  w.int64(12, num(schema.minLength));
  w.string(13, str(schema.pattern));
  w.int64(14, num(schema.maxItems));
  w.int64(15, num(schema.minItems));
  w.bool(16, schema.uniqueItems === true);
  w.int64(17, num(schema.maxProperties));
  w.int64(18, num(schema.minProperties));
  if (Array.isArray(schema.required)) for (const name of schema.required) w.string(19, str(name));
  if (Array.isArray(schema.enum)) for (const value of schema.enum) w.message(20, anyMessage(value));
  const additional = schema.additionalProperties;
  // AdditionalPropertiesItem: schema = 1 | boolean = 2.
  if (isObject(additional)) w.message(21, new ProtoWriter().message(1, schemaMessage(additional)));
  else if (typeof additional === 'boolean') w.message(21, new ProtoWriter().oneofBool(2, additional));
  // TypeItem: repeated string value = 1.
  if (typeof schema.type === 'string') w.message(22, new ProtoWriter().string(1, schema.type));
  // ItemsItem: repeated Schema schema = 1.
  if (isObject(schema.items)) w.message(23, new ProtoWriter().message(1, schemaMessage(schema.items)));
  if (Array.isArray(schema.allOf)) for (const sub of schema.allOf) if (isObject(sub)) w.message(24, schemaMessage(sub));
  // Properties: repeated NamedSchema additional_properties = 1.
  if (isObject(schema.properties)) {
    const properties = new ProtoWriter();
    for (const [name, sub] of Object.entries(schema.properties)) {
      if (isObject(sub)) properties.message(1, new ProtoWriter().string(1, name).message(2, schemaMessage(sub)));
    }
    w.message(25, properties);
  }
  w.bool(27, schema.readOnly === true);
  if (schema.example !== undefined) w.message(30, anyMessage(schema.example));
  // Vendor extensions: repeated NamedAny (name = 1, value = 2).
  for (const [key, value] of Object.entries(schema)) {
    if (key.startsWith('x-')) w.message(31, new ProtoWriter().string(1, key).message(2, anyMessage(value)));
  }
  return w;
}
