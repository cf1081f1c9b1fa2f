/** Conversions between etcd's wire shapes (bytes, int64 strings) and the Backend's. */

import type { IKeyValue } from 'etcd3';
import type { KeyValue } from '../backend.ts';
import { prefixEndBytes } from '../key-range.ts';

/** A key or value as bytes. */
export function bytes(text: string): Buffer {
  return Buffer.from(text, 'utf8');
}

/** An etcd key-value as a {@link KeyValue}. */
export function toKv(kv: IKeyValue): KeyValue {
  return {
    key: kv.key.toString('utf8'),
    value: kv.value.toString('utf8'),
    createRevision: Number(kv.create_revision),
    modRevision: Number(kv.mod_revision),
    version: Number(kv.version),
  };
}

/** A deleted key as its delete event shows it: the deleted value at the delete's revision. */
export function deletedKv(previous: IKeyValue, revision: number): KeyValue {
  return { ...toKv(previous), modRevision: revision };
}

/**
 * The `[key, range_end)` of everything starting with `prefix`. The empty prefix becomes
 * `["\0", "\0")`, etcd's spelling of "every key" (an empty key is rejected by etcd).
 */
export function prefixRange(prefix: string): { key: Buffer; range_end: Buffer } {
  const key = prefix === '' ? Buffer.from([0]) : bytes(prefix);
  return { key, range_end: prefixEndBytes(bytes(prefix)) };
}
