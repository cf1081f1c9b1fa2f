/**
 * Simulated nodes (`skiff sim`): many kubelets in one process that register nodes, heartbeat,
 * and run bound pods without containers — for tests, and for trying the control plane at scale.
 */
export { parseDuration } from './duration.ts';
export { SimCommandError, SimError } from './errors.ts';
export { NODE_LEASE_NAMESPACE, SIM_KUBELET_VERSION, SIM_NODE_ANNOTATION } from './node-template.ts';
export { SIM_DURATION_ANNOTATION, SIM_EXIT_CODE_ANNOTATION, Simulator, type SimulatorOptions } from './simulator.ts';
export { credentialsFromToken, ensureNodePassword, type JoinIdentity } from './token-credentials.ts';
