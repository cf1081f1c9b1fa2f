/**
 * OpenAPI v3 documents: for now, the operations of every served kind without schemas.
 *
 * kubectl reads these to learn that the server validates fields itself (the `fieldValidation`
 * parameter on each PATCH operation), and then leaves validation to the server instead of
 * downloading schemas. The schemas themselves (for `kubectl explain` and server-side apply)
 * are generated from `kubernetes-types` in a later step; until then no schema is published, so
 * that kubectl falls back to its compiled-in knowledge of built-in types rather than trusting
 * an empty schema.
 */
import { createHash } from 'node:crypto';
import type { ResourceRegistry } from './registry.ts';
import { groupVersion, type ResourceDef } from './resource.ts';
import { KUBE_VERSION } from './discovery.ts';

function urlPrefix(def: ResourceDef): string {
  return def.group === '' ? `/api/${def.version}` : `/apis/${def.group}/${def.version}`;
}

const QUERY_PARAMS = ['dryRun', 'fieldManager', 'fieldValidation', 'force', 'pretty'].map((name) => ({
  name,
  in: 'query',
  schema: { type: name === 'force' ? 'boolean' : 'string' },
  uniqueItems: true,
}));

/** The per-group-version document (`/openapi/v3/apis/apps/v1`), or undefined. */
export function openapiV3GroupVersion(registry: ResourceRegistry, gvPath: string): Record<string, unknown> | undefined {
  const gv = gvPath === 'api/v1' ? 'v1' : gvPath.startsWith('apis/') ? gvPath.slice('apis/'.length) : undefined;
  if (gv === undefined) return undefined;
  const defs = registry.inGroupVersion(gv);
  if (defs.length === 0) return undefined;
  const paths: Record<string, unknown> = {};
  for (const def of defs) {
    const gvk = { group: def.group, version: def.version, kind: def.kind };
    const item = `${urlPrefix(def)}${def.namespaced ? '/namespaces/{namespace}' : ''}/${def.plural}/{name}`;
    const op = (action: string) => ({
      tags: [gv.replace('/', '_')],
      operationId: `${action}${def.kind}`,
      parameters: QUERY_PARAMS,
      responses: { '200': { description: 'OK' } },
      'x-kubernetes-action': action,
      'x-kubernetes-group-version-kind': gvk,
    });
    paths[item] = { get: op('get'), put: op('put'), patch: op('patch'), delete: op('delete') };
    paths[`${urlPrefix(def)}${def.namespaced ? '/namespaces/{namespace}' : ''}/${def.plural}`] = { get: op('list'), post: op('post') };
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: KUBE_VERSION.gitVersion },
    paths,
    components: { schemas: {} },
  };
}

/** `/openapi/v3`: where each group-version's document is. */
export function openapiV3Root(registry: ResourceRegistry): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  const gvs = new Set(registry.all().map((def) => groupVersion(def)));
  for (const gv of gvs) {
    const key = gv === 'v1' ? 'api/v1' : `apis/${gv}`;
    const doc = JSON.stringify(openapiV3GroupVersion(registry, key));
    const hash = createHash('sha512').update(doc).digest('hex').slice(0, 32).toUpperCase();
    paths[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=${hash}` };
  }
  return { paths };
}

/**
 * `/openapi/v2` as the gnostic `openapi_v2.Document` protobuf kubectl asks for (and JSON for
 * everyone else): a document with no definitions. kubectl ≤ 1.29 needs it to exist before
 * it validates anything; with no schema for a kind it leaves validation to the server.
 */
export function openapiV2(protobuf: boolean): { contentType: string; body: Uint8Array | string } {
  if (!protobuf) {
    return {
      contentType: 'application/json',
      body: JSON.stringify({ swagger: '2.0', info: { title: 'Kubernetes', version: KUBE_VERSION.gitVersion }, paths: {}, definitions: {} }),
    };
  }
  // Field numbers from gnostic's openapiv2 proto: Document.swagger = 1, Document.info = 2,
  // Document.paths = 8, Document.definitions = 9; Info.title = 1, Info.version = 2.
  const info = concat(stringField(1, 'Kubernetes'), stringField(2, KUBE_VERSION.gitVersion));
  const doc = concat(stringField(1, '2.0'), bytesField(2, info), bytesField(8, new Uint8Array()), bytesField(9, new Uint8Array()));
  return { contentType: 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf', body: doc };
}

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}

function bytesField(field: number, bytes: Uint8Array): Uint8Array {
  return concat(new Uint8Array([...varint((field << 3) | 2), ...varint(bytes.length)]), bytes);
}

function stringField(field: number, text: string): Uint8Array {
  return bytesField(field, new TextEncoder().encode(text));
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
