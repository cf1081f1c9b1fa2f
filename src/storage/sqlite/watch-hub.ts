/**
 * In-process watchers of the SQLite driver: no polling. Committed events are pushed to live
 * watchers right after COMMIT; a watcher that starts in the past first replays the log.
 *
 * No gap, no duplicate: a replaying watcher ignores live events and reads the log in chunks;
 * each chunk read is synchronous, and commits are synchronous too, so a chunk sees exactly the
 * writes committed before it. The chunk that comes back short has reached the committed
 * revision, and the watcher turns live in that same synchronous step, before any further commit
 * can run. Invariant this relies on: no commit ever runs synchronously inside a watcher's
 * `onEvents` (commits only run from the group-commit queue's own `setImmediate`). Batches are
 * published a moment after their commit, in commit order; `publish` skips events below a
 * watcher's `next`, so a watcher that replayed them from the log meanwhile gets no duplicate.
 */

import type { KeyValue, Watch, WatchEvent, WatchOptions } from '../backend.ts';
import { CompactedError } from '../errors.ts';

/** What the hub needs from the store. */
export interface HistorySource {
  /** The committed revision. */
  revision(): number;
  /** The compacted revision. */
  compacted(): number;
  /** Up to `limit` events on keys starting with `prefix` with revision in [`from`, `to`]. Rows
   * past the committed revision may exist (a batch waiting for the disk); `to` leaves them out. */
  history(prefix: string, from: number, to: number, limit: number): WatchEvent[];
  /** The put written at `revision` (undefined once compacted away). */
  row(revision: number): KeyValue | undefined;
}

interface Watcher {
  readonly prefix: string;
  readonly onEvents: (events: WatchEvent[]) => void;
  readonly onError: (error: Error) => void;
  readonly prevKv: boolean;
  /** The next revision this watcher may receive. */
  next: number;
  live: boolean;
  done: boolean;
}

/** Options of {@link WatchHub}. */
export interface WatchHubOptions {
  /** Log rows read per replay step; the event loop runs between steps. Default 1,000. */
  replayChunk?: number;
}

/** Delivers committed events to watchers. */
export class WatchHub {
  readonly #source: HistorySource;
  readonly #chunk: number;
  readonly #watchers = new Set<Watcher>();

  constructor(source: HistorySource, options: WatchHubOptions = {}) {
    this.#source = source;
    this.#chunk = options.replayChunk ?? 1000;
  }

  /** Starts a watch; see {@link Backend.watch}. */
  watch(prefix: string, options: WatchOptions): Watch {
    const watcher: Watcher = {
      prefix,
      onEvents: options.onEvents,
      onError: options.onError,
      prevKv: options.prevKv !== false,
      next: options.startRevision,
      live: false,
      done: false,
    };
    this.#watchers.add(watcher);
    if (watcher.next > this.#source.revision()) {
      // Nothing to replay: a start in the future waits for that revision, as etcd does.
      watcher.live = true;
    } else {
      // Deferred so that no callback runs before the caller holds the Watch.
      setImmediate(() => this.#replay(watcher));
    }
    return { cancel: () => this.#end(watcher) };
  }

  /**
   * Pushes just-committed events (in revision order) to the live watchers. `unread` names
   * events whose `prevKv` is still in the log, by the revision of its row: it is read for the
   * first watcher that wants it.
   */
  publish(events: readonly WatchEvent[], unread?: ReadonlyMap<WatchEvent, number>): void {
    // A snapshot: callbacks may start or cancel watches while we iterate.
    for (const watcher of [...this.#watchers]) {
      if (!watcher.live || watcher.done) continue;
      const matching = events.filter(
        (e) => e.kv.modRevision >= watcher.next && e.kv.key.startsWith(watcher.prefix),
      );
      if (matching.length === 0) continue;
      if (watcher.prevKv && unread !== undefined && unread.size > 0) {
        for (const e of matching) {
          const revision = unread.get(e);
          if (revision !== undefined && e.prevKv === undefined) e.prevKv = this.#source.row(revision);
        }
      }
      this.#deliver(watcher, matching);
    }
  }

  /** Ends every watch without an error (the store is closing). */
  closeAll(): void {
    for (const watcher of this.#watchers) watcher.done = true;
    this.#watchers.clear();
  }

  #replay(watcher: Watcher): void {
    if (watcher.done) return;
    const compacted = this.#source.compacted();
    // Checked before every chunk: a compaction that ran between two chunks may have removed
    // rows this watcher still needs.
    if (watcher.next <= compacted) {
      this.#fail(watcher, new CompactedError(watcher.next, compacted));
      return;
    }
    const revision = this.#source.revision();
    const events = this.#source.history(watcher.prefix, watcher.next, revision, this.#chunk);
    if (events.length < this.#chunk) {
      // Caught up: everything committed up to `revision` is in `events`. Turn live before
      // delivering, in this same synchronous step, so no commit can fall between the two.
      watcher.live = true;
      watcher.next = revision + 1;
      if (events.length > 0) this.#deliver(watcher, events, false);
      return;
    }
    this.#deliver(watcher, events);
    setImmediate(() => this.#replay(watcher));
  }

  #deliver(watcher: Watcher, events: WatchEvent[], advance = true): void {
    if (advance) watcher.next = events[events.length - 1]!.kv.modRevision + 1;
    try {
      watcher.onEvents(events);
    } catch (error) {
      // A throwing consumer would otherwise break delivery to every other watcher; end its
      // watch visibly instead.
      this.#fail(watcher, error instanceof Error ? error : new Error(String(error)));
    }
  }

  #fail(watcher: Watcher, error: Error): void {
    if (watcher.done) return;
    this.#end(watcher);
    watcher.onError(error);
  }

  #end(watcher: Watcher): void {
    watcher.done = true;
    this.#watchers.delete(watcher);
  }
}
