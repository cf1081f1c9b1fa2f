/**
 * The autoscaling HorizontalPodAutoscaler, served as `autoscaling/v2` (preferred) and
 * `autoscaling/v1`. The two versions have different shapes: v2 lists `metrics` and an optional
 * scaling `behavior`; v1 has only `targetCPUUtilizationPercentage`. Upstream stores one
 * internal form and converts on every read; Skiff defines the versions as two kinds over the
 * same storage key for now, so the printer and the checks here accept either shape.
 */
import type { HorizontalPodAutoscaler as HpaV1 } from 'kubernetes-types/autoscaling/v1.js';
import type { HorizontalPodAutoscaler as HpaV2, MetricSpec, MetricStatus } from 'kubernetes-types/autoscaling/v2.js';
import type { FieldError, KubeObject, ResourceDef } from '../resource.ts';
import { dns1123LabelErrors, forbidden, invalid, isValidPathSegmentName, notSupported, parseQuantity, required } from '../validation/index.ts';
import { ageColumn, column, get } from './columns.ts';
import { arrayOf, at, isObject, listOf, nonNegative, objectsOf, specOf, str, type JsonObject } from './checks.ts';

const GROUP = 'autoscaling';

/** Upstream's `autoscaling.DefaultCPUUtilization`: the target when no metric is given. */
const DEFAULT_CPU_UTILIZATION = 80;
const MAX_PERIOD_SECONDS = 1800;
const MAX_STABILIZATION_WINDOW_SECONDS = 3600;
const METRIC_SOURCE_TYPES = ['ContainerResource', 'External', 'Object', 'Pods', 'Resource'];
const SELECT_POLICIES = ['Disabled', 'Max', 'Min'];
const SCALING_POLICY_TYPES = ['Percent', 'Pods'];

// ---------------------------------------------------------------------------------------------
// Shared by both versions

/** What a v1 object's single CPU target means in v2 terms (upstream's v1→internal conversion). */
function v1Metrics(o: KubeObject): { specs: MetricSpec[]; statuses: MetricStatus[] } {
  const v1 = o as HpaV1;
  const target = v1.spec?.targetCPUUtilizationPercentage;
  if (typeof target !== 'number') return { specs: [], statuses: [] };
  const current = v1.status?.currentCPUUtilizationPercentage;
  return {
    specs: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: target } } }],
    statuses:
      typeof current === 'number' ? [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: current } } }] : [],
  };
}

function metricsOf(o: KubeObject): { specs: MetricSpec[]; statuses: MetricStatus[] } {
  const spec = (o as HpaV2).spec;
  if (!Array.isArray(spec?.metrics)) return v1Metrics(o);
  return { specs: listOf<MetricSpec>(spec.metrics), statuses: listOf<MetricStatus>((o as HpaV2).status?.currentMetrics) };
}

/** A quantity as the printer shows it; Go prints a missing one as `<nil>`. */
function quantity(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  return '<nil>';
}

/** `current/target` of a Value/AverageValue target (Object and External metrics). */
function valueTarget(
  target: { value?: unknown; averageValue?: unknown } | undefined,
  current: { value?: unknown; averageValue?: unknown } | undefined,
): string {
  if (target?.averageValue !== undefined) {
    const now = current?.averageValue !== undefined ? quantity(current.averageValue) : '<unknown>';
    return `${now}/${quantity(target.averageValue)} (avg)`;
  }
  return `${current ? quantity(current.value) : '<unknown>'}/${quantity(target?.value)}`;
}

/** `name: current/target` of a Resource or ContainerResource metric. */
function resourceTarget(
  spec: { name: string; target: { averageValue?: unknown; averageUtilization?: number } },
  current: { current: { averageValue?: unknown; averageUtilization?: number } } | undefined,
): string {
  if (spec.target.averageValue !== undefined) {
    return `${spec.name}: ${current ? quantity(current.current.averageValue) : '<unknown>'}/${quantity(spec.target.averageValue)}`;
  }
  const now = typeof current?.current.averageUtilization === 'number' ? `${current.current.averageUtilization}%` : '<unknown>';
  const goal = typeof spec.target.averageUtilization === 'number' ? `${spec.target.averageUtilization}%` : '<auto>';
  return `${spec.name}: ${now}/${goal}`;
}

