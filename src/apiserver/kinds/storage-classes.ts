/** The storage.k8s.io/v1 StorageClass kind. */
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import type { FieldError, KubeObject, ResourceDef } from '../resource.ts';
import { duplicate, forbidden, immutable, invalid, notSupported, qualifiedNameErrors, required, tooLong } from '../validation/index.ts';
import { ageColumn, column } from './columns.ts';
import { arrayOf, at, deepEqual, isObject, objectsOf, str } from './checks.ts';

const RECLAIM_POLICIES = ['Delete', 'Retain'];
const BINDING_MODES = ['Immediate', 'WaitForFirstConsumer'];
const MAX_PARAMETERS = 512;
const MAX_PARAMETERS_SIZE = 256 * 1024;

function provisionerErrors(provisioner: string): FieldError[] {
  if (provisioner === '') return [required('provisioner')];
  // Upstream lower-cases the provisioner first: `kubernetes.io/AWS-EBS` is fine.
  return qualifiedNameErrors(provisioner.toLowerCase()).map((m) => invalid('provisioner', provisioner.toLowerCase(), m));
}

function parametersErrors(params: unknown): FieldError[] {
  if (!isObject(params)) return [];
  const entries = Object.entries(params);
  if (entries.length > MAX_PARAMETERS) return [tooLong('parameters', MAX_PARAMETERS)];
  const errors: FieldError[] = [];
  let size = 0;
  for (const [k, v] of entries) {
    if (k === '') errors.push(invalid('parameters', k, 'field can not be empty.'));
    size += Buffer.byteLength(k) + Buffer.byteLength(str(v));
  }
  if (size > MAX_PARAMETERS_SIZE) errors.push(tooLong('parameters', MAX_PARAMETERS_SIZE));
  return errors;
}

/** Upstream's `ValidateTopologySelectorTerm`: keys are label names, each with distinct values. */
function allowedTopologiesErrors(terms: unknown): FieldError[] {
  const errors: FieldError[] = [];
  const seenTerms: string[] = [];
  for (const [i, term] of objectsOf(terms)) {
    const keys = new Map<string, string[]>();
    for (const [j, requirement] of objectsOf(term.matchLabelExpressions)) {
      const path = at(at(at('allowedTopologies', i), 'matchLabelExpressions'), j);
      const values = arrayOf(requirement.values).map(str);
      if (values.length === 0) errors.push(required(at(path, 'values')));
      values.forEach((v, k) => {
        if (values.indexOf(v) !== k) errors.push(duplicate(at(at(path, 'values'), k), v));
      });
      const key = str(requirement.key);
      for (const m of qualifiedNameErrors(key)) errors.push(invalid(at(path, 'key'), key, m));
      if (keys.has(key)) errors.push(duplicate(at(path, 'key'), key));
      keys.set(key, [...new Set(values)].sort());
    }
    // Two terms selecting the same topology are one term written twice.
    const canonical = JSON.stringify([...keys].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    if (seenTerms.includes(canonical)) errors.push(duplicate(at(at('allowedTopologies', i), 'matchLabelExpressions'), ''));
    seenTerms.push(canonical);
  }
  return errors;
}

/**
 * Upstream's `ValidateStorageClass`, plus `ValidateStorageClassUpdate` on update: provisioner,
 * parameters and reclaim policy are fixed once created (volumes were made with them), and so is
 * the binding mode.
 */
function validateStorageClass(object: KubeObject, old: KubeObject | undefined): FieldError[] {
  const provisioner = str(object.provisioner);
  const errors = [...provisionerErrors(provisioner), ...parametersErrors(object.parameters)];
  const reclaim = object.reclaimPolicy;
  if (typeof reclaim === 'string' && reclaim !== '' && !RECLAIM_POLICIES.includes(reclaim)) {
    errors.push(notSupported('reclaimPolicy', reclaim, RECLAIM_POLICIES));
  }
  const mode = object.volumeBindingMode;
  if (mode === undefined || mode === null) errors.push(required('volumeBindingMode'));
  else if (!BINDING_MODES.includes(str(mode))) errors.push(notSupported('volumeBindingMode', mode, BINDING_MODES));
  errors.push(...allowedTopologiesErrors(object.allowedTopologies));
  if (old) {
    if (!deepEqual(object.parameters, old.parameters)) errors.push(forbidden('parameters', 'updates to parameters are forbidden.'));
    if (provisioner !== str(old.provisioner)) errors.push(forbidden('provisioner', 'updates to provisioner are forbidden.'));
    if (reclaim !== old.reclaimPolicy) errors.push(forbidden('reclaimPolicy', 'updates to reclaimPolicy are forbidden.'));
    if (mode !== old.volumeBindingMode) errors.push(immutable('volumeBindingMode', mode ?? null));
  }
  return errors;
}

/**
 * StorageClasses: `sc`; how volumes of a class are provisioned. Upstream appends ` (default)`
 * to the NAME cell of the class annotated `storageclass.kubernetes.io/is-default-class: "true"`;
 * Skiff's name column is generic, so the default class is not marked.
 */
const storageClassesKind: ResourceDef = {
  group: 'storage.k8s.io',
  version: 'v1',
  kind: 'StorageClass',
  plural: 'storageclasses',
  singular: 'storageclass',
  shortNames: ['sc'],
  categories: [],
  namespaced: false,
  subresources: {},
  generation: false,
  printerColumns: [
    column('Provisioner', 'string', 'provisioner indicates the type of the provisioner.', (o) => (o as Partial<StorageClass>).provisioner ?? ''),
    column('ReclaimPolicy', 'string', 'reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of this storage class. Defaults to Delete.', (o) =>
      (o as Partial<StorageClass>).reclaimPolicy ?? 'Delete',
    ),
    column('VolumeBindingMode', 'string', 'volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.  When unset, VolumeBindingImmediate is used. This field is only honored by servers that enable the VolumeScheduling feature.', (o) =>
      (o as Partial<StorageClass>).volumeBindingMode ?? 'Immediate',
    ),
    column('AllowVolumeExpansion', 'string', 'allowVolumeExpansion shows whether the storage class allow volume expand.', (o) =>
      (o as Partial<StorageClass>).allowVolumeExpansion === true,
    ),
    ageColumn,
  ],
  defaults(object) {
    if (object.reclaimPolicy === undefined || object.reclaimPolicy === null) object.reclaimPolicy = 'Delete';
    if (object.volumeBindingMode === undefined || object.volumeBindingMode === null) object.volumeBindingMode = 'Immediate';
  },
  validate: validateStorageClass,
};

/** The storage.k8s.io group's kinds. */
export const storageKinds: readonly ResourceDef[] = [storageClassesKind];
