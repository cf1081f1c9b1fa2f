/**
 * Validation of `metadata` on create and update, as upstream's apimachinery
 * `pkg/api/validation/objectmeta.go` does it, with the same field paths and messages.
 */
import { jsonEqual } from '../json-value.ts';
import type { FieldError, ObjectMeta } from '../resource.ts';
import { forbidden, immutable, invalid, required } from './field-errors.ts';
import { dns1123LabelErrors, dns1123SubdomainErrors, qualifiedNameErrors, validateAnnotations, validateLabels } from './names.ts';

/** How {@link validateObjectMeta} treats one kind. */
export interface ObjectMetaOptions {
  /** Namespaced kinds require `metadata.namespace`; cluster-scoped kinds forbid it. */
  namespaced: boolean;
  /**
   * The kind's name rule, returning upstream's sentences. Default
   * {@link dns1123SubdomainErrors}; Namespaces pass `dns1123LabelErrors`, Services
   * `dns1035LabelErrors`.
   */
  nameErrors?: (name: string) => string[];
  /**
   * On update, the stored object's metadata: what it holds unchanged (its name and namespace,
   * labels or annotations equal to its own) passed these checks when it was written and is not
   * checked again.
   */
  old?: ObjectMeta;
}

const FINALIZER_ORPHAN = 'orphan';
const FINALIZER_FOREGROUND = 'foregroundDeletion';

/**
 * Validates an object's metadata on create.
 *
 * Checks, in upstream's order: `generateName` (with a trailing `-` allowed, since a suffix is
 * appended) and `name` against the kind's rule, one of them being required
 * (`metadata.name: Required value: name or generateName is required`); `namespace` required
 * (a valid RFC 1123 label) or forbidden (`not allowed on this type`); `generation` ≥ 0;
 * labels; annotations; owner references (apiVersion, kind, name and uid non-empty, at most one
 * controller, no Event owners); finalizers (qualified names, not both `orphan` and
 * `foregroundDeletion`); managed-field entries' `operation` and `fieldsType`.
 *
 * Name generation may run before or after this: with only `generateName` set, the prefix is
 * what gets checked. Kinds' names must also be URL path segments; that check
 * (`isValidPathSegmentName`) applies to every kind and is the caller's.
 */
export function validateObjectMeta(meta: ObjectMeta | undefined, options: ObjectMetaOptions): FieldError[] {
  const m: ObjectMeta = meta ?? {};
  const nameErrors = options.nameErrors ?? dns1123SubdomainErrors;
  const errors: FieldError[] = [];

  const generateName = stringField(m.generateName, 'metadata.generateName', errors);
  const name = stringField(m.name, 'metadata.name', errors);
  if (generateName) {
    for (const message of nameErrors(maskTrailingDash(generateName))) {
      errors.push(invalid('metadata.generateName', generateName, message));
    }
  }
  const old = options.old;
  if (name) {
    if (name !== old?.name) for (const message of nameErrors(name)) errors.push(invalid('metadata.name', name, message));
  } else if (!generateName && isAbsent(m.name)) {
    errors.push(required('metadata.name', 'name or generateName is required'));
  }

  const namespace = stringField(m.namespace, 'metadata.namespace', errors);
  if (options.namespaced) {
    if (!namespace) {
      if (isAbsent(m.namespace)) errors.push(required('metadata.namespace'));
    } else if (namespace !== old?.namespace) {
      for (const message of dns1123LabelErrors(namespace)) errors.push(invalid('metadata.namespace', namespace, message));
    }
  } else if (!isAbsent(m.namespace)) {
    errors.push(forbidden('metadata.namespace', 'not allowed on this type'));
  }

  if (m.generation !== undefined && m.generation !== null) {
    if (typeof m.generation !== 'number' || !Number.isInteger(m.generation)) {
      errors.push(invalid('metadata.generation', m.generation, 'must be an integer'));
    } else if (m.generation < 0) {
      errors.push(invalid('metadata.generation', m.generation, 'must be greater than or equal to 0'));
    }
  }

  if (!sameAsStored(m.labels, old?.labels)) errors.push(...validateLabels(m.labels, 'metadata.labels'));
  if (!sameAsStored(m.annotations, old?.annotations)) errors.push(...validateAnnotations(m.annotations, 'metadata.annotations'));
  errors.push(...validateOwnerReferences(m.ownerReferences, 'metadata.ownerReferences'));
  errors.push(...validateFinalizers(m.finalizers, 'metadata.finalizers'));
  errors.push(...validateManagedFields(m.managedFields, 'metadata.managedFields'));
  return errors;
}