/** Upstream's `formatHPAMetrics`: the first two metrics as `current/target`, then `+ N more...`. */
function targetsCell(o: KubeObject): string {
  const { specs, statuses } = metricsOf(o);
  if (specs.length === 0) return '<none>';
  const cells = specs.map((spec, i) => {
    // Statuses line up with specs by position.
    const status = statuses[i];
    switch (spec.type) {
      case 'External':
        return valueTarget(spec.external!.target, status?.external?.current);
      case 'Object':
        return valueTarget(spec.object!.target, status?.object?.current);
      case 'Pods':
        return `${status?.pods ? quantity(status.pods.current.averageValue) : '<unknown>'}/${quantity(spec.pods!.target.averageValue)}`;
      case 'Resource':
        return resourceTarget(spec.resource!, status?.resource);
      case 'ContainerResource':
        return resourceTarget(spec.containerResource!, status?.containerResource);
      default:
        return '<unknown type>';
    }
  });
  const shown = cells.slice(0, 2).join(', ');
  return cells.length > 2 ? `${shown} + ${cells.length - 2} more...` : shown;
}

const hpaColumns: ResourceDef['printerColumns'] = [
  column('Reference', 'string', 'scaleTargetRef points to the target resource to scale, and is used to the pods for which metrics should be collected, as well as to actually change the replica count.', (o) => {
    const ref = (o as HpaV2).spec?.scaleTargetRef;
    return `${ref?.kind ?? ''}/${ref?.name ?? ''}`;
  }),
  column('Targets', 'string', 'metrics contains the specifications for which to use to calculate the desired replica count (the maximum replica count across all metrics will be used).', targetsCell),
  column('MinPods', 'string', 'minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down.', (o) => {
    const min = get(o, 'spec', 'minReplicas');
    return typeof min === 'number' ? String(min) : '<unset>';
  }),
  column('MaxPods', 'string', 'maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up.', (o) => {
    const max = get(o, 'spec', 'maxReplicas');
    return typeof max === 'number' ? max : 0;
  }),
  column('Replicas', 'string', 'currentReplicas is current number of replicas of pods managed by this autoscaler, as last seen by the autoscaler.', (o) => {
    const current = get(o, 'status', 'currentReplicas');
    return typeof current === 'number' ? current : 0;
  }),
  ageColumn,
];

/** Upstream's `ValidateCrossVersionObjectReference`: kind and name, each a path segment. */
function objectReferenceErrors(ref: unknown, path: string): FieldError[] {
  const r = isObject(ref) ? ref : {};
  const errors: FieldError[] = [];
  for (const field of ['kind', 'name']) {
    const value = str(r[field]);
    if (value === '') errors.push(required(at(path, field)));
    else for (const m of isValidPathSegmentName(value)) errors.push(invalid(at(path, field), value, m));
  }
  return errors;
}

/** Replica bounds and the scale target, common to both versions. */
function replicaErrors(spec: JsonObject): FieldError[] {
  const errors: FieldError[] = [];
  const min = spec.minReplicas;
  const max = typeof spec.maxReplicas === 'number' ? spec.maxReplicas : 0;
  // Scale-to-zero (minReplicas 0) is behind an alpha feature upstream; the lower bound is 1.
  if (min !== undefined && min !== null && (typeof min !== 'number' || min < 1)) {
    errors.push(invalid('spec.minReplicas', min, 'must be greater than or equal to 1'));
  }
  if (max < 1) errors.push(invalid('spec.maxReplicas', spec.maxReplicas ?? 0, 'must be greater than 0'));
  if (typeof min === 'number' && max < min) errors.push(invalid('spec.maxReplicas', max, 'must be greater than or equal to `minReplicas`'));
  errors.push(...objectReferenceErrors(spec.scaleTargetRef, 'spec.scaleTargetRef'));
  return errors;
}

