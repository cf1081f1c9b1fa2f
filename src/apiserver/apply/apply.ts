/**
 * Server-side apply (`PATCH` with `application/apply-patch+yaml`), as upstream's field manager
 * and structured-merge-diff's `Updater.Apply` do it: the applied configuration is merged into the
 * live object, the applier comes to own exactly the fields it applied, fields it applied last
 * time and no longer does are removed unless another applier owns them, and changing a field
 * another manager owns is a conflict unless forced.
 */
import { badRequest, StatusError } from '../errors.ts';
import { ApplyConflictError, typedObjectError } from './errors.ts';
import { FieldSet } from './fields.ts';
import { goJson, isObject, setOwn, type JsonObject } from './json.ts';
import { decodeManagedFields, encodeManagedFields, managerId, ManagedFieldsError, type Managed } from './managed-fields.ts';
import type { FieldSchema } from './schema.ts';
import { compare, isSame, merge, removeItems, toFieldSet, TypedValueError, type Comparison } from './typed.ts';
import { stripMeta, updateManagers, withoutManagedFields } from './updater.ts';

/** kubectl's client-side apply annotation. */
export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';

/** Options of {@link serverSideApply}. */
export interface ApplyOptions {
  /** The applier (`fieldManager`; required for apply, so never empty). */
  manager: string;
  /** Take fields other managers own instead of failing with a conflict (`force=true`). */
  force: boolean;
  /** The time of the apply, RFC 3339 in whole seconds. */
  now: string;
  schema: FieldSchema;
  /** The endpoint's API version (`apps/v1`) and kind: the configuration must name them. */
  apiVersion: string;
  kind: string;
  /** `''` to apply to the object, `'status'` to its status subresource. */
  subresource: '' | 'status';
  /**
   * Whether the kind has a status subresource: then applying to the object ignores `status`, and
   * applying to `status` ignores everything else (upstream's reset fields).
   */
  statusSubresource: boolean;
}

function groupVersionKindString(apiVersion: unknown, kind: unknown): string {
  const av = typeof apiVersion === 'string' ? apiVersion : '';
  const k = typeof kind === 'string' ? kind : '';
  const parts = av.split('/');
  if (av === '') return `/, Kind=${k}`;
  if (parts.length === 1) return `/${av}, Kind=${k}`;
  if (parts.length === 2) return `${parts[0]}/${parts[1]}, Kind=${k}`;
  return '/, Kind=';
}

/** `namespace/name; apps/v1, Kind=Deployment`, as upstream names objects in typing errors. */
function describeObject(object: JsonObject): string {
  const metadata = isObject(object.metadata) ? object.metadata : {};
  const namespace = typeof metadata.namespace === 'string' ? metadata.namespace : '';
  const name = typeof metadata.name === 'string' ? metadata.name : '';
  return `${namespace}/${name}; ${groupVersionKindString(object.apiVersion, object.kind)}`;
}

/** The fields an apply to this endpoint does not set (upstream's reset fields). */
function ignoredFields(applied: JsonObject, options: ApplyOptions): FieldSet | undefined {
  if (!options.statusSubresource) return undefined;
  if (options.subresource === '') return FieldSet.of([{ field: 'status' }]);
  const ignored = new FieldSet();
  for (const key of Object.keys(applied)) {
    if (key !== 'status' && key !== 'metadata' && key !== 'apiVersion' && key !== 'kind') ignored.insert([{ field: key }]);
  }
  return ignored;
}

function excludeFields(c: Comparison, ignored: FieldSet | undefined): Comparison {
  if (!ignored) return c;
  return {
    added: c.added.recursiveDifference(ignored),
    modified: c.modified.recursiveDifference(ignored),
    removed: c.removed.recursiveDifference(ignored),
  };
}

function setManagedFields(object: JsonObject, managed: Managed): JsonObject {
  const metadata: JsonObject = isObject(object.metadata) ? { ...object.metadata } : {};
  const entries = encodeManagedFields(managed);
  if (entries) metadata.managedFields = entries;
  else delete metadata.managedFields;
  return { ...object, metadata };
}

/**
 * Applies `applied` (the request's configuration) to `current` (the stored object, or
 * `undefined` when the apply creates it) and returns the object to store, with its
 * `metadata.managedFields`. Pure: neither argument is changed.
 *
 * Throws {@link ApplyConflictError} (409) when the apply, without `force`, would change fields
 * other managers own; a 400 when the configuration names another kind or version or carries
 * managedFields; a 500 worded as upstream's when a list element lacks its key or a key repeats.
 *
 * As upstream, applies by `kubectl` (the default manager of `kubectl apply --server-side`) are
 * forgiven the conflicts a client-side apply's annotation explains, and keep that annotation
 * up to date — the migration path from client-side apply.
 */
