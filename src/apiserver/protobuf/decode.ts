/**
 * Decoding a message into the JSON object a client would have sent for the same Go value:
 * JSON names, upstream's omitempty and pointer rules (see `schema.ts`), and the JSON forms of
 * apimachinery's well-known types.
 */
import { ProtobufError } from './errors.ts';
import { type FieldSpec, type FieldType, type MessageRegistry, type MessageSpec, wireTypeOf } from './schema.ts';
import { decodeUtf8, WIRE_BYTES, WIRE_VARINT, WireReader } from './wire.ts';

/** A JSON object under construction. */
type JsonObject = Record<string, unknown>;

/** Decodes an embedded Kubernetes protobuf object (a `RawExtension` that starts with the magic). */
export type NestedObjectDecoder = (bytes: Uint8Array) => JsonObject;

/** Options of {@link MessageDecoder}. */
export interface MessageDecoderOptions {
  /** Decodes `RawExtension` bytes that are themselves a protobuf object. */
  nested: NestedObjectDecoder;
}

/** The earliest and latest instants Go's RFC 3339 layout prints with a four-digit year. */
const MIN_SECONDS = -62167219200; // 0000-01-01T00:00:00Z
const MAX_SECONDS = 253402300799; // 9999-12-31T23:59:59Z
const NANOS_PER_SECOND = 1_000_000_000;

const MAGIC = [0x6b, 0x38, 0x73, 0x00];

const SCALAR_TYPES = new Set<FieldType>(['string', 'int32', 'int64', 'bool', 'bytes']);

/**
 * Decodes messages of one registry. It keeps the path of the field being decoded, so that an
 * error can say where it happened (`spec.template.spec.containers[0].ports`).
 */
export class MessageDecoder {
  readonly #registry: MessageRegistry;
  readonly #nested: NestedObjectDecoder;
  readonly #path: string[] = [];

  constructor(registry: MessageRegistry, options: MessageDecoderOptions) {
    this.#registry = registry;
    this.#nested = options.nested;
  }

  /** Where the last error happened, as a JSON path; empty at the top level. */
  get path(): string {
    return this.#path.join('.').replaceAll('.[', '[');
  }

  /** Decodes a message's bytes into a new object. */
  decode(bytes: Uint8Array, name: string): JsonObject {
    const target: JsonObject = {};
    this.#decodeInto(bytes, this.#registry.message(name), target);
    return target;
  }

