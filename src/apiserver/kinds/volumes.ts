/** The core/v1 PersistentVolume and PersistentVolumeClaim kinds. */
import type { PersistentVolume, PersistentVolumeClaim } from 'kubernetes-types/core/v1.js';
import type { FieldError, KubeObject, ResourceDef } from '../resource.ts';
import { dns1123SubdomainErrors, forbidden, invalid, notSupported, required } from '../validation/index.ts';
import { ageColumn, column, wideColumn } from './columns.ts';
import { arrayOf, at, clone, deepEqual, ensureObject, isObject, key, specOf, str, type JsonObject } from './checks.ts';
import { quantityValue, validateQuantity } from './pod-spec.ts';

const ACCESS_MODES = ['ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOncePod'];
const ACCESS_MODE_SHORT: Readonly<Record<string, string>> = {
  ReadWriteOnce: 'RWO',
  ReadOnlyMany: 'ROX',
  ReadWriteMany: 'RWX',
  ReadWriteOncePod: 'RWOP',
};
const RECLAIM_POLICIES = ['Delete', 'Recycle', 'Retain'];
const VOLUME_MODES = ['Block', 'Filesystem'];
/** The annotation that named a storage class before `storageClassName` existed. */
const BETA_STORAGE_CLASS = 'volume.beta.kubernetes.io/storage-class';

/** The volume sources a PersistentVolume can have (exactly one). */
const PV_SOURCES = [
  'awsElasticBlockStore', 'azureDisk', 'azureFile', 'cephfs', 'cinder', 'csi', 'fc', 'flexVolume', 'flocker',
  'gcePersistentDisk', 'glusterfs', 'hostPath', 'iscsi', 'local', 'nfs', 'photonPersistentDisk', 'portworxVolume',
  'quobyte', 'rbd', 'scaleIO', 'storageos', 'vsphereVolume',
];

/** Access modes as kubectl abbreviates them, in its fixed order: `RWO,ROX,RWX,RWOP`. */
function accessModesCell(modes: string[] | undefined): string {
  const present = new Set(modes ?? []);
  return ['ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOncePod']
    .filter((m) => present.has(m))
    .map((m) => ACCESS_MODE_SHORT[m])
    .join(',');
}

function storageClass(o: KubeObject, className: string | undefined): string {
  return o.metadata?.annotations?.[BETA_STORAGE_CLASS] ?? className ?? '';
}

function accessModeErrors(modes: unknown, path: string, emptyDetail?: string): FieldError[] {
  const list = arrayOf(modes);
  if (list.length === 0) return [required(path, emptyDetail)];
  const errors: FieldError[] = [];
  for (const mode of list) {
    if (!ACCESS_MODES.includes(str(mode))) errors.push(notSupported(path, mode, ACCESS_MODES));
  }
  if (list.includes('ReadWriteOncePod') && list.length > 1) {
    errors.push(forbidden(path, 'may not use ReadWriteOncePod with other access modes'));
  }
  return errors;
}

function volumeModeErrors(mode: unknown, path: string): FieldError[] {
  if (mode === undefined || mode === null) return [];
  return VOLUME_MODES.includes(str(mode)) ? [] : [notSupported(path, mode, VOLUME_MODES)];
}

