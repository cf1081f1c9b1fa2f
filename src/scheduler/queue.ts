/**
 * The scheduling queue, as upstream's PriorityQueue: an active queue ordered by priority (then
 * by when the pod was queued), a back-off queue for pods that failed recently (1 s doubling to
 * 10 s by default), and a pool of unschedulable pods that wait for a cluster event one of the
 * plugins that rejected them cares about (or, at the latest, `maxUnschedulableMs`).
 *
 * Contract: a pod is in at most one of the three places, or "in flight" between `pop` and the
 * scheduler's verdict (`done`, `addUnschedulable` or `requeueWithBackoff`). Updates to a pod in
 * flight are kept and applied when it comes back. Durations come from options and time from an
 * injected clock, so tests need no sleeps.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { ClusterEvent } from './framework.ts';

/** A pod waiting to be scheduled. */
export interface QueuedPod {
  pod: Pod;
  key: string;
  /** When it entered the active queue last (ordering among equal priorities). */
  timestamp: number;
  /** Scheduling attempts so far. */
  attempts: number;
  /** Plugins that rejected it in its last attempt. */
  rejectors: Set<string>;
  priority: number;
  backoffUntil: number;
  where: 'active' | 'backoff' | 'unschedulable' | 'inflight';
  /** Arrival order, breaking ties between equal timestamps. */
  seq: number;
  /** The latest version seen while in flight. */
  updated?: Pod | undefined;
  /** Deleted while in flight. */
  gone?: boolean;
}

/** Options of {@link SchedulingQueue}. */
export interface SchedulingQueueOptions {
  /** upstream's `podInitialBackoffSeconds` (1 s). */
  initialBackoffMs?: number;
  /** upstream's `podMaxBackoffSeconds` (10 s). */
  maxBackoffMs?: number;
  /** upstream's `podMaxInUnschedulablePodsDuration` (5 min). */
  maxUnschedulableMs?: number;
  /** Which plugins care about which events. */
  pluginEvents?: Map<string, ReadonlySet<ClusterEvent>>;
  /** Priority of a pod. */
  priorityOf?: (pod: Pod) => number;
  now?: () => number;
}

/** See the file header. */
export class SchedulingQueue {
  readonly #pods = new Map<string, QueuedPod>();
  readonly #active: QueuedPod[] = [];
  readonly #backoff = new Set<QueuedPod>();
  readonly #unschedulable = new Set<QueuedPod>();
  readonly #options: Required<Omit<SchedulingQueueOptions, 'pluginEvents'>> & { pluginEvents: Map<string, ReadonlySet<ClusterEvent>> };
  #waiters: (() => void)[] = [];
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Infinity;
  #closed = false;
  #seq = 0;

