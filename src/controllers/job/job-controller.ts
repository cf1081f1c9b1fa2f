/**
 * The Job controller, as upstream's `job_controller.go`: runs a Job's pods until enough of them
 * succeed (`completions`, at most `parallelism` at once; Indexed jobs give each pod a completion
 * index), replaces failed pods after an exponential back-off, and fails the Job past its
 * `backoffLimit`, its `activeDeadlineSeconds`, or a pod failure policy's FailJob rule. It
 * suspends and resumes, and keeps the Job's status.
 *
 * Counting follows upstream's scheme, so no pod is ever counted twice or lost: every pod is
 * created with the `batch.kubernetes.io/job-tracking` finalizer; a finished pod's uid is first
 * written to `status.uncountedTerminatedPods`, then its finalizer is removed, then it moves from
 * the uncounted list to `succeeded`/`failed` (Indexed jobs count by `completedIndexes`
 * instead). Every status write carries the cached resourceVersion, so a sync working from a
 * stale cache fails with a conflict and is retried rather than writing stale counts. As in
 * Kubernetes 1.31+, a Job first gets `SuccessCriteriaMet` or `FailureTarget`, and `Complete` or
 * `Failed` only once none of its pods is left running or terminating.
 */
import type { Job, JobCondition } from 'kubernetes-types/batch/v1.js';
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import {
  byControllerUid,
  controllerOf,
  controllerRef,
  controllerUidIndex,
  Expectations,
  isApiError,
  kinds,
  objectKey,
  processQueue,
  splitKey,
  WorkQueue,
  type EventRecorder,
  type Informer,
  type ResourceClient,
} from '../../client/index.ts';
import type { Controller, ControllerContext } from '../manager.ts';
import { isPodActive, isPodReady, timestamp } from '../pod-util.ts';
import { systemClock, type Clock } from './clock.ts';
import {
  backoffRemaining,
  COMPLETION_INDEX,
  completionIndex,
  finishedCondition,
  formatIndexes,
  matchPodFailurePolicy,
  nextBackoffRecord,
  parseIndexes,
  pastBackoffLimitOnFailure,
  TRACKING_FINALIZER,
  trueCondition,
  type BackoffRecord,
} from './job-util.ts';

/** Options of {@link JobController}. */
export interface JobControllerOptions {
  clock?: Clock;
  /** First delay before re-creating a failed pod; doubles per failure. Default 10 s. */
  backoffBaseMs?: number;
  /** Longest such delay. Default 6 minutes. */
  backoffMaxMs?: number;
  /** Concurrent syncs. Default: the context's `workers`. */
  workers?: number;
}

/** Pods created, deleted or counted in one sync at most, so a huge Job cannot starve others. */
const MAX_PODS_PER_SYNC = 500;

/** What the Job is about to become: the interim condition's type, reason and message. */
interface Finish {
  type: 'SuccessCriteriaMet' | 'Complete' | 'FailureTarget' | 'Failed';
  reason: string;
  message: string;
}

/** One sync's view of a Job and its pods. */
interface SyncContext {
  key: string;
  job: Job;
  pods: Pod[];
  active: Pod[];
  ready: number;
  terminating: number;
  succeeded: number;
  failed: number;
  uncountedSucceeded: Set<string>;
  uncountedFailed: Set<string>;
  expectedRemovals: Set<string>;
  prevSucceededIndexes: Set<number>;
  succeededIndexes: Set<number>;
  backoff: BackoffRecord;
  finish?: Finish;
}

/** See the file header. */
export class JobController implements Controller {
  readonly #queue = new WorkQueue();
  /** Pods whose Job is gone but which still hold the tracking finalizer. */
  readonly #orphans = new WorkQueue();
  readonly #jobs: Informer<Job>;
  readonly #pods: Informer<Pod>;
  readonly #jobApi: ResourceClient<Job>;
  readonly #podApi: ResourceClient<Pod>;
  readonly #recorder: EventRecorder;
  readonly #clock: Clock;
  readonly #backoffBase: number;
  readonly #backoffMax: number;
  readonly #workers: number;
  readonly #expectations: Expectations;
  /** Per Job: uids of pods whose finalizer we removed and the cache may not show yet. */
  readonly #finalizerRemovals = new Map<string, Set<string>>();
  readonly #backoffs = new Map<string, BackoffRecord>();
  readonly #timers = new Map<string, { due: number; cancel: () => void }>();

