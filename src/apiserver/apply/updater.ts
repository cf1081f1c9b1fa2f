/**
 * The bookkeeping shared by applies and ordinary writes (internal to `apply/`): what a change
 * takes from other managers (structured-merge-diff's `Updater.update`), the fields never
 * recorded (upstream's `stripMeta`), and the cap on update managers (`capManagers`).
 */
import type { Conflict } from './errors.ts';
import { FieldSet } from './fields.ts';
import { isObject, type JsonObject } from './json.ts';
import { managerId, type Managed, type ManagerFields } from './managed-fields.ts';
import type { Comparison } from './typed.ts';

/** The members of `metadata` no manager owns. */
export const UNOWNED_METADATA: ReadonlySet<string> = new Set([
  'name',
  'namespace',
  'creationTimestamp',
  'selfLink',
  'uid',
  'clusterName',
  'generation',
  'managedFields',
  'resourceVersion',
]);

/** Fields no manager owns: type and identity metadata the server sets (upstream's stripSet). */
const STRIPPED = FieldSet.of(
  [{ field: 'apiVersion' }],
  [{ field: 'kind' }],
  [{ field: 'metadata' }],
  ...[...UNOWNED_METADATA].map((name) => [{ field: 'metadata' }, { field: name }]),
);

/** A manager's set without the fields no manager owns. */
export function stripMeta(set: FieldSet): FieldSet {
  return set.difference(STRIPPED);
}

/** Whether a set holds none of the fields no manager owns. */
export function ownsNoMeta(set: FieldSet): boolean {
  return !set.intersects(STRIPPED);
}

/** The object without `metadata.managedFields`, for comparing and merging. */
export function withoutManagedFields(object: JsonObject): JsonObject {
  const metadata = object.metadata;
  if (!isObject(metadata) || !Object.hasOwn(metadata, 'managedFields')) return object;
  const { managedFields: _drop, ...rest } = metadata;
  return { ...object, metadata: rest };
}

/**
 * Takes from every manager but `skip` the fields a change touched: those it added or modified
 * become conflicts (returned; taken away only with `force`), those it removed are no longer
 * owned. Managers left with nothing are dropped. Changes `managed` only when there is no
 * conflict or `force` is set.
 */
export function updateManagers(managed: Managed, comparison: Comparison, skip: string, force: boolean): Conflict[] {
  if (managed.size === 0) return [];
  const changed = comparison.modified.union(comparison.added);
  const conflicts: Conflict[] = [];
  const next = new Map<string, ManagerFields>();
  for (const [id, m] of managed) {
    if (id === skip) continue;
    const clash = m.set.intersection(changed);
    // Forced, the clashes are simply taken: nobody reads their paths.
    if (!force) for (const path of clash.paths()) conflicts.push({ manager: m, path });
    // Most writes touch nobody else's fields: such a manager keeps its set as it is.
    const untouched = clash.isEmpty() && !comparison.removed.intersects(m.set);
    next.set(id, untouched ? m : { ...m, set: m.set.difference(clash).difference(comparison.removed) });
  }
  if (conflicts.length > 0 && !force) {
    return conflicts.sort((a, b) => (managerId(a.manager) < managerId(b.manager) ? -1 : managerId(a.manager) > managerId(b.manager) ? 1 : 0));
  }
  for (const [id, m] of next) {
    if (m.set.isEmpty()) managed.delete(id);
    else managed.set(id, m);
  }
  return [];
}

/** Upstream keeps at most this many `Update` managers; the oldest merge into buckets. */
const MAX_UPDATE_MANAGERS = 10;

/**
 * Merges the oldest update managers into `ancient-changes` buckets (one per API version) until
 * at most ten remain, as upstream's `capManagersManager` does.
 */
export function capUpdateManagers(managed: Managed): void {
  const updaters = [...managed.entries()].filter(([, m]) => m.operation === 'Update');
  if (updaters.length <= MAX_UPDATE_MANAGERS) return;
  const secondsOf = (m: ManagerFields) => (m.time ? Math.floor(Date.parse(m.time) / 1000) || 0 : 0);
  updaters.sort(([ia, a], [ib, b]) => secondsOf(a) - secondsOf(b) || (ia < ib ? -1 : ia > ib ? 1 : 0));
  const firstOfVersion = new Map<string, string>();
  let length = updaters.length;
  for (let i = 0; i < updaters.length && length > MAX_UPDATE_MANAGERS; i++) {
    const [id, m] = updaters[i]!;
    const bucket = managerId({ manager: 'ancient-changes', operation: 'Update', apiVersion: m.apiVersion, subresource: '' });
    const first = firstOfVersion.get(m.apiVersion);
    if (first === undefined) {
      firstOfVersion.set(m.apiVersion, id);
      continue;
    }
    if (!managed.has(bucket)) {
      const firstFields = managed.get(first)!;
      managed.delete(first);
      managed.set(bucket, { ...firstFields, manager: 'ancient-changes', subresource: '' });
    }
    const existing = managed.get(bucket)!;
    managed.set(bucket, { ...existing, set: m.set.union(existing.set), time: m.time });
    managed.delete(id);
    length--;
  }
}
