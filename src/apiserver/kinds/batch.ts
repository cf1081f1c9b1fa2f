/** The batch/v1 kinds: Job and CronJob. */
import type { CronJob, Job } from 'kubernetes-types/batch/v1.js';
import type { FieldError, KubeObject, ResourceDef } from '../resource.ts';
import { immutable, invalid, notSupported, required } from '../validation/index.ts';
import { humanDuration, since } from './age.ts';
import { ageColumn, column, containerColumns, get, selectorColumn } from './columns.ts';
import { cronScheduleError, isKnownTimeZone } from './cron-schedule.ts';
import {
  at,
  clone,
  deepEqual,
  ensureObject,
  isObject,
  nonNegative,
  selectorMatches,
  specOf,
  str,
  validateLabelSelector,
  type JsonObject,
} from './checks.ts';
import { defaultPodSpec, validatePodTemplate } from './pod-spec.ts';

/** Labels a Job's pods carry and its generated selector selects (the `batch.kubernetes.io/` ones). */
const CONTROLLER_UID_LABELS = ['controller-uid', 'batch.kubernetes.io/controller-uid'];
const JOB_NAME_LABELS = ['job-name', 'batch.kubernetes.io/job-name'];
const SELECTED_UID_LABEL = 'batch.kubernetes.io/controller-uid';
const MAX_INT32 = 2147483647;

// ---------------------------------------------------------------------------------------------
// Job

function defaultJob(object: KubeObject): void {
  const spec = specOf(object);
  const unset = (v: unknown) => v === undefined || v === null;
  // A job with neither set runs one pod to one completion.
  if (unset(spec.completions) && unset(spec.parallelism)) spec.completions = 1;
  if (unset(spec.parallelism)) spec.parallelism = 1;
  if (unset(spec.backoffLimit)) spec.backoffLimit = unset(spec.backoffLimitPerIndex) ? 6 : MAX_INT32;
  if (!spec.completionMode) spec.completionMode = 'NonIndexed';
  if (unset(spec.suspend)) spec.suspend = false;
  if (!spec.podReplacementPolicy) spec.podReplacementPolicy = isObject(spec.podFailurePolicy) ? 'Failed' : 'TerminatingOrFailed';
  const template = ensureObject(spec, 'template');
  defaultPodSpec(ensureObject(template, 'spec'));
  // A job without labels of its own takes its pods' labels.
  const templateLabels = get(template, 'metadata', 'labels');
  const metadata = object.metadata ?? (object.metadata = {});
  if (isObject(templateLabels) && Object.keys(metadata.labels ?? {}).length === 0) {
    metadata.labels = { ...(templateLabels as Record<string, string>) };
  }
}

/**
 * Gives a job its selector unless `manualSelector` is set: the pod template is labelled with the
 * job's uid and name (legacy and `batch.kubernetes.io/` keys, user values kept) and the selector
 * matches `batch.kubernetes.io/controller-uid`. The server assigns `metadata.uid` before
 * `prepareForCreate` runs, so the uid is known here.
 */
function generateJobSelector(object: KubeObject): void {
  const spec = specOf(object);
  if (spec.manualSelector === true) return;
  const uid = object.metadata?.uid ?? '';
  const name = object.metadata?.name ?? '';
  const template = ensureObject(spec, 'template');
  const metadata = ensureObject(template, 'metadata');
  const labels = ensureObject(metadata, 'labels');
  for (const k of JOB_NAME_LABELS) if (!Object.hasOwn(labels, k)) labels[k] = name;
  for (const k of CONTROLLER_UID_LABELS) if (!Object.hasOwn(labels, k)) labels[k] = uid;
  const selector = ensureObject(spec, 'selector');
  const matchLabels = ensureObject(selector, 'matchLabels');
  if (!Object.hasOwn(matchLabels, SELECTED_UID_LABEL)) matchLabels[SELECTED_UID_LABEL] = uid;
}

/**
 * The rules a job spec and a CronJob's job template share (`path` is `spec` or
 * `spec.jobTemplate.spec`): counts not negative, a known completion mode, and a pod template
 * whose pods stop (`restartPolicy` OnFailure or Never).
 */
