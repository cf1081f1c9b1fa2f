/** The node agent's public surface. */
export type {
  AttachOptions, ContainerConfig, ContainerExitEvent, ContainerFilter, ContainerResources, ContainerRuntime,
  ContainerState, ContainerStats, ContainerStatus, DnsConfig, ExecOptions, ExecSyncResult, MountConfig,
  PodResources, PortMapping, RuntimeVersion, SandboxConfig, SandboxState, SandboxStatus, SecurityConfig,
  StreamHandle,
} from './runtime/container-runtime.ts';
export { RuncRuntime, type RuncRuntimeOptions } from './runtime/runc/runc-runtime.ts';
export { bridgeConfList, type BridgeNetworkOptions, type CniConfList } from './runtime/runc/cni.ts';
export {
  CniError, CommandError, ExecTimeoutError, InvalidStateError, NotFoundError, RuntimeError, StartError,
} from './runtime/errors.ts';
export * from './images/index.ts';
export * from './agent/index.ts';
