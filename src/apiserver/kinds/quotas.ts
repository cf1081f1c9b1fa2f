/** The core/v1 LimitRange and ResourceQuota kinds. */
import type { ResourceQuota } from 'kubernetes-types/core/v1.js';
import type { FieldError, KubeObject, ResourceDef } from '../resource.ts';
import { invalid, notSupported, qualifiedNameErrors, required } from '../validation/index.ts';
import { ageColumn, column, createdAtColumn } from './columns.ts';
import { at, isObject, key, objectsOf, str } from './checks.ts';
import { validateQuantity } from './pod-spec.ts';

const LIMIT_TYPES = ['Container', 'PersistentVolumeClaim', 'Pod'];
const LIMIT_FIELDS = ['max', 'min', 'default', 'defaultRequest', 'maxLimitRequestRatio'];

function resourceMapErrors(map: unknown, path: string): FieldError[] {
  if (!isObject(map)) return [];
  const errors: FieldError[] = [];
  for (const [name, value] of Object.entries(map)) {
    for (const m of qualifiedNameErrors(name)) errors.push(invalid(key(path, name), name, m));
    errors.push(...validateQuantity(name, value, key(path, name)));
  }
  return errors;
}

/**
 * LimitRange item defaults for containers, as upstream: a missing default limit is the max, a
 * missing default request is the default limit, else the min.
 */
function defaultLimitRange(object: KubeObject): void {
  const spec = isObject(object.spec) ? object.spec : undefined;
  for (const [, item] of objectsOf(spec?.limits)) {
    if (item.type !== 'Container') continue;
    const defaults = isObject(item.default) ? item.default : {};
    const defaultRequest = isObject(item.defaultRequest) ? item.defaultRequest : {};
    for (const [name, value] of Object.entries(isObject(item.max) ? item.max : {})) {
      if (!Object.hasOwn(defaults, name)) defaults[name] = value;
    }
    for (const [name, value] of Object.entries(defaults)) {
      if (!Object.hasOwn(defaultRequest, name)) defaultRequest[name] = value;
    }
    for (const [name, value] of Object.entries(isObject(item.min) ? item.min : {})) {
      if (!Object.hasOwn(defaultRequest, name)) defaultRequest[name] = value;
    }
    item.default = defaults;
    item.defaultRequest = defaultRequest;
  }
}

function validateLimitRange(object: KubeObject): FieldError[] {
  const spec = isObject(object.spec) ? object.spec : {};
  const errors: FieldError[] = [];
  for (const [i, item] of objectsOf(spec.limits)) {
    const p = at('spec.limits', i);
    const type = str(item.type);
    if (type === '') errors.push(required(at(p, 'type')));
    else if (!LIMIT_TYPES.includes(type)) errors.push(notSupported(at(p, 'type'), type, LIMIT_TYPES));
    for (const field of LIMIT_FIELDS) errors.push(...resourceMapErrors(item[field], at(p, field)));
  }
  return errors;
}

/** LimitRanges: `limits`. Upstream has no printer for them: the table shows `Created At`. */
export const limitRangesKind: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'LimitRange',
  plural: 'limitranges',
  singular: 'limitrange',
  shortNames: ['limits'],
  categories: [],
  namespaced: true,
  subresources: {},
  generation: false,
  printerColumns: [createdAtColumn],
  defaults: defaultLimitRange,
  validate: validateLimitRange,
};

/** The REQUEST and LIMIT cells: `resource: used/hard` for each hard limit, sorted by name. */
function quotaCell(o: KubeObject, limits: boolean): string {
  const status = (o as ResourceQuota).status;
  const hard = status?.hard ?? {};
  const used = status?.used ?? {};
  return Object.keys(hard)
    .sort()
    .filter((name) => name.startsWith('limits.') === limits)
    .map((name) => `${name}: ${used[name] ?? '0'}/${hard[name]}`)
    .join(', ');
}

/** ResourceQuotas: `quota`; the quota controller fills `status`. */
export const resourceQuotasKind: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'ResourceQuota',
  plural: 'resourcequotas',
  singular: 'resourcequota',
  shortNames: ['quota'],
  categories: [],
  namespaced: true,
  subresources: { status: true },
  generation: false,
  printerColumns: [
    ageColumn,
    column('Request', 'string', 'Used and hard amounts of the quota\'s request-type resources.', (o) => quotaCell(o, false)),
    column('Limit', 'string', 'Used and hard amounts of the quota\'s limits.* resources.', (o) => quotaCell(o, true)),
  ],
  prepareForCreate(object) {
    object.status = {};
  },
  validate(object) {
    const spec = isObject(object.spec) ? object.spec : {};
    return resourceMapErrors(spec.hard, 'spec.hard');
  },
};
