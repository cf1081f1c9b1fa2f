/**
 * The node's pressure conditions from eviction signals and hard eviction thresholds, as
 * upstream's eviction manager computes them:
 *
 * - signals: `memory.available` (capacity − root cgroup working set), `nodefs.available`,
 *   `nodefs.inodesFree` (the kubelet's root dir), `imagefs.available`, `imagefs.inodesFree` (the
 *   image store), `pid.available` (pid_max − tasks in use);
 * - thresholds in upstream's `evictionHard` syntax: `memory.available<100Mi,nodefs.available<10%`,
 *   a quantity or a percentage of the signal's capacity; the defaults are upstream's on Linux
 *   (memory.available<100Mi, nodefs.available<10%, nodefs.inodesFree<5%, imagefs.available<15%,
 *   imagefs.inodesFree<5%) plus `pid.available<10%` — upstream sets no PID threshold by default,
 *   so its PIDPressure never turns True unless configured; Skiff guards the PID space anyway;
 * - MemoryPressure ← memory.available; DiskPressure ← nodefs.* and imagefs.*; PIDPressure ←
 *   pid.available;
 * - a condition turns True as soon as one of its thresholds is met and goes back to False only
 *   after none was met for the transition period (`evictionPressureTransitionPeriod`, 5 min),
 *   so it does not flap around a threshold.
 */
import { KubeletError } from './errors.ts';
import { parseQuantity } from './resources.ts';

/** The eviction signals this agent observes. */
export type EvictionSignal = 'memory.available' | 'nodefs.available' | 'nodefs.inodesFree' | 'imagefs.available' | 'imagefs.inodesFree' | 'pid.available';

/** One hard threshold: the signal below a quantity, or below a fraction of its capacity. */
export interface EvictionThreshold {
  signal: EvictionSignal;
  /** Absolute value (bytes, inodes, PIDs), or… */
  quantity?: number;
  /** …a fraction of the capacity (0.1 for `10%`). */
  fraction?: number;
}

/** Observed figures: available amount and capacity per signal (a missing signal is not judged). */
export type Observations = Partial<Record<EvictionSignal, { available: number; capacity: number }>>;

/** The node pressure conditions. */
export type PressureCondition = 'MemoryPressure' | 'DiskPressure' | 'PIDPressure';

const SIGNALS: EvictionSignal[] = ['memory.available', 'nodefs.available', 'nodefs.inodesFree', 'imagefs.available', 'imagefs.inodesFree', 'pid.available'];

const CONDITION: Record<EvictionSignal, PressureCondition> = {
  'memory.available': 'MemoryPressure',
  'nodefs.available': 'DiskPressure',
  'nodefs.inodesFree': 'DiskPressure',
  'imagefs.available': 'DiskPressure',
  'imagefs.inodesFree': 'DiskPressure',
  'pid.available': 'PIDPressure',
};

/** Upstream's `evictionHard` defaults on Linux, plus Skiff's PID guard (see the file header). */
export const DEFAULT_EVICTION_HARD = 'memory.available<100Mi,nodefs.available<10%,nodefs.inodesFree<5%,imagefs.available<15%,imagefs.inodesFree<5%,pid.available<10%';

/** Upstream's `evictionPressureTransitionPeriod` default. */
export const DEFAULT_PRESSURE_TRANSITION_PERIOD_MS = 5 * 60_000;

/** Parses `signal<value,…` (only `<` is an eviction operator upstream). */
export function parseEvictionHard(text: string): EvictionThreshold[] {
  const out: EvictionThreshold[] = [];
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^([a-zA-Z.]+)<(.+)$/.exec(part);
    const signal = m?.[1] as EvictionSignal | undefined;
    if (!m || !signal || !SIGNALS.includes(signal)) throw new KubeletError('ERR_EVICTION_THRESHOLD', `invalid eviction threshold "${part}"`);
    const value = m[2]!.trim();
    if (value.endsWith('%')) {
      const pct = Number(value.slice(0, -1));
      if (!Number.isFinite(pct) || pct < 0 || pct > 100) throw new KubeletError('ERR_EVICTION_THRESHOLD', `invalid percentage in "${part}"`);
      out.push({ signal, fraction: pct / 100 });
    } else {
      const quantity = parseQuantity(value);
      if (quantity === undefined || quantity < 0) throw new KubeletError('ERR_EVICTION_THRESHOLD', `invalid quantity in "${part}"`);
      out.push({ signal, quantity });
    }
  }
  return out;
}

/** The thresholds met by the observations. */
export function thresholdsMet(thresholds: EvictionThreshold[], observed: Observations): EvictionThreshold[] {
  return thresholds.filter((t) => {
    const o = observed[t.signal];
    if (!o) return false;
    const limit = t.quantity ?? (t.fraction ?? 0) * o.capacity;
    return o.available < limit;
  });
}

/** Options of {@link PressureTracker}. */
export interface PressureTrackerOptions {
  thresholds?: EvictionThreshold[];
  transitionPeriodMs?: number;
  /** ms since the epoch; default `Date.now`. */
  now?: () => number;
}

/** Turns observations into the pressure conditions, with the transition period (see the file header). */
export class PressureTracker {
  readonly #thresholds: EvictionThreshold[];
  readonly #periodMs: number;
  readonly #now: () => number;
  /** When each condition's thresholds were last met. */
  readonly #lastMet = new Map<PressureCondition, number>();

  constructor(options: PressureTrackerOptions = {}) {
    this.#thresholds = options.thresholds ?? parseEvictionHard(DEFAULT_EVICTION_HARD);
    this.#periodMs = options.transitionPeriodMs ?? DEFAULT_PRESSURE_TRANSITION_PERIOD_MS;
    this.#now = options.now ?? Date.now;
  }

  /** Records the observations and returns each condition's status (true = under pressure). */
  observe(observed: Observations): Record<PressureCondition, boolean> {
    const now = this.#now();
    for (const t of thresholdsMet(this.#thresholds, observed)) this.#lastMet.set(CONDITION[t.signal], now);
    const status = (c: PressureCondition) => {
      const at = this.#lastMet.get(c);
      return at !== undefined && (at === now || now - at < this.#periodMs);
    };
    return { MemoryPressure: status('MemoryPressure'), DiskPressure: status('DiskPressure'), PIDPressure: status('PIDPressure') };
  }
}
