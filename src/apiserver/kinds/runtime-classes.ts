/** The node.k8s.io/v1 RuntimeClass kind. */
import type { RuntimeClass } from 'kubernetes-types/node/v1.js';
import type { FieldError, KubeObject, ResourceDef } from '../resource.ts';
import { dns1123LabelErrors, immutable, invalid, validateLabels } from '../validation/index.ts';
import { ageColumn, column } from './columns.ts';
import { isObject, key, str } from './checks.ts';
import { validateQuantity } from './pod-spec.ts';

/**
 * Upstream's `ValidateRuntimeClass`: the handler is an RFC 1123 label (it names a CRI runtime
 * handler, e.g. `runc`), pod overhead is a list of valid quantities and the scheduling node
 * selector a label map. The handler cannot change once pods may run with it.
 */
function validateRuntimeClass(object: KubeObject, old: KubeObject | undefined): FieldError[] {
  const handler = str(object.handler);
  const errors = dns1123LabelErrors(handler).map((m) => invalid('handler', handler, m));
  const podFixed = isObject(object.overhead) ? object.overhead.podFixed : undefined;
  if (isObject(podFixed)) {
    for (const [name, value] of Object.entries(podFixed)) errors.push(...validateQuantity(name, value, key('overhead.podFixed', name)));
  }
  if (isObject(object.scheduling)) errors.push(...validateLabels(object.scheduling.nodeSelector, 'scheduling.nodeSelector'));
  if (old && handler !== str(old.handler)) errors.push(immutable('handler', handler));
  return errors;
}

/** RuntimeClasses: named container runtime configurations pods select with `runtimeClassName`. */
const runtimeClassesKind: ResourceDef = {
  group: 'node.k8s.io',
  version: 'v1',
  kind: 'RuntimeClass',
  plural: 'runtimeclasses',
  singular: 'runtimeclass',
  shortNames: [],
  categories: [],
  namespaced: false,
  subresources: {},
  generation: false,
  printerColumns: [column('Handler', 'string', 'The name of the underlying runtime handler.', (o) => (o as Partial<RuntimeClass>).handler ?? ''), ageColumn],
  validate: validateRuntimeClass,
};

/** The node.k8s.io group's kinds. */
export const nodeKinds: readonly ResourceDef[] = [runtimeClassesKind];