  constructor(options: SchedulingQueueOptions = {}) {
    this.#options = {
      initialBackoffMs: options.initialBackoffMs ?? 1000,
      maxBackoffMs: options.maxBackoffMs ?? 10_000,
      maxUnschedulableMs: options.maxUnschedulableMs ?? 300_000,
      pluginEvents: options.pluginEvents ?? new Map(),
      priorityOf: options.priorityOf ?? ((pod) => pod.spec?.priority ?? 0),
      now: options.now ?? Date.now,
    };
  }

  /** Pods in the active queue. */
  get activeCount(): number {
    return this.#active.length;
  }

  /** Pods anywhere in the queue (not in flight). */
  get pendingCount(): number {
    return this.#active.length + this.#backoff.size + this.#unschedulable.size;
  }

  /** A new pod to schedule. */
  add(pod: Pod, key: string): void {
    const existing = this.#pods.get(key);
    if (existing) return this.update(pod, key);
    const q: QueuedPod = { pod, key, timestamp: this.#options.now(), attempts: 0, rejectors: new Set(), priority: this.#options.priorityOf(pod), backoffUntil: 0, where: 'active', seq: 0 };
    this.#pods.set(key, q);
    this.#push(q);
  }

  /** A queued pod changed (spec, labels): it is tried again, after its back-off. */
  update(pod: Pod, key: string): void {
    const q = this.#pods.get(key);
    if (!q) return this.add(pod, key);
    if (q.where === 'inflight') {
      q.updated = pod;
      return;
    }
    q.pod = pod;
    const priority = this.#options.priorityOf(pod);
    const moved = priority !== q.priority;
    q.priority = priority;
    if (q.where === 'unschedulable') {
      this.#unschedulable.delete(q);
      this.#toActiveOrBackoff(q);
    } else if (q.where === 'active' && moved) {
      // Only a changed priority moves a pod in the heap; re-sorting on every update would cost
      // O(n) per event with many pods pending.
      heapify(this.#active);
    }
  }

  /** The pod was deleted or scheduled elsewhere. */
  delete(key: string): void {
    const q = this.#pods.get(key);
    if (!q) return;
    if (q.where === 'inflight') {
      q.gone = true;
      return;
    }
    this.#pods.delete(key);
    // An active pod stays in the heap, marked gone, and is dropped when it reaches the top:
    // removing it from the middle would cost O(n) per deletion.
    if (q.where === 'active') q.gone = true;
    else if (q.where === 'backoff') this.#backoff.delete(q);
    else this.#unschedulable.delete(q);
  }

  /** Takes the most important active pod, if any (it is then in flight). */
  tryPop(): QueuedPod | undefined {
    let q = heapPop(this.#active);
    while (q?.gone) q = heapPop(this.#active);
    if (!q) return undefined;
    q.where = 'inflight';
    q.attempts++;
    return q;
  }

  /** Resolves when the active queue may have a pod (or the queue closed). */
  wait(): Promise<void> {
    if (this.#active.length > 0 || this.#closed) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** The in-flight pod was scheduled (or dropped): forget it. */
  done(q: QueuedPod): void {
    if (this.#pods.get(q.key) === q) this.#pods.delete(q.key);
  }

  /** The in-flight pod fits nowhere: wait for an event one of its rejectors cares about. */
  addUnschedulable(q: QueuedPod, rejectors: Set<string>): void {
    if (this.#settleInflight(q)) return;
    q.rejectors = rejectors;
    q.backoffUntil = this.#options.now() + this.#backoffMs(q);
    q.where = 'unschedulable';
    this.#unschedulable.add(q);
    this.#arm(q.timestamp + this.#options.maxUnschedulableMs);
  }

  /** The in-flight pod failed for another reason (an error): retry after back-off. */
  requeueWithBackoff(q: QueuedPod): void {
    if (this.#settleInflight(q)) return;
    q.backoffUntil = this.#options.now() + this.#backoffMs(q);
    this.#toActiveOrBackoff(q);
  }

  /**
   * A cluster event: unschedulable pods rejected by a plugin that registered for it move to the
   * active queue (or back-off, if theirs has not run out), as upstream's
   * `MoveAllToActiveOrBackoffQueue`. `filter` narrows the pods further (queueing hints).
   */
  onEvent(event: ClusterEvent, filter?: (pod: Pod) => boolean): void {
    for (const q of this.#unschedulable) {
      if (!this.#interested(q, event)) continue;
      if (filter && !filter(q.pod)) continue;
      this.#unschedulable.delete(q);
      this.#toActiveOrBackoff(q);
    }
  }

  /** Wakes waiters for good; timers stop. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    for (const w of this.#waiters.splice(0)) w();
  }

  #interested(q: QueuedPod, event: ClusterEvent): boolean {
    if (q.rejectors.size === 0) return true;
    for (const plugin of q.rejectors) {
      const events = this.#options.pluginEvents.get(plugin);
      if (!events || events.has(event)) return true;
    }
    return false;
  }

  /** Applies what happened to a pod while it was in flight; true when it left the queue. */
  #settleInflight(q: QueuedPod): boolean {
    if (q.gone || this.#pods.get(q.key) !== q) {
      this.#pods.delete(q.key);
      return true;
    }
    if (q.updated) {
      q.pod = q.updated;
      q.priority = this.#options.priorityOf(q.pod);
      q.updated = undefined;
    }
    return false;
  }

  #backoffMs(q: QueuedPod): number {
    const { initialBackoffMs, maxBackoffMs } = this.#options;
    return Math.min(initialBackoffMs * 2 ** Math.max(0, q.attempts - 1), maxBackoffMs);
  }

  #toActiveOrBackoff(q: QueuedPod): void {
    if (q.backoffUntil > this.#options.now()) {
      q.where = 'backoff';
      this.#backoff.add(q);
      this.#arm(q.backoffUntil);
    } else {
      q.timestamp = this.#options.now();
      this.#push(q);
    }
  }

  #push(q: QueuedPod): void {
    q.where = 'active';
    q.seq = this.#seq++;
    heapPush(this.#active, q);
    for (const w of this.#waiters.splice(0)) w();
  }

  /** Runs the flush at `at` (or earlier if one is already due sooner). */
  #arm(at: number): void {
    if (this.#closed || at >= this.#timerAt) return;
    clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(() => this.#flush(), Math.max(0, at - this.#options.now()));
    this.#timer.unref();
  }

  /** Moves pods whose back-off ended, and pods unschedulable for too long, to the active queue. */
  #flush(): void {
    this.#timerAt = Infinity;
    const now = this.#options.now();
    let next = Infinity;
    for (const q of this.#backoff) {
      if (q.backoffUntil <= now) {
        this.#backoff.delete(q);
        q.timestamp = now;
        this.#push(q);
      } else next = Math.min(next, q.backoffUntil);
    }
    for (const q of this.#unschedulable) {
      const deadline = q.timestamp + this.#options.maxUnschedulableMs;
      if (deadline <= now) {
        this.#unschedulable.delete(q);
        this.#toActiveOrBackoff(q);
      } else next = Math.min(next, deadline);
    }
    if (next < Infinity) this.#arm(next);
  }
}

// A binary heap on priority (higher first), then timestamp (older first).
function less(a: QueuedPod, b: QueuedPod): boolean {
  if (a.priority !== b.priority) return a.priority > b.priority;
  return a.timestamp !== b.timestamp ? a.timestamp < b.timestamp : a.seq < b.seq;
}

function heapPush(heap: QueuedPod[], q: QueuedPod): void {
  heap.push(q);
  let i = heap.length - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (!less(heap[i]!, heap[parent]!)) break;
    [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
    i = parent;
  }
}

function heapPop(heap: QueuedPod[]): QueuedPod | undefined {
  if (heap.length === 0) return undefined;
  const top = heap[0]!;
  const last = heap.pop()!;
  if (heap.length > 0) {
    heap[0] = last;
    siftDown(heap, 0);
  }
  return top;
}

function siftDown(heap: QueuedPod[], start: number): void {
  let i = start;
  for (;;) {
    const l = 2 * i + 1;
    const r = l + 1;
    let m = i;
    if (l < heap.length && less(heap[l]!, heap[m]!)) m = l;
    if (r < heap.length && less(heap[r]!, heap[m]!)) m = r;
    if (m === i) return;
    [heap[i], heap[m]] = [heap[m]!, heap[i]!];
    i = m;
  }
}

function heapify(heap: QueuedPod[]): void {
  for (let i = (heap.length >> 1) - 1; i >= 0; i--) siftDown(heap, i);
}
