/** The cluster-level core/v1 kinds: Namespace and Node. */
import type { Namespace, Node } from 'kubernetes-types/core/v1.js';
import type { FieldError, KubeObject, ResourceDef } from '../resource.ts';
import { duplicate, invalid, labelValueErrors, notSupported, qualifiedNameErrors, required } from '../validation/index.ts';
import { ageColumn, column, wideColumn } from './columns.ts';
import { arrayOf, at, ensureObject, isObject, objectsOf, str } from './checks.ts';

/** The label upstream puts on every namespace, naming it (selectable by NetworkPolicies). */
const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';
/** The finalizer the namespace controller removes once the namespace's contents are gone. */
const KUBERNETES_FINALIZER = 'kubernetes';

function validateNamespace(object: KubeObject): FieldError[] {
  const errors: FieldError[] = [];
  arrayOf(isObject(object.spec) ? object.spec.finalizers : undefined).forEach((f) => {
    const name = str(f);
    const messages = qualifiedNameErrors(name);
    for (const m of messages) errors.push(invalid('spec.finalizers', name, m));
    if (messages.length === 0 && name !== KUBERNETES_FINALIZER && !name.includes('/')) {
      errors.push(invalid('spec.finalizers', name, 'name is neither a standard finalizer name nor is it fully qualified'));
    }
  });
  return errors;
}

/**
 * Namespaces: `ns`, cluster-scoped. Every namespace carries the `kubernetes.io/metadata.name`
 * label, starts `Active`, and is created with the `kubernetes` finalizer that the namespace
 * controller removes once the namespace's contents are deleted.
 */
export const namespacesKind: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'Namespace',
  plural: 'namespaces',
  singular: 'namespace',
  shortNames: ['ns'],
  categories: [],
  namespaced: false,
  subresources: { status: true },
  generation: false,
  printerColumns: [column('Status', 'string', 'The phase of the namespace.', (o) => (o as Namespace).status?.phase ?? ''), ageColumn],
  defaults(object) {
    const name = object.metadata?.name;
    // A namespace named by generateName gets its label once the name exists.
    if (name) {
      const metadata = object.metadata!;
      metadata.labels = { ...(metadata.labels ?? {}), [NAMESPACE_NAME_LABEL]: name };
    }
    const status = ensureObject(object, 'status');
    if (!status.phase) status.phase = 'Active';
  },
  prepareForCreate(object) {
    object.status = { phase: 'Active' };
    const spec = ensureObject(object, 'spec');
    const finalizers = arrayOf(spec.finalizers).filter((f) => typeof f === 'string');
    if (!finalizers.includes(KUBERNETES_FINALIZER)) finalizers.push(KUBERNETES_FINALIZER);
    spec.finalizers = finalizers;
  },
  prepareForUpdate(object, old) {
    // Only the finalize subresource changes a namespace's finalizers.
    const spec = ensureObject(object, 'spec');
    const was = (old.spec as { finalizers?: unknown } | undefined)?.finalizers;
    if (was === undefined) delete spec.finalizers;
    else spec.finalizers = was;
  },
  validate: validateNamespace,
  fieldSelectors: { 'status.phase': (o) => (o as Namespace).status?.phase ?? '' },
};

/** The STATUS cell: `Ready`/`NotReady`/`Unknown`, plus `SchedulingDisabled` when cordoned. */
function nodeStatusCell(o: KubeObject): string {
  const node = o as Node;
  const ready = (node.status?.conditions ?? []).find((c) => c.type === 'Ready');
  const status = ready ? [ready.status === 'True' ? 'Ready' : 'NotReady'] : ['Unknown'];
  if (node.spec?.unschedulable) status.push('SchedulingDisabled');
  return status.join(',');
}

/** The ROLES cell, from `node-role.kubernetes.io/<role>` and `kubernetes.io/role` labels. */
function nodeRolesCell(o: KubeObject): string {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(o.metadata?.labels ?? {})) {
    if (k.startsWith('node-role.kubernetes.io/')) {
      const role = k.slice('node-role.kubernetes.io/'.length);
      if (role) roles.add(role);
    } else if (k === 'kubernetes.io/role' && v) {
      roles.add(v);
    }
  }
  return roles.size === 0 ? '<none>' : [...roles].sort().join(',');
}

function nodeAddress(o: KubeObject, type: string): string {
  return (o as Node).status?.addresses?.find((a) => a.type === type)?.address ?? '<none>';
}

function nodeInfo(o: KubeObject, field: 'osImage' | 'kernelVersion' | 'containerRuntimeVersion'): string {
  return (o as Node).status?.nodeInfo?.[field] || '<unknown>';
}

const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

/** Taints: label-like key and value, a known effect, unique by key and effect. */
function validateNode(object: KubeObject): FieldError[] {
  const spec = isObject(object.spec) ? object.spec : {};
  const errors: FieldError[] = [];
  const seen = new Set<string>();
  for (const [i, taint] of objectsOf(spec.taints)) {
    const p = at('spec.taints', i);
    for (const m of qualifiedNameErrors(str(taint.key))) errors.push(invalid(at(p, 'key'), taint.key, m));
    const valueErrors = labelValueErrors(str(taint.value));
    if (valueErrors.length > 0) errors.push(invalid(at(p, 'value'), taint.value, valueErrors.join(';')));
    const effect = str(taint.effect);
    if (effect === '') errors.push(required(at(p, 'effect')));
    else if (!TAINT_EFFECTS.includes(effect)) errors.push(notSupported(at(p, 'effect'), effect, TAINT_EFFECTS));
    const id = JSON.stringify([str(taint.key), effect]);
    if (seen.has(id)) {
      const error = duplicate(p, taint);
      errors.push({ ...error, message: `${error.message}: taints must be unique by key and effect pair` });
    }
    seen.add(id);
  }
  return errors;
}

/**
 * Nodes: `no`, cluster-scoped, registered by kubelets. Allocatable defaults to capacity, as
 * upstream.
 */
export const nodesKind: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'Node',
  plural: 'nodes',
  singular: 'node',
  shortNames: ['no'],
  categories: [],
  namespaced: false,
  subresources: { status: true },
  generation: false,
  printerColumns: [
    column('Status', 'string', 'Whether the node is ready, and whether it takes new pods.', nodeStatusCell),
    column('Roles', 'string', 'The roles the node\'s labels give it.', nodeRolesCell),
    ageColumn,
    column('Version', 'string', 'The kubelet version the node runs.', (o) => (o as Node).status?.nodeInfo?.kubeletVersion ?? ''),
    wideColumn('Internal-IP', 'string', 'The node\'s first internal IP address.', (o) => nodeAddress(o, 'InternalIP')),
    wideColumn('External-IP', 'string', 'The node\'s first external IP address.', (o) => nodeAddress(o, 'ExternalIP')),
    wideColumn('OS-Image', 'string', 'The operating system the node reports.', (o) => nodeInfo(o, 'osImage')),
    wideColumn('Kernel-Version', 'string', 'The kernel version the node reports.', (o) => nodeInfo(o, 'kernelVersion')),
    wideColumn('Container-Runtime', 'string', 'The container runtime and version the node reports.', (o) => nodeInfo(o, 'containerRuntimeVersion')),
  ],
  defaults(object) {
    const status = isObject(object.status) ? object.status : undefined;
    if (status && isObject(status.capacity) && (status.allocatable === undefined || status.allocatable === null)) {
      status.allocatable = { ...status.capacity };
    }
  },
  validate: validateNode,
  fieldSelectors: { 'spec.unschedulable': (o) => String((o as Node).spec?.unschedulable === true) },
};