/** Status counts a controller writes must not be negative. */
function statusErrors(object: KubeObject): FieldError[] {
  const status = isObject(object.status) ? object.status : {};
  return [...nonNegative(status.currentReplicas, 'status.currentReplicas'), ...nonNegative(status.desiredReplicas, 'status.desiredReplicas')];
}

// ---------------------------------------------------------------------------------------------
// autoscaling/v2

function scaleUpRules(): JsonObject {
  return {
    stabilizationWindowSeconds: 0,
    selectPolicy: 'Max',
    policies: [
      { type: 'Pods', value: 4, periodSeconds: 15 },
      { type: 'Percent', value: 100, periodSeconds: 15 },
    ],
  };
}

/**
 * Scale-down rules leave `stabilizationWindowSeconds` unset on purpose, as upstream: the
 * controller's `--horizontal-pod-autoscaler-downscale-stabilization` (300s) applies then.
 */
function scaleDownRules(): JsonObject {
  return { selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] };
}

/** Upstream's `copyHPAScalingRules`: what the user set wins, field by field. */
function mergeRules(given: unknown, defaults: JsonObject): JsonObject {
  if (!isObject(given)) return defaults;
  const merged = { ...defaults };
  for (const field of ['selectPolicy', 'stabilizationWindowSeconds', 'policies']) {
    if (given[field] !== undefined && given[field] !== null) merged[field] = given[field];
  }
  return { ...given, ...merged };
}

/** Upstream's `SetDefaults_HorizontalPodAutoscaler` (autoscaling/v2). */
function defaultV2(object: KubeObject): void {
  const spec = specOf(object);
  if (spec.minReplicas === undefined || spec.minReplicas === null) spec.minReplicas = 1;
  if (arrayOf(spec.metrics).length === 0) {
    spec.metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: DEFAULT_CPU_UTILIZATION } } }];
  }
  // Behavior is filled in only when given at all: an HPA without one keeps the controller's defaults.
  if (isObject(spec.behavior)) {
    spec.behavior.scaleUp = mergeRules(spec.behavior.scaleUp, scaleUpRules());
    spec.behavior.scaleDown = mergeRules(spec.behavior.scaleDown, scaleDownRules());
  }
}

function isPositiveQuantity(value: unknown): boolean {
  const n = typeof value === 'number' ? value : typeof value === 'string' ? parseQuantity(value) : undefined;
  return n !== undefined && n > 0;
}

function has(value: unknown): boolean {
  return value !== undefined && value !== null;
}

function metricTargetErrors(target: JsonObject, path: string): FieldError[] {
  const errors: FieldError[] = [];
  const type = str(target.type);
  if (type === '') errors.push(required(at(path, 'type'), 'must specify a metric target type'));
  if (!['Utilization', 'Value', 'AverageValue'].includes(type)) {
    errors.push(invalid(at(path, 'type'), type, 'must be either Utilization, Value, or AverageValue'));
  }
  for (const field of ['value', 'averageValue']) {
    if (has(target[field]) && !isPositiveQuantity(target[field])) errors.push(invalid(at(path, field), target[field], 'must be positive'));
  }
  const utilization = target.averageUtilization;
  if (has(utilization) && (typeof utilization !== 'number' || utilization < 1)) {
    errors.push(invalid(at(path, 'averageUtilization'), utilization, 'must be greater than 0'));
  }
  return errors;
}

function metricIdentifierErrors(metric: unknown, path: string): FieldError[] {
  const name = str(isObject(metric) ? metric.name : undefined);
  if (name === '') return [required(at(path, 'name'), 'must specify a metric name')];
  return isValidPathSegmentName(name).map((m) => invalid(at(path, 'name'), name, m));
}

