/**
 * The kubelet's pod workers and node agent: the component that turns the API's pods bound to
 * this node into containers through a `ContainerRuntime` and an `ImageService`.
 */
export { Backoff, type BackoffOptions } from './backoff.ts';
export { containerArgv, containerEnv, expand, mergeEnv, type EnvContext, type ObjectSource } from './env.ts';
export {
  ContainerLogManager, containerLogSetting, type ContainerLogManagerOptions, type ContainerLogSettings,
} from './container-log-manager.ts';
export { ContainerConfigError, KubeletError, VolumeError } from './errors.ts';
export { DEFAULT_EVICTION_HARD, parseEvictionHard, PressureTracker, type EvictionThreshold, type Observations } from './eviction-thresholds.ts';
export { SummaryProvider, type SummaryProviderOptions } from './summary-provider.ts';
export { Kubelet, type KubeletOptions } from './kubelet.ts';
export { parseKubeletArgs, type KubeletArgSettings } from './kubelet-args.ts';
export { KUBELET_VERSION, NODE_LEASE_NAMESPACE, defaultNodeIp } from './node-status.ts';
export { parseQuantity, podQosClass, type QosClass } from './resources.ts';
export { computePodActions, podStatus, type PodActions, type RuntimePod } from './sync-pod.ts';
export { hostNames, nodePodCidr, startAgent, type AgentOptions, type RunningAgent } from './start-agent.ts';
