/** The policy/v1 PodDisruptionBudget kind. */
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import type { FieldError, KubeObject, ResourceDef } from '../resource.ts';
import { invalid, notSupported } from '../validation/index.ts';
import { ageColumn, column, int } from './columns.ts';
import { intOrPercentErrors, isObject, nonNegative, validateLabelSelector } from './checks.ts';

const UNHEALTHY_POD_EVICTION_POLICIES = ['AlwaysAllow', 'IfHealthyBudget'];

function has(value: unknown): boolean {
  return value !== undefined && value !== null;
}

/**
 * Upstream's `ValidatePodDisruptionBudgetSpec`: at most one of `minAvailable` and
 * `maxUnavailable` (neither is allowed: the budget then permits no voluntary disruption of the
 * selected pods), each a non-negative count or a percentage up to 100%, and a valid selector.
 * The status counts are checked too, for status updates.
 */
function validatePodDisruptionBudget(object: KubeObject): FieldError[] {
  const spec = isObject(object.spec) ? object.spec : {};
  const errors: FieldError[] = [];
  if (has(spec.minAvailable) && has(spec.maxUnavailable)) {
    errors.push(invalid('spec', spec, 'minAvailable and maxUnavailable cannot be both set'));
  }
  errors.push(...intOrPercentErrors(spec.minAvailable, 'spec.minAvailable', { max100: true }));
  errors.push(...intOrPercentErrors(spec.maxUnavailable, 'spec.maxUnavailable', { max100: true }));
  errors.push(...validateLabelSelector(spec.selector, 'spec.selector'));
  const policy = spec.unhealthyPodEvictionPolicy;
  if (has(policy) && !UNHEALTHY_POD_EVICTION_POLICIES.includes(String(policy))) {
    errors.push(notSupported('spec.unhealthyPodEvictionPolicy', policy, UNHEALTHY_POD_EVICTION_POLICIES));
  }
  const status = isObject(object.status) ? object.status : {};
  for (const field of ['disruptionsAllowed', 'currentHealthy', 'desiredHealthy', 'expectedPods']) {
    errors.push(...nonNegative(status[field], `status.${field}`));
  }
  return errors;
}

/** An int-or-percent cell: the value as written, `N/A` when unset. */
function budgetCell(value: number | string | undefined): string {
  return value === undefined || value === null ? 'N/A' : String(value);
}

/** PodDisruptionBudgets: `pdb`; how many selected pods voluntary evictions may take down. */
const podDisruptionBudgetsKind: ResourceDef = {
  group: 'policy',
  version: 'v1',
  kind: 'PodDisruptionBudget',
  plural: 'poddisruptionbudgets',
  singular: 'poddisruptionbudget',
  shortNames: ['pdb'],
  categories: [],
  namespaced: true,
  subresources: { status: true },
  generation: true,
  printerColumns: [
    column('Min Available', 'string', 'The minimum number of pods that must be available.', (o) =>
      budgetCell((o as PodDisruptionBudget).spec?.minAvailable),
    ),
    column('Max Unavailable', 'string', 'The maximum number of pods that may be unavailable.', (o) =>
      budgetCell((o as PodDisruptionBudget).spec?.maxUnavailable),
    ),
    column('Allowed Disruptions', 'integer', 'Calculated number of pods that may be disrupted at this time.', (o) =>
      int(o, 'status', 'disruptionsAllowed'),
    ),
    ageColumn,
  ],
  prepareForCreate(object) {
    // The disruption controller fills these in; until then the budget allows no disruption.
    object.status = { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 };
  },
  validate: validatePodDisruptionBudget,
};

/** The policy group's kinds. */
export const policyKinds: readonly ResourceDef[] = [podDisruptionBudgetsKind];
