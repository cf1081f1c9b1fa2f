/** The core/v1 ConfigMap, Secret and ServiceAccount kinds. */
import type { KubeObject, FieldError, ResourceDef } from '../resource.ts';
import { forbidden, immutable, invalid, required, tooLong } from '../validation/index.ts';
import { ageColumn, column, countItems, countKeys } from './columns.ts';
import { configKeyErrors, deepEqual, isObject, key, str, type JsonObject } from './checks.ts';

/** Upstream's limit on the data of one ConfigMap or Secret: 1 MiB. */
const MAX_DATA_BYTES = 1024 * 1024;

const IMMUTABLE_WHEN_SET = 'field is immutable when `immutable` is set';

function dataKeyErrors(data: unknown, field: string): FieldError[] {
  if (!isObject(data)) return [];
  const errors: FieldError[] = [];
  for (const k of Object.keys(data)) {
    for (const m of configKeyErrors(k)) errors.push(invalid(key(field, k), k, m));
  }
  return errors;
}

/** Once `immutable: true` is stored, it stays, and so do the data fields. */
function immutableDataErrors(object: KubeObject, old: KubeObject, dataFields: string[]): FieldError[] {
  if (old.immutable !== true) return [];
  const errors: FieldError[] = [];
  if (object.immutable !== true) errors.push(forbidden('immutable', IMMUTABLE_WHEN_SET));
  for (const field of dataFields) {
    if (!deepEqual(object[field] ?? {}, old[field] ?? {})) errors.push(forbidden(field, IMMUTABLE_WHEN_SET));
  }
  return errors;
}

function validateConfigMap(object: KubeObject, old: KubeObject | undefined): FieldError[] {
  const errors = [...dataKeyErrors(object.data, 'data'), ...dataKeyErrors(object.binaryData, 'binaryData')];
  const data = isObject(object.data) ? object.data : {};
  const binary = isObject(object.binaryData) ? object.binaryData : {};
  let size = 0;
  for (const [k, v] of Object.entries(data)) size += Buffer.byteLength(k) + Buffer.byteLength(str(v));
  for (const [k, v] of Object.entries(binary)) {
    if (Object.hasOwn(data, k)) errors.push(invalid(key('binaryData', k), k, 'duplicate of key present in data'));
    size += Buffer.byteLength(k) + Buffer.from(str(v), 'base64').length;
  }
  if (size > MAX_DATA_BYTES) errors.push(tooLong('', MAX_DATA_BYTES));
  if (old) errors.push(...immutableDataErrors(object, old, ['data', 'binaryData']));
  return errors;
}

/** ConfigMaps: `cm`. */
export const configMapsKind: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'ConfigMap',
  plural: 'configmaps',
  singular: 'configmap',
  shortNames: ['cm'],
  categories: [],
  namespaced: true,
  subresources: {},
  generation: false,
  printerColumns: [
    column('Data', 'string', 'Number of keys in data and binaryData.', (o) => countKeys(o.data) + countKeys(o.binaryData)),
    ageColumn,
  ],
  validate: validateConfigMap,
};

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Secret defaults: `type: Opaque`, and `stringData` folded into `data` (base64-encoded,
 * overriding keys of the same name) — upstream does the latter when decoding the request, so
 * `stringData` is never stored.
 */
function defaultSecret(object: KubeObject): void {
  if (!object.type) object.type = 'Opaque';
  if (isObject(object.stringData)) {
    const data: JsonObject = isObject(object.data) ? object.data : {};
    for (const [k, v] of Object.entries(object.stringData)) data[k] = Buffer.from(str(v), 'utf8').toString('base64');
    object.data = data;
  }
  delete object.stringData;
}

/** Keys a Secret of a well-known type must carry. */
function secretTypeErrors(object: KubeObject, data: JsonObject): FieldError[] {
  const has = (k: string) => Object.hasOwn(data, k);
  switch (object.type) {
    case 'kubernetes.io/service-account-token': {
      const annotations = object.metadata?.annotations ?? {};
      return annotations['kubernetes.io/service-account.name']
        ? []
        : [required(key('metadata.annotations', 'kubernetes.io/service-account.name'))];
    }
    case 'kubernetes.io/dockercfg':
      return has('.dockercfg') ? [] : [required(key('data', '.dockercfg'))];
    case 'kubernetes.io/dockerconfigjson':
      return has('.dockerconfigjson') ? [] : [required(key('data', '.dockerconfigjson'))];
    case 'kubernetes.io/basic-auth':
      return has('username') || has('password') ? [] : [required(key('data', 'username')), required(key('data', 'password'))];
    case 'kubernetes.io/ssh-auth':
      return has('ssh-privatekey') ? [] : [required(key('data', 'ssh-privatekey'))];
    case 'kubernetes.io/tls':
      return [...(has('tls.key') ? [] : [required(key('data', 'tls.key'))]), ...(has('tls.crt') ? [] : [required(key('data', 'tls.crt'))])];
    default:
      return [];
  }
}

function validateSecret(object: KubeObject, old: KubeObject | undefined): FieldError[] {
  const data = isObject(object.data) ? object.data : {};
  const errors = dataKeyErrors(data, 'data');
  let size = 0;
  for (const [k, v] of Object.entries(data)) {
    // Upstream rejects undecodable values while decoding the body; here they are field errors.
    if (typeof v !== 'string' || !BASE64.test(v)) {
      errors.push(invalid(key('data', k), '<secret contents redacted>', 'must be a base64-encoded string'));
      continue;
    }
    size += Buffer.from(v, 'base64').length;
  }
  if (size > MAX_DATA_BYTES) errors.push(tooLong('data', MAX_DATA_BYTES));
  errors.push(...secretTypeErrors(object, data));
  if (old) {
    if (object.type !== old.type) errors.push(immutable('type', object.type));
    errors.push(...immutableDataErrors(object, old, ['data']));
  }
  return errors;
}

/** Secrets: values base64 in `data`, `stringData` accepted on write. */
export const secretsKind: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'Secret',
  plural: 'secrets',
  singular: 'secret',
  shortNames: [],
  categories: [],
  namespaced: true,
  subresources: {},
  generation: false,
  printerColumns: [
    column('Type', 'string', 'The secret\'s type.', (o) => str(o.type)),
    column('Data', 'string', 'Number of keys in data.', (o) => countKeys(o.data)),
    ageColumn,
  ],
  defaults: defaultSecret,
  validate: validateSecret,
  fieldSelectors: { type: (o) => str(o.type) },
};

/** ServiceAccounts: `sa`. */
export const serviceAccountsKind: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'ServiceAccount',
  plural: 'serviceaccounts',
  singular: 'serviceaccount',
  shortNames: ['sa'],
  categories: [],
  namespaced: true,
  subresources: {},
  generation: false,
  printerColumns: [column('Secrets', 'string', 'Number of secrets listed in the service account.', (o) => countItems(o.secrets)), ageColumn],
};
