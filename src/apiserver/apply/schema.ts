/**
 * What server-side apply needs to know of a kind's shape: which lists are associative (and by
 * which keys), which are sets of scalars, which lists and objects are atomic, and which object
 * keys are struct fields rather than map entries. Upstream reads this from the OpenAPI schema;
 * Skiff has no schemas for its built-in kinds, so it derives them from the strategic-merge
 * metadata (`patchMetaFor`) plus the few facts where upstream's list-map keys or struct types
 * differ from it, and reads custom resources' structural schemas.
 */
import type { KubeSchema } from '../crd/index.ts';
import { patchMetaFor, type PatchMeta } from '../patch/index.ts';

/**
 * The shape of one value. A value's JSON type decides whether it is treated as an object, a
 * list or a scalar; the schema only refines how objects and lists merge.
 */
export interface FieldSchema {
  /** Object keys with a shape of their own. */
  readonly fields?: Readonly<Record<string, FieldSchema>>;
  /** The shape of the other keys of an object. Default: {@link ANY_FIELD} or {@link DEDUCED}. */
  readonly other?: FieldSchema;
  /**
   * Whether every key of the object is a struct field (built-in kinds) rather than only those in
   * `fields`. Map entries are owned as such; struct fields are owned only through their leaves.
   */
  readonly struct?: boolean;
  /** The shape of a list's items. */
  readonly items?: FieldSchema;
  /** How a list merges: replaced whole (default), a set of scalars, or by key. */
  readonly listType?: 'atomic' | 'set' | 'map';
  /** The key fields of a `map` list, in upstream's order. */
  readonly keys?: readonly string[];
  /** Values of key fields an element may omit (upstream's schema defaults for them). */
  readonly keyDefaults?: Readonly<Record<string, unknown>>;
  /** An object replaced whole (`+structType=atomic`, `x-kubernetes-map-type: atomic`). */
  readonly atomic?: boolean;
  /**
   * Present in the kind's zero value (a non-pointer struct, or a field without `omitempty`), so
   * never "added" on its own when an ordinary write creates it: no `.` entry for it.
   */
  readonly zero?: boolean;
}

/** A field of a built-in kind that Skiff has no metadata for: lists atomic, objects granular. */
export const ANY_FIELD: FieldSchema = Object.freeze({ struct: true });

/**
 * What upstream deduces for a value without a schema (a custom resource's unknown fields):
 * objects are maps whose every key is an entry, lists are atomic.
 */
export const DEDUCED: FieldSchema = Object.freeze({});

/** The shape of a key of an object. */
export function fieldSchema(schema: FieldSchema, key: string): FieldSchema {
  if (schema.fields && Object.hasOwn(schema.fields, key)) return schema.fields[key]!;
  return schema.other ?? (schema.struct ? ANY_FIELD : DEDUCED);
}

/** Whether a key is a struct field (owned through its leaves) rather than a map entry. */
export function isStructField(schema: FieldSchema, key: string): boolean {
  return schema.struct === true || (schema.fields !== undefined && Object.hasOwn(schema.fields, key));
}

/** The shape of a list's items. */
export function itemSchema(schema: FieldSchema): FieldSchema {
  return schema.items ?? (schema.struct ? ANY_FIELD : DEDUCED);
}

// ---- Built-in kinds --------------------------------------------------------------------------

/**
 * Where upstream's list-map keys are more than the strategic merge key: container and service
 * ports are keyed by port and protocol (which defaults to TCP), topology spread constraints by
 * topology key and `whenUnsatisfiable`.
 */
const MAP_KEYS: Readonly<Record<string, { keys: string[]; defaults?: Record<string, unknown> }>> = {
  containerPort: { keys: ['containerPort', 'protocol'], defaults: { protocol: 'TCP' } },
  port: { keys: ['port', 'protocol'], defaults: { protocol: 'TCP' } },
  topologyKey: { keys: ['topologyKey', 'whenUnsatisfiable'] },
};

/** meta/v1 ObjectMeta, for every kind (custom resources' schemas do not describe it). */
const OBJECT_META: FieldSchema = Object.freeze<FieldSchema>({
  struct: true,
  fields: {
    labels: { other: { struct: true } },
    annotations: { other: { struct: true } },
    finalizers: { listType: 'set' },
    ownerReferences: { listType: 'map', keys: ['uid'], items: ANY_FIELD },
  },
});

