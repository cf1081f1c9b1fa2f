/**
 * The CronJob controller, as upstream's `cronjob_controllerv2`: for each CronJob it works out
 * the most recent schedule time that has passed and not been run, creates that run's Job
 * (named `<cronjob>-<minutes since the epoch>`, so a run is never created twice), and asks to
 * be woken at the next schedule time — no polling. It follows its Jobs to keep `status.active`,
 * `lastScheduleTime` and `lastSuccessfulTime`, applies the concurrency policy (Allow, Forbid,
 * Replace), `startingDeadlineSeconds` and `suspend`, and deletes the oldest finished Jobs beyond
 * the success and failure history limits.
 */
import type { CronJob, Job, JobCondition } from 'kubernetes-types/batch/v1.js';
import type { ObjectReference } from 'kubernetes-types/core/v1.js';
import {
  byControllerUid,
  controllerOf,
  controllerRef,
  controllerUidIndex,
  formatInZone,
  isApiError,
  kinds,
  objectKey,
  parseSchedule,
  processQueue,
  splitKey,
  WorkQueue,
  type EventRecorder,
  type Informer,
  type ResourceClient,
  type Schedule,
} from '../../client/index.ts';
import type { Controller, ControllerContext } from '../manager.ts';
import { timestamp } from '../pod-util.ts';
import { systemClock, type Clock } from '../job/clock.ts';

/** Options of {@link CronJobController}. */
export interface CronJobControllerOptions {
  /** The clock schedules are read against. Default: the system clock. */
  clock?: Clock;
  /** Concurrent syncs. Default: the context's `workers`. */
  workers?: number;
}

/** The annotation a CronJob's Jobs carry: their scheduled time, RFC 3339 in the CronJob's zone. */
export const SCHEDULED_TIMESTAMP_ANNOTATION = 'batch.kubernetes.io/cronjob-scheduled-timestamp';
/** Past this many missed runs the controller warns instead of counting them. */
const TOO_MANY_MISSED = 100;
/** Wake a little after the schedule time, so the clock has certainly passed it. */
const NEXT_SCHEDULE_DELTA_MS = 100;

/** Our cached CronJob is not the latest: the sync is retried once the cache has caught up. */
class StaleCache extends Error {}

/** See the file header. */
export class CronJobController implements Controller {
  readonly #queue = new WorkQueue();
  readonly #cronJobs: Informer<CronJob>;
  readonly #jobs: Informer<Job>;
  readonly #cronJobApi: ResourceClient<CronJob>;
  readonly #jobApi: ResourceClient<Job>;
  readonly #recorder: EventRecorder;
  readonly #clock: Clock;
  readonly #workers: number;
  readonly #timers = new Map<string, () => void>();

