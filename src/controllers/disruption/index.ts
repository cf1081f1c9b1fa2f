/** The disruption controller: PodDisruptionBudget status, which evictions spend. */
export { deletionTimeoutMs, DisruptionController, disruptionControllerDescriptor, type DisruptionControllerOptions } from './disruption-controller.ts';
