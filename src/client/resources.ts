/**
 * Where kinds live in the API: group, version, plural, and whether they are namespaced. The
 * well-known built-in kinds are listed here for the typed client; a custom resource is
 * described the same way by its user.
 */
import type { KubeObject } from './object.ts';

/** Where one kind lives in the API. `T` is the object type the client hands back. */
export interface ResourceType<T extends KubeObject = KubeObject> {
  /** `''` for the core group. */
  group: string;
  version: string;
  kind: string;
  /** The URL segment: `pods`, `deployments`. */
  plural: string;
  namespaced: boolean;
  /** Phantom field carrying `T`; never set. */
  readonly __object?: T;
}

/** Describes a kind; `T` is the object type its client returns. */
export function resourceType<T extends KubeObject>(group: string, version: string, kind: string, plural: string, namespaced: boolean): ResourceType<T> {
  return { group, version, kind, plural, namespaced };
}

/** `v1` or `apps/v1`. */
export function apiVersionOf(type: ResourceType<KubeObject>): string {
  return type.group === '' ? type.version : `${type.group}/${type.version}`;
}

/** The collection path: `/api/v1/namespaces/ns/pods`, or without the namespace part. */
export function collectionPath(type: ResourceType<KubeObject>, namespace?: string): string {
  const base = type.group === '' ? `/api/${type.version}` : `/apis/${type.group}/${type.version}`;
  return type.namespaced && namespace ? `${base}/namespaces/${encodeURIComponent(namespace)}/${type.plural}` : `${base}/${type.plural}`;
}

/** The path of one object (and optionally one of its subresources). */
export function objectPath(type: ResourceType<KubeObject>, namespace: string | undefined, name: string, subresource?: string): string {
  if (type.namespaced && !namespace) throw new TypeError(`${type.kind} "${name}" is namespaced: a namespace is required`);
  const path = `${collectionPath(type, namespace)}/${encodeURIComponent(name)}`;
  return subresource ? `${path}/${subresource}` : path;
}
