/**
 * Field ownership for ordinary writes (create, update, the non-apply patches), as upstream's
 * field manager records it: the writer's manager gets an `Update` entry owning every field the
 * write added or changed, and those fields leave every other manager's set.
 */
import { isObject, jsonEqual, type JsonObject } from './json.ts';
import {
  decodeManagedFields,
  encodeManagedFields,
  isResetManagedFields,
  keepEncoding,
  managerId,
  type Managed,
} from './managed-fields.ts';
import type { FieldSchema } from './schema.ts';
import type { FieldSet } from './fields.ts';
import { Recent } from './recent.ts';
import { compare, TypedValueError } from './typed.ts';
import { capUpdateManagers, ownsNoMeta, stripMeta, UNOWNED_METADATA, updateManagers, withoutManagedFields } from './updater.ts';

/** Who writes, and where. */
export interface UpdateOptions {
  /**
   * The writer's field manager: the request's `fieldManager`, else the one derived from its
   * User-Agent ({@link managerOrUserAgent}). Empty means `unknown`, as upstream.
   */
  manager: string;
  /** The write's API version (`apps/v1`): updaters get an entry per version. */
  apiVersion: string;
  /** `''` for the object itself, else the subresource written (`status`, `scale`, …). */
  subresource: string;
  /** The write's time, RFC 3339 in whole seconds. */
  now: string;
  schema: FieldSchema;
}

/** The object's managedFields as an object's metadata holds them. */
function managedFieldsOf(object: JsonObject | undefined): unknown {
  const metadata = object?.metadata;
  return isObject(metadata) ? metadata.managedFields : undefined;
}

function setManagedFields(object: JsonObject, managed: Managed): void {
  if (!isObject(object.metadata)) object.metadata = {};
  const metadata = object.metadata as JsonObject;
  const entries = encodeManagedFields(managed);
  if (entries) metadata.managedFields = entries;
  else delete metadata.managedFields;
}

/**
 * An object's shape: its keys, nested as they are, with every scalar outside a list reduced to
 * its type, and lists as they are (an element's path may name its key fields or its value).
 * Two objects of one shape and schema have the same fields — pods of one template, ConfigMaps
 * from one generator — so a create's set is found by its shape instead of walking the object
 * against the schema. A shape is kept as a skeleton: objects with the same keys, type names
 * for scalars, copies of lists.
 */
type Skeleton = string | unknown[] | { [key: string]: Skeleton };

function typeName(value: unknown): string {
  return value === null ? 'null' : typeof value;
}

function skeletonOf(value: unknown): Skeleton {
  if (Array.isArray(value)) return structuredClone(value);
  if (typeof value !== 'object' || value === null) return typeName(value);
  const out = Object.create(null) as { [key: string]: Skeleton };
  for (const key in value as JsonObject) out[key] = skeletonOf((value as JsonObject)[key]);
  return out;
}

/** Whether `value` has the shape `skeleton` records; allocates nothing. */
function hasShape(value: unknown, skeleton: Skeleton): boolean {
  if (typeof skeleton === 'string') return typeName(value) === skeleton;
  if (Array.isArray(skeleton)) return Array.isArray(value) && jsonEqual(value, skeleton);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  let count = 0;
  for (const key in value as JsonObject) {
    const inner = skeleton[key];
    if (inner === undefined || !Object.hasOwn(skeleton, key) || !hasShape((value as JsonObject)[key], inner)) return false;
    count++;
  }
  for (const _ in skeleton) count--;
  return count === 0;
}

/** Shapes seen recently per schema, with the fields a create of that shape owns. */
const createdSets = new WeakMap<FieldSchema, Recent<JsonObject, Skeleton, FieldSet>>();

/** The fields a create of `object` (without managedFields) gives its writer. Throws TypedValueError. */
function createdFields(object: JsonObject, schema: FieldSchema): FieldSet {
  let known = createdSets.get(schema);
  const found = known?.find(object);
  if (found) return found;
  const set = stripMeta(compare({}, object, schema, { allowDuplicates: true }).added);
  if (!known) createdSets.set(schema, (known = new Recent(16, hasShape)));
  keepEncoding(set);
  known.add(skeletonOf(object), set);
  return set;
}

/**
 * How a value differs from another of the same shape: 0 not at all, 1 in some scalar; -1 when
 * the shapes differ (other keys, other scalar types, or other lists). Allocates nothing.
 */
function changeInShape(before: unknown, after: unknown): number {
  if (Array.isArray(before) || Array.isArray(after)) return Array.isArray(before) && Array.isArray(after) && jsonEqual(before, after) ? 0 : -1;
  if (typeof before !== 'object' || before === null || typeof after !== 'object' || after === null) {
    if (typeName(before) !== typeName(after)) return -1;
    return before === after ? 0 : 1;
  }
  return changeInMembers(before as JsonObject, after as JsonObject, NONE, changeInShape);
}

const NONE: ReadonlySet<string> = new Set();
const TYPE_META: ReadonlySet<string> = new Set(['apiVersion', 'kind']);

/** {@link changeInShape} over the members of two objects but the `ignored` ones, which may
 * differ or be missing on either side; `member` compares the others. */