  constructor(context: ControllerContext, options: JobControllerOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#backoffBase = options.backoffBaseMs ?? 10_000;
    this.#backoffMax = options.backoffMaxMs ?? 360_000;
    this.#workers = options.workers ?? context.settings.workers;
    this.#expectations = new Expectations({ now: () => this.#clock.now().getTime() });
    this.#recorder = context.recorder('job-controller');
    this.#jobApi = context.client.resource(kinds.jobs);
    this.#podApi = context.client.resource(kinds.pods);
    this.#jobs = context.informers.informer(kinds.jobs);
    this.#pods = context.informers.informer(kinds.pods, { [controllerUidIndex]: byControllerUid });
    this.#jobs.addHandler({
      add: (job) => this.#queue.add(objectKey(job)),
      update: (_, job) => this.#queue.add(objectKey(job)),
      delete: (job) => {
        this.#queue.add(objectKey(job));
        for (const pod of this.#pods.byIndex(controllerUidIndex, job.metadata?.uid ?? '')) {
          if (hasFinalizer(pod)) this.#orphans.add(objectKey(pod));
        }
      },
    });
    this.#pods.addHandler({
      add: (pod) => {
        const key = this.#jobKeyOf(pod);
        if (!key) return;
        this.#expectations.creationObserved(key);
        this.#queue.add(key);
      },
      update: (old, pod) => {
        const key = this.#jobKeyOf(pod);
        if (!key) return;
        if (pod.metadata?.deletionTimestamp && !old.metadata?.deletionTimestamp) this.#expectations.deletionObserved(key);
        if (!hasFinalizer(pod)) this.#finalizerRemovals.get(key)?.delete(pod.metadata?.uid ?? '');
        this.#queue.add(key);
      },
      delete: (pod) => {
        const key = this.#jobKeyOf(pod);
        if (!key) return;
        if (!pod.metadata?.deletionTimestamp) this.#expectations.deletionObserved(key);
        this.#finalizerRemovals.get(key)?.delete(pod.metadata?.uid ?? '');
        this.#queue.add(key);
      },
    });
  }

  /** Starts the workers. */
  start(): void {
    const onError = (key: string, error: unknown) => {
      // A conflict means our cache was behind; the retry reads the newer object.
      if (isApiError(error) && error.code === 409) return;
      console.error(`skiff: job-controller: syncing "${key}":`, error);
    };
    for (let i = 0; i < this.#workers; i++) void processQueue(this.#queue, (key) => this.#sync(key), { onError });
    void processQueue(this.#orphans, (key) => this.#releaseOrphan(key), { onError });
  }

  /** Stops the workers and timers. */
  stop(): void {
    this.#queue.shutDown();
    this.#orphans.shutDown();
    for (const timer of this.#timers.values()) timer.cancel();
    this.#timers.clear();
  }

  /** The key of the pod's Job, or undefined (and the pod queued for release) when it has none. */
  #jobKeyOf(pod: Pod): string | undefined {
    const owner = controllerOf(pod);
    if (owner?.kind !== 'Job' || !pod.metadata?.namespace) return undefined;
    const job = this.#jobs.get(pod.metadata.namespace, owner.name);
    if (!job || job.metadata?.uid !== owner.uid) {
      if (hasFinalizer(pod)) this.#orphans.add(objectKey(pod));
      return undefined;
    }
    return `${pod.metadata.namespace}/${owner.name}`;
  }

  /** Syncs `key` again after `ms` (the earliest of several requests wins). */
  #requeueAfter(key: string, ms: number): void {
    const due = this.#clock.now().getTime() + ms;
    const existing = this.#timers.get(key);
    if (existing && existing.due <= due) return;
    existing?.cancel();
    const cancel = this.#clock.after(ms, () => {
      this.#timers.delete(key);
      this.#queue.add(key);
    });
    this.#timers.set(key, { due, cancel });
  }

  /** Removes the tracking finalizer of a pod whose Job is gone (checked with the API). */
  async #releaseOrphan(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const pod = this.#pods.get(namespace, name);
    if (!pod || !hasFinalizer(pod)) return;
    const owner = controllerOf(pod);
    if (owner?.kind === 'Job') {
      const job = await this.#jobApi.find(namespace, owner.name);
      if (job && job.metadata?.uid === owner.uid && !finishedCondition(job)) return;
    }
    await this.#removeFinalizer(pod);
  }

  async #sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const cached = this.#jobs.get(namespace, name);
    if (!cached) {
      this.#expectations.delete(key);
      this.#finalizerRemovals.delete(key);
      this.#backoffs.delete(key);
      return;
    }
    const pods = this.#pods.byIndex(controllerUidIndex, cached.metadata?.uid ?? '').filter((p) => p.metadata?.namespace === namespace);
    if (finishedCondition(cached)) {
      this.#backoffs.delete(key);
      for (const pod of pods) if (hasFinalizer(pod)) await this.#removeFinalizer(pod);
      return;
    }
    const mode = cached.spec?.completionMode ?? 'NonIndexed';
    if (mode !== 'NonIndexed' && mode !== 'Indexed') {
      this.#recorder.event(cached, 'Warning', 'UnknownCompletionMode', 'Skipped Job sync because completion mode is unknown');
      return;
    }
    const job = structuredClone(cached);
    const status = (job.status ??= {});
    const uncounted = (status.uncountedTerminatedPods ??= {});
    const now = this.#clock.now();
    // Expectations first: a pod arriving after this check only defers the work to the next sync.
    const satisfied = this.#expectations.satisfied(key);
    const active = pods.filter(isPodActive);
    const ctx: SyncContext = {
      key,
      job,
      pods,
      active,
      ready: active.filter(isPodReady).length,
      terminating: pods.filter(isTerminating).length,
      succeeded: 0,
      failed: 0,
      uncountedSucceeded: new Set(uncounted.succeeded ?? []),
      uncountedFailed: new Set(uncounted.failed ?? []),
      expectedRemovals: this.#finalizerRemovals.get(key) ?? new Set(),
      prevSucceededIndexes: new Set(),
      succeededIndexes: new Set(),
      backoff: this.#backoffs.get(key) ?? { failuresAfterLastSuccess: 0 },
    };
    const indexed = mode === 'Indexed';
    const completions = job.spec?.completions ?? undefined;
    const newSucceeded = this.#newFinished(ctx, ctx.uncountedSucceeded, (p) => p.status?.phase === 'Succeeded');
    const newFailed = this.#newFinished(ctx, ctx.uncountedFailed, (p) => isPodFailed(p, job));
    const policy = job.spec?.podFailurePolicy;
    const countedNewFailed = newFailed.filter((p) => matchPodFailurePolicy(policy, p).counts).length;
    ctx.succeeded = (status.succeeded ?? 0) + newSucceeded.length + ctx.uncountedSucceeded.size;
    ctx.failed = (status.failed ?? 0) + countedNewFailed + ctx.uncountedFailed.size;
    const suspended = job.spec?.suspend === true;
    if (!status.startTime && !suspended) status.startTime = timestamp(now);
    ctx.backoff = nextBackoffRecord(ctx.backoff, newSucceeded, newFailed, now);

    const met = trueCondition(job, 'SuccessCriteriaMet');
    const target = trueCondition(job, 'FailureTarget');
    if (met) ctx.finish = { type: 'Complete', reason: met.reason ?? '', message: met.message ?? '' };
    else if (target) ctx.finish = { type: 'Failed', reason: target.reason ?? '', message: target.message ?? '' };
    else {
      const failJob = policy ? pods.filter((p) => isPodFailed(p, job)).map((p) => matchPodFailurePolicy(policy, p).message).find((m) => m) : undefined;
      const deadline = job.spec?.activeDeadlineSeconds;
      const deadlineAt = deadline !== undefined && status.startTime && !suspended ? Date.parse(status.startTime) + deadline * 1000 : undefined;
      if (failJob) ctx.finish = { type: 'FailureTarget', reason: 'PodFailurePolicy', message: failJob };
      else if (ctx.failed > (job.spec?.backoffLimit ?? 6) || pastBackoffLimitOnFailure(job, pods)) {
        ctx.finish = { type: 'FailureTarget', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' };
      } else if (deadlineAt !== undefined && deadlineAt <= now.getTime()) {
        ctx.finish = { type: 'FailureTarget', reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' };
      } else if (deadlineAt !== undefined) {
        this.#requeueAfter(key, deadlineAt - now.getTime());
      }
    }
    if (indexed && completions !== undefined) {
      ctx.prevSucceededIndexes = parseIndexes(status.completedIndexes, completions);
      ctx.succeededIndexes = new Set(ctx.prevSucceededIndexes);
      for (const pod of pods) {
        const ix = completionIndex(pod);
        if (pod.status?.phase === 'Succeeded' && hasFinalizer(pod) && ix !== undefined && ix < completions) ctx.succeededIndexes.add(ix);
      }
      ctx.succeeded = ctx.succeededIndexes.size;
    }

    let activeCount = active.length;
    let suspendChanged = false;
    if (ctx.finish) {
      // Finishing: stop every running pod, keeping finalizers so they are counted as failed.
      const { deleted, deletedReady } = await this.#deletePods(job, active, false);
      if (deleted !== active.length || !satisfied) ctx.finish = undefined;
      activeCount -= deleted;
      ctx.terminating += deleted;
      ctx.ready -= deletedReady;
    } else {
      let managed = false;
      if (satisfied && !job.metadata?.deletionTimestamp) {
        activeCount = await this.#manageJob(ctx);
        managed = true;
      }
      const complete = completions === undefined ? ctx.succeeded > 0 && activeCount === 0 : ctx.succeeded >= completions && activeCount === 0;
      if (complete) {
        ctx.finish = { type: 'SuccessCriteriaMet', reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods' };
      } else if (managed) {
        if (suspended) {
          if (ensureCondition(job, 'Suspended', 'True', 'JobSuspended', 'Job suspended', now)) {
            suspendChanged = true;
            this.#recorder.event(job, 'Normal', 'Suspended', 'Job suspended');
          }
        } else if (ensureCondition(job, 'Suspended', 'False', 'JobResumed', 'Job resumed', now)) {
          suspendChanged = true;
          this.#recorder.event(job, 'Normal', 'Resumed', 'Job resumed');
          // The deadline counts continuous activity: a resumed Job starts its clock again.
          status.startTime = timestamp(now);
        }
      }
    }
    const needsUpdate =
      suspendChanged ||
      activeCount !== (status.active ?? 0) ||
      ctx.ready !== (status.ready ?? undefined) ||
      ctx.terminating !== (status.terminating ?? undefined) ||
      status.startTime !== cached.status?.startTime;
    status.active = activeCount;
    status.ready = ctx.ready;
    status.terminating = ctx.terminating;
    await this.#trackStatus(ctx, needsUpdate);
  }

  /** Finished pods not yet counted: holding the finalizer, not in `uncounted`, a valid index. */
  #newFinished(ctx: SyncContext, uncounted: Set<string>, filter: (pod: Pod) => boolean): Pod[] {
    const completions = ctx.job.spec?.completions ?? 0;
    const indexed = ctx.job.spec?.completionMode === 'Indexed';
    return ctx.pods.filter((p) => {
      const uid = p.metadata?.uid ?? '';
      if (!hasFinalizer(p) || uncounted.has(uid) || ctx.expectedRemovals.has(uid)) return false;
      if (indexed) {
        const ix = completionIndex(p);
        if (ix === undefined || ix >= completions) return false;
      }
      return filter(p);
    });
  }

  /** Creates or deletes pods toward the wanted number running; returns the active count. */
  async #manageJob(ctx: SyncContext): Promise<number> {
    const { job, key } = ctx;
    const spec = job.spec!;
    let active = ctx.active.length;
    if (spec.suspend) {
      const { deleted, deletedReady } = await this.#deletePods(job, ctx.active, true);
      ctx.terminating += deleted;
      ctx.ready -= deletedReady;
      return active - deleted;
    }
    const parallelism = spec.parallelism ?? 1;
    let want: number;
    if (spec.completions === undefined || spec.completions === null) {
      // A work-queue Job: once one pod succeeded, leave the rest to finish on their own.
      want = ctx.succeeded > 0 ? active : parallelism;
    } else {
      want = Math.max(0, Math.min(spec.completions - ctx.succeeded, parallelism));
    }
    const excess = podsForRemoval(ctx, Math.max(0, active - want)).slice(0, MAX_PODS_PER_SYNC);
    if (excess.length > 0) {
      const { deleted, deletedReady } = await this.#deletePods(job, excess, true);
      ctx.terminating += deleted;
      ctx.ready -= deletedReady;
      return active - deleted;
    }
    // With `podReplacementPolicy: Failed`, a pod still terminating holds its place.
    const holding = onlyReplaceFailedPods(job) ? ctx.terminating : 0;
    let diff = want - holding - active;
    if (diff <= 0) return active;
    const wait = backoffRemaining(ctx.backoff, this.#clock.now(), this.#backoffBase, this.#backoffMax);
    if (wait > 0) {
      this.#requeueAfter(key, wait);
      return active;
    }
    diff = Math.min(diff, MAX_PODS_PER_SYNC);
    let indexes: (number | undefined)[] = Array.from({ length: diff }, () => undefined);
    if (spec.completionMode === 'Indexed') {
      indexes = firstPendingIndexes(ctx, diff, spec.completions ?? 0);
      diff = indexes.length;
    }
    if (diff === 0) return active;
    this.#expectations.expect(key, diff, 0);
    // Slow start, as upstream: batches of 1, 2, 4, … so a failing create costs little.
    let created = 0;
    let failure: unknown;
    for (let batch = 1, next = 0; next < indexes.length && failure === undefined; batch *= 2) {
      const chunk = indexes.slice(next, next + batch);
      next += chunk.length;
      const results = await Promise.allSettled(chunk.map((ix) => this.#createPod(job, ix)));
      for (const r of results) {
        if (r.status === 'fulfilled') created++;
        else {
          failure ??= r.reason;
          this.#expectations.creationObserved(key);
        }
      }
      if (failure !== undefined) for (let skipped = next; skipped < indexes.length; skipped++) this.#expectations.creationObserved(key);
    }
    if (failure !== undefined) throw failure;
    return active + created;
  }

  async #createPod(job: Job, index: number | undefined): Promise<Pod> {
    const template = structuredClone(job.spec!.template);
    const name = job.metadata?.name ?? '';
    const metadata = template.metadata ?? {};
    const spec = template.spec!;
    const pod: Pod = {
      metadata: {
        ...(metadata.labels ? { labels: { ...metadata.labels } } : {}),
        ...(metadata.annotations ? { annotations: { ...metadata.annotations } } : {}),
        generateName: index === undefined ? `${name}-` : `${name}-${index}-`,
        namespace: job.metadata?.namespace ?? '',
        finalizers: [...new Set([...(metadata.finalizers ?? []), TRACKING_FINALIZER])],
        ownerReferences: [controllerRef(job, 'batch/v1', 'Job')],
      },
      spec,
    };
    if (index !== undefined) {
      pod.metadata!.annotations = { ...pod.metadata!.annotations, [COMPLETION_INDEX]: String(index) };
      pod.metadata!.labels = { ...pod.metadata!.labels, [COMPLETION_INDEX]: String(index) };
      spec.hostname = `${name}-${index}`;
      for (const c of [...spec.containers, ...(spec.initContainers ?? [])]) addIndexEnv(c);
    }
    try {
      const created = await this.#podApi.create(pod, { namespace: job.metadata?.namespace });
      this.#recorder.event(job, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata?.name}`);
      return created;
    } catch (error) {
      this.#recorder.event(job, 'Warning', 'FailedCreate', `Error creating: ${(error as Error).message}`);
      throw error;
    }
  }

  /**
   * Deletes pods. `release` (excess or suspended pods) removes the tracking finalizer first, so
   * those pods are not counted as failures; otherwise (the Job is failing) they keep it and are
   * counted once gone.
   */
  async #deletePods(job: Job, pods: Pod[], release: boolean): Promise<{ deleted: number; deletedReady: number }> {
    if (pods.length === 0) return { deleted: 0, deletedReady: 0 };
    const key = objectKey(job);
    if (release) this.#expectations.expect(key, 0, pods.length);
    let deleted = 0;
    let deletedReady = 0;
    let failure: unknown;
    await Promise.all(
      pods.map(async (pod) => {
        try {
          if (release && hasFinalizer(pod)) await this.#removeFinalizer(pod);
          await this.#podApi.delete(pod.metadata?.namespace, pod.metadata?.name ?? '');
          if (release) this.#recorder.event(job, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata?.name}`);
        } catch (error) {
          if (release) this.#expectations.deletionObserved(key);
          if (!isApiError(error) || error.code !== 404) {
            failure ??= error;
            return;
          }
        }
        deleted++;
        if (isPodReady(pod)) deletedReady++;
      }),
    );
    if (failure !== undefined && release) throw failure;
    return { deleted, deletedReady };
  }

  /** Removes the tracking finalizer (a JSON patch that tests it is still where we saw it). */
  async #removeFinalizer(pod: Pod): Promise<void> {
    const finalizers = pod.metadata?.finalizers ?? [];
    const at = finalizers.indexOf(TRACKING_FINALIZER);
    if (at < 0) return;
    try {
      await this.#podApi.patch(
        pod.metadata?.namespace,
        pod.metadata?.name ?? '',
        [
          { op: 'test', path: `/metadata/finalizers/${at}`, value: TRACKING_FINALIZER },
          { op: 'remove', path: `/metadata/finalizers/${at}` },
        ],
        { type: 'json' },
      );
    } catch (error) {
      if (isApiError(error) && error.code === 404) return;
      throw error;
    }
  }

  /**
   * Upstream's `trackJobStatusAndRemoveFinalizers`: records newly finished pods as uncounted,
   * removes their finalizers, moves them to the counters, and sets the final condition once
   * nothing is left uncounted or terminating.
   */
  async #trackStatus(ctx: SyncContext, needsFlushAtStart: boolean): Promise<void> {
    let needsFlush = needsFlushAtStart;
    let job = ctx.job;
    const indexed = job.spec?.completionMode === 'Indexed';
    const completions = job.spec?.completions ?? 0;
    const policy = job.spec?.podFailurePolicy;
    const uncounted = job.status!.uncountedTerminatedPods!;
    uncounted.succeeded = [...(uncounted.succeeded ?? [])];
    uncounted.failed = [...(uncounted.failed ?? [])];
    const withFinalizer = new Set(
      ctx.pods.filter((p) => hasFinalizer(p) && !ctx.expectedRemovals.has(p.metadata?.uid ?? '')).map((p) => p.metadata?.uid ?? ''),
    );
    if (countUncountedWithoutFinalizer(job, withFinalizer)) needsFlush = true;
    const toRelease: Pod[] = [];
    const newSucceededIndexes: number[] = [];
    const failing = ctx.finish !== undefined && (ctx.finish.type === 'FailureTarget' || ctx.finish.type === 'Failed');
    let capped = false;
    const pods = indexed ? [...ctx.pods].sort((a, b) => (completionIndex(a) ?? Infinity) - (completionIndex(b) ?? Infinity)) : ctx.pods;
    for (const pod of pods) {
      const uid = pod.metadata?.uid ?? '';
      if (!hasFinalizer(pod) || ctx.expectedRemovals.has(uid)) continue;
      const failed = isPodFailed(pod, job);
      const releasable = job.metadata?.deletionTimestamp !== undefined || ctx.finish !== undefined || pod.status?.phase === 'Succeeded' || failed;
      if (!releasable) continue;
      toRelease.push(pod);
      if (pod.status?.phase === 'Succeeded' && !ctx.uncountedFailed.has(uid)) {
        if (indexed) {
          const ix = completionIndex(pod);
          if (ix !== undefined && ix < completions && !ctx.prevSucceededIndexes.has(ix)) {
            newSucceededIndexes.push(ix);
            needsFlush = true;
          }
        } else if (!ctx.uncountedSucceeded.has(uid)) {
          uncounted.succeeded.push(uid);
          needsFlush = true;
        }
      } else if (failed || failing) {
        // When the Job is failing, every pod not yet finished counts as failed.
        const ix = completionIndex(pod);
        if (!ctx.uncountedFailed.has(uid) && (!indexed || (ix !== undefined && ix < completions))) {
          if (matchPodFailurePolicy(policy, pod).counts) {
            uncounted.failed.push(uid);
            needsFlush = true;
          }
        }
      }
      if (newSucceededIndexes.length + uncounted.succeeded.length + uncounted.failed.length >= MAX_PODS_PER_SYNC) {
        capped = true;
        break;
      }
    }
    if (indexed) {
      for (const ix of newSucceededIndexes) ctx.succeededIndexes.add(ix);
      const text = formatIndexes(ctx.succeededIndexes);
      if (text !== (job.status!.completedIndexes ?? '')) needsFlush = true;
      job.status!.succeeded = ctx.succeededIndexes.size;
      job.status!.completedIndexes = text;
    }
    const now = this.#clock.now();
    let finish = ctx.finish;
    if (finish?.type === 'FailureTarget') {
      // The interim condition is written before any finalizer goes, so the reason survives.
      ensureCondition(job, 'FailureTarget', 'True', finish.reason, finish.message, now);
      needsFlush = true;
      finish = { ...finish, type: 'Failed' };
    } else if (finish?.type === 'SuccessCriteriaMet') {
      if (ensureCondition(job, 'SuccessCriteriaMet', 'True', finish.reason, finish.message, now)) needsFlush = true;
      finish = { ...finish, type: 'Complete' };
    }

    // 1. Write the uncounted uids (and interim conditions) before any finalizer goes.
    if (needsFlush) {
      job = await this.#jobApi.updateStatus(tidy(job));
      ((job.status ??= {}).uncountedTerminatedPods ??= {});
      this.#backoffs.set(ctx.key, ctx.backoff);
      needsFlush = false;
    }
    // 2. Release the pods; 3. count those released.
    let removalError: unknown;
    if (toRelease.length > 0) {
      let expected = this.#finalizerRemovals.get(ctx.key);
      if (!expected) this.#finalizerRemovals.set(ctx.key, (expected = new Set()));
      const results = await Promise.allSettled(toRelease.map((pod) => this.#removeFinalizer(pod)));
      results.forEach((r, i) => {
        const uid = toRelease[i]!.metadata?.uid ?? '';
        if (r.status === 'fulfilled') {
          expected.add(uid);
          withFinalizer.delete(uid);
        } else removalError ??= r.reason;
      });
    }
    if (countUncountedWithoutFinalizer(job, withFinalizer)) needsFlush = true;
    if (removalError !== undefined) {
      if (needsFlush) await this.#jobApi.updateStatus(tidy(job));
      throw removalError;
    }
    const finished = !capped && finish !== undefined && this.#enactFinished(job, finish, now);
    if (finished) needsFlush = true;
    if (needsFlush) {
      await this.#jobApi.updateStatus(tidy(job));
      if (finished && finish) {
        if (finish.type === 'Complete') this.#recorder.event(job, 'Normal', 'Completed', 'Job completed');
        else this.#recorder.event(job, 'Warning', finish.reason, finish.message);
      }
    }
  }

  /** Sets the final condition if nothing is left uncounted or terminating. */
  #enactFinished(job: Job, finish: Finish, now: Date): boolean {
    const status = job.status!;
    const uncounted = status.uncountedTerminatedPods;
    if ((uncounted?.succeeded?.length ?? 0) + (uncounted?.failed?.length ?? 0) > 0) return false;
    if ((status.terminating ?? 0) > 0) return false;
    ensureCondition(job, finish.type, 'True', finish.reason, finish.message, now);
    if (finish.type === 'Complete') status.completionTime = timestamp(now);
    return true;
  }
}

