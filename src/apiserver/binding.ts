/**
 * The `pods/binding` subresource: how a scheduler places a pod. As upstream, a binding sets
 * `spec.nodeName` (the one write allowed to), copies the Binding's annotations onto the pod and
 * turns the `PodScheduled` condition True. A pod already on a node, or being deleted, answers
 * 409 Conflict, so two schedulers racing for one pod cannot both win.
 */
import { badRequest, conflict, invalid } from './errors.ts';
import type { ObjectStore } from './object-store.ts';
import { rfc3339 } from './object-store.ts';
import type { KubeObject, ResourceDef } from './resource.ts';
import { notSupported, required } from './validation/index.ts';

interface Binding extends KubeObject {
  target?: { kind?: string; name?: string; apiVersion?: string };
}

interface PodCondition {
  type: string;
  status: string;
  lastTransitionTime?: string;
  lastProbeTime?: string | null;
  reason?: string;
  message?: string;
}

/** Binds one pod to the node the Binding names. */
export async function bind(
  store: ObjectStore,
  pods: ResourceDef,
  namespace: string,
  name: string,
  binding: Binding,
  now: () => Date,
): Promise<void> {
  if (binding.metadata?.name !== undefined && binding.metadata.name !== name) {
    throw badRequest('name in URL does not match name in Binding object');
  }
  const node = binding.target?.name ?? '';
  if (node === '') {
    throw invalid('Binding', '', name, [required('target.name')]);
  }
  if (binding.target?.kind && binding.target.kind !== 'Node') {
    throw invalid('Binding', '', name, [notSupported('target.kind', binding.target.kind, ['Node'])]);
  }
  const ref = { resource: 'pods/binding', group: '', name };
  await store.modify(pods, namespace, name, 'binding', (pod) => {
    const spec = (pod.spec ?? {}) as { nodeName?: string };
    if (pod.metadata?.deletionTimestamp) throw conflict(ref, `pod ${name} is being deleted, cannot be assigned to a host`);
    if (spec.nodeName) throw conflict(ref, `pod ${name} is already assigned to node "${spec.nodeName}"`);
    spec.nodeName = node;
    pod.spec = spec;
    const annotations = binding.metadata?.annotations;
    if (annotations && Object.keys(annotations).length > 0) {
      pod.metadata = { ...pod.metadata, annotations: { ...(pod.metadata?.annotations ?? {}), ...annotations } };
    }
    const status = (pod.status ?? {}) as { conditions?: PodCondition[] };
    const conditions = [...(status.conditions ?? [])];
    const at = conditions.findIndex((c) => c.type === 'PodScheduled');
    const scheduled: PodCondition = { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: rfc3339(now()) };
    if (at < 0) conditions.push(scheduled);
    else if (conditions[at]!.status !== 'True') conditions[at] = scheduled;
    pod.status = { ...status, conditions };
    return pod;
  });
}
