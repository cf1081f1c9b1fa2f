/**
 * The generated schemas of the built-in types, loaded once from `generated/` (written by
 * `scripts/generate-openapi.ts`), with Skiff's strategic-merge facts added: each list field that
 * `patchMetaFor` says merges gets upstream's `x-kubernetes-patch-strategy` and
 * `x-kubernetes-patch-merge-key`. Clients that compute strategic merge patches from published
 * schemas read them there (kubectl does when an operation declares a strategic-merge body), and
 * a merging list published without them would be replaced wholesale.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { patchMetaFor, type PatchMeta } from '../patch/index.ts';
import { isSchema, referencedNames, targetName, type Schema } from './schema.ts';

const GENERATED_DIR = join(import.meta.dirname, 'generated');

/** The built-in schemas by name, and the kinds among them. Read-only once loaded. */
export class SchemaCatalog {
  readonly #schemas: Map<string, Schema>;
  readonly #kinds = new Map<string, string>();
  readonly #references = new Map<string, readonly string[]>();

  /** `schemas`: name → schema, as generated; patch extensions are added in place. */
  constructor(schemas: Map<string, Schema>) {
    this.#schemas = schemas;
    for (const [name, schema] of schemas) {
      const gvks = schema['x-kubernetes-group-version-kind'];
      if (!Array.isArray(gvks)) continue;
      for (const gvk of gvks as { group: string; version: string; kind: string }[]) {
        this.#kinds.set(kindKey(gvk.group, gvk.version, gvk.kind), name);
      }
    }
    for (const [key, name] of this.#kinds) {
      const [group, version, kind] = key.split('/') as [string, string, string];
      const meta = patchMetaFor(group, version, kind);
      if (meta) this.#addPatchExtensions(name, meta);
    }
  }

  /** The schemas under `generated/`. */
  static load(dir: string = GENERATED_DIR): SchemaCatalog {
    const schemas = new Map<string, Schema>();
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
      for (const [name, schema] of Object.entries(JSON.parse(readFileSync(join(dir, file), 'utf8')) as Record<string, Schema>)) {
        schemas.set(name, schema);
      }
    }
    return new SchemaCatalog(schemas);
  }

  /** A schema by its upstream name (`io.k8s.api.apps.v1.Deployment`). */
  get(name: string): Schema | undefined {
    return this.#schemas.get(name);
  }

  /** The schema name of a built-in kind (`apps`, `v1`, `Deployment`), if there is one. */
  kindSchema(group: string, version: string, kind: string): string | undefined {
    return this.#kinds.get(kindKey(group, version, kind));
  }

  /** The names a schema refers to directly (memoized; the schemas do not change). */
  references(name: string): readonly string[] {
    let refs = this.#references.get(name);
    if (!refs) {
      refs = [...referencedNames(this.#schemas.get(name))];
      this.#references.set(name, refs);
    }
    return refs;
  }

  /**
   * Marks the fields `meta` describes on the schema `name` and, through references, on the
   * schemas of nested objects. Shared types (PodSpec, ObjectMeta) collect the facts of every
   * kind that reaches them, which agree, since upstream's facts are per type too.
   */
  #addPatchExtensions(name: string, meta: PatchMeta): void {
    const properties = this.#schemas.get(name)?.properties;
    if (!isSchema(properties)) return;
    for (const [field, fieldMeta] of Object.entries(meta.fields)) {
      const property = properties[field];
      if (!isSchema(property)) continue;
      const strategies = [fieldMeta.strategy, fieldMeta.retainKeys ? 'retainKeys' : undefined].filter((s) => s !== undefined);
      if (strategies.length > 0) property['x-kubernetes-patch-strategy'] = strategies.join(',');
      if (fieldMeta.mergeKey !== undefined) property['x-kubernetes-patch-merge-key'] = fieldMeta.mergeKey;
      const target = targetName(property);
      if (fieldMeta.meta && target) this.#addPatchExtensions(target, fieldMeta.meta);
    }
  }
}

function kindKey(group: string, version: string, kind: string): string {
  return `${group}/${version}/${kind}`;
}