/** Leaves out zero counters and empty lists, as the API's Go types do (`omitempty`). */
function tidy(job: Job): Job {
  const status = job.status!;
  for (const field of ['active', 'succeeded', 'failed'] as const) if (status[field] === 0) delete status[field];
  const uncounted = status.uncountedTerminatedPods;
  if (uncounted) {
    if (uncounted.succeeded?.length === 0) delete uncounted.succeeded;
    if (uncounted.failed?.length === 0) delete uncounted.failed;
  }
  return job;
}

function hasFinalizer(pod: Pod): boolean {
  return pod.metadata?.finalizers?.includes(TRACKING_FINALIZER) ?? false;
}

function isTerminating(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return pod.metadata?.deletionTimestamp !== undefined && phase !== 'Succeeded' && phase !== 'Failed';
}

/** A pod failure policy or `podReplacementPolicy: Failed`: replace only pods that reached Failed. */
function onlyReplaceFailedPods(job: Job): boolean {
  return job.spec?.podReplacementPolicy === 'Failed' || job.spec?.podFailurePolicy !== undefined;
}

/** Failed, or (unless only failed pods are replaced) deleted before it succeeded. */
function isPodFailed(pod: Pod, job: Job): boolean {
  if (pod.status?.phase === 'Failed') return true;
  if (onlyReplaceFailedPods(job)) return false;
  return pod.metadata?.deletionTimestamp !== undefined && pod.status?.phase !== 'Succeeded';
}

