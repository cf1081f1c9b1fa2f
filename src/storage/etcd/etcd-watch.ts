/**
 * One Backend watch on etcd: one gRPC Watch stream, no automatic re-watch. When the stream
 * fails the watch ends through `onError` and the caller (the API server's watch cache) decides
 * how to resume, exactly as with the SQLite driver.
 */

import type { IDuplexStream, IEvent, IWatchRequest, IWatchResponse, WatchClient } from 'etcd3';
import type { Watch, WatchEvent, WatchOptions } from '../backend.ts';
import { CompactedError, StorageError } from '../errors.ts';
import { deletedKv, prefixRange, toKv } from './convert.ts';
import { toStorageError } from './native-errors.ts';

function toEvent(event: IEvent): WatchEvent {
  const prevKv = event.prev_kv ? toKv(event.prev_kv) : undefined;
  if (event.type === 'Put') return { type: 'put', kv: toKv(event.kv), prevKv };
  const revision = Number(event.kv.mod_revision);
  // etcd's delete event carries only the key and revision; the Backend contract wants the
  // deleted value, which prev_kv holds (absent only if its revision was compacted meanwhile).
  const kv = event.prev_kv
    ? deletedKv(event.prev_kv, revision)
    : { key: event.kv.key.toString('utf8'), value: '', createRevision: 0, modRevision: revision, version: 0 };
  return { type: 'delete', kv, prevKv };
}

/** Extra information the backend wants from a watch. */
export interface EtcdWatchHooks {
  /** etcd told us its compacted revision. */
  onCompactedRevision: (revision: number) => void;
  /** The watch ended, by cancel or error. */
  onEnd: () => void;
}

/** Starts a watch of `prefix` over its own Watch stream. */
export function startEtcdWatch(
  client: WatchClient,
  prefix: string,
  options: WatchOptions,
  hooks: EtcdWatchHooks,
): Watch {
  const { startRevision, onEvents, onError } = options;
  let stream: IDuplexStream<IWatchRequest, IWatchResponse> | undefined;
  let done = false;

  const end = (): void => {
    if (done) return;
    done = true;
    stream?.cancel();
    hooks.onEnd();
  };
  const fail = (error: Error): void => {
    if (done) return;
    end();
    onError(error);
  };

  const handle = (response: IWatchResponse): void => {
    if (done) return;
    const compacted = Number(response.compact_revision);
    if (compacted > 0) {
      hooks.onCompactedRevision(compacted);
      fail(new CompactedError(startRevision, compacted));
      return;
    }
    if (response.canceled) {
      fail(new StorageError(`etcd canceled the watch of "${prefix}": ${response.cancel_reason}`));
      return;
    }
    const events = response.events
      .filter((e) => Number(e.kv.mod_revision) >= startRevision)
      .map(toEvent);
    if (events.length === 0) return;
    try {
      onEvents(events);
    } catch (error) {
      fail(error instanceof Error ? error : new Error(String(error)));
    }
  };

  client.watch().then(
    (opened) => {
      if (done) {
        opened.cancel();
        return;
      }
      stream = opened;
      opened.on('data', handle);
      opened.on('error', (error) => fail(toStorageError(`watch of "${prefix}"`, error)));
      opened.on('end', () => fail(new StorageError(`etcd ended the watch of "${prefix}"`)));
      opened.write({
        create_request: {
          ...prefixRange(prefix),
          // etcd only refuses a start *below* its compacted revision, and its compaction may
          // drop a tombstone *at* it; starting one revision early (and skipping that revision's
          // events) makes etcd refuse exactly the starts the contract refuses: those <= compacted.
          start_revision: Math.max(1, startRevision - 1),
          prev_kv: true,
        },
      });
    },
    (error: unknown) => fail(toStorageError(`watch of "${prefix}"`, error)),
  );

  return { cancel: end };
}
