/** The DaemonSet controller and its descriptor. */
import type { ControllerDescriptor } from '../manager.ts';
import { DaemonSetController } from './daemonset-controller.ts';

export { DaemonSetController, type DaemonSetControllerOptions } from './daemonset-controller.ts';

/** `daemonset-controller`, as kube-controller-manager names it. */
export const daemonSetControllerDescriptor: ControllerDescriptor = {
  name: 'daemonset-controller',
  create: (context) => new DaemonSetController(context),
};
