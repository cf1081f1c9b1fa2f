/** The StatefulSet controller and its descriptor. */
import type { ControllerDescriptor } from '../manager.ts';
import { StatefulSetController } from './statefulset-controller.ts';

export { StatefulSetController, type StatefulSetControllerOptions } from './statefulset-controller.ts';

/** `statefulset-controller`, as kube-controller-manager names it. */
export const statefulSetControllerDescriptor: ControllerDescriptor = {
  name: 'statefulset-controller',
  create: (context) => new StatefulSetController(context),
};