function validateJobSpecCommon(spec: JsonObject, path: string): FieldError[] {
  const errors = [
    ...nonNegative(spec.parallelism, at(path, 'parallelism')),
    ...nonNegative(spec.completions, at(path, 'completions')),
    ...nonNegative(spec.activeDeadlineSeconds, at(path, 'activeDeadlineSeconds')),
    ...nonNegative(spec.backoffLimit, at(path, 'backoffLimit')),
    ...nonNegative(spec.ttlSecondsAfterFinished, at(path, 'ttlSecondsAfterFinished')),
  ];
  const mode = spec.completionMode;
  if (mode !== undefined && mode !== null && mode !== 'NonIndexed' && mode !== 'Indexed') {
    errors.push(notSupported(at(path, 'completionMode'), mode, ['NonIndexed', 'Indexed']));
  }
  if (mode === 'Indexed' && (spec.completions === undefined || spec.completions === null)) {
    errors.push(required(at(path, 'completions'), 'when completion mode is Indexed'));
  }
  const replacement = spec.podReplacementPolicy;
  if (replacement !== undefined && replacement !== null && replacement !== 'Failed' && replacement !== 'TerminatingOrFailed') {
    errors.push(notSupported(at(path, 'podReplacementPolicy'), replacement, ['Failed', 'TerminatingOrFailed']));
  }
  errors.push(...validatePodTemplate(spec.template, at(path, 'template')));
  const restartPolicy = get(spec, 'template', 'spec', 'restartPolicy');
  if (restartPolicy !== 'OnFailure' && restartPolicy !== 'Never') {
    errors.push(required(at(path, 'template.spec.restartPolicy'), 'valid values: "OnFailure", "Never"'));
  }
  return errors;
}

/**
 * Scheduling directives of a suspended job that never started may change; everything else in
 * the template is fixed once the job exists.
 */
const MUTABLE_WHILE_SUSPENDED = ['nodeSelector', 'tolerations', 'affinity', 'schedulingGates'];

function jobTemplateUpdateErrors(spec: JsonObject, oldSpec: JsonObject, old: KubeObject): FieldError[] {
  const template = spec.template;
  const oldTemplate = clone(oldSpec.template);
  const neverStarted = !get(old, 'status', 'startTime');
  if (oldSpec.suspend === true && neverStarted && isObject(oldTemplate) && isObject(template)) {
    const oldMeta = ensureObject(oldTemplate, 'metadata');
    const newMeta = isObject(template.metadata) ? template.metadata : {};
    oldMeta.labels = newMeta.labels;
    oldMeta.annotations = newMeta.annotations;
    const oldPodSpec = ensureObject(oldTemplate, 'spec');
    const newPodSpec = isObject(template.spec) ? template.spec : {};
    for (const field of MUTABLE_WHILE_SUSPENDED) oldPodSpec[field] = newPodSpec[field];
  }
  return deepEqual(template, oldTemplate) ? [] : [immutable('spec.template', template ?? null)];
}

function validateJob(object: KubeObject, old: KubeObject | undefined): FieldError[] {
  const spec = isObject(object.spec) ? object.spec : {};
  const errors: FieldError[] = [];
  if (spec.manualSelector !== true && isObject(spec.selector)) {
    // A generated selector must select exactly this job's pods.
    const uid = object.metadata?.uid ?? '';
    const name = object.metadata?.name ?? '';
    if (uid === '') errors.push(required('metadata.uid'));
    const expected: Record<string, string> = {};
    for (const k of CONTROLLER_UID_LABELS) expected[k] = uid;
    for (const k of JOB_NAME_LABELS) expected[k] = name;
    const labels = get(spec, 'template', 'metadata', 'labels');
    const labelMap = isObject(labels) ? labels : {};
    for (const [k, v] of [[CONTROLLER_UID_LABELS[1]!, uid], [JOB_NAME_LABELS[1]!, name]] as const) {
      if (!Object.hasOwn(labelMap, k)) errors.push(required(`spec.template.metadata.labels[${k}]`, v));
      else if (labelMap[k] !== v) errors.push(invalid(`spec.template.metadata.labels[${k}]`, labelMap, v));
    }
    if (selectorMatches(spec.selector, expected) === false) {
      errors.push(invalid('spec.selector', spec.selector, '`selector` not auto-generated'));
    }
  }
  errors.push(...validateJobSpecCommon(spec, 'spec'));
  if (spec.selector === undefined || spec.selector === null) {
    errors.push(required('spec.selector'));
  } else {
    errors.push(...validateLabelSelector(spec.selector, 'spec.selector'));
    const labels = get(spec, 'template', 'metadata', 'labels');
    if (selectorMatches(spec.selector, labels) === false) {
      errors.push(invalid('spec.template.metadata.labels', labels ?? {}, '`selector` does not match template `labels`'));
    }
  }
  if (old) {
    const oldSpec = isObject(old.spec) ? old.spec : {};
    if (!deepEqual(spec.completions, oldSpec.completions)) errors.push(immutable('spec.completions', spec.completions ?? null));
    if (!deepEqual(spec.selector, oldSpec.selector)) errors.push(immutable('spec.selector', spec.selector ?? null));
    if (!deepEqual(spec.completionMode, oldSpec.completionMode)) errors.push(immutable('spec.completionMode', spec.completionMode ?? null));
    errors.push(...jobTemplateUpdateErrors(spec, oldSpec, old));
  }
  return errors;
}