  #decodeInto(bytes: Uint8Array, spec: MessageSpec, target: JsonObject): void {
    const reader = new WireReader(bytes);
    while (!reader.done) {
      const key = reader.key();
      const field = spec.fields.get(key >>> 3);
      if (!field) {
        reader.skip(key);
        continue;
      }
      const wire = key & 7;
      const expected = wireTypeOf(field.type);
      const packed = field.shape === 'repeated' && expected === WIRE_VARINT && wire === WIRE_BYTES;
      if (wire !== expected && !packed) {
        throw new ProtobufError(
          'MALFORMED',
          `field ${field.json} (${key >>> 3}) of ${spec.name} has wire type ${wire}, expected ${expected}`,
        );
      }
      // An inline struct has no name in JSON, so it adds nothing to the path.
      if (!field.inline) this.#path.push(field.json);
      if (field.shape === 'repeated') this.#repeated(reader, field, target, packed);
      else if (field.shape === 'map') this.#mapEntry(reader.bytes(), field, target);
      else this.#single(reader, field, target);
      if (!field.inline) this.#path.pop();
    }
  }

  #single(reader: WireReader, field: FieldSpec, target: JsonObject): void {
    const { type } = field;
    if (typeof type === 'object') {
      const bytes = reader.bytes();
      if (field.inline) {
        this.#decodeInto(bytes, this.#registry.message(type.message), target);
        return;
      }
      // A message repeated on the wire merges into the earlier one (protobuf semantics). A
      // present message is kept even when empty: Go's omitempty never omits a struct, so a JSON
      // client sends `status: {}` too.
      const existing = target[field.json];
      const object: JsonObject = isObject(existing) ? existing : {};
      this.#decodeInto(bytes, this.#registry.message(type.message), object);
      target[field.json] = object;
      return;
    }
    const value = this.#value(reader, type);
    // Only scalars have omitempty zero values; the well-known types are structs in Go, printed
    // whenever present except the zero Time and an empty RawExtension, which Go prints as null.
    const omitted = value === undefined || (field.presence === 'omitempty' && SCALAR_TYPES.has(type) && isZero(value));
    // A later occurrence of a field replaces an earlier one, so an omitted value also clears it.
    if (omitted) delete target[field.json];
    else target[field.json] = value;
  }

  #repeated(reader: WireReader, field: FieldSpec, target: JsonObject, packed: boolean): void {
    const existing = target[field.json];
    const list: unknown[] = Array.isArray(existing) ? existing : [];
    target[field.json] = list;
    const { type } = field;
    if (packed && typeof type !== 'object') {
      const values = new WireReader(reader.bytes());
      while (!values.done) list.push(this.#value(values, type));
      return;
    }
    this.#path.push(`[${list.length}]`);
    if (typeof type === 'object') list.push(this.decode(reader.bytes(), type.message));
    else list.push(this.#value(reader, type) ?? null);
    this.#path.pop();
  }

  #mapEntry(bytes: Uint8Array, field: FieldSpec, target: JsonObject): void {
    const entry = new WireReader(bytes);
    let key = '';
    let value: unknown;
    while (!entry.done) {
      const tag = entry.key();
      if (tag === ((1 << 3) | WIRE_BYTES)) key = entry.string();
      else if (tag >>> 3 === 2 && (tag & 7) === wireTypeOf(field.type)) value = this.#mapValue(entry, field.type);
      else entry.skip(tag);
    }
    const existing = target[field.json];
    const map: JsonObject = isObject(existing) ? existing : {};
    target[field.json] = map;
    // Go fills an absent map value with the zero value, which JSON then prints. A key such as
    // `__proto__` must become an own member, as JSON.parse makes it, not the object's prototype.
    const member = value ?? zeroMapValue(field.type);
    if (key === '__proto__') Object.defineProperty(map, key, { value: member, enumerable: true, writable: true, configurable: true });
    else map[key] = member;
  }

  #mapValue(reader: WireReader, type: FieldType): unknown {
    if (typeof type === 'object') return this.decode(reader.bytes(), type.message);
    return this.#value(reader, type);
  }

  /** A scalar or well-known value; undefined for a well-known value that is absent in JSON. */
  #value(reader: WireReader, type: Exclude<FieldType, { message: string }>): unknown {
    switch (type) {
      case 'string':
        return reader.string();
      case 'int32':
        return reader.int32();
      case 'int64':
        return reader.int64();
      case 'bool':
        return reader.bool();
      case 'bytes':
        return Buffer.from(reader.bytes()).toString('base64');
      case 'Time':
      case 'MicroTime':
        return decodeTime(reader.bytes(), type === 'MicroTime');
      case 'Quantity':
        return decodeQuantity(reader.bytes());
      case 'IntOrString':
        return decodeIntOrString(reader.bytes());
      case 'RawExtension':
        return this.#rawExtension(reader.bytes());
      case 'FieldsV1':
        return decodeFieldsV1(reader.bytes());
      case 'StringList':
        return decodeStringList(reader.bytes());
    }
  }

  /** `RawExtension` JSON is its raw bytes: a JSON document, or an embedded protobuf object. */
  #rawExtension(bytes: Uint8Array): unknown {
    const raw = singleBytesField(bytes);
    if (raw === undefined || raw.length === 0) return undefined;
    if (raw.length >= MAGIC.length && MAGIC.every((b, i) => raw[i] === b)) return this.#nested(raw);
    return parseJson(raw, 'RawExtension');
  }
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The zero values that `omitempty` leaves out. */
function isZero(value: unknown): boolean {
  return value === '' || value === 0 || value === false;
}

function zeroMapValue(type: FieldType): unknown {
  if (typeof type === 'object') return {};
  switch (type) {
    case 'int32':
    case 'int64':
      return 0;
    case 'bool':
      return false;
    case 'Quantity':
      return '0';
    case 'StringList':
      return [];
    default:
      return '';
  }
}