  constructor(context: ControllerContext, options: CronJobControllerOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#workers = options.workers ?? context.settings.workers;
    this.#recorder = context.recorder('cronjob-controller');
    this.#cronJobApi = context.client.resource(kinds.cronJobs);
    this.#jobApi = context.client.resource(kinds.jobs);
    this.#cronJobs = context.informers.informer(kinds.cronJobs);
    this.#jobs = context.informers.informer(kinds.jobs, { [controllerUidIndex]: byControllerUid });
    this.#cronJobs.addHandler({
      add: (cj) => this.#queue.add(objectKey(cj)),
      update: (old, cj) => {
        // A new schedule or zone moves the wake-up time: drop the old timer.
        if (old.spec?.schedule !== cj.spec?.schedule || old.spec?.timeZone !== cj.spec?.timeZone) this.#cancelTimer(objectKey(cj));
        this.#queue.add(objectKey(cj));
      },
      delete: (cj) => this.#cancelTimer(objectKey(cj)),
    });
    const jobChanged = (job: Job) => {
      const owner = controllerOf(job);
      if (owner?.kind !== 'CronJob' || !job.metadata?.namespace) return;
      this.#queue.add(`${job.metadata.namespace}/${owner.name}`);
    };
    this.#jobs.addHandler({ add: jobChanged, update: (_, job) => jobChanged(job), delete: jobChanged });
  }

  /** Starts the workers. */
  start(): void {
    for (let i = 0; i < this.#workers; i++) {
      void processQueue(this.#queue, (key) => this.#sync(key), {
        onError: (key, error) => {
          // A conflict means our cache was behind; the retry reads the newer object.
          if ((isApiError(error) && error.code === 409) || error instanceof StaleCache) return;
          console.error(`skiff: cronjob-controller: syncing "${key}":`, error);
        },
      });
    }
  }

  /** Stops the workers and every wake-up timer. */
  stop(): void {
    this.#queue.shutDown();
    for (const cancel of this.#timers.values()) cancel();
    this.#timers.clear();
  }

  #cancelTimer(key: string): void {
    this.#timers.get(key)?.();
    this.#timers.delete(key);
  }

  #requeueAfter(key: string, ms: number): void {
    this.#cancelTimer(key);
    const cancel = this.#clock.after(ms, () => {
      this.#timers.delete(key);
      this.#queue.add(key);
    });
    this.#timers.set(key, cancel);
  }

  async #sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const cached = this.#cronJobs.get(namespace, name);
    if (!cached) {
      this.#cancelTimer(key);
      return;
    }
    const cronJob = structuredClone(cached);
    const jobs = this.#jobs.byIndex(controllerUidIndex, cronJob.metadata?.uid ?? '').filter((j) => j.metadata?.namespace === namespace);
    const cleaned = await this.#cleanupFinishedJobs(cronJob, jobs);
    const { requeueMs, changed, error } = await this.#syncCronJob(cronJob, jobs);
    if (cleaned || changed) {
      // An empty list is left out, as the API's Go types do (`omitempty`).
      if (cronJob.status?.active?.length === 0) delete cronJob.status.active;
      await this.#cronJobApi.updateStatus(cronJob);
    }
    if (requeueMs !== undefined) this.#requeueAfter(key, requeueMs);
    else if (error) throw error;
  }

  /** Returns the wait before the next look, whether status changed, and an error to retry on. */
  async #syncCronJob(cronJob: CronJob, jobs: Job[]): Promise<{ requeueMs?: number; changed: boolean; error?: unknown }> {
    let changed = false;
    const status = (cronJob.status ??= {});
    const children = new Set<string>();
    for (const job of jobs) {
      const uid = job.metadata?.uid ?? '';
      children.add(uid);
      const active = inActiveList(cronJob, uid);
      const finished = finishedCondition(job);
      if (!active && !finished) {
        // Our status may lag behind a Job we just created: look at the latest CronJob first.
        await this.#confirmLatest(cronJob);
        this.#recorder.event(cronJob, 'Warning', 'UnexpectedJob', `Saw a job that the controller did not create or forgot: ${job.metadata?.name}`);
      } else if (active && finished) {
        status.active = (status.active ?? []).filter((ref) => ref.uid !== uid);
        this.#recorder.event(cronJob, 'Normal', 'SawCompletedJob', `Saw completed job: ${job.metadata?.name}, condition: ${finished.type}`);
        changed = true;
      }
      if (finished?.type === 'Complete' && job.status?.completionTime) {
        const last = status.lastSuccessfulTime;
        if (!last || Date.parse(job.status.completionTime) > Date.parse(last)) {
          status.lastSuccessfulTime = job.status.completionTime;
          changed = true;
        }
      }
    }
    // An active Job that is gone would hold the CronJob active forever.
    for (const ref of [...(status.active ?? [])]) {
      if (children.has(ref.uid ?? '')) continue;
      const job = await this.#jobApi.find(ref.namespace, ref.name ?? '');
      if (job && job.metadata?.uid === ref.uid) continue;
      this.#recorder.event(cronJob, 'Normal', 'MissingJob', `Active job went missing: ${ref.name}`);
      status.active = (status.active ?? []).filter((r) => r.uid !== ref.uid);
      changed = true;
    }
    if (cronJob.metadata?.deletionTimestamp) return { changed };
    const spec = cronJob.spec!;
    let schedule: Schedule;
    try {
      schedule = parseSchedule(spec.schedule, spec.timeZone);
    } catch (error) {
      if (error instanceof RangeError) {
        this.#recorder.event(cronJob, 'Warning', 'UnknownTimeZone', `invalid timeZone: "${spec.timeZone}": unknown time zone ${spec.timeZone}`);
      } else {
        this.#recorder.event(cronJob, 'Warning', 'UnparseableSchedule', `unparseable schedule: "${spec.schedule}" : ${(error as Error).message}`);
      }
      return { changed };
    }
    if (spec.suspend) return { changed };

    const now = this.#clock.now();
    const recent = mostRecentScheduleTime(cronJob, now, schedule, true);
    const scheduled = recent.mostRecent;
    if (recent.missed > TOO_MANY_MISSED) {
      this.#recorder.event(cronJob, 'Warning', 'TooManyMissedTimes', 'too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew');
    }
    const wait = () => nextScheduleWait(cronJob, now, schedule);
    if (!scheduled) return { changed, ...wait() };
    if (spec.startingDeadlineSeconds !== undefined && scheduled.getTime() + spec.startingDeadlineSeconds * 1000 < now.getTime()) {
      this.#recorder.event(cronJob, 'Warning', 'MissSchedule', `Missed scheduled time to start a job: ${rfc1123z(scheduled)}`);
      return { changed, ...wait() };
    }
    const jobName = jobNameFor(cronJob, scheduled);
    if ((status.active ?? []).some((ref) => ref.name === jobName) || (status.lastScheduleTime && Date.parse(status.lastScheduleTime) === scheduled.getTime())) {
      return { changed, ...wait() };
    }
    // A run is created only from the latest CronJob: a cached one that has not yet seen our last
    // status write (a Job created a moment ago) would start a second run under Forbid, or
    // Replace would delete runs that are long gone.
    await this.#confirmLatest(cronJob);
    if (spec.concurrencyPolicy === 'Forbid' && (status.active ?? []).length > 0) {
      this.#recorder.event(cronJob, 'Normal', 'JobAlreadyActive', 'Not starting job because prior execution is running and concurrency policy is Forbid');
      return { changed, ...wait() };
    }
    if (spec.concurrencyPolicy === 'Replace') {
      for (const ref of [...(status.active ?? [])]) {
        const job = await this.#jobApi.find(ref.namespace, ref.name ?? '');
        if (job) await this.#deleteJob(cronJob, job);
        status.active = (status.active ?? []).filter((r) => r.uid !== ref.uid);
        changed = true;
      }
    }

    let created: Job;
    try {
      created = await this.#jobApi.create(jobFromTemplate(cronJob, scheduled), { namespace: cronJob.metadata?.namespace });
      this.#recorder.event(cronJob, 'Normal', 'SuccessfulCreate', `Created job ${created.metadata?.name}`);
    } catch (error) {
      if (!isApiError(error) || error.code !== 409) {
        this.#recorder.event(cronJob, 'Warning', 'FailedCreate', `Error creating job: ${(error as Error).message}`);
        return { changed, error };
      }
      // Created by an earlier sync whose status write was lost: adopt it into the status if ours.
      const existing = await this.#jobApi.find(cronJob.metadata?.namespace, jobName);
      if (!existing || controllerOf(existing)?.uid !== cronJob.metadata?.uid) return { changed };
      if (inActiveList(cronJob, existing.metadata?.uid ?? '')) return { changed };
      created = existing;
    }
    status.active = [...(status.active ?? []), jobReference(created)];
    status.lastScheduleTime = timestamp(scheduled);
    return { changed: true, ...nextScheduleWait(cronJob, now, schedule) };
  }

  /** Throws {@link StaleCache} unless `cronJob` is the API server's latest version of it. */
  async #confirmLatest(cronJob: CronJob): Promise<void> {
    const latest = await this.#cronJobApi.find(cronJob.metadata?.namespace, cronJob.metadata?.name ?? '');
    if (latest?.metadata?.resourceVersion !== cronJob.metadata?.resourceVersion) {
      throw new StaleCache(`CronJob ${cronJob.metadata?.namespace}/${cronJob.metadata?.name} changed since our cache saw it`);
    }
  }

  /** Deletes the oldest finished Jobs past the history limits; true when status changed. */
  async #cleanupFinishedJobs(cronJob: CronJob, jobs: Job[]): Promise<boolean> {
    const spec = cronJob.spec!;
    if (spec.successfulJobsHistoryLimit === undefined && spec.failedJobsHistoryLimit === undefined) return false;
    const succeeded: Job[] = [];
    const failed: Job[] = [];
    for (const job of jobs) {
      const finished = finishedCondition(job);
      if (finished?.type === 'Complete') succeeded.push(job);
      else if (finished?.type === 'Failed') failed.push(job);
    }
    let changed = false;
    for (const [list, limit] of [[succeeded, spec.successfulJobsHistoryLimit], [failed, spec.failedJobsHistoryLimit]] as const) {
      if (limit === undefined || list.length <= limit) continue;
      list.sort(byStartTime);
      for (const job of list.slice(0, list.length - limit)) {
        if (await this.#deleteJob(cronJob, job)) changed = true;
      }
    }
    return changed;
  }

  /** Deletes a Job (its pods go with it) and forgets it; true if it was in the active list. */
  async #deleteJob(cronJob: CronJob, job: Job): Promise<boolean> {
    try {
      await this.#jobApi.delete(job.metadata?.namespace, job.metadata?.name ?? '', { propagationPolicy: 'Background' });
    } catch (error) {
      if (!isApiError(error) || error.code !== 404) {
        this.#recorder.event(cronJob, 'Warning', 'FailedDelete', `Deleted job: ${(error as Error).message}`);
        throw error;
      }
    }
    this.#recorder.event(cronJob, 'Normal', 'SuccessfulDelete', `Deleted job ${job.metadata?.name}`);
    const uid = job.metadata?.uid;
    const before = cronJob.status?.active?.length ?? 0;
    if (cronJob.status?.active) cronJob.status.active = cronJob.status.active.filter((ref) => ref.uid !== uid);
    return (cronJob.status?.active?.length ?? 0) !== before;
  }
}

