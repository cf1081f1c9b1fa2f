/**
 * The registry of served kinds: finds a {@link ResourceDef} from a URL's group, version and
 * resource, and lists what discovery announces. Custom resources will be added and removed at
 * run time through the same object, which is why lookups go through it rather than a constant.
 */
import { groupVersion, type ResourceDef } from './resource.ts';

/** Served kinds, indexed for request routing and discovery. */
export class ResourceRegistry {
  readonly #byPath = new Map<string, ResourceDef>();
  readonly #listeners = new Set<() => void>();

  constructor(defs: Iterable<ResourceDef> = []) {
    for (const def of defs) this.add(def);
  }

  /** Serves a kind. Throws RangeError when group/version/plural is already served. */
  add(def: ResourceDef): void {
    const path = pathKey(def.group, def.version, def.plural);
    if (this.#byPath.has(path)) throw new RangeError(`resource ${path} is already registered`);
    this.#byPath.set(path, def);
    for (const listener of this.#listeners) listener();
  }

  /** Stops serving a kind; a no-op when it isn't served. */
  remove(group: string, version: string, plural: string): void {
    if (this.#byPath.delete(pathKey(group, version, plural))) {
      for (const listener of this.#listeners) listener();
    }
  }

  /** The kind served at `/apis/<group>/<version>/<plural>` (group '' for `/api/v1`). */
  lookup(group: string, version: string, plural: string): ResourceDef | undefined {
    return this.#byPath.get(pathKey(group, version, plural));
  }

  /** The kind with this group, version and Kind name. */
  lookupKind(group: string, version: string, kind: string): ResourceDef | undefined {
    for (const def of this.#byPath.values()) {
      if (def.group === group && def.version === version && def.kind === kind) return def;
    }
    return undefined;
  }

  /** Every served kind, in registration order. */
  all(): ResourceDef[] {
    return [...this.#byPath.values()];
  }

  /** Served groups (without the core group), each with its versions, in registration order. */
  groups(): { name: string; versions: string[] }[] {
    const groups = new Map<string, Set<string>>();
    for (const def of this.#byPath.values()) {
      if (def.group === '') continue;
      let versions = groups.get(def.group);
      if (!versions) groups.set(def.group, (versions = new Set()));
      versions.add(def.version);
    }
    return [...groups].map(([name, versions]) => ({ name, versions: [...versions] }));
  }

  /** Kinds served under one group-version (`v1`, `apps/v1`). */
  inGroupVersion(gv: string): ResourceDef[] {
    return this.all().filter((def) => groupVersion(def) === gv);
  }

  /** Calls `listener` whenever the set of served kinds changes. Returns an unsubscribe. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

function pathKey(group: string, version: string, plural: string): string {
  return `${group}/${version}/${plural}`;
}
