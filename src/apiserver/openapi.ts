/**
 * `/openapi/v2` and `/openapi/v3`: the schemas of every served kind — built-in kinds from the
 * schemas generated from `kubernetes-types` (`openapi/generated/`, see
 * `scripts/generate-openapi.ts`), custom resources from their CRD's `openAPIV3Schema` — and,
 * in v3, the operations, whose PATCH `fieldValidation` parameter makes kubectl leave
 * validation to the server. `kubectl explain` reads these (v3; 1.27 also v2 with
 * `--output plaintext-openapiv2`), and kubectl ≤ 1.29 needs `/openapi/v2` to parse before it
 * validates anything.
 *
 * Documents are built once per registry change (custom resources come and go), not per request.
 */
import type { ResourceRegistry } from './registry.ts';
import { SchemaCatalog } from './openapi/catalog.ts';
import { OpenApiDocuments, type V2Response } from './openapi/documents.ts';
import { pruneUnknownFields, typeErrors, unknownFields } from './openapi/unknown-fields.ts';
import type { KubeObject } from './resource.ts';

let catalog: SchemaCatalog | undefined;
/** The generated schemas, read on first use: most server runs never serve OpenAPI. */
const loadCatalog = () => (catalog ??= SchemaCatalog.load());

const documents = new WeakMap<ResourceRegistry, OpenApiDocuments>();

function documentsOf(registry: ResourceRegistry): OpenApiDocuments {
  let docs = documents.get(registry);
  if (!docs) documents.set(registry, (docs = new OpenApiDocuments(registry, loadCatalog)));
  return docs;
}

/** The per-group-version document (`/openapi/v3/apis/apps/v1`) as JSON, or undefined. */
export function openapiV3GroupVersion(registry: ResourceRegistry, gvPath: string): string | undefined {
  return documentsOf(registry).v3GroupVersion(gvPath);
}

/** `/openapi/v3`: where each group-version's document is, with its hash. */
export function openapiV3Root(registry: ResourceRegistry): Record<string, unknown> {
  return documentsOf(registry).v3Root();
}

/**
 * `/openapi/v2` as the gnostic `openapi_v2.Document` protobuf kubectl asks for, and JSON for
 * everyone else, with a definition for every served kind and what it refers to.
 */
export function openapiV2(registry: ResourceRegistry, protobuf: boolean): V2Response {
  return documentsOf(registry).v2(protobuf);
}

/** The schema name of a built-in kind, looked up on the first call (the schemas load then). */
function schemaName(group: string, version: string, kind: string): () => string | undefined {
  let name: string | undefined | null = null;
  return () => (name === null ? (name = loadCatalog().kindSchema(group, version, kind)) : name);
}

/**
 * The unknown-field check of a built-in kind (`fieldValidation`), or undefined for a kind the
 * generated schemas do not describe. The schemas load on the first check.
 */
export function builtinUnknownFields(group: string, version: string, kind: string): (object: KubeObject) => string[] {
  const name = schemaName(group, version, kind);
  return (object) => {
    const schema = name();
    return schema ? unknownFields(loadCatalog(), schema, object) : [];
  };
}

/** Drops, in place, what a built-in kind's schema does not define (as decoding into Go types does upstream). */
export function builtinPrune(group: string, version: string, kind: string): (object: KubeObject) => void {
  const name = schemaName(group, version, kind);
  return (object) => {
    const schema = name();
    if (schema) pruneUnknownFields(loadCatalog(), schema, object);
  };
}

/** The JSON type mismatches of a built-in object against its schema (Go's decoder wording). */
export function builtinTypeErrors(group: string, version: string, kind: string): (object: KubeObject) => string[] {
  const name = schemaName(group, version, kind);
  return (object) => {
    const schema = name();
    return schema ? typeErrors(loadCatalog(), schema, object) : [];
  };
}
