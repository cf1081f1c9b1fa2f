/**
 * Leader election through a `coordination.k8s.io` Lease, as client-go's `leaderelection`: of all
 * candidates running with the same lease, one leads at a time.
 *
 * Contract:
 * - A candidate takes the lease when it is free, released, or not renewed for
 *   `leaseDurationMs` as observed on the candidate's own clock (the lease's timestamps are
 *   never compared with local time, so clock skew between machines does not matter).
 * - Every write is a compare-and-swap on the lease's resourceVersion: two candidates cannot
 *   both take it.
 * - The leader renews every `retryPeriodMs`. If it has not renewed for `renewDeadlineMs` it
 *   stops leading (`onStoppedLeading`) before anyone else may take over (renewDeadline <
 *   leaseDuration), so two leaders never act at once.
 * - `stop()` releases a held lease (holder cleared, duration 1 s), so a restart or another
 *   candidate takes over at once rather than after the lease duration.
 */
import type { Client } from './client.ts';
import { isApiError } from './errors.ts';
import { leases } from './kinds.ts';

/** Options of {@link LeaderElector}. */
export interface LeaderElectorOptions {
  /** Where the lease lives. Default `kube-system`. */
  namespace?: string;
  /** The lease's name: `kube-controller-manager`, `kube-scheduler`. */
  name: string;
  /** This candidate's identity: unique per process (host name plus a random suffix). */
  identity: string;
  /** Default 15 s. */
  leaseDurationMs?: number;
  /** Default 10 s. */
  renewDeadlineMs?: number;
  /** Default 2 s. */
  retryPeriodMs?: number;
  /** Called when this candidate becomes the leader. */
  onStartedLeading: () => void | Promise<void>;
  /** Called when it stops leading (lost the lease, or `stop()`); awaited before candidacy resumes. */
  onStoppedLeading: () => void | Promise<void>;
  /** Told of a new leader's identity (including this one). */
  onNewLeader?: (identity: string) => void;
  /** The clock, in ms. Default `Date.now`. */
  now?: () => number;
}

/** See the file header. */
export class LeaderElector {
  readonly #client: Client;
  readonly #options: Required<Omit<LeaderElectorOptions, 'onNewLeader'>> & Pick<LeaderElectorOptions, 'onNewLeader'>;
  /** The last lease seen, and when (local clock) its record last changed. */
  #observed: { record: string; at: number } | undefined;
  #leading = false;
  #lastRenew = 0;
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;
  #wake: (() => void) | undefined;
  #loop: Promise<void> | undefined;
  #leader = '';

  constructor(client: Client, options: LeaderElectorOptions) {
    this.#client = client;
    this.#options = {
      namespace: 'kube-system',
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      now: Date.now,
      ...options,
    };
    if (this.#options.renewDeadlineMs >= this.#options.leaseDurationMs) {
      throw new RangeError(`leader election: renewDeadline (${this.#options.renewDeadlineMs} ms) must be shorter than leaseDuration (${this.#options.leaseDurationMs} ms)`);
    }
  }

  /** Whether this candidate leads now. */
  get leading(): boolean {
    return this.#leading;
  }

  /** The identity of the last leader seen. */
  get leader(): string {
    return this.#leader;
  }

  /** Starts campaigning; returns at once. */
  start(): void {
    this.#loop ??= this.#run();
  }

  /** Stops campaigning; a held lease is released and `onStoppedLeading` awaited. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#wake?.();
    await this.#loop;
    if (this.#leading) {
      this.#leading = false;
      await this.#release().catch(() => undefined);
      await this.#options.onStoppedLeading();
    }
  }

  async #run(): Promise<void> {
    const { retryPeriodMs, renewDeadlineMs, now } = this.#options;
    while (!this.#stopped) {
      let ok = false;
      try {
        ok = await this.#tryAcquireOrRenew();
      } catch {
        ok = false;
      }
      if (this.#stopped) break;
      if (ok) {
        this.#lastRenew = now();
        if (!this.#leading) {
          this.#leading = true;
          await this.#options.onStartedLeading();
        }
      } else if (this.#leading && now() - this.#lastRenew >= renewDeadlineMs) {
        // Could not renew in time: step down before the lease can pass to someone else.
        this.#leading = false;
        await this.#options.onStoppedLeading();
      }
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        this.#timer = setTimeout(resolve, retryPeriodMs);
      });
    }
  }

  /** One attempt: true when this candidate holds the lease afterwards. */
  async #tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity, leaseDurationMs, now } = this.#options;
    const api = this.#client.resource(leases);
    const stamp = microTime(new Date());
    const lease = await api.find(namespace, name);
    if (!lease) {
      try {
        await api.create({
          metadata: { name, namespace },
          spec: { holderIdentity: identity, leaseDurationSeconds: Math.ceil(leaseDurationMs / 1000), acquireTime: stamp, renewTime: stamp, leaseTransitions: 0 },
        });
      } catch (error) {
        if (isApiError(error, 409)) return false;
        throw error;
      }
      this.#observe(identity);
      return true;
    }
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const record = `${holder}|${spec.renewTime ?? ''}|${spec.leaseTransitions ?? 0}`;
    if (!this.#observed || this.#observed.record !== record) this.#observed = { record, at: now() };
    const duration = (spec.leaseDurationSeconds ?? 0) * 1000;
    const held = holder !== '' && holder !== identity && now() < this.#observed.at + duration;
    if (held) {
      this.#observe(holder);
      return false;
    }
    const transitions = (spec.leaseTransitions ?? 0) + (holder === identity ? 0 : 1);
    try {
      await api.update({
        ...lease,
        spec: {
          holderIdentity: identity,
          leaseDurationSeconds: Math.ceil(leaseDurationMs / 1000),
          acquireTime: holder === identity ? (spec.acquireTime ?? stamp) : stamp,
          renewTime: stamp,
          leaseTransitions: transitions,
        },
      });
    } catch (error) {
      if (isApiError(error, 409)) return false;
      throw error;
    }
    this.#observe(identity);
    return true;
  }

  #observe(holder: string): void {
    if (holder !== this.#leader) {
      this.#leader = holder;
      this.#options.onNewLeader?.(holder);
    }
  }

  async #release(): Promise<void> {
    const { namespace, name, identity } = this.#options;
    const api = this.#client.resource(leases);
    const lease = await api.find(namespace, name);
    if (!lease || lease.spec?.holderIdentity !== identity) return;
    const stamp = microTime(new Date());
    await api.update({ ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: stamp } });
  }
}

/** MicroTime as the API writes it: RFC 3339 with microseconds. */
function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

