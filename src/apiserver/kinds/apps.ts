/** The apps/v1 kinds: Deployment, ReplicaSet, StatefulSet, DaemonSet, ControllerRevision. */
import type { ControllerRevision, DaemonSet, Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { FieldError, KubeObject, ResourceDef, ScaleDef } from '../resource.ts';
import { forbidden, immutable, invalid, notSupported, required, validateAnnotations, validateLabels } from '../validation/index.ts';
import { labelSelectorFromObject } from '../selectors/index.ts';
import {
  ageColumn,
  column,
  containerColumns,
  formatLabelSelector,
  formatLabels,
  get,
  int,
  selectorColumn,
  wideColumn,
} from './columns.ts';
import {
  clone,
  deepEqual,
  ensureObject,
  intOrPercentErrors,
  intOrPercentValue,
  isEmptySelector,
  isObject,
  nonNegative,
  objectsOf,
  selectorMatches,
  specOf,
  str,
  validateLabelSelector,
  type JsonObject,
} from './checks.ts';
import { defaultPodSpec, validatePodTemplate } from './pod-spec.ts';

// ---------------------------------------------------------------------------------------------
// Shared by the workload kinds

/** Fills the pod-spec defaults of `spec.template.spec`. */
function defaultTemplate(spec: JsonObject): void {
  const template = ensureObject(spec, 'template');
  defaultPodSpec(ensureObject(template, 'spec'));
}

/** The `scale` subresource over `spec.replicas` (default 1), `status.replicas` and `spec.selector`. */
const replicasScale: ScaleDef = {
  specReplicas: (o) => {
    const replicas = get(o, 'spec', 'replicas');
    return typeof replicas === 'number' ? replicas : 1;
  },
  setSpecReplicas: (o, replicas) => {
    const copy = clone(o);
    specOf(copy).replicas = replicas;
    return copy;
  },
  statusReplicas: (o) => int(o, 'status', 'replicas'),
  selector: (o) => {
    try {
      return labelSelectorFromObject(get(o, 'spec', 'selector') as Parameters<typeof labelSelectorFromObject>[0]).toString();
    } catch {
      return '';
    }
  },
};

/**
 * The selector rules of Deployments, ReplicaSets, StatefulSets and DaemonSets: required, valid,
 * not empty (`empty selector is invalid for deployment`), and matching the template's labels.
 */
function selectorErrors(spec: JsonObject, kindWord: string): FieldError[] {
  const selector = spec.selector;
  if (selector === undefined || selector === null) return [required('spec.selector')];
  const errors = validateLabelSelector(selector, 'spec.selector');
  if (isObject(selector) && isEmptySelector(selector)) {
    errors.push(invalid('spec.selector', selector, `empty selector is invalid for ${kindWord}`));
    return errors;
  }
  const labels = get(spec, 'template', 'metadata', 'labels');
  if (selectorMatches(selector, labels) === false) {
    errors.push(invalid('spec.template.metadata.labels', labels ?? {}, '`selector` does not match template `labels`'));
  }
  return errors;
}

/** Workload pods restart forever; `activeDeadlineSeconds` makes no sense for them. */
function alwaysRestartErrors(spec: JsonObject, kind: string): FieldError[] {
  const errors: FieldError[] = [];
  const podSpec = get(spec, 'template', 'spec');
  if (!isObject(podSpec)) return errors;
  if (podSpec.restartPolicy !== 'Always') {
    errors.push(notSupported('spec.template.spec.restartPolicy', podSpec.restartPolicy ?? '', ['Always']));
  }
  if (podSpec.activeDeadlineSeconds !== undefined && podSpec.activeDeadlineSeconds !== null) {
    errors.push(forbidden('spec.template.spec.activeDeadlineSeconds', `activeDeadlineSeconds in ${kind} is not Supported`));
  }
  return errors;
}

/** In apps/v1 a workload's selector cannot change once created. */
function selectorImmutable(object: KubeObject, old: KubeObject | undefined): FieldError[] {
  if (!old) return [];
  const selector = get(object, 'spec', 'selector');
  return deepEqual(selector, get(old, 'spec', 'selector')) ? [] : [immutable('spec.selector', selector ?? null)];
}

function specOfObject(object: KubeObject): JsonObject {
  return isObject(object.spec) ? object.spec : {};
}

// ---------------------------------------------------------------------------------------------
// Deployment

function defaultDeployment(object: KubeObject): void {
  const spec = specOf(object);
  if (spec.replicas === undefined || spec.replicas === null) spec.replicas = 1;
  const strategy = ensureObject(spec, 'strategy');
  if (!strategy.type) strategy.type = 'RollingUpdate';
  if (strategy.type === 'RollingUpdate') {
    const rolling = ensureObject(strategy, 'rollingUpdate');
    if (rolling.maxUnavailable === undefined || rolling.maxUnavailable === null) rolling.maxUnavailable = '25%';
    if (rolling.maxSurge === undefined || rolling.maxSurge === null) rolling.maxSurge = '25%';
  }
  if (spec.revisionHistoryLimit === undefined || spec.revisionHistoryLimit === null) spec.revisionHistoryLimit = 10;
  if (spec.progressDeadlineSeconds === undefined || spec.progressDeadlineSeconds === null) spec.progressDeadlineSeconds = 600;
  defaultTemplate(spec);
}

function validateDeploymentStrategy(strategy: unknown): FieldError[] {
  const s = isObject(strategy) ? strategy : {};
  const errors: FieldError[] = [];
  switch (s.type) {
    case 'Recreate':
      if (s.rollingUpdate !== undefined && s.rollingUpdate !== null) {
        errors.push(forbidden('spec.strategy.rollingUpdate', "may not be specified when strategy `type` is 'Recreate'"));
      }
      break;
    case 'RollingUpdate': {
      if (!isObject(s.rollingUpdate)) {
        errors.push(required('spec.strategy.rollingUpdate', 'this should be defaulted and never be nil'));
        break;
      }
      const { maxUnavailable, maxSurge } = s.rollingUpdate;
      errors.push(...intOrPercentErrors(maxUnavailable, 'spec.strategy.rollingUpdate.maxUnavailable', { max100: true }));
      errors.push(...intOrPercentErrors(maxSurge, 'spec.strategy.rollingUpdate.maxSurge', { max100: false }));
      if (intOrPercentValue(maxUnavailable) === 0 && intOrPercentValue(maxSurge) === 0) {
        errors.push(invalid('spec.strategy.rollingUpdate.maxUnavailable', maxUnavailable, 'may not be 0 when `maxSurge` is 0'));
      }
      break;
    }
    default:
      errors.push(notSupported('spec.strategy', s.type ?? '', ['Recreate', 'RollingUpdate']));
  }
  return errors;
}

function validateDeployment(object: KubeObject, old: KubeObject | undefined): FieldError[] {
  const spec = specOfObject(object);
  const errors = [
    ...nonNegative(spec.replicas, 'spec.replicas'),
    ...selectorErrors(spec, 'deployment'),
    ...validatePodTemplate(spec.template, 'spec.template'),
    ...alwaysRestartErrors(spec, 'ReplicaSet'),
    ...validateDeploymentStrategy(spec.strategy),
    ...nonNegative(spec.minReadySeconds, 'spec.minReadySeconds'),
    ...nonNegative(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit'),
    ...nonNegative(spec.progressDeadlineSeconds, 'spec.progressDeadlineSeconds'),
  ];
  const deadline = spec.progressDeadlineSeconds;
  if (typeof deadline === 'number' && deadline <= (typeof spec.minReadySeconds === 'number' ? spec.minReadySeconds : 0)) {
    errors.push(invalid('spec.progressDeadlineSeconds', deadline, 'must be greater than minReadySeconds'));
  }
  errors.push(...selectorImmutable(object, old));
  return errors;
}

/** The wide SELECTOR cell of Deployments: the selector string, `<invalid>` if it does not compile. */
function deploymentSelectorCell(o: KubeObject): string {
  try {
    return labelSelectorFromObject((o as Deployment).spec?.selector).toString();
  } catch {
    return '<invalid>';
  }
}

/** Deployments: `deploy`, in `kubectl get all`, with `scale`. */
const deploymentsKind: ResourceDef = {
  group: 'apps',
  version: 'v1',
  kind: 'Deployment',
  plural: 'deployments',
  singular: 'deployment',
  shortNames: ['deploy'],
  categories: ['all'],
  namespaced: true,
  subresources: { status: true, scale: replicasScale },
  generation: true,
  printerColumns: [
    column('Ready', 'string', 'Ready pods out of the desired replicas.', (o) => `${int(o, 'status', 'readyReplicas')}/${int(o, 'spec', 'replicas')}`),
    column('Up-to-date', 'string', 'Pods running the latest pod template.', (o) => int(o, 'status', 'updatedReplicas')),
    column('Available', 'string', 'Pods available to serve.', (o) => int(o, 'status', 'availableReplicas')),
    ageColumn,
    ...containerColumns('spec', 'template', 'spec'),
    wideColumn('Selector', 'string', 'Label query over the pods the deployment manages.', deploymentSelectorCell),
  ],
  defaults: defaultDeployment,
  prepareForCreate(object) {
    object.status = {};
  },
  validate: validateDeployment,
};

// ---------------------------------------------------------------------------------------------
// ReplicaSet

function validateReplicaSet(object: KubeObject, old: KubeObject | undefined): FieldError[] {
  const spec = specOfObject(object);
  return [
    ...nonNegative(spec.replicas, 'spec.replicas'),
    ...nonNegative(spec.minReadySeconds, 'spec.minReadySeconds'),
    ...selectorErrors(spec, 'deployment'),
    ...validatePodTemplate(spec.template, 'spec.template'),
    ...alwaysRestartErrors(spec, 'ReplicaSet'),
    ...selectorImmutable(object, old),
  ];
}

/** ReplicaSets: `rs`, in `kubectl get all`, with `scale`. */
const replicaSetsKind: ResourceDef = {
  group: 'apps',
  version: 'v1',
  kind: 'ReplicaSet',
  plural: 'replicasets',
  singular: 'replicaset',
  shortNames: ['rs'],
  categories: ['all'],
  namespaced: true,
  subresources: { status: true, scale: replicasScale },
  generation: true,
  printerColumns: [
    column('Desired', 'integer', 'The number of pods wanted.', (o) => int(o, 'spec', 'replicas')),
    column('Current', 'integer', 'The number of pods that exist.', (o) => int(o, 'status', 'replicas')),
    column('Ready', 'integer', 'The number of pods that are ready.', (o) => int(o, 'status', 'readyReplicas')),
    ageColumn,
    ...containerColumns('spec', 'template', 'spec'),
    selectorColumn('spec', 'selector'),
  ],
  defaults(object) {
    const spec = specOf(object);
    if (spec.replicas === undefined || spec.replicas === null) spec.replicas = 1;
    defaultTemplate(spec);
  },
  prepareForCreate(object) {
    object.status = { replicas: 0 };
  },
  validate: validateReplicaSet,
  fieldSelectors: { 'status.replicas': (o) => String((o as ReplicaSet).status?.replicas ?? 0) },
};

// ---------------------------------------------------------------------------------------------
// StatefulSet

const STATEFULSET_UPDATABLE = ['replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy', 'minReadySeconds'];
const RETENTION_POLICIES = ['Retain', 'Delete'];

function defaultStatefulSet(object: KubeObject): void {
  const spec = specOf(object);
  if (!spec.podManagementPolicy) spec.podManagementPolicy = 'OrderedReady';
  const strategy = ensureObject(spec, 'updateStrategy');
  if (!strategy.type) {
    strategy.type = 'RollingUpdate';
    if (!isObject(strategy.rollingUpdate)) strategy.rollingUpdate = {};
  }
  if (strategy.type === 'RollingUpdate' && isObject(strategy.rollingUpdate)) {
    if (strategy.rollingUpdate.partition === undefined || strategy.rollingUpdate.partition === null) strategy.rollingUpdate.partition = 0;
  }
  const retention = ensureObject(spec, 'persistentVolumeClaimRetentionPolicy');
  if (!retention.whenDeleted) retention.whenDeleted = 'Retain';
  if (!retention.whenScaled) retention.whenScaled = 'Retain';
  if (spec.replicas === undefined || spec.replicas === null) spec.replicas = 1;
  if (spec.revisionHistoryLimit === undefined || spec.revisionHistoryLimit === null) spec.revisionHistoryLimit = 10;
  defaultTemplate(spec);
  // Claim templates get a claim's defaults, status included, as upstream shows them.
  for (const [, claim] of objectsOf(spec.volumeClaimTemplates)) {
    const claimSpec = ensureObject(claim, 'spec');
    if (!claimSpec.volumeMode) claimSpec.volumeMode = 'Filesystem';
    const status = ensureObject(claim, 'status');
    if (!status.phase) status.phase = 'Pending';
  }
}

function validateStatefulSet(object: KubeObject, old: KubeObject | undefined): FieldError[] {
  const spec = specOfObject(object);
  const errors: FieldError[] = [];
  const policy = str(spec.podManagementPolicy);
  if (policy === '') errors.push(required('spec.podManagementPolicy'));
  else if (policy !== 'OrderedReady' && policy !== 'Parallel') {
    errors.push(invalid('spec.podManagementPolicy', policy, "must be 'OrderedReady' or 'Parallel'"));
  }
  const strategy = isObject(spec.updateStrategy) ? spec.updateStrategy : {};
  switch (strategy.type) {
    case undefined:
    case null:
    case '':
      errors.push(required('spec.updateStrategy'));
      break;
    case 'OnDelete':
      if (strategy.rollingUpdate !== undefined && strategy.rollingUpdate !== null) {
        errors.push(invalid('spec.updateStrategy.rollingUpdate', strategy.rollingUpdate, "only allowed for updateStrategy 'RollingUpdate'"));
      }
      break;
    case 'RollingUpdate':
      if (isObject(strategy.rollingUpdate)) {
        errors.push(...nonNegative(strategy.rollingUpdate.partition, 'spec.updateStrategy.rollingUpdate.partition'));
        const maxUnavailable = strategy.rollingUpdate.maxUnavailable;
        if (maxUnavailable !== undefined && maxUnavailable !== null) {
          const path = 'spec.updateStrategy.rollingUpdate.maxUnavailable';
          errors.push(...intOrPercentErrors(maxUnavailable, path, { max100: true }));
          if (intOrPercentValue(maxUnavailable) === 0) errors.push(invalid(path, maxUnavailable, 'cannot be 0'));
        }
      }
      break;
    default:
      errors.push(invalid('spec.updateStrategy', strategy, "must be 'RollingUpdate' or 'OnDelete'"));
  }
  const retention = isObject(spec.persistentVolumeClaimRetentionPolicy) ? spec.persistentVolumeClaimRetentionPolicy : undefined;
  if (retention) {
    for (const field of ['whenDeleted', 'whenScaled']) {
      if (!RETENTION_POLICIES.includes(str(retention[field]))) {
        errors.push(notSupported(`spec.persistentVolumeClaimRetentionPolicy.${field}`, retention[field] ?? '', RETENTION_POLICIES));
      }
    }
  }
  errors.push(...nonNegative(spec.replicas, 'spec.replicas'));
  errors.push(...nonNegative(spec.minReadySeconds, 'spec.minReadySeconds'));
  if (isObject(spec.ordinals)) errors.push(...nonNegative(spec.ordinals.start, 'spec.ordinals.start'));
  errors.push(...selectorErrors(spec, 'statefulset'));
  // Upstream checks only the template's metadata here, not its pod spec.
  const meta = get(spec, 'template', 'metadata');
  errors.push(...validateLabels(get(meta, 'labels'), 'spec.template.labels'));
  errors.push(...validateAnnotations(get(meta, 'annotations'), 'spec.template.annotations'));
  errors.push(...alwaysRestartErrors(spec, 'StatefulSet'));

  if (old) {
    const rest = (s: JsonObject) => Object.fromEntries(Object.entries(s).filter(([k]) => !STATEFULSET_UPDATABLE.includes(k)));
    if (!deepEqual(rest(spec), rest(specOfObject(old)))) {
      errors.push(forbidden('spec', "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"));
    }
  }
  return errors;
}

/** StatefulSets: `sts`, in `kubectl get all`, with `scale`. */
const statefulSetsKind: ResourceDef = {
  group: 'apps',
  version: 'v1',
  kind: 'StatefulSet',
  plural: 'statefulsets',
  singular: 'statefulset',
  shortNames: ['sts'],
  categories: ['all'],
  namespaced: true,
  subresources: { status: true, scale: replicasScale },
  generation: true,
  printerColumns: [
    column('Ready', 'string', 'Ready pods out of the desired replicas.', (o) => `${int(o, 'status', 'readyReplicas')}/${int(o, 'spec', 'replicas')}`),
    ageColumn,
    ...containerColumns('spec', 'template', 'spec'),
  ],
  defaults: defaultStatefulSet,
  prepareForCreate(object) {
    object.status = { replicas: 0, availableReplicas: 0 };
  },
  validate: validateStatefulSet,
};

// ---------------------------------------------------------------------------------------------
// DaemonSet

function defaultDaemonSet(object: KubeObject): void {
  const spec = specOf(object);
  const strategy = ensureObject(spec, 'updateStrategy');
  if (!strategy.type) strategy.type = 'RollingUpdate';
  if (strategy.type === 'RollingUpdate') {
    const rolling = ensureObject(strategy, 'rollingUpdate');
    if (rolling.maxUnavailable === undefined || rolling.maxUnavailable === null) rolling.maxUnavailable = 1;
    if (rolling.maxSurge === undefined || rolling.maxSurge === null) rolling.maxSurge = 0;
  }
  if (spec.revisionHistoryLimit === undefined || spec.revisionHistoryLimit === null) spec.revisionHistoryLimit = 10;
  defaultTemplate(spec);
}

function validateDaemonSetStrategy(strategy: unknown): FieldError[] {
  const s = isObject(strategy) ? strategy : {};
  const errors: FieldError[] = [];
  switch (s.type) {
    case 'OnDelete':
      break;
    case 'RollingUpdate': {
      if (!isObject(s.rollingUpdate)) return [required('spec.updateStrategy.rollingUpdate')];
      const { maxUnavailable, maxSurge } = s.rollingUpdate;
      const base = 'spec.updateStrategy.rollingUpdate';
      errors.push(...intOrPercentErrors(maxUnavailable, `${base}.maxUnavailable`, { max100: true }));
      errors.push(...intOrPercentErrors(maxSurge, `${base}.maxSurge`, { max100: true }));
      const hasUnavailable = intOrPercentValue(maxUnavailable) !== 0;
      const hasSurge = intOrPercentValue(maxSurge) !== 0;
      if (hasUnavailable && hasSurge) errors.push(invalid(`${base}.maxSurge`, maxSurge, 'may not be set when maxUnavailable is non-zero'));
      if (!hasUnavailable && !hasSurge) errors.push(required(`${base}.maxUnavailable`, 'cannot be 0 when maxSurge is 0'));
      break;
    }
    default:
      errors.push(notSupported('spec.updateStrategy', s.type ?? '', ['RollingUpdate', 'OnDelete']));
  }
  return errors;
}

function validateDaemonSet(object: KubeObject, old: KubeObject | undefined): FieldError[] {
  const spec = specOfObject(object);
  return [
    ...selectorErrors(spec, 'daemonset'),
    ...validatePodTemplate(spec.template, 'spec.template'),
    ...alwaysRestartErrors(spec, 'DaemonSet'),
    ...nonNegative(spec.minReadySeconds, 'spec.minReadySeconds'),
    ...validateDaemonSetStrategy(spec.updateStrategy),
    ...nonNegative(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit'),
    ...selectorImmutable(object, old),
  ];
}

/** DaemonSets: `ds`, in `kubectl get all`. */
const daemonSetsKind: ResourceDef = {
  group: 'apps',
  version: 'v1',
  kind: 'DaemonSet',
  plural: 'daemonsets',
  singular: 'daemonset',
  shortNames: ['ds'],
  categories: ['all'],
  namespaced: true,
  subresources: { status: true },
  generation: true,
  printerColumns: [
    column('Desired', 'integer', 'Nodes that should run the daemon pod.', (o) => int(o, 'status', 'desiredNumberScheduled')),
    column('Current', 'integer', 'Nodes running at least one daemon pod.', (o) => int(o, 'status', 'currentNumberScheduled')),
    column('Ready', 'integer', 'Nodes whose daemon pod is ready.', (o) => int(o, 'status', 'numberReady')),
    column('Up-to-date', 'integer', 'Nodes running the latest daemon pod template.', (o) => int(o, 'status', 'updatedNumberScheduled')),
    column('Available', 'integer', 'Nodes whose daemon pod is available.', (o) => int(o, 'status', 'numberAvailable')),
    column('Node Selector', 'string', 'The node selector of the pod template.', (o) => formatLabels((o as DaemonSet).spec?.template?.spec?.nodeSelector)),
    ageColumn,
    ...containerColumns('spec', 'template', 'spec'),
    wideColumn('Selector', 'string', 'Label query over the pods the daemon set manages.', (o) => formatLabelSelector((o as DaemonSet).spec?.selector)),
  ],
  defaults: defaultDaemonSet,
  prepareForCreate(object) {
    object.status = { currentNumberScheduled: 0, desiredNumberScheduled: 0, numberMisscheduled: 0, numberReady: 0 };
  },
  validate: validateDaemonSet,
};

// ---------------------------------------------------------------------------------------------
// ControllerRevision

/** `statefulset.apps/web`, as upstream's printer names a revision's controller; `<none>` without one. */
function revisionController(object: KubeObject): string {
  const ref = (object as unknown as ControllerRevision).metadata?.ownerReferences?.find((r) => r.controller === true);
  if (!ref) return '<none>';
  const slash = ref.apiVersion.indexOf('/');
  const group = slash < 0 ? '' : ref.apiVersion.slice(0, slash);
  return `${(group ? `${ref.kind}.${group}` : ref.kind).toLowerCase()}/${ref.name}`;
}

function validateControllerRevision(object: KubeObject, old: KubeObject | undefined): FieldError[] {
  const errors: FieldError[] = [];
  if (object.data === undefined || object.data === null) errors.push(required('data', 'data is mandatory'));
  errors.push(...nonNegative(object.revision, 'revision'));
  if (old && !deepEqual(object.data, old.data)) errors.push(immutable('data', object.data));
  return errors;
}

/**
 * ControllerRevisions: immutable snapshots of a StatefulSet's or DaemonSet's pod template,
 * which `kubectl rollout history` and `rollout undo` read.
 */
const controllerRevisionsKind: ResourceDef = {
  group: 'apps',
  version: 'v1',
  kind: 'ControllerRevision',
  plural: 'controllerrevisions',
  singular: 'controllerrevision',
  shortNames: [],
  categories: [],
  namespaced: true,
  subresources: {},
  generation: false,
  printerColumns: [
    column('Controller', 'string', 'The controller that owns the revision.', revisionController),
    column('Revision', 'integer', 'The revision number.', (o) => int(o, 'revision')),
    ageColumn,
  ],
  validate: validateControllerRevision,
};

/** The apps group's kinds. */
export const appsKinds: readonly ResourceDef[] = [controllerRevisionsKind, daemonSetsKind, deploymentsKind, replicaSetsKind, statefulSetsKind];