function jobCondition(job: Job, type: string): boolean {
  return (job.status?.conditions ?? []).find((c) => c.type === type)?.status === 'True';
}

/** The STATUS cell: Complete, Failed, Terminating, Suspended, FailureTarget or Running. */
function jobStatusCell(o: KubeObject): string {
  const job = o as Job;
  if (jobCondition(job, 'Complete')) return 'Complete';
  if (jobCondition(job, 'Failed')) return 'Failed';
  if (job.metadata?.deletionTimestamp) return 'Terminating';
  if (jobCondition(job, 'Suspended')) return 'Suspended';
  if (jobCondition(job, 'FailureTarget')) return 'FailureTarget';
  return 'Running';
}

/** The COMPLETIONS cell: `succeeded/completions`, or `n/1 of P` for work-queue jobs. */
function jobCompletionsCell(o: KubeObject): string {
  const job = o as Job;
  const succeeded = job.status?.succeeded ?? 0;
  if (typeof job.spec?.completions === 'number') return `${succeeded}/${job.spec.completions}`;
  const parallelism = job.spec?.parallelism ?? 0;
  return parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
}

/** The DURATION cell: from start to completion, or to now while running; empty before start. */
function jobDurationCell(o: KubeObject, now: Date): string {
  const job = o as Job;
  const start = job.status?.startTime;
  if (!start) return '';
  const end = job.status?.completionTime;
  if (!end) return since(start, now);
  return humanDuration(Date.parse(end) - Date.parse(start));
}

/** Jobs: in `kubectl get all`. */
const jobsKind: ResourceDef = {
  group: 'batch',
  version: 'v1',
  kind: 'Job',
  plural: 'jobs',
  singular: 'job',
  shortNames: [],
  categories: ['all'],
  namespaced: true,
  subresources: { status: true },
  generation: true,
  printerColumns: [
    column('Status', 'string', 'The state of the job.', jobStatusCell),
    column('Completions', 'string', 'Succeeded pods out of the completions wanted.', jobCompletionsCell),
    column('Duration', 'string', 'How long the job ran, or has been running.', jobDurationCell),
    ageColumn,
    ...containerColumns('spec', 'template', 'spec'),
    selectorColumn('spec', 'selector'),
  ],
  defaults: defaultJob,
  prepareForCreate(object) {
    object.status = {};
    generateJobSelector(object);
  },
  validate: validateJob,
  fieldSelectors: { 'status.successful': (o) => String((o as Job).status?.succeeded ?? 0) },
};

// ---------------------------------------------------------------------------------------------
// CronJob

const CONCURRENCY_POLICIES = ['Allow', 'Forbid', 'Replace'];

function defaultCronJob(object: KubeObject): void {
  const spec = specOf(object);
  if (!spec.concurrencyPolicy) spec.concurrencyPolicy = 'Allow';
  if (spec.suspend === undefined || spec.suspend === null) spec.suspend = false;
  if (spec.successfulJobsHistoryLimit === undefined || spec.successfulJobsHistoryLimit === null) spec.successfulJobsHistoryLimit = 3;
  if (spec.failedJobsHistoryLimit === undefined || spec.failedJobsHistoryLimit === null) spec.failedJobsHistoryLimit = 1;
  const jobTemplate = ensureObject(spec, 'jobTemplate');
  const template = ensureObject(ensureObject(jobTemplate, 'spec'), 'template');
  defaultPodSpec(ensureObject(template, 'spec'));
}

