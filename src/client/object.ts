/**
 * The shape every API object shares, and small helpers over it. Objects from the informer
 * caches are shared (in process, with the API server's own cache): treat them as read-only and
 * copy with `structuredClone` before changing one.
 */
import type { ObjectMeta, OwnerReference } from 'kubernetes-types/meta/v1.js';

/** Any API object. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
}

/** A list as the API returns it. */
export interface KubeList<T> {
  apiVersion?: string;
  kind?: string;
  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  items: T[];
}

/** `namespace/name`, or `name` for a cluster-scoped object: the key of queues and caches. */
export function objectKey(object: KubeObject): string {
  const meta = object.metadata ?? {};
  return meta.namespace ? `${meta.namespace}/${meta.name ?? ''}` : (meta.name ?? '');
}

/** Splits a key from {@link objectKey} back into namespace and name. */
export function splitKey(key: string): { namespace: string | undefined; name: string } {
  const slash = key.indexOf('/');
  return slash < 0 ? { namespace: undefined, name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/** The ownerReference with `controller: true`, if any. */
export function controllerOf(object: KubeObject): OwnerReference | undefined {
  return object.metadata?.ownerReferences?.find((ref) => ref.controller === true);
}

/** An ownerReference that makes `owner` the controller of what carries it. */
export function controllerRef(owner: KubeObject, apiVersion: string, kind: string): OwnerReference {
  return {
    apiVersion,
    kind,
    name: owner.metadata?.name ?? '',
    uid: owner.metadata?.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

/**
 * The index of objects by their controller's uid: every controller's informers share it under
 * this name, so asking a shared informer for it twice costs nothing.
 */
export const controllerUidIndex = 'controller-uid';

/** Index function of {@link controllerUidIndex}. */
export function byControllerUid(object: KubeObject): string[] {
  const uid = controllerOf(object)?.uid;
  return uid ? [uid] : [];
}

/** The index of objects that have no controller, by namespace: the orphans a controller may adopt. */
export const orphanIndex = 'orphans-by-namespace';

/** Index function of {@link orphanIndex}. */
export function orphansByNamespace(object: KubeObject): string[] {
  return controllerOf(object) ? [] : [object.metadata?.namespace ?? ''];
}