const converted = new WeakMap<PatchMeta, FieldSchema>();

/** A strategic-merge shape as a field schema: every key a struct field. */
function fromPatchMeta(meta: PatchMeta): FieldSchema {
  const cached = converted.get(meta);
  if (cached) return cached;
  const fields: Record<string, FieldSchema> = {};
  for (const [name, field] of Object.entries(meta.fields)) {
    const inner = field.meta ? fromPatchMeta(field.meta) : ANY_FIELD;
    if (field.strategy === 'merge' && field.mergeKey) {
      const mapped = MAP_KEYS[field.mergeKey];
      fields[name] = {
        struct: true,
        listType: 'map',
        keys: mapped?.keys ?? [field.mergeKey],
        ...(mapped?.defaults ? { keyDefaults: mapped.defaults } : {}),
        items: inner,
      };
    } else if (field.strategy === 'merge') {
      fields[name] = { struct: true, listType: 'set' };
    } else if (field.strategy === 'replace') {
      fields[name] = { ...inner, atomic: true };
    } else {
      fields[name] = inner;
    }
  }
  if (Object.hasOwn(fields, 'metadata')) fields.metadata = OBJECT_META;
  const schema: FieldSchema = { struct: true, fields };
  converted.set(meta, schema);
  return schema;
}

const POD_TEMPLATE_ZERO = ['spec.template', 'spec.template.metadata', 'spec.template.spec', 'spec.template.spec.containers'];

/**
 * Facts about built-in kinds that strategic merge metadata does not carry: label selectors are
 * atomic structs (`+structType=atomic`), and which objects exist in the Go zero value.
 */
const OVERLAYS: Readonly<Record<string, { zero?: string[]; atomic?: string[] }>> = {
  '/Pod': { zero: ['spec.containers'] },
  '/Service': { zero: ['status.loadBalancer'] },
  '/PersistentVolumeClaim': { zero: ['spec.resources'] },
  'apps/Deployment': { zero: [...POD_TEMPLATE_ZERO, 'spec.strategy', 'spec.selector'], atomic: ['spec.selector'] },
  'apps/ReplicaSet': { zero: [...POD_TEMPLATE_ZERO, 'spec.selector'], atomic: ['spec.selector'] },
  'apps/StatefulSet': { zero: [...POD_TEMPLATE_ZERO, 'spec.selector', 'spec.updateStrategy'], atomic: ['spec.selector'] },
  'apps/DaemonSet': { zero: [...POD_TEMPLATE_ZERO, 'spec.selector', 'spec.updateStrategy'], atomic: ['spec.selector'] },
  'batch/Job': { zero: POD_TEMPLATE_ZERO, atomic: ['spec.selector'] },
  'batch/CronJob': {
    zero: ['spec.jobTemplate', 'spec.jobTemplate.metadata', 'spec.jobTemplate.spec', ...POD_TEMPLATE_ZERO.map((p) => p.replace('spec.', 'spec.jobTemplate.spec.'))],
  },
  'policy/PodDisruptionBudget': { atomic: ['spec.selector'] },
};

/** `schema` with `change` made to the object at a dotted path of field names. */
function overlay(schema: FieldSchema, path: string[], change: Partial<FieldSchema>): FieldSchema {
  if (path.length === 0) return { ...schema, ...change };
  const [head, ...rest] = path as [string, ...string[]];
  const child = overlay(fieldSchema(schema, head), rest, change);
  return { ...schema, fields: { ...schema.fields, [head]: child } };
}

const builtins = new Map<string, FieldSchema | undefined>();

/**
 * The schema of a built-in kind (`group` is `''` for core), or `undefined` for a kind Skiff has
 * no strategic merge metadata for (custom resources).
 */