/** Moves uids whose pods no longer hold the finalizer from the uncounted lists to the counters. */
function countUncountedWithoutFinalizer(job: Job, withFinalizer: Set<string>): boolean {
  const status = job.status!;
  const uncounted = status.uncountedTerminatedPods!;
  const keepSucceeded = (uncounted.succeeded ?? []).filter((uid) => withFinalizer.has(uid));
  const keepFailed = (uncounted.failed ?? []).filter((uid) => withFinalizer.has(uid));
  const succeeded = (uncounted.succeeded ?? []).length - keepSucceeded.length;
  const failed = (uncounted.failed ?? []).length - keepFailed.length;
  if (succeeded === 0 && failed === 0) return false;
  status.succeeded = (status.succeeded ?? 0) + succeeded;
  status.failed = (status.failed ?? 0) + failed;
  uncounted.succeeded = keepSucceeded;
  uncounted.failed = keepFailed;
  return true;
}

/**
 * Sets a condition (upstream's `ensureJobConditionStatus`): changed when the status, reason
 * or message differ; a False condition that does not exist is not added.
 */
function ensureCondition(job: Job, type: string, status: 'True' | 'False', reason: string, message: string, now: Date): boolean {
  const conditions = (job.status!.conditions ??= []);
  const fresh: JobCondition = { type, status, reason, message, lastProbeTime: timestamp(now), lastTransitionTime: timestamp(now) };
  const at = conditions.findIndex((c) => c.type === type);
  if (at >= 0) {
    const old = conditions[at]!;
    if (old.status === status && old.reason === reason && old.message === message) return false;
    conditions[at] = fresh;
    return true;
  }
  if (status === 'False') return false;
  conditions.push(fresh);
  return true;
}