/** The checks of one metric source, by its field name. */
function sourceErrors(field: string, src: JsonObject, path: string): FieldError[] {
  const target = isObject(src.target) ? src.target : {};
  const targetPath = at(path, 'target');
  const errors: FieldError[] = [];
  switch (field) {
    case 'object':
      errors.push(...objectReferenceErrors(src.describedObject, at(path, 'describedObject')));
      errors.push(...metricIdentifierErrors(src.metric, at(path, 'metric')), ...metricTargetErrors(target, targetPath));
      if (!has(target.value) && !has(target.averageValue)) errors.push(required(at(targetPath, 'averageValue'), 'must set either a target value or averageValue'));
      break;
    case 'external':
      errors.push(...metricIdentifierErrors(src.metric, at(path, 'metric')), ...metricTargetErrors(target, targetPath));
      if (!has(target.value) && !has(target.averageValue)) {
        errors.push(required(at(targetPath, 'averageValue'), 'must set either a target value for metric or a per-pod target'));
      }
      if (has(target.value) && has(target.averageValue)) {
        errors.push(forbidden(at(targetPath, 'value'), 'may not set both a target value for metric and a per-pod target'));
      }
      break;
    case 'pods':
      errors.push(...metricIdentifierErrors(src.metric, at(path, 'metric')), ...metricTargetErrors(target, targetPath));
      if (!has(target.averageValue)) errors.push(required(at(targetPath, 'averageValue'), 'must specify a positive target averageValue'));
      break;
    case 'resource':
    case 'containerResource':
      if (str(src.name) === '') errors.push(required(at(path, 'name'), 'must specify a resource name'));
      if (field === 'containerResource') {
        const container = str(src.container);
        if (container === '') errors.push(required(at(path, 'container'), 'must specify a container'));
        else for (const m of dns1123LabelErrors(container)) errors.push(invalid(at(path, 'container'), container, m));
      }
      errors.push(...metricTargetErrors(target, targetPath));
      if (!has(target.averageUtilization) && !has(target.averageValue)) {
        errors.push(required(at(targetPath, 'averageUtilization'), 'must set either a target raw value or a target utilization'));
      }
      if (has(target.averageUtilization) && has(target.averageValue)) {
        errors.push(forbidden(at(targetPath, 'averageValue'), 'may not set both a target raw value and a target utilization'));
      }
      break;
  }
  return errors;
}

/** The field each metric type fills. */
const SOURCE_FIELDS: Readonly<Record<string, string>> = {
  Object: 'object',
  Pods: 'pods',
  Resource: 'resource',
  ContainerResource: 'containerResource',
  External: 'external',
};

/** Upstream's `validateMetricSpec`: a known type, its source filled in, and no other source. */
function metricSpecErrors(metric: JsonObject, path: string): FieldError[] {
  const errors: FieldError[] = [];
  const type = str(metric.type);
  if (type === '') errors.push(required(at(path, 'type'), 'must specify a metric source type'));
  if (!METRIC_SOURCE_TYPES.includes(type)) errors.push(notSupported(at(path, 'type'), type, METRIC_SOURCE_TYPES));
  const present = ['object', 'external', 'pods', 'resource', 'containerResource'].filter((f) => isObject(metric[f]));
  // Only the first source present is checked in depth; any others are reported as extra below.
  if (present.length > 0) errors.push(...sourceErrors(present[0]!, metric[present[0]!] as JsonObject, at(path, present[0]!)));
  const expected = SOURCE_FIELDS[type];
  if (expected === undefined) errors.push(notSupported(at(path, 'type'), type, METRIC_SOURCE_TYPES));
  else if (!isObject(metric[expected])) errors.push(required(at(path, expected), 'must populate information for the given metric source'));
  if (present.length !== 1) {
    for (const extra of present.filter((f) => f !== expected)) errors.push(forbidden(at(path, extra), 'must populate the given metric source only'));
  }
  return errors;
}