function inActiveList(cronJob: CronJob, uid: string): boolean {
  return (cronJob.status?.active ?? []).some((ref) => ref.uid === uid);
}

/** The Complete or Failed condition that is True, if the Job has finished. */
function finishedCondition(job: Job): JobCondition | undefined {
  return (job.status?.conditions ?? []).find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
}

/** Oldest first; Jobs that never started sort last, then by name. */
function byStartTime(a: Job, b: Job): number {
  const sa = a.status?.startTime;
  const sb = b.status?.startTime;
  if (!sa && sb) return 1;
  if (sa && !sb) return -1;
  if (sa && sb && sa !== sb) return Date.parse(sa) - Date.parse(sb);
  return (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '');
}

/** `<cronjob>-<scheduled time in minutes since the epoch>`. */
function jobNameFor(cronJob: CronJob, scheduled: Date): string {
  return `${cronJob.metadata?.name}-${Math.floor(scheduled.getTime() / 60_000)}`;
}

function jobReference(job: Job): ObjectReference {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    name: job.metadata?.name ?? '',
    namespace: job.metadata?.namespace ?? '',
    uid: job.metadata?.uid ?? '',
    resourceVersion: job.metadata?.resourceVersion ?? '',
  };
}

/** The Job of one scheduled run: the template's labels, annotations and spec, owned by the CronJob. */
function jobFromTemplate(cronJob: CronJob, scheduled: Date): Job {
  const template = cronJob.spec!.jobTemplate;
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: jobNameFor(cronJob, scheduled),
      namespace: cronJob.metadata?.namespace ?? '',
      labels: { ...template.metadata?.labels },
      annotations: { ...template.metadata?.annotations, [SCHEDULED_TIMESTAMP_ANNOTATION]: formatInZone(scheduled, cronJob.spec?.timeZone) },
      ownerReferences: [controllerRef(cronJob, 'batch/v1', 'CronJob')],
    },
    spec: structuredClone(template.spec!),
  };
}

