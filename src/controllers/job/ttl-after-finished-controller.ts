/**
 * The TTL-after-finished controller, as upstream's `ttlafterfinished` controller: a Job with
 * `ttlSecondsAfterFinished` is deleted (Foreground, so its pods go first) that many seconds
 * after it finished — measured from its Complete or Failed condition's transition time. It
 * waits with a timer per Job, and reads the Job fresh from the API before deleting, so a TTL
 * changed meanwhile is honoured; the delete carries the resourceVersion it checked.
 */
import type { Job } from 'kubernetes-types/batch/v1.js';
import { isApiError, kinds, objectKey, processQueue, splitKey, WorkQueue, type Informer, type ResourceClient } from '../../client/index.ts';
import type { Controller, ControllerContext } from '../manager.ts';
import { systemClock, type Clock } from './clock.ts';
import { finishedCondition } from './job-util.ts';

/** Options of {@link TtlAfterFinishedController}. */
export interface TtlAfterFinishedControllerOptions {
  clock?: Clock;
  /** Concurrent syncs. Default: the context's `workers`. */
  workers?: number;
}

/** See the file header. */
export class TtlAfterFinishedController implements Controller {
  readonly #queue = new WorkQueue();
  readonly #jobs: Informer<Job>;
  readonly #api: ResourceClient<Job>;
  readonly #clock: Clock;
  readonly #workers: number;
  readonly #timers = new Map<string, () => void>();

  constructor(context: ControllerContext, options: TtlAfterFinishedControllerOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#workers = options.workers ?? context.settings.workers;
    this.#api = context.client.resource(kinds.jobs);
    this.#jobs = context.informers.informer(kinds.jobs);
    const changed = (job: Job) => {
      if (job.spec?.ttlSecondsAfterFinished !== undefined && !job.metadata?.deletionTimestamp && finishedCondition(job)) this.#queue.add(objectKey(job));
    };
    this.#jobs.addHandler({ add: changed, update: (_, job) => changed(job), delete: (job) => this.#cancel(objectKey(job)) });
  }

  /** Starts the workers. */
  start(): void {
    for (let i = 0; i < this.#workers; i++) {
      void processQueue(this.#queue, (key) => this.#sync(key), {
        onError: (key, error) => console.error(`skiff: ttl-after-finished-controller: job "${key}":`, error),
      });
    }
  }

  /** Stops the workers and timers. */
  stop(): void {
    this.#queue.shutDown();
    for (const cancel of this.#timers.values()) cancel();
    this.#timers.clear();
  }

  #cancel(key: string): void {
    this.#timers.get(key)?.();
    this.#timers.delete(key);
  }

  /** Milliseconds until the Job expires (≤ 0: now), or undefined if it never does. */
  #remaining(job: Job): number | undefined {
    const ttl = job.spec?.ttlSecondsAfterFinished;
    const finished = finishedCondition(job);
    if (ttl === undefined || ttl === null || !finished || job.metadata?.deletionTimestamp) return undefined;
    const at = Date.parse(finished.lastTransitionTime ?? job.status?.completionTime ?? '');
    if (!Number.isFinite(at)) return undefined;
    return at + ttl * 1000 - this.#clock.now().getTime();
  }

  async #sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const cached = this.#jobs.get(namespace, name);
    if (!cached || this.#remaining(cached) === undefined) return;
    if (this.#remaining(cached)! > 0) return this.#wake(key, this.#remaining(cached)!);
    // The cache may be old: check the TTL on the latest Job before deleting it.
    const fresh = await this.#api.find(namespace, name);
    if (!fresh) return;
    const left = this.#remaining(fresh);
    if (left === undefined) return;
    if (left > 0) return this.#wake(key, left);
    try {
      await this.#api.delete(namespace, name, {
        propagationPolicy: 'Foreground',
        preconditions: { uid: fresh.metadata?.uid ?? '', resourceVersion: fresh.metadata?.resourceVersion ?? '' },
      });
    } catch (error) {
      if (isApiError(error) && error.code === 404) return;
      throw error;
    }
  }

  #wake(key: string, ms: number): void {
    this.#cancel(key);
    this.#timers.set(
      key,
      this.#clock.after(ms, () => {
        this.#timers.delete(key);
        this.#queue.add(key);
      }),
    );
  }
}
