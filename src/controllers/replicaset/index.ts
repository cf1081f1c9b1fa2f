/** The ReplicaSet controller. */
export { ReplicaSetController, replicaSetControllerDescriptor, slowStartBatch, type ReplicaSetControllerOptions } from './replicaset-controller.ts';
export { compareForDeletion, rankBySharedNode, sortForDeletion, type RankedPod } from './pod-ranking.ts';
