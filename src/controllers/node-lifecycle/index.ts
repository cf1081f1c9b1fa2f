/** Node lifecycle: heartbeat monitoring, condition taints, and taint-based eviction. */
import type { ControllerDescriptor } from '../manager.ts';
import { nodeLifecycleControllerDescriptor } from './node-lifecycle-controller.ts';
import { taintEvictionControllerDescriptor } from './taint-eviction-controller.ts';

export { NodeLifecycleController, nodeLifecycleControllerDescriptor, type NodeLifecycleControllerOptions } from './node-lifecycle-controller.ts';
export { TaintEvictionController, taintEvictionControllerDescriptor, type TaintEvictionControllerOptions } from './taint-eviction-controller.ts';
export * from './taints.ts';

/** Both controllers, in start order (one entry in `all.ts`). */
export const nodeLifecycleControllers: ControllerDescriptor[] = [nodeLifecycleControllerDescriptor, taintEvictionControllerDescriptor];