export function serverSideApply(current: JsonObject | undefined, applied: JsonObject, options: ApplyOptions): JsonObject {
  const expected = groupVersionKindString(options.apiVersion, options.kind);
  const actual = groupVersionKindString(applied.apiVersion, applied.kind);
  if (actual !== expected) throw badRequest(`invalid object type: ${actual}`);
  const appliedMeta = applied.metadata;
  if (isObject(appliedMeta) && appliedMeta.managedFields !== undefined && appliedMeta.managedFields !== null) {
    throw badRequest('metadata.managedFields must be nil');
  }
  const live = current ? withoutManagedFields(current) : {};
  let managed: Managed;
  try {
    managed = decodeManagedFields(isObject(current?.metadata) ? current.metadata.managedFields : undefined);
  } catch (error) {
    if (error instanceof ManagedFieldsError) {
      throw new StatusError(500, 'InternalError', `failed to decode managed fields: ${error.message}`);
    }
    throw error;
  }
  if (managed.size === 0) beforeFirstApply(live, managed, options);
  let result: JsonObject;
  try {
    result = applyOnce(live, applied, new Map(managed), options, options.force);
  } catch (error) {
    if (!(error instanceof ApplyConflictError) || options.manager !== 'kubectl') throw error;
    const allowed = allowedConflictsFromLastApplied(live, options);
    if (!allowed) throw error;
    const remaining = error.conflicts.filter((c) => !allowed.has(c.path));
    if (remaining.length > 0) throw new ApplyConflictError(remaining);
    result = applyOnce(live, applied, new Map(managed), options, true);
  }
  if (options.manager === 'kubectl') result = updateLastApplied(result, applied);
  return result;
}

/**
 * An object that tracks no fields gets them all given to `before-first-apply` (an `Update`
 * manager) before its first apply, so that the apply conflicts with what was there.
 */
function beforeFirstApply(live: JsonObject, managed: Managed, options: ApplyOptions): void {
  let comparison: Comparison;
  try {
    comparison = compare({}, live, options.schema, { allowDuplicates: true });
  } catch (error) {
    if (error instanceof TypedValueError) throw typedObjectError('live', describeObject(live), error.message);
    throw error;
  }
  const owned = stripMeta(comparison.modified.union(comparison.added).difference(comparison.removed));
  if (owned.isEmpty()) return;
  const entry = { manager: 'before-first-apply', operation: 'Update' as const, apiVersion: options.apiVersion, subresource: options.subresource };
  managed.set(managerId(entry), { ...entry, time: options.now, set: owned });
}

/** One attempt at the apply (`Updater.Apply` with the field manager's bookkeeping around it). */
function applyOnce(live: JsonObject, applied: JsonObject, managed: Managed, options: ApplyOptions, force: boolean): JsonObject {
  const entry = { manager: options.manager, operation: 'Apply' as const, apiVersion: options.apiVersion, subresource: options.subresource };
  const id = managerId(entry);
  const ignored = ignoredFields(applied, options);
  let merged: unknown;
  let set: FieldSet;
  try {
    set = toFieldSet(applied, options.schema);
    merged = merge(live, applied, options.schema);
  } catch (error) {
    if (error instanceof TypedValueError) throw typedObjectError('patch', describeObject(applied), error.message);
    throw error;
  }
  if (ignored) set = set.recursiveDifference(ignored);
  const lastSet = managed.get(id)?.set;
  managed.set(id, { ...entry, time: managed.get(id)?.time, set });
  let comparison: Comparison;
  try {
    merged = prune(merged, managed, id, lastSet, options.schema);
    comparison = excludeFields(compare(live, merged, options.schema, { allowDuplicates: true }), ignored);
  } catch (error) {
    if (error instanceof TypedValueError) throw typedObjectError('live', describeObject(live), error.message);
    throw error;
  }
  const conflicts = updateManagers(managed, comparison, id, force);
  if (conflicts.length > 0) throw new ApplyConflictError(conflicts);
  const mine = stripMeta(set);
  if (mine.isEmpty()) managed.delete(id);
  else managed.set(id, { ...entry, time: options.now, set: mine });
  const object = isSame(comparison) ? live : (merged as JsonObject);
  return setManagedFields(object, managed);
}

/**
 * Removes what the applier applied last time and no longer applies, unless another applier
 * (or the new configuration) owns it; fields it never applied stay (upstream's `prune`,
 * `addBackOwnedItems` and `addBackDanglingItems`).
 */