function validateCronJob(object: KubeObject): FieldError[] {
  const spec = isObject(object.spec) ? object.spec : {};
  const errors: FieldError[] = [];
  const schedule = str(spec.schedule);
  if (schedule === '') {
    errors.push(required('spec.schedule'));
  } else {
    const error = cronScheduleError(schedule);
    if (error) errors.push(invalid('spec.schedule', schedule, error));
    if (schedule.includes('TZ')) errors.push(invalid('spec.schedule', schedule, 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead'));
  }
  const timeZone = spec.timeZone;
  if (timeZone !== undefined && timeZone !== null) {
    const zone = str(timeZone);
    if (zone === '') errors.push(invalid('spec.timeZone', timeZone, 'timeZone must be nil or non-empty string'));
    else if (zone.toLowerCase() === 'local') {
      errors.push(invalid('spec.timeZone', zone, 'timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones'));
    } else if (!isKnownTimeZone(zone)) {
      errors.push(invalid('spec.timeZone', zone, `unknown time zone ${zone}`));
    }
  }
  errors.push(...nonNegative(spec.startingDeadlineSeconds, 'spec.startingDeadlineSeconds'));
  const policy = str(spec.concurrencyPolicy);
  if (policy === '') errors.push(required('spec.concurrencyPolicy'));
  else if (!CONCURRENCY_POLICIES.includes(policy)) errors.push(notSupported('spec.concurrencyPolicy', policy, CONCURRENCY_POLICIES));
  errors.push(...nonNegative(spec.successfulJobsHistoryLimit, 'spec.successfulJobsHistoryLimit'));
  errors.push(...nonNegative(spec.failedJobsHistoryLimit, 'spec.failedJobsHistoryLimit'));

  const jobSpec = get(spec, 'jobTemplate', 'spec');
  const jobPath = 'spec.jobTemplate.spec';
  const js = isObject(jobSpec) ? jobSpec : {};
  errors.push(...validateJobSpecCommon(js, jobPath));
  // Every job the CronJob creates gets a selector of its own.
  if (js.selector !== undefined && js.selector !== null) {
    errors.push(invalid(at(jobPath, 'selector'), js.selector, '`selector` will be auto-generated'));
  }
  if (js.manualSelector === true) errors.push(notSupported(at(jobPath, 'manualSelector'), true, ['nil', 'false']));
  return errors;
}

/** CronJobs: `cj`, in `kubectl get all`. */
const cronJobsKind: ResourceDef = {
  group: 'batch',
  version: 'v1',
  kind: 'CronJob',
  plural: 'cronjobs',
  singular: 'cronjob',
  shortNames: ['cj'],
  categories: ['all'],
  namespaced: true,
  subresources: { status: true },
  generation: true,
  printerColumns: [
    column('Schedule', 'string', 'The cron schedule of the job.', (o) => (o as CronJob).spec?.schedule ?? ''),
    column('Timezone', 'string', 'The time zone the schedule is read in.', (o) => (o as CronJob).spec?.timeZone ?? '<none>'),
    column('Suspend', 'boolean', 'Whether new runs are suspended.', (o) => {
      const suspend = (o as CronJob).spec?.suspend;
      return suspend === undefined ? '<unset>' : suspend ? 'True' : 'False';
    }),
    column('Active', 'integer', 'Jobs currently running.', (o) => (o as CronJob).status?.active?.length ?? 0),
    column('Last Schedule', 'string', 'Time since a job was last scheduled.', (o, now) => {
      const last = (o as CronJob).status?.lastScheduleTime;
      return last ? since(last, now) : '<none>';
    }),
    ageColumn,
    ...containerColumns('spec', 'jobTemplate', 'spec', 'template', 'spec'),
    selectorColumn('spec', 'jobTemplate', 'spec', 'selector'),
  ],
  defaults: defaultCronJob,
  prepareForCreate(object) {
    object.status = {};
  },
  validate: validateCronJob,
};

/** The batch group's kinds. */
export const batchKinds: readonly ResourceDef[] = [cronJobsKind, jobsKind];
