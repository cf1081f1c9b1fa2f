/**
 * Version conversion of objects served in several versions that share one storage version
 * (custom resources with the `None` conversion strategy): only `apiVersion` changes, as
 * upstream's nop converter does. Built-in kinds are served in one version each and never
 * converted.
 */
import { groupVersion, type KubeObject, type ResourceDef } from './resource.ts';

/** The `apiVersion` objects of `def` are stored with. */
export function storageGroupVersion(def: ResourceDef): string {
  return def.storageVersion ? groupVersion({ group: def.group, version: def.storageVersion }) : groupVersion(def);
}

/** Whether objects read through `def` may need converting. */
export function converts(def: ResourceDef): boolean {
  return def.storageVersion !== undefined && def.storageVersion !== def.version;
}

/** The object as the version `def` serves (a shallow copy when it changes). */
export function convertOut(def: ResourceDef, object: KubeObject): KubeObject {
  const wanted = groupVersion(def);
  return object.apiVersion === wanted ? object : { ...object, apiVersion: wanted };
}
