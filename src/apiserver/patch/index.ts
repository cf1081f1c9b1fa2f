/**
 * Patches: JSON Patch (RFC 6902) and JSON Merge Patch (RFC 7386), which need no schema, and
 * strategic merge patch, which needs the kind's {@link PatchMeta} (`patchMetaFor`). All take and
 * return plain JSON values and never modify their inputs.
 */
export { applyJsonPatch } from './json-patch.ts';
export { applyMergePatch } from './merge-patch.ts';
export { applyStrategicMergePatch } from './strategic-merge.ts';
export { patchMetaFor } from './patch-meta.ts';
export type { FieldPatchMeta, PatchMeta } from './patch-meta.ts';
export { PatchError } from './errors.ts';
