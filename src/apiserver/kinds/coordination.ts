/** The coordination.k8s.io/v1 Lease kind. */
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { FieldError, KubeObject, ResourceDef } from '../resource.ts';
import { invalid } from '../validation/index.ts';
import { ageColumn, column } from './columns.ts';
import { isObject, nonNegative } from './checks.ts';

function validateLease(object: KubeObject): FieldError[] {
  const spec = isObject(object.spec) ? object.spec : {};
  const errors: FieldError[] = [];
  const duration = spec.leaseDurationSeconds;
  if (duration !== undefined && duration !== null && (typeof duration !== 'number' || duration <= 0)) {
    errors.push(invalid('spec.leaseDurationSeconds', duration, 'must be greater than 0'));
  }
  errors.push(...nonNegative(spec.leaseTransitions, 'spec.leaseTransitions'));
  return errors;
}

/**
 * Leases: node heartbeats (in `kube-node-lease`) and leader election. A lease's holder renews
 * it by updating `spec.renewTime`.
 */
const leasesKind: ResourceDef = {
  group: 'coordination.k8s.io',
  version: 'v1',
  kind: 'Lease',
  plural: 'leases',
  singular: 'lease',
  shortNames: [],
  categories: [],
  namespaced: true,
  subresources: {},
  generation: false,
  printerColumns: [column('Holder', 'string', 'The identity holding the lease.', (o) => (o as Lease).spec?.holderIdentity ?? ''), ageColumn],
  validate: validateLease,
};

/** The coordination.k8s.io group's kinds. */
export const coordinationKinds: readonly ResourceDef[] = [leasesKind];