function changeInMembers(before: JsonObject, after: JsonObject, ignored: ReadonlySet<string>, member: (before: unknown, after: unknown, key: string) => number): number {
  let change = 0;
  let count = 0;
  for (const key in after) {
    if (ignored.has(key)) continue;
    if (!Object.hasOwn(before, key)) return -1;
    const inner = member(before[key], after[key], key);
    if (inner < 0) return -1;
    change |= inner;
    count++;
  }
  for (const key in before) if (!ignored.has(key)) count--;
  return count === 0 ? change : -1;
}

/** A top-level member outside the fields no manager owns: of `metadata`, its owned members. */
function ownedMember(before: unknown, after: unknown, key: string): number {
  if (key === 'metadata' && isObject(before) && isObject(after)) return changeInMembers(before, after, UNOWNED_METADATA, changeInShape);
  return changeInShape(before, after);
}

/**
 * {@link changeInShape} of two objects outside the fields no manager owns: `apiVersion`, `kind`
 * and the identity members of `metadata` (and `managedFields`) may differ, or be missing on
 * one side, as they do between a stored object and the update replacing it.
 */
function changeInOwnedShape(before: JsonObject, after: JsonObject): number {
  return changeInMembers(before, after, TYPE_META, ownedMember);
}

function decodeOrEmpty(entries: unknown, stored = false): Managed {
  try {
    return decodeManagedFields(entries, { stored });
  } catch {
    return new Map();
  }
}

/**
 * Sets `next.metadata.managedFields` for an ordinary write of `next` over `current` (undefined
 * when the write creates the object). As upstream:
 *
 * - managedFields the writer sent are taken as they are (that is how a client edits them); sent
 *   empty (`[]`), they are reset; absent or unreadable, the stored ones stand. A subresource
 *   write always starts from the stored ones.
 * - An existing object that tracks no fields stays untracked (objects from before tracking).
 * - The manager's entry is updated, with the time, only when the write changed something.
 * - More than ten update managers are merged, oldest first, into `ancient-changes`.
 *
 * A write that cannot be compared field by field (an element without its key) keeps the stored
 * managedFields, as upstream's `UpdateNoErrors` does. Never throws for the object's content.
 */
export function recordUpdate(current: JsonObject | undefined, next: JsonObject, options: UpdateOptions): void {
  const stored = managedFieldsOf(current);
  const sent = managedFieldsOf(next);
  let managed: Managed;
  if (options.subresource !== '') managed = decodeOrEmpty(stored, true);
  else if (isResetManagedFields(sent)) managed = new Map();
  else {
    managed = decodeOrEmpty(sent);
    if (managed.size === 0) managed = decodeOrEmpty(stored, true);
  }
  if (managed.size === 0 && current !== undefined) {
    // Upstream starts tracking an existing object only at its first apply.
    setManagedFields(next, managed);
    return;
  }
  try {
    const entry = { manager: options.manager || 'unknown', operation: 'Update' as const, apiVersion: options.apiVersion, subresource: options.subresource };
    const id = managerId(entry);
    if (current === undefined && managed.size === 0) {
      // A create that sent no managedFields: its writer owns every field.
      const owned = createdFields(withoutManagedFields(next), options.schema);
      if (!owned.isEmpty()) managed.set(id, { ...entry, time: options.now, set: owned });
      setManagedFields(next, managed);
      return;
    }
    if (current !== undefined && sent === undefined && options.subresource === '' && managed.size === 1) {
      // The common update: the writer is the object's only manager, owns every field of its
      // shape, and writes an object of the same shape. The fields it changes are fields it owns:
      // its set stays as it is (and needs no encoding again), and only its time moves when
      // something changed — what the comparison below would find, without walking the object.
      const own = managed.get(id);
      const change = own ? changeInOwnedShape(current, next) : -1;
      if (own && change >= 0 && ownsNoMeta(own.set) && createdFields(withoutManagedFields(next), options.schema).isSubsetOf(own.set)) {
        if (change > 0) managed.set(id, { ...entry, time: options.now, set: own.set });
        setManagedFields(next, managed);
        return;
      }
    }
    const comparison = compare(withoutManagedFields(current ?? {}), withoutManagedFields(next), options.schema, { allowDuplicates: true });
    const before = managed.get(id)?.set;
    updateManagers(managed, comparison, '', true);
    // A create adds every field and changes and removes none: nothing to merge or take away
    // (each of those copies the whole set; stripMeta makes the one copy kept).
    const { added, modified, removed } = comparison;
    let changed = modified.isEmpty() ? added : added.isEmpty() ? modified : modified.union(added);
    if (!removed.isEmpty()) changed = changed.difference(removed);
    const owned = stripMeta(changed);
    if (!owned.isEmpty()) {
      const previous = managed.get(id);
      let set = previous ? owned.union(previous.set) : owned;
      // The common update: a manager changing fields it owned already. Its set is the one it
      // had, which then needs no encoding again (see `decodeManagedFields`).
      if (before && set.isSubsetOf(before) && before.isSubsetOf(set)) set = before;
      managed.set(id, { ...entry, time: options.now, set });
    }
    capUpdateManagers(managed);
  } catch (error) {
    if (!(error instanceof TypedValueError)) throw error;
    if (!isObject(next.metadata)) next.metadata = {};
    if (stored === undefined) delete (next.metadata as JsonObject).managedFields;
    else (next.metadata as JsonObject).managedFields = stored;
    return;
  }
  setManagedFields(next, managed);
}