function scalingRulesErrors(rules: unknown, path: string): FieldError[] {
  if (!isObject(rules)) return [];
  const errors: FieldError[] = [];
  const window = rules.stabilizationWindowSeconds;
  if (typeof window === 'number') {
    if (window < 0) errors.push(invalid(at(path, 'stabilizationWindowSeconds'), window, 'must be greater than or equal to zero'));
    if (window > MAX_STABILIZATION_WINDOW_SECONDS) {
      errors.push(invalid(at(path, 'stabilizationWindowSeconds'), window, `must be less than or equal to ${MAX_STABILIZATION_WINDOW_SECONDS}`));
    }
  }
  if (has(rules.selectPolicy) && !SELECT_POLICIES.includes(str(rules.selectPolicy))) {
    errors.push(notSupported(at(path, 'selectPolicy'), rules.selectPolicy, SELECT_POLICIES));
  }
  const policies = objectsOf(rules.policies);
  if (policies.length === 0) errors.push(required(at(path, 'policies'), 'must specify at least one Policy'));
  for (const [i, policy] of policies) {
    const p = at(at(path, 'policies'), i);
    if (!SCALING_POLICY_TYPES.includes(str(policy.type))) errors.push(notSupported(at(p, 'type'), policy.type ?? '', SCALING_POLICY_TYPES));
    const value = typeof policy.value === 'number' ? policy.value : 0;
    if (value <= 0) errors.push(invalid(at(p, 'value'), value, 'must be greater than zero'));
    const period = typeof policy.periodSeconds === 'number' ? policy.periodSeconds : 0;
    if (period <= 0) errors.push(invalid(at(p, 'periodSeconds'), period, 'must be greater than zero'));
    if (period > MAX_PERIOD_SECONDS) errors.push(invalid(at(p, 'periodSeconds'), period, `must be less than or equal to ${MAX_PERIOD_SECONDS}`));
  }
  return errors;
}

function validateV2(object: KubeObject): FieldError[] {
  const spec = isObject(object.spec) ? object.spec : {};
  const errors = replicaErrors(spec);
  for (const [i, metric] of objectsOf(spec.metrics)) errors.push(...metricSpecErrors(metric, at('spec.metrics', i)));
  if (isObject(spec.behavior)) {
    errors.push(...scalingRulesErrors(spec.behavior.scaleUp, 'spec.behavior.scaleUp'));
    errors.push(...scalingRulesErrors(spec.behavior.scaleDown, 'spec.behavior.scaleDown'));
  }
  errors.push(...statusErrors(object));
  return errors;
}

/** HorizontalPodAutoscalers (autoscaling/v2): `hpa`, in `kubectl get all`. */
const hpaV2Kind: ResourceDef = {
  group: GROUP,
  version: 'v2',
  kind: 'HorizontalPodAutoscaler',
  plural: 'horizontalpodautoscalers',
  singular: 'horizontalpodautoscaler',
  shortNames: ['hpa'],
  categories: ['all'],
  namespaced: true,
  subresources: { status: true },
  // Upstream maintains metadata.generation for HPAs only from 1.34 (feature HPAGeneration).
  generation: false,
  printerColumns: hpaColumns,
  defaults: defaultV2,
  prepareForCreate(object) {
    object.status = { desiredReplicas: 0 };
  },
  validate: validateV2,
};

// ---------------------------------------------------------------------------------------------
// autoscaling/v1

function validateV1(object: KubeObject): FieldError[] {
  const spec = isObject(object.spec) ? object.spec : {};
  const errors = replicaErrors(spec);
  const target = spec.targetCPUUtilizationPercentage;
  // Upstream validates v1 objects after converting them to the internal (v2-like) form, so the
  // error names the converted field.
  if (has(target) && (typeof target !== 'number' || target < 1)) {
    errors.push(invalid('spec.metrics[0].resource.target.averageUtilization', target, 'must be greater than 0'));
  }
  errors.push(...statusErrors(object));
  return errors;
}

/** HorizontalPodAutoscalers (autoscaling/v1): the CPU-only form, kept for old clients. */
const hpaV1Kind: ResourceDef = {
  ...hpaV2Kind,
  version: 'v1',
  defaults(object) {
    const spec = specOf(object);
    if (spec.minReplicas === undefined || spec.minReplicas === null) spec.minReplicas = 1;
  },
  prepareForCreate(object) {
    object.status = { currentReplicas: 0, desiredReplicas: 0 };
  },
  validate: validateV1,
};

/**
 * The autoscaling group's kinds, v2 first: discovery prefers a group's first registered
 * version, and upstream prefers v2.
 */
export const autoscalingKinds: readonly ResourceDef[] = [hpaV2Kind, hpaV1Kind];
