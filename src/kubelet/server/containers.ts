/**
 * Finds a pod's containers and sandbox in the runtime by the labels the pod workers give them
 * (`io.kubernetes.pod.namespace`, `io.kubernetes.pod.name`, `io.kubernetes.container.name`):
 * the streaming server needs nothing of the pod workers' state.
 */
import type { ContainerRuntime, ContainerStatus, SandboxStatus } from '../runtime/container-runtime.ts';
import { badRequest, notFound } from './errors.ts';

const NAMESPACE = 'io.kubernetes.pod.namespace';
const POD = 'io.kubernetes.pod.name';
const CONTAINER = 'io.kubernetes.container.name';

/** The instances of a pod's container, newest first. */
export async function containerInstances(runtime: ContainerRuntime, namespace: string, pod: string, container: string): Promise<ContainerStatus[]> {
  const all = await runtime.listContainers();
  return all
    .filter((c) => c.labels[NAMESPACE] === namespace && c.labels[POD] === pod && c.labels[CONTAINER] === container)
    .sort((a, b) => b.createdAt - a.createdAt || b.attempt - a.attempt);
}

/** The current instance of a container (or, with `previous`, the one before it). */
export async function findContainer(runtime: ContainerRuntime, namespace: string, pod: string, container: string, previous = false): Promise<ContainerStatus> {
  const instances = await containerInstances(runtime, namespace, pod, container);
  if (previous) {
    const before = instances[1];
    if (!before) throw badRequest(`previous terminated container "${container}" in pod "${pod}" not found`);
    return before;
  }
  const current = instances[0];
  if (!current) throw notFound(`container "${container}" in pod "${pod}" is not available`);
  return current;
}

/** A running container, for exec and attach. */
export async function runningContainer(runtime: ContainerRuntime, namespace: string, pod: string, container: string): Promise<ContainerStatus> {
  const current = await findContainer(runtime, namespace, pod, container);
  if (current.state !== 'running') throw badRequest(`container ${container} is not valid for pod ${pod}: the container is not running`);
  return current;
}

/** The pod's ready sandbox, for port-forward. */
export async function readySandbox(runtime: ContainerRuntime, namespace: string, pod: string): Promise<SandboxStatus> {
  const sandboxes = (await runtime.listPodSandboxes())
    .filter((s) => s.config.namespace === namespace && s.config.name === pod && s.state === 'ready')
    .sort((a, b) => b.createdAt - a.createdAt);
  if (!sandboxes[0]) throw notFound(`pod ${namespace}/${pod} has no running sandbox on this node`);
  return sandboxes[0];
}
