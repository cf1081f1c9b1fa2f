/**
 * The controllers `skiff server` runs, in start order. Add a controller by adding its
 * descriptor here.
 */
import { disruptionControllerDescriptor } from './disruption/index.ts';
import type { ControllerDescriptor } from './manager.ts';
import { endpointsControllerDescriptor, endpointSliceControllerDescriptor } from './service-endpoints/index.ts';
import { serviceAccountsControllerDescriptor } from './serviceaccount/index.ts';

/** Every controller of the controller manager. */
export const allControllers: ControllerDescriptor[] = [
  endpointsControllerDescriptor,
  endpointSliceControllerDescriptor,
  serviceAccountsControllerDescriptor,
  disruptionControllerDescriptor,
];
