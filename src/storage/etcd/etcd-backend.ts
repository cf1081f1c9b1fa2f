/**
 * The etcd backend: the Backend contract over a real etcd v3 cluster through the `etcd3`
 * client's raw gRPC services. Conditional writes are single etcd transactions, so the
 * compare-and-swap is atomic on the server; TTLs are leases shared per TTL bucket; native
 * errors become the storage errors.
 */

import { Etcd3, type IRangeRequest, type IRangeResponse, type KVClient } from 'etcd3';
import type {
  Backend,
  KeyValue,
  ListOptions,
  ListResult,
  ReadOptions,
  TxnResult,
  Watch,
  WatchOptions,
  WriteOptions,
} from '../backend.ts';
import {
  checkKey,
  expectedModRevision,
  listLimit,
  readRevision,
  ttlSeconds,
  watchStartRevision,
} from '../arguments.ts';
import { CompactedError, FutureRevisionError, KeyExistsError, StorageError } from '../errors.ts';
import { listStart } from '../key-range.ts';
import { bytes, deletedKv, prefixRange, toKv } from './convert.ts';
import { startEtcdWatch } from './etcd-watch.ts';
import { LeaseManager } from './lease-manager.ts';
import { isCompacted, isFutureRevision, toStorageError } from './native-errors.ts';

/** A key no one writes: cheap to range over when only the response header matters. */
const PROBE_KEY = Buffer.from('\0skiff-probe');

class EtcdBackend implements Backend {
  readonly #client: Etcd3;
  readonly #kv: KVClient;
  readonly #leases: LeaseManager;
  readonly #watches = new Set<Watch>();
  /** The highest compacted revision seen so far; compaction only moves forward. */
  #knownCompacted = 0;
  #closed = false;

  constructor(client: Etcd3) {
    this.#client = client;
    this.#kv = client.kv;
    this.#leases = new LeaseManager(client.leaseClient);
  }

  async currentRevision(): Promise<number> {
    this.#checkOpen();
    const response = await this.#range({ key: PROBE_KEY, count_only: true }, 0, 'range');
    return Number(response.header.revision);
  }

