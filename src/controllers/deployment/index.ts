/** The Deployment controller. */
export { DeploymentController, deploymentControllerDescriptor, type DeploymentControllerOptions } from './deployment-controller.ts';
export { computeHash, getProportion, maxSurge, maxUnavailable, newRSNewReplicas, resolveFenceposts } from './deployment-util.ts';