/**
 * Validates metadata on update, against the stored object's.
 *
 * `name`, `namespace`, `uid`, `creationTimestamp`, `deletionTimestamp` and
 * `deletionGracePeriodSeconds` may not change (`Invalid value: "b": field is immutable`), so an
 * update can neither set nor move a deletion timestamp; `generation` may not go down; no
 * finalizer may be added once the object is being deleted; labels, annotations, owner
 * references and managed fields are validated as on create.
 *
 * As upstream, the caller first carries over what a client may omit (an empty `uid`, the stored
 * `creationTimestamp`, deletion fields, generation), so that only real changes are reported.
 * `resourceVersion` is not checked here: the store's precondition decides conflicts.
 */
export function validateObjectMetaUpdate(next: ObjectMeta, old: ObjectMeta): FieldError[] {
  const errors: FieldError[] = [];

  if (old.deletionTimestamp) {
    const before = new Set(stringList(old.finalizers));
    const added = [...new Set(stringList(next.finalizers).filter((f) => !before.has(f)))].sort();
    if (added.length > 0) {
      // Upstream prints the list with Go's %#v.
      const shown = `[]string{${added.map((f) => JSON.stringify(f)).join(', ')}}`;
      errors.push(
        forbidden('metadata.finalizers', `no new finalizers can be added if the object is being deleted, found new finalizers ${shown}`),
      );
    }
  }

  const nextGeneration = typeof next.generation === 'number' ? next.generation : 0;
  const oldGeneration = typeof old.generation === 'number' ? old.generation : 0;
  if (nextGeneration < oldGeneration) {
    errors.push(invalid('metadata.generation', nextGeneration, 'must not be decremented'));
  }

  // Absent strings compare and print as Go's zero value "", absent timestamps as null.
  const unchanged: [keyof ObjectMeta, unknown][] = [
    ['name', ''],
    ['namespace', ''],
    ['uid', ''],
    ['creationTimestamp', null],
    ['deletionTimestamp', null],
    ['deletionGracePeriodSeconds', null],
  ];
  for (const [key, zero] of unchanged) {
    const now = next[key] ?? zero;
    const before = old[key] ?? zero;
    if (!Object.is(now, before)) errors.push(immutable(`metadata.${key}`, now));
  }

  if (!sameAsStored(next.labels, old.labels)) errors.push(...validateLabels(next.labels, 'metadata.labels'));
  if (!sameAsStored(next.annotations, old.annotations)) errors.push(...validateAnnotations(next.annotations, 'metadata.annotations'));
  errors.push(...validateOwnerReferences(next.ownerReferences, 'metadata.ownerReferences'));
  errors.push(...validateManagedFields(next.managedFields, 'metadata.managedFields'));
  return errors;
}

/** Labels or annotations an update leaves as the stored object has them: checked when that
 * was written. */
function sameAsStored(now: unknown, before: unknown): boolean {
  return before !== undefined && jsonEqual(now, before);
}

/** A string field's value, `undefined` when absent; anything else is reported and dropped. */
function stringField(value: unknown, field: string, errors: FieldError[]): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  errors.push(invalid(field, value, 'must be a string'));
  return undefined;
}

