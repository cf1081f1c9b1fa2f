/**
 * The OpenAPI documents of the kinds a registry serves: `/openapi/v3/<group-version>` (the
 * operations and every schema reachable from the group-version's kinds), the `/openapi/v3`
 * index with each document's hash, and `/openapi/v2` (every served kind's schemas as
 * definitions), as JSON or as gnostic protobuf.
 *
 * Contract: documents are built on first request and kept until the registry changes (a custom
 * resource served or withdrawn), so a request costs a map lookup. A document never refers to a
 * schema it does not contain.
 */
import { createHash } from 'node:crypto';
import { KUBE_VERSION } from '../discovery.ts';
import type { ResourceRegistry } from '../registry.ts';
import { groupVersion, type ResourceDef } from '../resource.ts';
import type { SchemaCatalog } from './catalog.ts';
import { customResourceSchemas } from './custom-resources.ts';
import { referencedNames, type Schema } from './schema.ts';
import { toV2Schema, v2Json, v2Protobuf, type V2Document } from './v2.ts';

/** What `/openapi/v2` answers with. */
export interface V2Response {
  contentType: string;
  body: Uint8Array | string;
}

const V2_PROTOBUF = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';

/** The documents of one registry. See the file header. */
export class OpenApiDocuments {
  readonly #registry: ResourceRegistry;
  readonly #catalog: () => SchemaCatalog;
  /** Group-version path (`apis/apps/v1`) → document JSON; undefined entries: not served. */
  #v3 = new Map<string, string | undefined>();
  #root: Record<string, unknown> | undefined;
  #v2: V2Document | undefined;
  #v2Json: string | undefined;
  #v2Protobuf: Uint8Array | undefined;

  /** `catalog` is called when a document is first needed (the schemas load lazily). */
  constructor(registry: ResourceRegistry, catalog: () => SchemaCatalog) {
    this.#registry = registry;
    this.#catalog = catalog;
    registry.onChange(() => this.#forget());
  }

  /** The document of `api/v1` or `apis/<group>/<version>` as JSON, or undefined when not served. */
  v3GroupVersion(gvPath: string): string | undefined {
    if (!this.#v3.has(gvPath)) this.#v3.set(gvPath, this.#buildV3(gvPath));
    return this.#v3.get(gvPath);
  }

  /** `/openapi/v3`: each served group-version's document URL, with its hash. */
  v3Root(): Record<string, unknown> {
    if (!this.#root) {
      const paths: Record<string, unknown> = {};
      const gvs = new Set(this.#registry.all().map((def) => groupVersion(def)));
      for (const gv of gvs) {
        const key = gv === 'v1' ? 'api/v1' : `apis/${gv}`;
        const hash = createHash('sha512').update(this.v3GroupVersion(key) ?? '').digest('hex').slice(0, 32).toUpperCase();
        paths[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=${hash}` };
      }
      this.#root = { paths };
    }
    return this.#root;
  }

  /** `/openapi/v2`: protobuf when the client asks for it (kubectl does), JSON otherwise. */
  v2(protobuf: boolean): V2Response {
    this.#v2 ??= this.#buildV2();
    if (protobuf) return { contentType: V2_PROTOBUF, body: (this.#v2Protobuf ??= v2Protobuf(this.#v2)) };
    return { contentType: 'application/json', body: (this.#v2Json ??= v2Json(this.#v2)) };
  }

  #forget(): void {
    this.#v3 = new Map();
    this.#root = undefined;
    this.#v2 = undefined;
    this.#v2Json = undefined;
    this.#v2Protobuf = undefined;
  }

  #buildV3(gvPath: string): string | undefined {
    const gv = gvPath === 'api/v1' ? 'v1' : gvPath.startsWith('apis/') ? gvPath.slice('apis/'.length) : undefined;
    if (gv === undefined) return undefined;
    const defs = this.#registry.inGroupVersion(gv);
    if (defs.length === 0) return undefined;
    return JSON.stringify({
      openapi: '3.0.0',
      info: { title: 'Kubernetes', version: KUBE_VERSION.gitVersion },
      paths: operations(gv, defs),
      components: { schemas: Object.fromEntries(this.#schemasOf(defs)) },
    });
  }

  #buildV2(): V2Document {
    const definitions: Record<string, Schema> = {};
    for (const [name, schema] of this.#schemasOf(this.#registry.all())) definitions[name] = toV2Schema(schema);
    return { title: 'Kubernetes', version: KUBE_VERSION.gitVersion, definitions };
  }

  /**
   * The schemas of `defs` (each kind and its list kind) and every schema they reach, sorted by
   * name. A kind with no schema (neither a CRD schema nor a generated one) is left out, so
   * clients fall back to what they know, rather than trusting an empty schema.
   */
  #schemasOf(defs: ResourceDef[]): [string, Schema][] {
    const catalog = this.#catalog();
    const custom = new Map<string, Schema>();
    const pending: string[] = [];
    for (const def of defs) {
      if (def.openapiSchema !== undefined) {
        for (const [name, schema] of customResourceSchemas(def, catalog)) {
          custom.set(name, schema);
          pending.push(name);
        }
        continue;
      }
      for (const kind of [def.kind, `${def.kind}List`]) {
        const name = catalog.kindSchema(def.group, def.version, kind);
        if (name) pending.push(name);
      }
    }
    const found = new Map<string, Schema>();
    while (pending.length > 0) {
      const name = pending.pop()!;
      if (found.has(name)) continue;
      const schema = custom.get(name) ?? catalog.get(name);
      // Generation guarantees every reference resolves; a dangling one would make kubectl refuse
      // the whole v2 document, so fail loudly here instead.
      if (!schema) throw new Error(`OpenAPI schema ${name} is referenced but not generated`);
      found.set(name, schema);
      pending.push(...(custom.has(name) ? referencedNames(schema) : catalog.references(name)));
    }
    return [...found].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }
}

function urlPrefix(def: ResourceDef): string {
  return def.group === '' ? `/api/${def.version}` : `/apis/${def.group}/${def.version}`;
}

const QUERY_PARAMS = ['dryRun', 'fieldManager', 'fieldValidation', 'force', 'pretty'].map((name) => ({
  name,
  in: 'query',
  schema: { type: name === 'force' ? 'boolean' : 'string' },
  uniqueItems: true,
}));

/**
 * The operations of a group-version's kinds. kubectl reads two things here: every PATCH lists
 * the `fieldValidation` parameter (so kubectl leaves validation to the server), and every
 * operation carries `x-kubernetes-group-version-kind` (how `kubectl explain` finds a resource's
 * schema). No PATCH declares a strategic-merge request body (nor does `/openapi/v2` list
 * operations), so kubectl 1.27–1.33 compute `apply` patches from their compiled-in types, as
 * before schemas were published; checked with `kubectl apply -v=9`.
 */
function operations(gv: string, defs: ResourceDef[]): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (const def of defs) {
    const gvk = { group: def.group, version: def.version, kind: def.kind };
    const collection = `${urlPrefix(def)}${def.namespaced ? '/namespaces/{namespace}' : ''}/${def.plural}`;
    const op = (action: string) => ({
      tags: [gv.replace('/', '_')],
      operationId: `${action}${def.kind}`,
      parameters: QUERY_PARAMS,
      responses: { '200': { description: 'OK' } },
      'x-kubernetes-action': action,
      'x-kubernetes-group-version-kind': gvk,
    });
    paths[`${collection}/{name}`] = { get: op('get'), put: op('put'), patch: op('patch'), delete: op('delete') };
    paths[collection] = { get: op('list'), post: op('post') };
  }
  return paths;
}