export function builtinSchema(group: string, version: string, kind: string): FieldSchema | undefined {
  const id = `${group}/${version}/${kind}`;
  if (builtins.has(id)) return builtins.get(id);
  const meta = patchMetaFor(group, version, kind);
  let schema: FieldSchema | undefined;
  if (meta) {
    schema = fromPatchMeta(meta);
    schema = overlay(schema, ['spec'], { zero: true });
    schema = overlay(schema, ['status'], { zero: true });
    const extra = OVERLAYS[`${group}/${kind}`];
    for (const path of extra?.zero ?? []) schema = overlay(schema, path.split('.'), { zero: true });
    for (const path of extra?.atomic ?? []) schema = overlay(schema, path.split('.'), { atomic: true });
  }
  builtins.set(id, schema);
  return schema;
}

// ---- Custom resources ------------------------------------------------------------------------

/**
 * The schema of a custom resource version from its structural `openAPIV3Schema`, read as
 * upstream does: `x-kubernetes-list-type` (lists are atomic unless it says `set` or `map`, keyed
 * by `x-kubernetes-list-map-keys`), `x-kubernetes-map-type: atomic`, properties as struct fields
 * and `additionalProperties` or preserved unknown fields as map entries. `metadata` is always
 * ObjectMeta. Without a schema every field is deduced.
 */
export function customResourceSchema(openAPIV3Schema: KubeSchema | undefined): FieldSchema {
  const root = openAPIV3Schema ? fromKubeSchema(openAPIV3Schema) : DEDUCED;
  return { ...root, fields: { ...root.fields, metadata: OBJECT_META } };
}

function fromKubeSchema(schema: KubeSchema): FieldSchema {
  const out: {
    -readonly [K in keyof FieldSchema]: FieldSchema[K];
  } = {};
  if (schema.properties) {
    const fields: Record<string, FieldSchema> = {};
    for (const [name, property] of Object.entries(schema.properties)) fields[name] = fromKubeSchema(property);
    out.fields = fields;
  }
  if (typeof schema.additionalProperties === 'object' && schema.additionalProperties !== null) {
    out.other = fromKubeSchema(schema.additionalProperties);
  }
  const items = Array.isArray(schema.items) ? undefined : schema.items;
  if (items) out.items = fromKubeSchema(items);
  const listType = schema['x-kubernetes-list-type'];
  if (listType === 'set') out.listType = 'set';
  if (listType === 'map' && (schema['x-kubernetes-list-map-keys']?.length ?? 0) > 0) {
    out.listType = 'map';
    out.keys = schema['x-kubernetes-list-map-keys']!;
    const defaults: Record<string, unknown> = {};
    for (const key of out.keys) {
      const d = items?.properties?.[key]?.default;
      if (d !== undefined && d !== null) defaults[key] = d;
    }
    if (Object.keys(defaults).length > 0) out.keyDefaults = defaults;
  }
  if (schema['x-kubernetes-map-type'] === 'atomic') out.atomic = true;
  return out;
}

const crSchemas = new WeakMap<object, FieldSchema>();

/** A built-in kind Skiff has no strategic merge metadata for: every object a struct. */
const OTHER_BUILTIN: FieldSchema = Object.freeze({ struct: true, fields: { metadata: OBJECT_META } });

/**
 * The schema of a served kind: a built-in kind's, else the one of its CustomResourceDefinition
 * (`lookupCrd` finds it by name, `<plural>.<group>`), else that of a built-in kind without
 * strategic merge metadata (lists atomic, objects granular structs).
 */
export function schemaForKind(
  kind: { group: string; version: string; kind: string; plural: string },
  lookupCrd: (name: string) => unknown,
): FieldSchema {
  const builtin = builtinSchema(kind.group, kind.version, kind.kind);
  if (builtin) return builtin;
  const crd = lookupCrd(`${kind.plural}.${kind.group}`) as
    | { spec?: { versions?: { name?: string; schema?: { openAPIV3Schema?: KubeSchema } }[] } }
    | undefined;
  const version = crd?.spec?.versions?.find((v) => v.name === kind.version);
  if (!version) return OTHER_BUILTIN;
  const openAPIV3Schema = version.schema?.openAPIV3Schema;
  if (!openAPIV3Schema) return customResourceSchema(undefined);
  let schema = crSchemas.get(openAPIV3Schema);
  if (!schema) {
    schema = customResourceSchema(openAPIV3Schema);
    crSchemas.set(openAPIV3Schema, schema);
  }
  return schema;
}
