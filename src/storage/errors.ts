/** Errors every storage backend speaks, whatever its native errors are. */

/** Base of every storage error. `code` is stable; `cause` carries the native error if any. */
export class StorageError extends Error {
  override name = 'StorageError';
  readonly code: string = 'STORAGE_ERROR';
}

/** A create found the key already there. */
export class KeyExistsError extends StorageError {
  override name = 'KeyExistsError';
  override readonly code = 'KEY_EXISTS';
  readonly key: string;
  constructor(key: string) {
    super(`key "${key}" already exists`);
    this.key = key;
  }
}

/** A read or watch asked for a revision whose history has been compacted. */
export class CompactedError extends StorageError {
  override name = 'CompactedError';
  override readonly code = 'COMPACTED';
  readonly requestedRevision: number;
  readonly compactedRevision: number;
  constructor(requestedRevision: number, compactedRevision: number) {
    super(
      `revision ${requestedRevision} has been compacted (compacted revision is ${compactedRevision})`,
    );
    this.requestedRevision = requestedRevision;
    this.compactedRevision = compactedRevision;
  }
}

/** A read asked for a revision newer than the store has. */
export class FutureRevisionError extends StorageError {
  override name = 'FutureRevisionError';
  override readonly code = 'FUTURE_REVISION';
  readonly requestedRevision: number;
  readonly currentRevision: number;
  constructor(requestedRevision: number, currentRevision: number) {
    super(`revision ${requestedRevision} is in the future (current revision is ${currentRevision})`);
    this.requestedRevision = requestedRevision;
    this.currentRevision = currentRevision;
  }
}