/** Go's zero value: unset, null or the empty string. (A non-string was reported already.) */
function isAbsent(value: unknown): boolean {
  return value === undefined || value === null || value === '';
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** A generated name appends characters, so a trailing `-` in the prefix is fine. */
function maskTrailingDash(prefix: string): string {
  return prefix.length > 1 && prefix.endsWith('-') ? `${prefix.slice(0, -1)}a` : prefix;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Upstream's `schema.ParseGroupVersion(...).Version`: `v1`, `apps/v1`; anything else has none. */
function versionOf(apiVersion: string): { group: string; version: string } {
  const parts = apiVersion.split('/');
  if (parts.length === 1) return { group: '', version: parts[0]! };
  if (parts.length === 2) return { group: parts[0]!, version: parts[1]! };
  return { group: '', version: '' };
}

/**
 * Owner references: each needs apiVersion (with a version), kind, name and uid; Events may not
 * own anything; at most one reference is the controller. Paths are not indexed, as upstream's.
 */
function validateOwnerReferences(references: unknown, field: string): FieldError[] {
  if (references === undefined || references === null) return [];
  if (!Array.isArray(references)) return [invalid(field, references, 'must be a list of owner references')];
  const errors: FieldError[] = [];
  let firstController = '';
  for (const ref of references as unknown[]) {
    if (!isObject(ref)) {
      errors.push(invalid(field, ref, 'must be an owner reference object'));
      continue;
    }
    const apiVersion = typeof ref.apiVersion === 'string' ? ref.apiVersion : '';
    const kind = typeof ref.kind === 'string' ? ref.kind : '';
    const name = typeof ref.name === 'string' ? ref.name : '';
    const uid = typeof ref.uid === 'string' ? ref.uid : '';
    const { group, version } = versionOf(apiVersion);
    if (version === '') errors.push(invalid(`${field}.apiVersion`, apiVersion, 'version must not be empty'));
    if (kind === '') errors.push(invalid(`${field}.kind`, kind, 'must not be empty'));
    if (name === '') errors.push(invalid(`${field}.name`, name, 'must not be empty'));
    if (uid === '') errors.push(invalid(`${field}.uid`, uid, 'must not be empty'));
    if (group === '' && version === 'v1' && kind === 'Event') {
      errors.push(invalid(field, ref, '/v1, Kind=Event is disallowed from being an owner'));
    }
    if (ref.controller === true) {
      const current = `${kind}/${name}`;
      if (firstController === '') firstController = current;
      else {
        errors.push(
          invalid(
            field,
            references,
            `Only one reference can have Controller set to true. Found "true" in references for ${firstController} and ${current}`,
          ),
        );
      }
    }
  }
  return errors;
}

/** Finalizers are qualified names; `orphan` and `foregroundDeletion` contradict each other. */
function validateFinalizers(finalizers: unknown, field: string): FieldError[] {
  if (finalizers === undefined || finalizers === null) return [];
  if (!Array.isArray(finalizers)) return [invalid(field, finalizers, 'must be a list of strings')];
  const errors: FieldError[] = [];
  for (const finalizer of finalizers as unknown[]) {
    if (typeof finalizer !== 'string') {
      errors.push(invalid(field, finalizer, 'must be a string'));
      continue;
    }
    for (const message of qualifiedNameErrors(finalizer)) errors.push(invalid(field, finalizer, message));
  }
  if (finalizers.includes(FINALIZER_ORPHAN) && finalizers.includes(FINALIZER_FOREGROUND)) {
    errors.push(invalid(field, finalizers, `finalizer ${FINALIZER_ORPHAN} and ${FINALIZER_FOREGROUND} cannot be both set`));
  }
  return errors;
}

/** Managed-field entries: `operation` is `Apply` or `Update`; `fieldsType`, if set, `FieldsV1`. */
function validateManagedFields(entries: unknown, field: string): FieldError[] {
  if (entries === undefined || entries === null) return [];
  if (!Array.isArray(entries)) return [invalid(field, entries, 'must be a list of managed fields entries')];
  const errors: FieldError[] = [];
  (entries as unknown[]).forEach((entry, i) => {
    const path = `${field}[${i}]`;
    if (!isObject(entry)) {
      errors.push(invalid(path, entry, 'must be a managed fields entry object'));
      return;
    }
    if (entry.operation !== 'Apply' && entry.operation !== 'Update') {
      errors.push(invalid(`${path}.operation`, entry.operation ?? '', 'must be `Apply` or `Update`'));
    }
    if (entry.fieldsType !== undefined && entry.fieldsType !== '' && entry.fieldsType !== 'FieldsV1') {
      errors.push(invalid(`${path}.fieldsType`, entry.fieldsType, 'must be `FieldsV1`'));
    }
  });
  return errors;
}
