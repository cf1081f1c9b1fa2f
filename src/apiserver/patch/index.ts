/**
 * Patches that need no schema: JSON Patch (RFC 6902) and JSON Merge Patch (RFC 7386).
 * Both take and return plain JSON values and never modify their inputs.
 */
export { applyJsonPatch } from './json-patch.ts';
export { applyMergePatch } from './merge-patch.ts';
export { PatchError } from './errors.ts';