/**
 * Upstream's `mostRecentScheduleTime`: the latest schedule time after the last run (or the
 * CronJob's creation; with the starting deadline, no earlier than now minus it) that is not
 * after `now`, and roughly how many were missed.
 */
function mostRecentScheduleTime(
  cronJob: CronJob,
  now: Date,
  schedule: Schedule,
  withDeadline: boolean,
): { earliest: Date; mostRecent?: Date; missed: number } {
  let earliest = new Date(cronJob.status?.lastScheduleTime ?? cronJob.metadata?.creationTimestamp ?? now.toISOString());
  const deadline = cronJob.spec?.startingDeadlineSeconds;
  if (withDeadline && deadline !== undefined) {
    const schedulingDeadline = new Date(now.getTime() - deadline * 1000);
    if (schedulingDeadline > earliest) earliest = schedulingDeadline;
  }
  const t1 = schedule.next(earliest);
  if (!t1 || now < t1) return { earliest, missed: 0 };
  const t2 = schedule.next(t1);
  if (!t2 || now < t2) return { earliest, mostRecent: t1, missed: 1 };
  // Count the runs missed roughly from the spacing of the first two (the exact walk could be
  // decades long after a clock jump), then walk only the last stretch exactly.
  const between = Math.round((t2.getTime() - t1.getTime()) / 1000);
  const missed = Math.floor((now.getTime() - t1.getTime()) / 1000 / between) + 1;
  let t: Date | undefined = schedule.next(new Date(t1.getTime() + (missed - 2) * between * 1000));
  let mostRecent: Date | undefined;
  for (; t && t <= now; t = schedule.next(t)) mostRecent = t;
  return mostRecent ? { earliest, mostRecent, missed } : { earliest, missed };
}

/** How long until the schedule time after the most recent one (plus a small delta). */
function nextScheduleWait(cronJob: CronJob, now: Date, schedule: Schedule): { requeueMs?: number } {
  const { earliest, mostRecent } = mostRecentScheduleTime(cronJob, now, schedule, false);
  const next = schedule.next(mostRecent ?? earliest);
  if (!next) return {};
  return { requeueMs: Math.max(0, next.getTime() + NEXT_SCHEDULE_DELTA_MS - now.getTime()) };
}

/** Go's `time.RFC1123Z` in UTC: `Mon, 02 Jan 2006 15:04:05 +0000`. */
function rfc1123z(date: Date): string {
  return date.toUTCString().replace('GMT', '+0000');
}
