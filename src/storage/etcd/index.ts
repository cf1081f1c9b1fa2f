/** The etcd driver: a real etcd v3 cluster as the store. */
export { openEtcdBackend, type EtcdBackendOptions } from './etcd-backend.ts';
