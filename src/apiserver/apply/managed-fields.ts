/**
 * `metadata.managedFields` read into field sets per manager, and written back, as upstream's
 * `managedfields/internal/managedfields.go` does. A manager is identified by its name, operation,
 * subresource and — for `Update` only — API version: an applier keeps one entry whatever
 * version it applies in, an updater gets one per version it writes.
 */
import { FieldSet } from './fields.ts';
import { cloneJson, compareStrings, isObject, jsonEqual } from './json.ts';
import { PathElementSyntaxError } from './path-element.ts';
import { Recent } from './recent.ts';

/** `metav1.ManagedFieldsEntry` as it appears in an object. */
export interface ManagedFieldsEntry {
  manager?: string;
  operation?: 'Apply' | 'Update';
  apiVersion?: string;
  time?: string;
  fieldsType?: 'FieldsV1';
  fieldsV1?: Record<string, unknown>;
  subresource?: string;
}

/** One manager's fields. */
export interface ManagerFields {
  readonly manager: string;
  readonly operation: 'Apply' | 'Update';
  readonly apiVersion: string;
  /** `''` for the main resource. */
  readonly subresource: string;
  /** RFC 3339, whole seconds; absent when never set. */
  readonly time: string | undefined;
  readonly set: FieldSet;
}

/** Every manager's fields, by {@link managerId}. */
export type Managed = Map<string, ManagerFields>;

/** A managedFields list that cannot be read. */
export class ManagedFieldsError extends Error {
  override name = 'ManagedFieldsError';
}

/**
 * The identity of a manager (upstream's `BuildManagerIdentifier`): its entry's JSON without
 * fields, time, and — for appliers — API version.
 */
export function managerId(entry: Pick<ManagerFields, 'manager' | 'operation' | 'apiVersion' | 'subresource'>): string {
  const apiVersion = entry.operation === 'Update' && entry.apiVersion ? entry.apiVersion : '';
  const subresource = entry.subresource || '';
  // Every write asks for the ids of the managers it meets, and they are few: remembered.
  // Each part but the last after its length: no two entries share a key, whatever their names hold.
  const key = `${entry.manager.length}:${entry.manager}${entry.operation.length}:${entry.operation}${apiVersion.length}:${apiVersion}${subresource}`;
  let id = knownIds.get(key);
  if (id === undefined) {
    const fields: Record<string, string> = { manager: entry.manager, operation: entry.operation };
    if (apiVersion) fields.apiVersion = apiVersion;
    if (subresource) fields.subresource = subresource;
    id = JSON.stringify(fields);
    if (knownIds.size < MAX_KNOWN_IDS) knownIds.set(key, id);
  }
  return id;
}

/** Ids remembered by {@link managerId}, by manager, operation, API version and subresource. */
const knownIds = new Map<string, string>();
/** Managers are named by their clients: at most this many ids are remembered. */
const MAX_KNOWN_IDS = 4096;

/**
 * The FieldsV1 each set read from a stored object came from. The server wrote that FieldsV1
 * itself, so it is already what {@link encodeManagedFields} would write for the set: a manager
 * whose set a write leaves as it was keeps its FieldsV1 as it was, without encoding it again.
 */
const storedEncoding = new WeakMap<FieldSet, Record<string, unknown>>();

/**
 * Encodes `set` now and keeps the encoding for {@link encodeManagedFields}: for a set shared by
 * many entries (see `update.ts`), which must then never change. The FieldsV1 object is shared
 * too, by every entry written from the set.
 */
export function keepEncoding(set: FieldSet): void {
  storedEncoding.set(set, set.toJSON());
}

/** FieldsV1 read recently (copies), with their sets. */
const recentlyRead = new Recent<unknown, unknown, FieldSet>(16, jsonEqual);

/**
 * The set a FieldsV1 holds. Most objects of a kind carry the same FieldsV1 (one shape, one
 * writer), so a set read recently is shared rather than read again; FieldSet's operations make
 * new sets, so a shared one never changes. Throws as {@link FieldSet.fromJSON}.
 */
function readFields(fields: unknown): FieldSet {
  const known = recentlyRead.find(fields);
  if (known) return known;
  const set = FieldSet.fromJSON(fields);
  recentlyRead.add(cloneJson(fields), set);
  return set;
}

/** Options of {@link decodeManagedFields}. */
export interface DecodeOptions {
  /**
   * The entries are a stored object's, which the server encoded itself (a client's may be in
   * any key order): their FieldsV1 is reused for sets that do not change.
   */
  stored?: boolean;
}

