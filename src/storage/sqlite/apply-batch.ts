/**
 * The write semantics of the SQLite driver: applies a batch of writes, in order, inside an open
 * transaction. Each successful write takes the next revision; each precondition is checked
 * against the state left by the writes before it in the same batch, so a batch behaves exactly
 * like the same writes committed one by one.
 *
 * The key index is not touched here: the batch's own changes live in an overlay, and the caller
 * applies the returned events to the index only once COMMIT has succeeded, so a failed commit
 * leaves memory and disk in agreement.
 */

import type { KeyValue, TxnResult, WatchEvent } from '../backend.ts';
import { KeyExistsError } from '../errors.ts';
import type { Expiry } from './expiry-queue.ts';
import type { Head, KeyIndex } from './key-index.ts';
import type { Queries } from './queries.ts';

/** One queued write. */
export type WriteOp =
  | { type: 'create'; key: string; value: string; ttlSeconds: number | undefined }
  | { type: 'update'; key: string; value: string; expected: number; ttlSeconds: number | undefined }
  | { type: 'delete'; key: string; expected: number };

/** A create's revision, or an update's or delete's result. */
export type WriteOutcome = number | TxnResult;

/** What a batch did, to be applied and published once it has committed. */
export interface AppliedBatch {
  /** The revision after the batch. */
  revision: number;
  /** One per op, in order; an Error fails that op alone. */
  outcomes: Array<WriteOutcome | Error>;
  /** The batch's events in revision order. */
  events: WatchEvent[];
  /**
   * Updates whose `prevKv` was not read, with the revision of the row that holds it: the key
   * index knows an update's revisions, and only watchers that ask for `prevKv` need the value,
   * so the watch hub reads it for them.
   */
  unread: Map<WatchEvent, number>;
  /** TTLs the batch set. */
  expiries: Expiry[];
}

/** Applies `ops` after `revision` at wall-clock time `now` (for TTLs). */
export function applyBatch(
  index: KeyIndex,
  queries: Queries,
  ops: readonly WriteOp[],
  revision: number,
  now: number,
): AppliedBatch {
  const outcomes: Array<WriteOutcome | Error> = [];
  const events: WatchEvent[] = [];
  const unread = new Map<WatchEvent, number>();
  const expiries: Expiry[] = [];
  // Keys this batch wrote: their newest value, or null once deleted.
  const written = new Map<string, KeyValue | null>();

  /** The newest revision, create revision and version of a live key: no value read. */
  const head = (key: string): Head | KeyValue | undefined => {
    const mine = written.get(key);
    return mine !== undefined ? (mine ?? undefined) : index.head(key);
  };
  /** The live key with its value. */
  const current = (key: string): KeyValue | undefined => {
    const h = head(key);
    return h && ('value' in h ? h : queries.row(h.modRevision));
  };
  const exists = (key: string): boolean => {
    const mine = written.get(key);
    return mine !== undefined ? mine !== null : index.has(key);
  };
  const put = (kv: KeyValue, prev: Head | KeyValue | undefined, ttlSeconds: number | undefined): void => {
    let expiresAt: number | null = null;
    if (ttlSeconds !== undefined) {
      expiresAt = now + ttlSeconds * 1000;
      expiries.push({ at: expiresAt, key: kv.key, revision: kv.modRevision });
    }
    queries.append({ kv, deleted: false, prevRevision: prev?.modRevision ?? null, expiresAt });
    written.set(kv.key, kv);
    const event: WatchEvent = { type: 'put', kv, prevKv: prev && 'value' in prev ? prev : undefined };
    if (prev && !('value' in prev)) unread.set(event, prev.modRevision);
    events.push(event);
  };

  for (const op of ops) {
    switch (op.type) {
      case 'create': {
        if (exists(op.key)) {
          outcomes.push(new KeyExistsError(op.key));
          break;
        }
        const rev = ++revision;
        put({ key: op.key, value: op.value, createRevision: rev, modRevision: rev, version: 1 }, undefined, op.ttlSeconds);
        outcomes.push(rev);
        break;
      }
      case 'update': {
        const prev = head(op.key);
        if (prev === undefined || prev.modRevision !== op.expected) {
          // The caller retries from the current value: only a failed update reads it.
          outcomes.push({ succeeded: false, revision, kv: prev && current(op.key) });
          break;
        }
        const rev = ++revision;
        const kv: KeyValue = {
          key: op.key,
          value: op.value,
          createRevision: prev.createRevision,
          modRevision: rev,
          version: prev.version + 1,
        };
        // Like etcd's put without a lease, an update without a TTL makes the key permanent.
        put(kv, prev, op.ttlSeconds);
        outcomes.push({ succeeded: true, revision: rev, kv });
        break;
      }
      case 'delete': {
        const prev = current(op.key);
        if (prev === undefined || (op.expected !== 0 && prev.modRevision !== op.expected)) {
          outcomes.push({ succeeded: false, revision, kv: prev });
          break;
        }
        const rev = ++revision;
        const kv: KeyValue = { ...prev, modRevision: rev };
        queries.append({ kv, deleted: true, prevRevision: prev.modRevision, expiresAt: null });
        written.set(op.key, null);
        events.push({ type: 'delete', kv, prevKv: prev });
        outcomes.push({ succeeded: true, revision: rev, kv });
        break;
      }
    }
  }
  return { revision, outcomes, events, unread, expiries };
}
