/** The controllers that reconcile the cluster's state. */
export { GarbageCollector, type GarbageCollectorOptions } from './garbage-collector/garbage-collector.ts';
export { NamespaceController, type NamespaceControllerOptions } from './namespace/namespace-controller.ts';
