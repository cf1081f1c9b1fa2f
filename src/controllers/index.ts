/** The controllers that reconcile the cluster's state. */
export { allControllers } from './all.ts';
export { GarbageCollector, type GarbageCollectorOptions } from './garbage-collector/garbage-collector.ts';
export {
  ControllerManager,
  controllerEnabled,
  defaultSettings,
  type Controller,
  type ControllerContext,
  type ControllerDescriptor,
  type ControllerManagerOptions,
  type ControllerSettings,
} from './manager.ts';
export { NamespaceController, type NamespaceControllerOptions } from './namespace/namespace-controller.ts';
export { isPodActive, isPodAvailable, isPodReady, podCondition, timestamp, withCondition } from './pod-util.ts';
