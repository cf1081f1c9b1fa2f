/**
 * ControllerRevisions, the way StatefulSets and DaemonSets record their pod templates (upstream's
 * `pkg/controller/history`): each revision holds a strategic merge patch that restores the
 * template (`{"spec":{"template":{…,"$patch":"replace"}}}`, the shape `kubectl rollout undo`
 * applies), a revision number, and a name `<owner>-<hash>`. Pure functions; the API calls are in
 * `history.ts`.
 */
import type { ControllerRevision } from 'kubernetes-types/apps/v1.js';
import type { PodTemplateSpec } from 'kubernetes-types/core/v1.js';

/** The label holding a revision's hash (upstream's `ControllerRevisionHashLabel`). */
export const revisionHashLabel = 'controller.kubernetes.io/hash';

/** The pod (and DaemonSet revision) label naming the revision a pod was made from. */
export const podRevisionLabel = 'controller-revision-hash';

const alphanums = 'bcdfghjklmnpqrstvwxz2456789';

/**
 * Upstream's `rand.SafeEncodeString`: each character mapped onto consonants and digits that
 * spell no words, so hashes never read as anything.
 */
export function safeEncode(text: string): string {
  let out = '';
  for (const ch of text) out += alphanums[ch.codePointAt(0)! % alphanums.length];
  return out;
}

/** FNV-1 32-bit (`hash/fnv.New32`) when `a` is false, FNV-1a (`New32a`) when true. */
export function fnv32(bytes: Uint8Array, a = false, seed = 0x811c9dc5): number {
  let hash = seed >>> 0;
  for (const byte of bytes) {
    if (a) {
      hash ^= byte;
      hash = Math.imul(hash, 0x01000193) >>> 0;
    } else {
      hash = Math.imul(hash, 0x01000193) >>> 0;
      hash ^= byte;
    }
  }
  return hash >>> 0;
}

/**
 * JSON as Go's `encoding/json` writes a decoded map: keys sorted at every level, `<`, `>`, `&`
 * and the two JS line separators escaped. Revisions compare and hash by these bytes, so two
 * equal templates always give one revision whatever order their keys came in.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value)).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const v = (value as Record<string, unknown>)[key];
    if (v !== undefined) out[key] = sortKeys(v);
  }
  return out;
}

/** The patch a revision stores: replaces the owner's `spec.template` with `template`. */
export function templatePatch(template: PodTemplateSpec | undefined): Record<string, unknown> {
  return { spec: { template: { ...structuredClone(template ?? {}), $patch: 'replace' } } };
}

/** The template a revision's patch restores. */
export function templateOf(revision: ControllerRevision): PodTemplateSpec {
  const template = structuredClone(((revision.data as { spec?: { template?: Record<string, unknown> } } | undefined)?.spec?.template ?? {}) as Record<string, unknown>);
  delete template.$patch;
  return template as PodTemplateSpec;
}

/**
 * Upstream's `HashControllerRevision`: FNV-1 of the data's bytes, then the collision count
 * (when given) in decimal, safe-encoded.
 */
export function hashRevisionData(data: unknown, collisionCount?: number): string {
  const encoder = new TextEncoder();
  let hash = fnv32(encoder.encode(canonicalJson(data)));
  if (collisionCount !== undefined) hash = fnv32(encoder.encode(String(collisionCount)), false, hash);
  return safeEncode(String(hash));
}

/**
 * A pod template's hash as upstream's `controller.ComputeHash` makes it (FNV-1a over the template,
 * then the collision count as 8 little-endian bytes), safe-encoded: DaemonSet revision names and
 * their pods' `controller-revision-hash`.
 */
export function podTemplateHash(template: PodTemplateSpec | undefined, collisionCount?: number): string {
  let hash = fnv32(new TextEncoder().encode(canonicalJson(template ?? {})), true);
  if (collisionCount !== undefined) {
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setUint32(0, collisionCount >>> 0, true);
    hash = fnv32(bytes, true, hash);
  }
  return safeEncode(String(hash));
}

/** `<prefix>-<hash>`, the prefix cut to 223 characters so the name stays within 253. */
export function revisionName(prefix: string, hash: string): string {
  return `${prefix.slice(0, 223)}-${hash}`;
}

/** Whether two revisions hold the same data. */
export function equalRevision(a: ControllerRevision, b: ControllerRevision): boolean {
  const ha = a.metadata?.labels?.[revisionHashLabel];
  const hb = b.metadata?.labels?.[revisionHashLabel];
  if (ha !== undefined && hb !== undefined && ha !== hb) return false;
  return canonicalJson(a.data) === canonicalJson(b.data);
}

/** Revisions in ascending `revision` order; ties broken by creation time, then name (a new list). */
export function sortRevisions(revisions: readonly ControllerRevision[]): ControllerRevision[] {
  return [...revisions].sort((a, b) => {
    if (a.revision !== b.revision) return a.revision - b.revision;
    const ta = a.metadata?.creationTimestamp ?? '';
    const tb = b.metadata?.creationTimestamp ?? '';
    if (ta !== tb) return ta < tb ? -1 : 1;
    return (a.metadata?.name ?? '') < (b.metadata?.name ?? '') ? -1 : 1;
  });
}

/** The number the next revision takes: one past the highest (1 for the first). */
export function nextRevision(sorted: readonly ControllerRevision[]): number {
  return sorted.length === 0 ? 1 : sorted[sorted.length - 1]!.revision + 1;
}
