/**
 * Argument checks shared by the drivers, so that every backend rejects the same mistakes with
 * the same `TypeError`/`RangeError` before touching its store.
 */

import type { ListOptions, ReadOptions, WriteOptions } from './backend.ts';

function checkRevisionValue(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative integer, got ${value}`);
  }
}

/** The revision a read asked for; 0 means "latest". */
export function readRevision(options: ReadOptions | undefined): number {
  const revision = options?.revision ?? 0;
  checkRevisionValue('revision', revision);
  return revision;
}

/** The limit of a list; 0 means "no limit". */
export function listLimit(options: ListOptions | undefined): number {
  const limit = options?.limit ?? 0;
  if (!Number.isSafeInteger(limit) || limit < 0) {
    throw new RangeError(`limit must be a non-negative integer, got ${limit}`);
  }
  return limit;
}

/** The TTL of a write in seconds, or undefined when the key lives until deleted. */
export function ttlSeconds(options: WriteOptions | undefined): number | undefined {
  const ttl = options?.ttlSeconds;
  if (ttl === undefined) return undefined;
  if (!Number.isSafeInteger(ttl) || ttl <= 0) {
    throw new RangeError(`ttlSeconds must be a positive integer, got ${ttl}`);
  }
  return ttl;
}

/** A compare-and-swap precondition; `allowZero` for delete, where 0 means unconditional. */
export function expectedModRevision(value: number, allowZero: boolean): number {
  checkRevisionValue('expectedModRevision', value);
  if (value === 0 && !allowZero) {
    throw new RangeError('expectedModRevision must be > 0 for update (use create for new keys)');
  }
  return value;
}

/** A watch's start revision, which must be > 0. */
export function watchStartRevision(value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RangeError(`startRevision must be a positive integer, got ${value}`);
  }
  return value;
}

/** A key: non-empty string. */
export function checkKey(key: string): string {
  if (typeof key !== 'string' || key.length === 0) {
    throw new TypeError(`key must be a non-empty string, got ${JSON.stringify(key)}`);
  }
  return key;
}