function prune(merged: unknown, managed: Managed, id: string, lastSet: FieldSet | undefined, schema: FieldSchema): unknown {
  if (!lastSet || lastSet.isEmpty()) return merged;
  const read = { allowDuplicates: true };
  let pruned = removeItems(merged, lastSet, schema);
  let appliersOwn = new FieldSet();
  for (const m of managed.values()) if (m.operation === 'Apply') appliersOwn = appliersOwn.union(m.set);
  const mergedSet = toFieldSet(merged, schema, read);
  pruned = removeItems(merged, mergedSet.difference(toFieldSet(pruned, schema, read).union(appliersOwn)), schema);
  return removeItems(merged, mergedSet.difference(toFieldSet(pruned, schema, read)).intersection(lastSet), schema);
}

/**
 * The conflicts a client-side apply explains: fields of the last-applied annotation whose
 * values the live object still has (upstream's `lastAppliedManager`). `undefined` when there is
 * no usable annotation.
 */
function allowedConflictsFromLastApplied(live: JsonObject, options: ApplyOptions): FieldSet | undefined {
  const annotations = isObject(live.metadata) && isObject(live.metadata.annotations) ? live.metadata.annotations : undefined;
  const text = annotations?.[LAST_APPLIED_ANNOTATION];
  if (typeof text !== 'string' || text === '') return undefined;
  try {
    const lastApplied = JSON.parse(text) as unknown;
    if (!isObject(lastApplied) || lastApplied.apiVersion !== options.apiVersion) return undefined;
    const set = toFieldSet(lastApplied, options.schema);
    const c = compare(lastApplied, live, options.schema, { allowDuplicates: true });
    return set.difference(c.modified).difference(c.added).difference(c.removed);
  } catch {
    return undefined;
  }
}

/**
 * Keeps kubectl's client-side apply annotation, where the object has one, equal to the applied
 * configuration (upstream's `lastAppliedUpdater`), so that a later client-side apply computes
 * its patch from what was applied last.
 */
function updateLastApplied(object: JsonObject, applied: JsonObject): JsonObject {
  const metadata = isObject(object.metadata) ? object.metadata : undefined;
  const annotations = metadata && isObject(metadata.annotations) ? metadata.annotations : undefined;
  const existing = annotations?.[LAST_APPLIED_ANNOTATION];
  if (typeof existing !== 'string' || existing === '') return object;
  // The annotation holds the configuration without the annotation itself, in Go's JSON.
  let config: JsonObject = applied;
  const appliedMeta = applied.metadata;
  if (isObject(appliedMeta) && isObject(appliedMeta.annotations) && Object.hasOwn(appliedMeta.annotations, LAST_APPLIED_ANNOTATION)) {
    const { [LAST_APPLIED_ANNOTATION]: _drop, ...rest } = appliedMeta.annotations;
    config = { ...applied, metadata: { ...appliedMeta, annotations: rest } };
  }
  const value = `${goJson(config)}\n`;
  if (value === existing) return object;
  const nextAnnotations: JsonObject = {};
  for (const [k, v] of Object.entries(annotations!)) setOwn(nextAnnotations, k, v);
  nextAnnotations[LAST_APPLIED_ANNOTATION] = value;
  return { ...object, metadata: { ...metadata, annotations: nextAnnotations } };
}

/**
 * Restores the stored managedFields' times when a write changed nothing else (upstream's
 * `IgnoreManagedFieldsTimestampsTransformer`), so that re-applying an unchanged configuration
 * writes nothing and keeps the resourceVersion. `next` is changed in place.
 */
export function keepTimesOfNoop(current: JsonObject, next: JsonObject): void {
  const before = isObject(current.metadata) ? current.metadata.managedFields : undefined;
  const after = isObject(next.metadata) ? next.metadata.managedFields : undefined;
  if (!Array.isArray(before) || !Array.isArray(after) || before.length !== after.length || after.length === 0) return;
  const withoutTime = (entries: unknown[]) => entries.map((e) => goJson(isObject(e) ? { ...e, time: null } : e)).sort();
  const a = withoutTime(before);
  const b = withoutTime(after);
  if (a.some((entry, i) => entry !== b[i])) return;
  if (!sameIgnoringManagedFields(current, next)) return;
  (next.metadata as JsonObject).managedFields = before;
}

function sameIgnoringManagedFields(a: JsonObject, b: JsonObject): boolean {
  const strip = (o: JsonObject) => {
    const m = isObject(o.metadata) ? { ...o.metadata } : {};
    delete m.managedFields;
    delete m.resourceVersion;
    return { ...o, metadata: m };
  };
  return goJson(strip(a)) === goJson(strip(b));
}
