/**
 * The scheduling.k8s.io/v1 PriorityClass kind, and the two system priority classes every
 * cluster has. Values above {@link HIGHEST_USER_DEFINABLE_PRIORITY} and names starting with
 * `system-` belong to the system classes alone.
 */
import type { PriorityClass } from 'kubernetes-types/scheduling/v1.js';
import type { FieldError, KubeObject, ResourceDef } from '../resource.ts';
import { forbidden, immutable, invalid, notSupported, required } from '../validation/index.ts';
import { ageColumn, column } from './columns.ts';

const GROUP = 'scheduling.k8s.io';
/** Upstream's `HighestUserDefinablePriority`. */
const HIGHEST_USER_DEFINABLE_PRIORITY = 1_000_000_000;
/** Upstream's `SystemCriticalPriority`: twice the highest user-definable priority. */
const SYSTEM_CRITICAL_PRIORITY = 2 * HIGHEST_USER_DEFINABLE_PRIORITY;
const SYSTEM_PREFIX = 'system-';
const PREEMPTION_POLICIES = ['PreemptLowerPriority', 'Never'];

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/**
 * The system priority classes upstream's API server creates at start-up
 * (`scheduling/bootstrap-system-priority-classes`), as request bodies: frozen, so clone one
 * before handing it to a store that fills in metadata. They cannot be deleted upstream.
 */
export const systemPriorityClasses: readonly KubeObject[] = deepFreeze([
  {
    apiVersion: `${GROUP}/v1`,
    kind: 'PriorityClass',
    metadata: { name: 'system-node-critical' },
    value: SYSTEM_CRITICAL_PRIORITY + 1000,
    description: 'Used for system critical pods that must not be moved from their current node.',
  },
  {
    apiVersion: `${GROUP}/v1`,
    kind: 'PriorityClass',
    metadata: { name: 'system-cluster-critical' },
    value: SYSTEM_CRITICAL_PRIORITY,
    description: 'Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.',
  },
]);

/**
 * Upstream's `IsKnownSystemPriorityClass`: a `system-` name must be one of the system classes,
 * with its value and (false) globalDefault. Returns why not, or undefined.
 */
function systemClassMismatch(name: string, value: unknown, globalDefault: boolean): string | undefined {
  const known = systemPriorityClasses.find((pc) => pc.metadata?.name === name);
  if (!known) return `${name} is not a known system priority class`;
  if (known.value !== value) return `value of ${name} PriorityClass must be ${String(known.value)}`;
  if (globalDefault) return `globalDefault of ${name} PriorityClass must be false`;
  return undefined;
}

function preemptionPolicyErrors(policy: unknown): FieldError[] {
  if (policy === undefined || policy === null) return [];
  if (policy === '') return [required('preemptionPolicy')];
  return PREEMPTION_POLICIES.includes(String(policy)) ? [] : [notSupported('preemptionPolicy', policy, PREEMPTION_POLICIES)];
}

/**
 * Upstream validates a PriorityClass fully on create; an update only checks that `value` and
 * `preemptionPolicy` stay as they were (pods already carry both).
 */
function validatePriorityClass(object: KubeObject, old: KubeObject | undefined): FieldError[] {
  if (old) {
    const errors: FieldError[] = [];
    if (object.value !== old.value) errors.push(forbidden('value', 'may not be changed in an update.'));
    if (object.preemptionPolicy !== old.preemptionPolicy) errors.push(immutable('preemptionPolicy', object.preemptionPolicy ?? null));
    return errors;
  }
  const errors: FieldError[] = [];
  const value = object.value;
  if (typeof value !== 'number' || !Number.isInteger(value)) errors.push(invalid('value', value ?? null, 'must be an integer'));
  const name = object.metadata?.name ?? '';
  if (name.startsWith(SYSTEM_PREFIX)) {
    const mismatch = systemClassMismatch(name, value, object.globalDefault === true);
    if (mismatch) {
      errors.push(forbidden('metadata.name', `priority class names with '${SYSTEM_PREFIX}' prefix are reserved for system use only. error: ${mismatch}`));
    }
  } else if (typeof value === 'number' && value > HIGHEST_USER_DEFINABLE_PRIORITY) {
    errors.push(forbidden('value', `maximum allowed value of a user defined priority is ${HIGHEST_USER_DEFINABLE_PRIORITY}`));
  }
  errors.push(...preemptionPolicyErrors(object.preemptionPolicy));
  return errors;
}

/** PriorityClasses: `pc`; named pod priorities the scheduler orders and preempts by. */
const priorityClassesKind: ResourceDef = {
  group: GROUP,
  version: 'v1',
  kind: 'PriorityClass',
  plural: 'priorityclasses',
  singular: 'priorityclass',
  shortNames: ['pc'],
  categories: [],
  namespaced: false,
  subresources: {},
  generation: true,
  printerColumns: [
    column('Value', 'integer', 'value represents the integer value of this priority class. This is the actual priority that pods receive when they have the name of this class in their pod spec.', (o) =>
      typeof o.value === 'number' ? o.value : 0,
    ),
    column('Global-Default', 'boolean', 'globalDefault specifies whether this PriorityClass should be considered as the default priority for pods that do not have any priority class. Only one PriorityClass can be marked as `globalDefault`. However, if more than one PriorityClasses exists with their `globalDefault` field set to true, the smallest value of such global default PriorityClasses will be used as the default priority.', (o) =>
      (o as Partial<PriorityClass>).globalDefault === true,
    ),
    ageColumn,
    // Upstream shows this column by default, after AGE.
    column('PreemptionPolicy', 'string', 'preemptionPolicy is the Policy for preempting pods with lower priority. One of Never, PreemptLowerPriority. Defaults to PreemptLowerPriority if unset.', (o) =>
      (o as Partial<PriorityClass>).preemptionPolicy ?? '',
    ),
  ],
  defaults(object) {
    // `value` is a plain int32 upstream: an absent one reads (and is stored) as 0.
    if (object.value === undefined || object.value === null) object.value = 0;
    if (object.preemptionPolicy === undefined || object.preemptionPolicy === null) object.preemptionPolicy = 'PreemptLowerPriority';
  },
  validate: validatePriorityClass,
};

/** The scheduling.k8s.io group's kinds. */
export const schedulingKinds: readonly ResourceDef[] = [priorityClassesKind];
