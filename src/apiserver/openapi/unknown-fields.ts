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
  walk(rootOf(catalog, name), object, [], out, false);
  return out;
}

/**
 * Removes, in place, the fields the schema does not define — what upstream's decoding into Go
 * types does to every built-in object, whatever `fieldValidation` says. Returns their paths.
 */
export function pruneUnknownFields(catalog: SchemaCatalog, name: string, object: unknown): string[] {
  const out: string[] = [];
  walk(rootOf(catalog, name), object, [], out, true);
  return out;
}

const JSON_SCHEMA_PROPS = 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps';
const RAW_EXTENSION = 'io.k8s.apimachinery.pkg.runtime.RawExtension';

/**
 * A schema as the walks need it, with its references followed once and its children's nodes
 * kept: writes check every object against these, so no reference is looked up per field.
 */
class Node {
  /** Any content goes (`x-kubernetes-preserve-unknown-fields`, int-or-string). */
  readonly open: boolean;
  readonly type: unknown;
  readonly #catalog: SchemaCatalog;
  readonly #properties: Record<string, Schema> | undefined;
  readonly #additional: Schema | undefined;
  readonly #items: Schema | undefined;
  readonly #fields = new Map<string, Node | null | undefined>();
  #itemNode: Node | null | undefined;
  #valueNode: Node | null | undefined;

  constructor(catalog: SchemaCatalog, resolved: Schema) {
    this.#catalog = catalog;
    this.open = resolved['x-kubernetes-preserve-unknown-fields'] === true || resolved['x-kubernetes-int-or-string'] === true;
    this.type = resolved.type;
    this.#properties = isSchema(resolved.properties) ? (resolved.properties as Record<string, Schema>) : undefined;
    this.#additional = isSchema(resolved.additionalProperties) ? (resolved.additionalProperties as Schema) : undefined;
    this.#items = isSchema(resolved.items) ? (resolved.items as Schema) : undefined;
  }

  /** Whether the schema names its fields (a struct) rather than only typing a map's values. */
  get struct(): boolean {
    return this.#properties !== undefined;
  }

  /** Whether list elements have a schema. */
  get hasItems(): boolean {
    return this.#items !== undefined;
  }

  /** Whether keys the schema does not name are allowed (a map, or a struct with extra keys). */
  get hasValues(): boolean {
    return this.#additional !== undefined;
  }

  /** The node of list elements; null when they are not checked. */
  items(): Node | null {
    if (this.#itemNode === undefined) this.#itemNode = this.#items ? nodeOf(this.#catalog, this.#items) : null;
    return this.#itemNode;
  }

  /** The node of the values of keys the schema does not name; null when they are not checked. */
  values(): Node | null {
    if (this.#valueNode === undefined) this.#valueNode = this.#additional ? nodeOf(this.#catalog, this.#additional) : null;
    return this.#valueNode;
  }

  /**
   * The node of field `key` of a struct: null when the field is defined (or allowed) and not
   * checked further, undefined when the schema does not allow it.
   */
  field(key: string): Node | null | undefined {
    let node = this.#fields.get(key);
    if (node === undefined && !this.#fields.has(key)) {
      const property = Object.hasOwn(this.#properties!, key) ? this.#properties![key] : undefined;
      node = property ? nodeOf(this.#catalog, property) : this.#additional ? this.values() : undefined;
      // Only the fields a schema defines are remembered: a map's keys are the client's to pick.
      if (property) this.#fields.set(key, node);
    }
    return node;
  }
}

/** Nodes per schema object, per catalog (a schema object belongs to one catalog). */
const nodes = new WeakMap<SchemaCatalog, { bySchema: WeakMap<Schema, Node | null>; roots: Map<string, Node | null> }>();

function nodesOf(catalog: SchemaCatalog): { bySchema: WeakMap<Schema, Node | null>; roots: Map<string, Node | null> } {
  let entry = nodes.get(catalog);
  if (!entry) nodes.set(catalog, (entry = { bySchema: new WeakMap(), roots: new Map() }));
  return entry;
}

function rootOf(catalog: SchemaCatalog, name: string): Node | null {
  const { roots } = nodesOf(catalog);
  let root = roots.get(name);
  if (root === undefined) roots.set(name, (root = nodeOf(catalog, { $ref: `${COMPONENT_REF_PREFIX}${name}` })));
  return root;
}

/** The node of a schema; null when values of it are not checked (see {@link resolve}). */
function nodeOf(catalog: SchemaCatalog, schema: Schema): Node | null {
  const { bySchema } = nodesOf(catalog);
  let node = bySchema.get(schema);
  if (node === undefined) {
    const resolved = resolve(catalog, schema);
    node = resolved ? new Node(catalog, resolved) : null;
    bySchema.set(schema, node);
  }
  return node;
}

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

/** `spec.containers[0].name` from the keys and indices walked so far, made only when reported. */
function pathOf(trail: (string | number)[], key: string): string {
  let path = '';
  for (const step of trail) path += typeof step === 'number' ? `[${step}]` : path === '' ? step : `.${step}`;
  return path === '' ? key : `${path}.${key}`;
}

function walk(node: Node | null, value: unknown, trail: (string | number)[], out: string[], prune: boolean): void {
  if (!node || node.open || typeof value !== 'object' || value === null) return;
  if (Array.isArray(value)) {
    if (node.hasItems) {
      const items = node.items();
      for (let i = 0; i < value.length; i++) {
        trail.push(i);
        walk(items, value[i], trail, out, prune);
        trail.pop();
      }
    }
    return;
  }
  const object = value as Record<string, unknown>;
  if (!node.struct && !node.hasValues) return;
  for (const key of Object.keys(object)) {
    const child = node.struct ? node.field(key) : node.values();
    if (child === undefined) {
      out.push(pathOf(trail, key));
      if (prune) delete object[key];
    } else if (child !== null) {
      trail.push(key);
      walk(child, object[key], trail, out, prune);
      trail.pop();
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
  checkTypes(rootOf(catalog, name), object, [name.split('.').pop()!], out);
  return out;
}

function jsonType(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return 'number';
  return typeof value; // string, boolean, object
}

function checkTypes(node: Node | null, value: unknown, trail: string[], out: string[]): void {
  if (value === null || value === undefined || !node || node.open) return;
  const type = node.type;
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
    out.push(`json: cannot unmarshal ${actual === 'number' && type === 'integer' ? 'number' : actual} into Go struct field ${trail.join('.')} of type ${String(type)}`);
    return;
  }
  if (Array.isArray(value)) {
    if (node.hasItems) {
      const items = node.items();
      for (const item of value) checkTypes(items, item, trail, out);
    }
    return;
  }
  if (actual !== 'object') return;
  const object = value as Record<string, unknown>;
  for (const key of Object.keys(object)) {
    const child = node.struct ? node.field(key) : node.values();
    if (child) {
      trail.push(key);
      checkTypes(child, object[key], trail, out);
      trail.pop();
    }
  }
}