function validatePersistentVolume(object: KubeObject): FieldError[] {
  const spec = isObject(object.spec) ? object.spec : {};
  const errors = accessModeErrors(spec.accessModes, 'spec.accessModes');
  const capacity = isObject(spec.capacity) ? spec.capacity : {};
  if (Object.keys(capacity).length === 0) errors.push(required('spec.capacity'));
  if (!Object.hasOwn(capacity, 'storage') || Object.keys(capacity).length > 1) {
    errors.push(notSupported('spec.capacity', capacity, ['storage']));
  }
  for (const [name, value] of Object.entries(capacity)) {
    errors.push(...validateQuantity(name, value, key('spec.capacity', name)));
    if ((quantityValue(value) ?? 1) === 0) errors.push(invalid(key('spec.capacity', name), value, 'must be greater than zero'));
  }
  const reclaim = str(spec.persistentVolumeReclaimPolicy);
  if (reclaim !== '' && !RECLAIM_POLICIES.includes(reclaim)) {
    errors.push(notSupported('spec.persistentVolumeReclaimPolicy', reclaim, RECLAIM_POLICIES));
  }
  const sources = PV_SOURCES.filter((s) => spec[s] !== undefined && spec[s] !== null);
  if (sources.length === 0) errors.push(required('spec', 'must specify a volume type'));
  for (const extra of sources.slice(1)) errors.push(forbidden(at('spec', extra), 'may not specify more than 1 volume type'));
  if (isObject(spec.hostPath) && str(spec.hostPath.path) === '') errors.push(required('spec.hostPath.path'));
  if (isObject(spec.local) && str(spec.local.path) === '') errors.push(required('spec.local.path'));
  const className = str(spec.storageClassName);
  if (className !== '') for (const m of dns1123SubdomainErrors(className)) errors.push(invalid('spec.storageClassName', className, m));
  errors.push(...volumeModeErrors(spec.volumeMode, 'spec.volumeMode'));
  return errors;
}

/**
 * PersistentVolumes: `pv`, cluster-scoped. Defaults: `persistentVolumeReclaimPolicy: Retain`,
 * `volumeMode: Filesystem`, phase `Pending`.
 */
export const persistentVolumesKind: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'PersistentVolume',
  plural: 'persistentvolumes',
  singular: 'persistentvolume',
  shortNames: ['pv'],
  categories: [],
  namespaced: false,
  subresources: { status: true },
  generation: false,
  printerColumns: [
    column('Capacity', 'string', 'The storage capacity of the volume.', (o) => str((o as PersistentVolume).spec?.capacity?.['storage'])),
    column('Access Modes', 'string', 'How the volume can be mounted.', (o) => accessModesCell((o as PersistentVolume).spec?.accessModes)),
    column('Reclaim Policy', 'string', 'What happens to the volume when its claim is released.', (o) => (o as PersistentVolume).spec?.persistentVolumeReclaimPolicy ?? ''),
    column('Status', 'string', 'The phase of the volume.', (o) => (o.metadata?.deletionTimestamp ? 'Terminating' : (o as PersistentVolume).status?.phase ?? '')),
    column('Claim', 'string', 'The claim bound to the volume.', (o) => {
      const ref = (o as PersistentVolume).spec?.claimRef;
      return ref ? `${ref.namespace ?? ''}/${ref.name ?? ''}` : '';
    }),
    column('StorageClass', 'string', 'The storage class of the volume.', (o) => storageClass(o, (o as PersistentVolume).spec?.storageClassName)),
    column('VolumeAttributesClass', 'string', 'The volume attributes class of the volume.', (o) => str((o as JsonObject & { spec?: JsonObject }).spec?.volumeAttributesClassName) || '<unset>'),
    column('Reason', 'string', 'Why the volume is in its phase.', (o) => (o as PersistentVolume).status?.reason ?? ''),
    ageColumn,
    wideColumn('VolumeMode', 'string', 'Whether the volume is a filesystem or a block device.', (o) => (o as PersistentVolume).spec?.volumeMode ?? '<unset>'),
  ],
  defaults(object) {
    const spec = specOf(object);
    if (!spec.persistentVolumeReclaimPolicy) spec.persistentVolumeReclaimPolicy = 'Retain';
    if (!spec.volumeMode) spec.volumeMode = 'Filesystem';
    const status = ensureObject(object, 'status');
    if (!status.phase) status.phase = 'Pending';
  },
  prepareForCreate(object) {
    object.status = { phase: 'Pending' };
  },
  validate: validatePersistentVolume,
};

