/**
 * TTLs on etcd become leases, and a lease per key would mean one lease grant per write and
 * thousands of live leases for Events. As kube-apiserver's lease manager does, one lease is
 * reused for every key written with the same TTL during a short window: a key then lives
 * between `ttl` and `ttl + reuse` seconds, where `reuse` is 5% of the TTL, at most 60 s.
 */

import type { LeaseClient } from 'etcd3';

/** Share of the TTL during which a lease is reused (kube-apiserver's default). */
const REUSE_SHARE = 0.05;
/** Longest reuse window in seconds (kube-apiserver's default). */
const MAX_REUSE_SECONDS = 60;

interface GrantedLease {
  id: string;
  /** When the lease expires, ms since the epoch. */
  expiresAt: number;
}

/** Options of {@link LeaseManager}. */
export interface LeaseManagerOptions {
  /** Wall clock in ms since the epoch. Default `Date.now`. */
  now?: () => number;
}

/** Hands out lease IDs for TTLs, one lease per TTL bucket at a time. */
export class LeaseManager {
  readonly #client: LeaseClient;
  readonly #now: () => number;
  readonly #leases = new Map<number, GrantedLease>();
  readonly #granting = new Map<number, Promise<string>>();

  constructor(client: LeaseClient, options: LeaseManagerOptions = {}) {
    this.#client = client;
    this.#now = options.now ?? Date.now;
  }

  /** A lease that expires between `ttlSeconds` and `ttlSeconds + reuse` from now. */
  leaseFor(ttlSeconds: number): Promise<string> {
    const now = this.#now();
    const reuse = Math.min(Math.floor(ttlSeconds * REUSE_SHARE), MAX_REUSE_SECONDS);
    const lease = this.#leases.get(ttlSeconds);
    // Reusable while it still outlives a new key's TTL but not by more than the reuse window.
    if (
      lease !== undefined &&
      lease.expiresAt > now + ttlSeconds * 1000 &&
      lease.expiresAt <= now + (ttlSeconds + reuse) * 1000
    ) {
      return Promise.resolve(lease.id);
    }
    // Concurrent writes with the same TTL share one grant instead of racing to make many.
    const granting = this.#granting.get(ttlSeconds);
    if (granting !== undefined) return granting;
    const grant = this.#client
      .leaseGrant({ TTL: ttlSeconds + reuse })
      .then((response) => {
        this.#leases.set(ttlSeconds, {
          id: response.ID,
          expiresAt: now + (ttlSeconds + reuse) * 1000,
        });
        return response.ID;
      })
      .finally(() => this.#granting.delete(ttlSeconds));
    this.#granting.set(ttlSeconds, grant);
    return grant;
  }
}
