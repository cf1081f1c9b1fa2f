/**
 * Periodic compaction of the store's history, as kube-apiserver does every 5 minutes
 * (`--etcd-compaction-interval`): each run compacts to the revision the previous run saw, so
 * history is kept for at least one interval — long enough for watchers and paginated lists to
 * finish — and the store does not grow without bound.
 */
import type { Backend } from '../storage/index.ts';

/** See the file header. */
export class Compactor {
  readonly #backend: Backend;
  #previous = 0;
  #timer: NodeJS.Timeout | undefined;
  #running = false;

  constructor(backend: Backend) {
    this.#backend = backend;
  }

  /** One run: compacts to the revision the previous run saw, then remembers the current one. */
  async run(): Promise<void> {
    const current = await this.#backend.currentRevision();
    if (this.#previous > (await this.#backend.compactedRevision())) await this.#backend.compact(this.#previous);
    this.#previous = current;
  }

  /** Runs every `intervalMs` (default 5 minutes); a failed run is reported and retried next time. */
  start(intervalMs = 5 * 60_000, onError: (error: unknown) => void = () => undefined): void {
    this.#timer = setInterval(() => {
      if (this.#running) return;
      this.#running = true;
      this.run()
        .catch(onError)
        .finally(() => (this.#running = false));
    }, intervalMs);
    this.#timer.unref();
  }

  /** Stops the runs. */
  stop(): void {
    clearInterval(this.#timer);
  }
}