/** Field 1 of a message that has one `bytes` field (RawExtension, FieldsV1). */
function singleBytesField(bytes: Uint8Array): Uint8Array | undefined {
  const reader = new WireReader(bytes);
  let raw: Uint8Array | undefined;
  while (!reader.done) {
    const key = reader.key();
    if (key === ((1 << 3) | WIRE_BYTES)) raw = reader.bytes();
    else reader.skip(key);
  }
  return raw;
}

function parseJson(bytes: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(decodeUtf8(bytes));
  } catch (error) {
    if (error instanceof ProtobufError) throw error;
    throw new ProtobufError('MALFORMED', `${what} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * `metav1.Time` {seconds = 1, nanos = 2} as Go's JSON prints it: RFC 3339 in UTC, whole seconds
 * (`2024-01-01T00:00:00Z`); `MicroTime` with six fractional digits. An empty message is the zero
 * time, which Go prints as null: undefined here, so the field is left out.
 */
function decodeTime(bytes: Uint8Array, micro: boolean): string | undefined {
  if (bytes.length === 0) return undefined;
  const reader = new WireReader(bytes);
  let seconds = 0;
  let nanos = 0;
  while (!reader.done) {
    const key = reader.key();
    if (key === ((1 << 3) | WIRE_VARINT)) seconds = reader.int64();
    else if (key === ((2 << 3) | WIRE_VARINT)) nanos = reader.int32();
    else reader.skip(key);
  }
  // Go's time.Unix normalizes nanoseconds outside [0, 1e9) into the seconds.
  seconds += Math.floor(nanos / NANOS_PER_SECOND);
  nanos = ((nanos % NANOS_PER_SECOND) + NANOS_PER_SECOND) % NANOS_PER_SECOND;
  if (!Number.isSafeInteger(seconds) || seconds < MIN_SECONDS || seconds > MAX_SECONDS) {
    throw new ProtobufError('MALFORMED', `time ${seconds}s is outside the years 0000–9999`);
  }
  const whole = new Date(seconds * 1000).toISOString().slice(0, 19);
  if (!micro) return `${whole}Z`;
  return `${whole}.${String(Math.floor(nanos / 1000)).padStart(6, '0')}Z`;
}

/**
 * `resource.Quantity` {string = 1}: the string is already canonical (Go clients write
 * `Quantity.String()`), and it is the JSON form too; the API server parses it as it parses JSON.
 */
function decodeQuantity(bytes: Uint8Array): string {
  const reader = new WireReader(bytes);
  // An empty message is the zero Quantity, which Go prints as "0".
  let value = '0';
  while (!reader.done) {
    const key = reader.key();
    if (key === ((1 << 3) | WIRE_BYTES)) value = reader.string();
    else reader.skip(key);
  }
  return value;
}

/** `intstr.IntOrString` {type = 1, intVal = 2, strVal = 3}: a JSON number (type 0) or string (type 1). */
function decodeIntOrString(bytes: Uint8Array): number | string {
  const reader = new WireReader(bytes);
  let type = 0;
  let intVal = 0;
  let strVal = '';
  while (!reader.done) {
    const key = reader.key();
    if (key === ((1 << 3) | WIRE_VARINT)) type = reader.int64();
    else if (key === ((2 << 3) | WIRE_VARINT)) intVal = reader.int32();
    else if (key === ((3 << 3) | WIRE_BYTES)) strVal = reader.string();
    else reader.skip(key);
  }
  if (type === 0) return intVal;
  if (type === 1) return strVal;
  throw new ProtobufError('MALFORMED', `IntOrString has unknown type ${type} (0 is int, 1 is string)`);
}

/** `metav1.FieldsV1` {Raw = 1}: its bytes are a JSON object. */
function decodeFieldsV1(bytes: Uint8Array): unknown {
  const raw = singleBytesField(bytes);
  return raw === undefined || raw.length === 0 ? undefined : parseJson(raw, 'FieldsV1');
}

/** A named `[]string` type (`ExtraValue`), wrapped as {repeated string items = 1}. */
function decodeStringList(bytes: Uint8Array): string[] {
  const reader = new WireReader(bytes);
  const items: string[] = [];
  while (!reader.done) {
    const key = reader.key();
    if (key === ((1 << 3) | WIRE_BYTES)) items.push(reader.string());
    else reader.skip(key);
  }
  return items;
}