function validateClaim(object: KubeObject, old: KubeObject | undefined): FieldError[] {
  const spec = isObject(object.spec) ? object.spec : {};
  const errors = accessModeErrors(spec.accessModes, 'spec.accessModes', 'at least 1 access mode is required');
  const resources = isObject(spec.resources) ? spec.resources : {};
  const requests = isObject(resources.requests) ? resources.requests : {};
  if (!Object.hasOwn(requests, 'storage')) {
    errors.push(required(key('spec.resources', 'storage')));
  } else {
    const path = key('spec.resources.requests', 'storage');
    errors.push(...validateQuantity('storage', requests.storage, path));
    if (quantityValue(requests.storage) === 0) errors.push(invalid(path, requests.storage, 'must be greater than zero'));
  }
  const className = str(spec.storageClassName);
  if (className !== '') for (const m of dns1123SubdomainErrors(className)) errors.push(invalid('spec.storageClassName', className, m));
  errors.push(...volumeModeErrors(spec.volumeMode, 'spec.volumeMode'));

  if (old) {
    // A claim's spec is fixed once created, except binding it to a volume (once) and growing
    // the storage request of a bound claim.
    const oldSpec = isObject(old.spec) ? old.spec : {};
    const munged = clone(spec);
    if (str(oldSpec.volumeName) === '') munged.volumeName = oldSpec.volumeName;
    const bound = isObject(object.status) && object.status.phase === 'Bound';
    const newSize = quantityValue(requests.storage);
    const oldRequests = isObject(oldSpec.resources) && isObject(oldSpec.resources.requests) ? oldSpec.resources.requests : {};
    const oldSize = quantityValue(oldRequests.storage);
    if (bound && isObject(munged.resources) && isObject(munged.resources.requests)) {
      munged.resources.requests.storage = oldRequests.storage;
      if (newSize !== undefined && oldSize !== undefined && newSize < oldSize) {
        errors.push(forbidden('spec.resources.requests.storage', 'field can not be less than previous value'));
      }
    }
    munged.volumeAttributesClassName = oldSpec.volumeAttributesClassName;
    if (!deepEqual(munged, oldSpec)) {
      errors.push(forbidden('spec', 'spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims'));
    }
  }
  return errors;
}

/** PersistentVolumeClaims: `pvc`. Defaults: `volumeMode: Filesystem`, phase `Pending`. */
export const persistentVolumeClaimsKind: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'PersistentVolumeClaim',
  plural: 'persistentvolumeclaims',
  singular: 'persistentvolumeclaim',
  shortNames: ['pvc'],
  categories: [],
  namespaced: true,
  subresources: { status: true },
  generation: false,
  printerColumns: [
    column('Status', 'string', 'The phase of the claim.', (o) => (o.metadata?.deletionTimestamp ? 'Terminating' : (o as PersistentVolumeClaim).status?.phase ?? '')),
    column('Volume', 'string', 'The volume bound to the claim.', (o) => (o as PersistentVolumeClaim).spec?.volumeName ?? ''),
    column('Capacity', 'string', 'The capacity of the bound volume.', (o) => {
      const claim = o as PersistentVolumeClaim;
      return claim.spec?.volumeName ? str(claim.status?.capacity?.['storage']) : '';
    }),
    column('Access Modes', 'string', 'How the bound volume can be mounted.', (o) => {
      const claim = o as PersistentVolumeClaim;
      return claim.spec?.volumeName ? accessModesCell(claim.status?.accessModes) : '';
    }),
    column('StorageClass', 'string', 'The storage class of the claim.', (o) => storageClass(o, (o as PersistentVolumeClaim).spec?.storageClassName)),
    column('VolumeAttributesClass', 'string', 'The volume attributes class of the claim.', (o) => str((o as JsonObject & { spec?: JsonObject }).spec?.volumeAttributesClassName) || '<unset>'),
    ageColumn,
    wideColumn('VolumeMode', 'string', 'Whether the claim asks for a filesystem or a block device.', (o) => (o as PersistentVolumeClaim).spec?.volumeMode ?? '<unset>'),
  ],
  defaults(object) {
    const spec = specOf(object);
    if (!spec.volumeMode) spec.volumeMode = 'Filesystem';
    const status = ensureObject(object, 'status');
    if (!status.phase) status.phase = 'Pending';
  },
  prepareForCreate(object) {
    object.status = { phase: 'Pending' };
  },
  validate: validateClaim,
};