  /**
   * etcd has no call that reports its compacted revision, but a read at revision r fails iff
   * r < compacted; a binary search between the last one seen and the current revision finds it
   * in about log2(revisions) tiny reads. Compacting at revision 1 removes nothing and reads
   * as 0.
   */
  async compactedRevision(): Promise<number> {
    this.#checkOpen();
    let low = Math.max(1, this.#knownCompacted);
    let high = await this.currentRevision();
    while (low < high) {
      const middle = Math.floor((low + high) / 2);
      if (await this.#readable(middle)) high = middle;
      else low = middle + 1;
    }
    const compacted = low === 1 ? 0 : low;
    this.#knownCompacted = Math.max(this.#knownCompacted, compacted);
    return compacted;
  }

  async get(key: string, options?: ReadOptions): Promise<{ kv: KeyValue | undefined; revision: number }> {
    this.#checkOpen();
    checkKey(key);
    const revision = readRevision(options);
    const response = await this.#range({ key: bytes(key), revision }, revision, `get of "${key}"`);
    const found = response.kvs[0];
    return {
      kv: found === undefined ? undefined : toKv(found),
      revision: revision || Number(response.header.revision),
    };
  }

  async list(prefix: string, options?: ListOptions): Promise<ListResult> {
    this.#checkOpen();
    const revision = readRevision(options);
    const limit = listLimit(options);
    const range = prefixRange(prefix);
    const start = listStart(prefix, options?.startKey);
    const response = await this.#range(
      { key: start === prefix ? range.key : bytes(start), range_end: range.range_end, limit, revision },
      revision,
      `list of "${prefix}"`,
    );
    return {
      kvs: response.kvs.map(toKv),
      revision: revision || Number(response.header.revision),
      more: response.more,
    };
  }

  async count(prefix: string): Promise<number> {
    this.#checkOpen();
    const response = await this.#range({ ...prefixRange(prefix), count_only: true }, 0, 'count');
    return Number(response.count);
  }

  async create(key: string, value: string, options?: WriteOptions): Promise<number> {
    this.#checkOpen();
    checkKey(key);
    const lease = await this.#lease(ttlSeconds(options));
    const keyBytes = bytes(key);
    const response = await this.#txn(`create of "${key}"`, () =>
      this.#kv.txn({
        compare: [{ key: keyBytes, target: 'Create', result: 'Equal', create_revision: 0 }],
        success: [{ request_put: { key: keyBytes, value: bytes(value), lease } }],
      }),
    );
    if (!response.succeeded) throw new KeyExistsError(key);
    return Number(response.header.revision);
  }

  async update(
    key: string,
    value: string,
    expected: number,
    options?: WriteOptions,
  ): Promise<TxnResult> {
    this.#checkOpen();
    checkKey(key);
    expectedModRevision(expected, false);
    const lease = await this.#lease(ttlSeconds(options));
    const keyBytes = bytes(key);
    const response = await this.#txn(`update of "${key}"`, () =>
      this.#kv.txn({
        compare: [{ key: keyBytes, target: 'Mod', result: 'Equal', mod_revision: expected }],
        success: [{ request_put: { key: keyBytes, value: bytes(value), lease, prev_kv: true } }],
        failure: [{ request_range: { key: keyBytes } }],
      }),
    );
    const revision = Number(response.header.revision);
    if (!response.succeeded) {
      const current = response.responses[0]!.response_range.kvs[0];
      return { succeeded: false, revision, kv: current && toKv(current) };
    }
    const previous = response.responses[0]!.response_put.prev_kv;
    return {
      succeeded: true,
      revision,
      kv: {
        key,
        value,
        createRevision: Number(previous.create_revision),
        modRevision: revision,
        version: Number(previous.version) + 1,
      },
    };
  }

  async delete(key: string, expected: number): Promise<TxnResult> {
    this.#checkOpen();
    checkKey(key);
    expectedModRevision(expected, true);
    const keyBytes = bytes(key);
    const response = await this.#txn(`delete of "${key}"`, () =>
      this.#kv.txn({
        // An empty compare list always succeeds: the unconditional delete.
        compare:
          expected === 0
            ? []
            : [{ key: keyBytes, target: 'Mod', result: 'Equal', mod_revision: expected }],
        success: [{ request_delete_range: { key: keyBytes, prev_kv: true } }],
        failure: [{ request_range: { key: keyBytes } }],
      }),
    );
    const revision = Number(response.header.revision);
    if (!response.succeeded) {
      const current = response.responses[0]!.response_range.kvs[0];
      return { succeeded: false, revision, kv: current && toKv(current) };
    }
    const deleted = response.responses[0]!.response_delete_range.prev_kvs[0];
    if (deleted === undefined) return { succeeded: false, revision, kv: undefined };
    return { succeeded: true, revision, kv: deletedKv(deleted, revision) };
  }

  watch(prefix: string, options: WatchOptions): Watch {
    this.#checkOpen();
    watchStartRevision(options.startRevision);
    const watch = startEtcdWatch(this.#client.watchClient, prefix, options, {
      onCompactedRevision: (revision) => {
        this.#knownCompacted = Math.max(this.#knownCompacted, revision);
      },
      onEnd: () => this.#watches.delete(watch),
    });
    this.#watches.add(watch);
    return watch;
  }

  async compact(revision: number): Promise<void> {
    this.#checkOpen();
    readRevision({ revision });
    // etcd would treat 0 as a real revision; for the Backend it is "nothing to do".
    if (revision === 0) return;
    try {
      // physical: resolve only once the history is gone, so a read below it fails afterwards.
      await this.#kv.compact({ revision, physical: true });
    } catch (error) {
      // Compacting at or below an earlier compaction is a no-op in the contract.
      if (isCompacted(error)) return;
      if (isFutureRevision(error)) throw new FutureRevisionError(revision, await this.currentRevision());
      throw toStorageError('compact', error);
    }
    this.#knownCompacted = Math.max(this.#knownCompacted, revision);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const watch of [...this.#watches]) watch.cancel();
    this.#client.close();
  }

  #checkOpen(): void {
    if (this.#closed) throw new StorageError('etcd backend is closed');
  }

  async #lease(ttl: number | undefined): Promise<string | undefined> {
    if (ttl === undefined) return undefined;
    try {
      return await this.#leases.leaseFor(ttl);
    } catch (error) {
      throw toStorageError('lease grant', error);
    }
  }

  async #readable(revision: number): Promise<boolean> {
    try {
      await this.#kv.range({ key: PROBE_KEY, revision, count_only: true });
      return true;
    } catch (error) {
      if (isCompacted(error)) return false;
      throw toStorageError('range', error);
    }
  }

  /** A range read at `revision` (0: latest) with etcd's revision errors mapped. */
  async #range(request: IRangeRequest, revision: number, operation: string): Promise<IRangeResponse> {
    try {
      return await this.#kv.range(request);
    } catch (error) {
      if (isCompacted(error)) throw new CompactedError(revision, await this.compactedRevision());
      if (isFutureRevision(error)) throw new FutureRevisionError(revision, await this.currentRevision());
      throw toStorageError(operation, error);
    }
  }

  async #txn<T>(operation: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw toStorageError(operation, error);
    }
  }
}

/** Options of {@link openEtcdBackend}. */
export interface EtcdBackendOptions {
  /** How long to wait for the cluster to answer at open, in ms. Default 10,000. */
  connectTimeoutMs?: number;
}

/**
 * Connects to the etcd cluster at `endpoints` (`http(s)://host:port` each) and checks that it
 * answers; rejects with a StorageError when it does not within the timeout.
 */
export async function openEtcdBackend(
  endpoints: readonly string[],
  options: EtcdBackendOptions = {},
): Promise<Backend> {
  const timeout = options.connectTimeoutMs ?? 10_000;
  const client = new Etcd3({
    hosts: [...endpoints],
    dialTimeout: timeout,
    // gRPC's 4 MiB default would make lists of a few thousand objects fail; etcd itself caps
    // responses (--max-request-bytes / max send size), so accept whatever it sends.
    grpcOptions: { 'grpc.max_receive_message_length': -1 },
  });
  try {
    await client.kv.range({ key: PROBE_KEY, count_only: true }, { deadline: Date.now() + timeout });
  } catch (error) {
    client.close();
    throw toStorageError(`connect to ${endpoints.join(',')}`, error);
  }
  return new EtcdBackend(client);
}