/** `n` active pods to delete: duplicates and out-of-range indexes first, then the least advanced. */
function podsForRemoval(ctx: SyncContext, n: number): Pod[] {
  if (n <= 0) return [];
  const completions = ctx.job.spec?.completions ?? 0;
  const indexed = ctx.job.spec?.completionMode === 'Indexed';
  const seen = new Set<number>();
  const rank = (pod: Pod): number => {
    if (indexed) {
      const ix = completionIndex(pod);
      if (ix === undefined || ix >= completions || ctx.succeededIndexes.has(ix)) return 0;
      if (seen.has(ix)) return 0;
      seen.add(ix);
    }
    if (!pod.spec?.nodeName) return 1;
    if (pod.status?.phase === 'Pending') return 2;
    if (!isPodReady(pod)) return 3;
    return 4;
  };
  const ranked = ctx.active.map((pod) => ({ pod, rank: rank(pod), created: Date.parse(pod.metadata?.creationTimestamp ?? '') || 0 }));
  ranked.sort((a, b) => a.rank - b.rank || b.created - a.created);
  return ranked.slice(0, n).map((r) => r.pod);
}

/** The lowest indexes that have neither succeeded nor an active pod. */
function firstPendingIndexes(ctx: SyncContext, count: number, completions: number): number[] {
  const busy = new Set(ctx.active.map(completionIndex).filter((ix) => ix !== undefined));
  const out: number[] = [];
  for (let ix = 0; ix < completions && out.length < count; ix++) {
    if (!ctx.succeededIndexes.has(ix) && !busy.has(ix)) out.push(ix);
  }
  return out;
}

/** Gives a container `JOB_COMPLETION_INDEX` from the pod's annotation, unless it sets it itself. */
function addIndexEnv(container: Container): void {
  const env = (container.env ??= []);
  if (env.some((e) => e.name === 'JOB_COMPLETION_INDEX')) return;
  env.push({ name: 'JOB_COMPLETION_INDEX', valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${COMPLETION_INDEX}']` } } });
}
