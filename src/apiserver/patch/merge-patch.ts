/**
 * JSON Merge Patch (RFC 7386, `application/merge-patch+json`) over plain JSON values.
 */
import { cloneJson, isJsonObject, setOwn } from '../json-value.ts';
import type { JsonObject } from '../json-value.ts';

/**
 * Applies a merge patch and returns the result: a patch object merges key by key into the
 * document (recursively), a `null` member deletes that key, and anything that is not an object
 * (arrays, strings, numbers, `null`) replaces the value it lands on — a non-object patch
 * replaces the whole document. A patch object applied to a non-object starts from `{}`.
 *
 * The document and the patch are never modified and the result shares no objects with either.
 * Never throws: every JSON value is a valid merge patch.
 */
export function applyMergePatch(document: unknown, patch: unknown): unknown {
  if (!isJsonObject(patch)) return cloneJson(patch);
  return mergeInto(isJsonObject(document) ? cloneJson(document) : {}, patch);
}

/** Merges into `target`, which is already a private copy, so it is modified in place. */
function mergeInto(target: JsonObject, patch: JsonObject): JsonObject {
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) {
      delete target[key];
    } else if (isJsonObject(value)) {
      // Nested patch objects recurse, so their own nulls delete (or, on a new key, vanish).
      const current = Object.hasOwn(target, key) ? target[key] : undefined;
      setOwn(target, key, mergeInto(isJsonObject(current) ? current : {}, value));
    } else {
      setOwn(target, key, cloneJson(value));
    }
  }
  return target;
}
