/** The controllers that reconcile the cluster's state. */
export { NamespaceController, type NamespaceControllerOptions } from './namespace/namespace-controller.ts';
