/**
 * Message tables: how Skiff describes upstream's protobuf messages, and the parser that turns a
 * table row into field descriptors.
 *
 * A table maps a message name to its fields, written as space-separated words
 *
 *     [...]jsonName=number:[*|!]type
 *
 * - `jsonName` is the field's JSON name (upstream's `json:"…"` tag). A leading `...` marks a Go
 *   struct embedded with `json:",inline"`: on the wire it is a nested message, in JSON its fields
 *   sit in the parent object (`Volume` ⊃ `VolumeSource`, `Probe` ⊃ `ProbeHandler`).
 * - `number` is the protobuf field number (upstream's `protobuf:"…"` tag).
 * - `*` marks a Go pointer (`*int32`, `*bool`, `*LabelSelector`): upstream writes it only when
 *   set, so a present value is kept even when zero (`replicas: 0`, `emptyDir: {}`).
 *   `!` marks a non-pointer field whose JSON tag has no `omitempty` (`containerPort`, `port`):
 *   upstream always writes it, and its zero value is kept. Every other field is a non-pointer
 *   `omitempty` field: upstream writes it too, and a zero scalar (`""`, `0`, `false`, empty
 *   bytes) is left out, as Go's JSON would. Messages are kept whenever present, even empty
 *   (`status: {}`), because Go's omitempty never omits a struct; the marks on them record the Go
 *   type all the same.
 * - `type` is a scalar (`string`, `int32`, `int64`, `bool`, `bytes`), a well-known apimachinery
 *   type (`Time`, `MicroTime`, `Quantity`, `IntOrString`, `RawExtension`, `FieldsV1`,
 *   `StringList` for named `[]string` types such as `ExtraValue`), or a message of the same table
 *   (`PodSpec`) or another one (`metav1.ObjectMeta`). `[]T` is a repeated field; `{T}` a map
 *   with string keys, encoded as repeated entries `{key = 1, value = 2}`.
 */
/** Message name → field list in the syntax above. */
export type MessageTable = Readonly<Record<string, string>>;

/** Types carried directly on the wire. */
export type ScalarType = 'string' | 'int32' | 'int64' | 'bool' | 'bytes';

/** apimachinery types whose JSON form is not an object of their protobuf fields. */
export type WellKnownType = 'Time' | 'MicroTime' | 'Quantity' | 'IntOrString' | 'RawExtension' | 'FieldsV1' | 'StringList';

/** What a field holds: a scalar, a well-known type, or a message by qualified name. */
export type FieldType = ScalarType | WellKnownType | { readonly message: string };

/** One field of a message. */
export interface FieldSpec {
  /** The JSON name; for an inline field, upstream's protobuf name (it has none in JSON). */
  readonly json: string;
  readonly number: number;
  readonly type: FieldType;
  readonly shape: 'single' | 'repeated' | 'map';
  /** `pointer`: kept whenever present; `always`: no omitempty; `omitempty`: zero scalars left out. */
  readonly presence: 'pointer' | 'always' | 'omitempty';
  /** Whether the message's fields are merged into the parent JSON object. */
  readonly inline: boolean;
}

/** A message: its qualified name (`corev1.PodSpec`) and its fields by number. */
export interface MessageSpec {
  readonly name: string;
  readonly fields: ReadonlyMap<number, FieldSpec>;
}

const SCALARS = new Set<string>(['string', 'int32', 'int64', 'bool', 'bytes']);
const WELL_KNOWN = new Set<string>(['Time', 'MicroTime', 'Quantity', 'IntOrString', 'RawExtension', 'FieldsV1', 'StringList']);
const FIELD = /^(\.\.\.)?([A-Za-z_$][\w$]*)=(\d+):([*!]?)(\[\]|\{)?([\w.]+)(\})?$/;

/**
 * The messages of several tables, keyed by table alias (`corev1`), parsed on first use.
 * A malformed row or a reference to a message no table has is a bug in the tables: it throws a
 * plain `Error` naming the row, and the unit tests resolve every message reachable from a kind.
 */
export class MessageRegistry {
  readonly #tables: Readonly<Record<string, MessageTable>>;
  readonly #parsed = new Map<string, MessageSpec>();

  constructor(tables: Readonly<Record<string, MessageTable>>) {
    this.#tables = tables;
  }

  /** Whether a qualified message name (`appsv1.Deployment`) is in a table. */
  has(name: string): boolean {
    const [alias, message] = splitName(name);
    return Object.hasOwn(this.#tables, alias) && Object.hasOwn(this.#tables[alias]!, message);
  }

  /** The message with this qualified name. */
  message(name: string): MessageSpec {
    let spec = this.#parsed.get(name);
    if (!spec) {
      if (!this.has(name)) throw new Error(`protobuf message table has no message ${name}`);
      const [alias, message] = splitName(name);
      spec = { name, fields: parseFields(alias, name, this.#tables[alias]![message]!) };
      this.#parsed.set(name, spec);
    }
    return spec;
  }
}

function splitName(name: string): [alias: string, message: string] {
  const dot = name.indexOf('.');
  return dot < 0 ? ['', name] : [name.slice(0, dot), name.slice(dot + 1)];
}

function parseFields(alias: string, messageName: string, row: string): Map<number, FieldSpec> {
  const fields = new Map<number, FieldSpec>();
  for (const word of row.split(/\s+/)) {
    if (word === '') continue;
    const match = FIELD.exec(word);
    if (!match) throw new Error(`protobuf message ${messageName}: cannot parse field "${word}"`);
    const [, inline, json, number, mark, open, typeName, close] = match;
    if ((open === '{') !== (close === '}')) throw new Error(`protobuf message ${messageName}: unbalanced braces in "${word}"`);
    const type: FieldType = SCALARS.has(typeName!) || WELL_KNOWN.has(typeName!)
      ? (typeName as ScalarType | WellKnownType)
      : { message: typeName!.includes('.') ? typeName! : `${alias}.${typeName}` };
    const field: FieldSpec = {
      json: json!,
      number: Number(number),
      type,
      shape: open === '[]' ? 'repeated' : open === '{' ? 'map' : 'single',
      presence: mark === '*' ? 'pointer' : mark === '!' ? 'always' : 'omitempty',
      inline: inline !== undefined,
    };
    if (field.inline && (field.shape !== 'single' || typeof type !== 'object')) {
      throw new Error(`protobuf message ${messageName}: inline field "${word}" must be a single message`);
    }
    if (fields.has(field.number)) throw new Error(`protobuf message ${messageName}: field number ${number} used twice`);
    fields.set(field.number, field);
  }
  return fields;
}

/** The wire type a field's values must have (packed repeated varints may also come as bytes). */
export function wireTypeOf(type: FieldType): 0 | 2 {
  return type === 'int32' || type === 'int64' || type === 'bool' ? 0 : 2;
}