/**
 * Reads `metadata.managedFields`. Throws {@link ManagedFieldsError} for an entry with another
 * operation than `Apply` or `Update`, no `apiVersion`, a `fieldsType` other than `FieldsV1`, or
 * fields that cannot be read — upstream's reasons to ignore the list.
 */
export function decodeManagedFields(entries: unknown, options: DecodeOptions = {}): Managed {
  const managed: Managed = new Map();
  if (entries === undefined || entries === null) return managed;
  if (!Array.isArray(entries)) throw new ManagedFieldsError('managedFields must be a list');
  entries.forEach((raw, i) => {
    if (!isObject(raw)) throw new ManagedFieldsError(`managed fields entry ${i} must be an object`);
    const e = raw as ManagedFieldsEntry;
    if (e.operation !== 'Apply' && e.operation !== 'Update') throw new ManagedFieldsError('operation must be `Apply` or `Update`');
    if (typeof e.apiVersion !== 'string' || e.apiVersion === '') throw new ManagedFieldsError('apiVersion must not be empty');
    if (e.fieldsType === undefined || (e.fieldsType as string) === '') throw new ManagedFieldsError(`missing fieldsType in managed fields entry ${i}`);
    if (e.fieldsType !== 'FieldsV1') throw new ManagedFieldsError(`invalid fieldsType ${JSON.stringify(e.fieldsType)} in managed fields entry ${i}`);
    let set: FieldSet;
    try {
      set = readFields(e.fieldsV1 ?? {});
    } catch (error) {
      if (error instanceof PathElementSyntaxError) throw new ManagedFieldsError(`error decoding set: ${error.message}`);
      throw error;
    }
    if (options.stored && isObject(e.fieldsV1) && !storedEncoding.has(set)) storedEncoding.set(set, e.fieldsV1);
    const fields: ManagerFields = {
      manager: typeof e.manager === 'string' ? e.manager : '',
      operation: e.operation,
      apiVersion: e.apiVersion,
      subresource: typeof e.subresource === 'string' ? e.subresource : '',
      time: typeof e.time === 'string' ? e.time : undefined,
      set,
    };
    managed.set(managerId(fields), fields);
  });
  return managed;
}

/** Whether a client sent managedFields meaning "forget them all": `[]` or `[{}]`. */
export function isResetManagedFields(entries: unknown): boolean {
  if (!Array.isArray(entries)) return false;
  if (entries.length === 0) return true;
  return entries.length === 1 && isObject(entries[0]) && Object.keys(entries[0]).length === 0;
}

function seconds(time: string | undefined): number {
  if (!time) return 0;
  const ms = Date.parse(time);
  return Number.isNaN(ms) ? 0 : Math.floor(ms / 1000);
}

/**
 * The managedFields list of `managed`, or `undefined` when no manager is left. Entries are
 * ordered as upstream orders them: by operation, time, manager, API version and subresource.
 */
export function encodeManagedFields(managed: Managed): ManagedFieldsEntry[] | undefined {
  if (managed.size === 0) return undefined;
  const entries = [...managed.values()].sort(
    (p, q) =>
      compareStrings(p.operation, q.operation) ||
      seconds(p.time) - seconds(q.time) ||
      compareStrings(p.manager, q.manager) ||
      compareStrings(p.apiVersion, q.apiVersion) ||
      compareStrings(p.subresource, q.subresource),
  );
  return entries.map((m) => {
    const entry: ManagedFieldsEntry = { manager: m.manager, operation: m.operation, apiVersion: m.apiVersion };
    if (m.time !== undefined) entry.time = m.time;
    entry.fieldsType = 'FieldsV1';
    entry.fieldsV1 = storedEncoding.get(m.set) ?? m.set.toJSON();
    if (m.subresource) entry.subresource = m.subresource;
    return entry;
  });
}

/**
 * How upstream names a manager in a conflict: `"kubectl"`, `"kubectl-client-side-apply" using
 * apps/v1`, `"kubelet" with subresource "status" using v1`.
 */
export function describeManager(m: Pick<ManagerFields, 'manager' | 'operation' | 'apiVersion' | 'subresource'>): string {
  let s = JSON.stringify(m.manager);
  if (m.subresource) s += ` with subresource ${JSON.stringify(m.subresource)}`;
  if (m.operation === 'Update') s += ` using ${m.apiVersion}`;
  return s;
}
