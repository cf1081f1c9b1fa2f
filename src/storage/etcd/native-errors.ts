/**
 * Recognises etcd's native errors. etcd reports them as gRPC status messages, which the `etcd3`
 * client turns into untyped `EtcdError`s, so the message text is the only stable signal.
 */

import { StorageError } from '../errors.ts';

/** The read or watch asked for history that compaction removed (`ErrCompacted`). */
export function isCompacted(error: unknown): boolean {
  return error instanceof Error && error.message.includes('required revision has been compacted');
}

/** The read asked for a revision etcd has not reached (`ErrFutureRev`). */
export function isFutureRevision(error: unknown): boolean {
  return error instanceof Error && error.message.includes('required revision is a future revision');
}

/** Wraps any other native error, keeping it as `cause`. */
export function toStorageError(operation: string, error: unknown): StorageError {
  if (error instanceof StorageError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new StorageError(`etcd ${operation} failed: ${detail}`, { cause: error });
}
