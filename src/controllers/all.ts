/**
 * The controllers `skiff server` runs, in start order. Add a controller by adding its
 * descriptor here.
 */
import { disruptionControllerDescriptor } from './disruption/index.ts';
import { deploymentControllerDescriptor } from './deployment/index.ts';
import { cronJobControllerDescriptor } from './cronjob/index.ts';
import { jobControllerDescriptor, ttlAfterFinishedControllerDescriptor } from './job/index.ts';
import type { ControllerDescriptor } from './manager.ts';
import { nodeLifecycleControllers } from './node-lifecycle/index.ts';
import { replicaSetControllerDescriptor } from './replicaset/index.ts';
import { endpointsControllerDescriptor, endpointSliceControllerDescriptor } from './service-endpoints/index.ts';
import { serviceAccountsControllerDescriptor } from './serviceaccount/index.ts';
import { statefulSetControllerDescriptor } from './statefulset/index.ts';
import { daemonSetControllerDescriptor } from './daemonset/index.ts';

/** Every controller of the controller manager. */
export const allControllers: ControllerDescriptor[] = [
  endpointsControllerDescriptor,
  endpointSliceControllerDescriptor,
  serviceAccountsControllerDescriptor,
  disruptionControllerDescriptor,
  replicaSetControllerDescriptor,
  deploymentControllerDescriptor,
  statefulSetControllerDescriptor,
  ...nodeLifecycleControllers,
  jobControllerDescriptor,
  ttlAfterFinishedControllerDescriptor,
  cronJobControllerDescriptor,
  daemonSetControllerDescriptor,
];
