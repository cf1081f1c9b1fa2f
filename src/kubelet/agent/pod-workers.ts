/**
 * One worker per pod, as upstream's podWorkers: syncs of one pod never overlap; a request that
 * arrives while the pod's sync runs is remembered and runs once right after (many requests
 * become one); different pods sync in parallel. Delayed requests (back-off expiry, a retry) are
 * timers, not polling, and an earlier request supersedes a later timer.
 */

/** Options of {@link PodWorkers}. */
export interface PodWorkersOptions {
  /** Syncs one pod (by uid); reads the pod's desired state itself. */
  sync: (uid: string) => Promise<void>;
  /** A sync threw: report it (the pod is retried after `retryMs`). */
  onError: (uid: string, error: unknown) => void;
  /** Delay before a failed sync runs again. Default 2 s. */
  retryMs?: number;
}

interface Worker {
  running: boolean;
  pending: boolean;
  timer?: NodeJS.Timeout;
  timerAt?: number;
}

/** See the file header. */
export class PodWorkers {
  readonly #o: PodWorkersOptions;
  readonly #workers = new Map<string, Worker>();
  readonly #idle = new Set<() => void>();
  #stopped = false;

  constructor(options: PodWorkersOptions) {
    this.#o = options;
  }

  /** Asks for a sync of the pod now (or right after the one running). */
  enqueue(uid: string): void {
    if (this.#stopped) return;
    const w = this.#worker(uid);
    if (w.timer) {
      clearTimeout(w.timer);
      w.timer = undefined;
      w.timerAt = undefined;
    }
    if (w.running) {
      w.pending = true;
      return;
    }
    void this.#run(uid, w);
  }

  /** Asks for a sync in `ms` (unless an earlier one is due anyway). */
  enqueueAfter(uid: string, ms: number): void {
    if (this.#stopped) return;
    const w = this.#worker(uid);
    const at = Date.now() + ms;
    if (w.timer && w.timerAt! <= at) return;
    clearTimeout(w.timer);
    w.timerAt = at;
    w.timer = setTimeout(() => {
      w.timer = undefined;
      w.timerAt = undefined;
      this.enqueue(uid);
    }, Math.max(0, ms));
  }

  /** Drops a pod's worker (its timers too). A sync running finishes. */
  forget(uid: string): void {
    const w = this.#workers.get(uid);
    if (!w) return;
    clearTimeout(w.timer);
    if (!w.running) this.#workers.delete(uid);
  }

  /** Number of pods with a worker. */
  get size(): number {
    return this.#workers.size;
  }

  /** Stops taking requests and waits for running syncs. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const w of this.#workers.values()) clearTimeout(w.timer);
    if ([...this.#workers.values()].some((w) => w.running)) await new Promise<void>((resolve) => this.#idle.add(resolve));
  }

  #worker(uid: string): Worker {
    let w = this.#workers.get(uid);
    if (!w) {
      w = { running: false, pending: false };
      this.#workers.set(uid, w);
    }
    return w;
  }

  async #run(uid: string, w: Worker): Promise<void> {
    w.running = true;
    do {
      w.pending = false;
      try {
        await this.#o.sync(uid);
      } catch (error) {
        this.#o.onError(uid, error);
        if (!this.#stopped) this.enqueueAfter(uid, this.#o.retryMs ?? 2000);
      }
    } while (w.pending && !this.#stopped);
    w.running = false;
    if (this.#stopped && ![...this.#workers.values()].some((x) => x.running)) for (const r of this.#idle) r();
  }
}
