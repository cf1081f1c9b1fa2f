/**
 * Picks a storage driver from a `--datastore-endpoint` URL, as kine does: each driver registers
 * the URL schemes it serves.
 *
 * - `''` or `sqlite://`       → SQLite at `<dataDir>/server/db/state.db`
 * - `sqlite:///abs/path.db`   → SQLite at that file
 * - `http(s)://host:port[,…]` → a real etcd cluster
 */

import { join } from 'node:path';
import type { Backend } from './backend.ts';

/** Options of {@link openBackend}. */
export interface OpenBackendOptions {
  /** The server's data directory; the default SQLite file lives under it. */
  dataDir: string;
}

/** Opens a backend for one endpoint; receives the endpoint as given. */
type DriverFactory = (endpoint: string, options: OpenBackendOptions) => Promise<Backend>;

async function openSqlite(endpoint: string, options: OpenBackendOptions): Promise<Backend> {
  // Imported on demand so that a server using one driver never loads the other.
  const { openSqliteBackend } = await import('./sqlite/index.ts');
  const url = endpoint === '' ? undefined : new URL(endpoint);
  // `sqlite://state.db` parses "state.db" as a host; say so rather than silently using the
  // default file.
  if (url !== undefined && url.host !== '') {
    throw new TypeError(
      `Invalid datastore endpoint "${endpoint}": a SQLite path must be absolute, as in sqlite:///var/lib/skiff/state.db`,
    );
  }
  const path = url === undefined ? '' : decodeURIComponent(url.pathname);
  if (path === '' || path === '/') {
    return openSqliteBackend(join(options.dataDir, 'server', 'db', 'state.db'));
  }
  return openSqliteBackend(path);
}

async function openEtcd(endpoint: string): Promise<Backend> {
  const { openEtcdBackend } = await import('./etcd/index.ts');
  return openEtcdBackend(endpoint.split(',').map((host) => host.trim()));
}

/** The drivers, by URL scheme (with its colon, as `URL.protocol` spells it). */
const drivers = new Map<string, DriverFactory>([
  ['sqlite:', openSqlite],
  ['http:', openEtcd],
  ['https:', openEtcd],
]);

/**
 * Opens the backend an endpoint names. Rejects with `TypeError` for an endpoint that is not a
 * URL or whose scheme no driver serves, and with a `StorageError` when the store cannot be
 * opened.
 */
export async function openBackend(endpoint: string, options: OpenBackendOptions): Promise<Backend> {
  if (endpoint === '') return openSqlite(endpoint, options);
  // For a list of etcd endpoints, the first one names the scheme.
  const first = endpoint.split(',')[0]!.trim();
  let scheme: string;
  try {
    scheme = new URL(first).protocol;
  } catch {
    throw new TypeError(
      `Invalid datastore endpoint "${endpoint}": expected sqlite:// or http(s)://host:port`,
    );
  }
  const driver = drivers.get(scheme);
  if (driver === undefined) {
    const known = [...drivers.keys()].map((s) => `${s}//`).join(', ');
    throw new TypeError(
      `Unsupported datastore endpoint "${endpoint}": scheme "${scheme}" is not one of ${known}`,
    );
  }
  return driver(endpoint, options);
}
