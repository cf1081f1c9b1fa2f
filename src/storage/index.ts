/**
 * Storage: a key-value store with etcd semantics, behind one {@link Backend} interface.
 * `openBackend(endpoint)` picks the driver from the `--datastore-endpoint` URL.
 */
export type * from './backend.ts';
export * from './errors.ts';
export { openBackend } from './open.ts';
