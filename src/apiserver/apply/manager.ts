/**
 * Who a write is recorded for, and the request options that say so (`fieldManager`, `force`),
 * validated as upstream's `ValidateCreateOptions` / `ValidateUpdateOptions` /
 * `ValidatePatchOptions` do.
 */
import { badRequest, invalid } from '../errors.ts';
import type { FieldError } from '../resource.ts';

/** Upstream's longest `fieldManager`, in bytes. */
const MAX_MANAGER_BYTES = 128;

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

/**
 * The manager a write is recorded for: `fieldManager` when the client sent one, else the
 * User-Agent up to its first `/` (kubectl's `kubectl/v1.32.0 (linux/amd64) …` gives `kubectl`),
 * without unprintable characters and cut at 128 bytes. Empty when neither is known; the record
 * then says `unknown`.
 */
export function managerOrUserAgent(fieldManager: string, userAgent: string | undefined): string {
  if (fieldManager !== '') return fieldManager;
  let out = '';
  let bytes = 0;
  for (const ch of (userAgent ?? '').split('/')[0]!) {
    if (!PRINTABLE.test(ch)) continue;
    const size = Buffer.byteLength(ch);
    if (bytes + size > MAX_MANAGER_BYTES) break;
    out += ch;
    bytes += size;
  }
  return out;
}

/** The field manager options of a write request. */
export interface ManagerOptions {
  /** `fieldManager`, `''` when absent. */
  fieldManager: string;
  /** `force`, false when absent. */
  force: boolean;
}

/** Go's `strconv.ParseBool`. */
function parseBool(text: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)) return false;
  return undefined;
}

/**
 * Reads and validates `fieldManager` and `force` from a write's query. `options` names the
 * request's options kind in errors (`PatchOptions`); `apply` says whether it is an apply
 * patch, which requires a manager and alone may carry `force`. Throws upstream's 422
 * (`PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply
 * patch`) or a 400 for a `force` that is not a boolean.
 */
export function managerOptions(
  query: URLSearchParams,
  options: 'CreateOptions' | 'UpdateOptions' | 'PatchOptions',
  apply: boolean,
): ManagerOptions {
  const fieldManager = query.get('fieldManager') ?? '';
  const forceText = query.get('force');
  let force = false;
  if (forceText !== null) {
    const parsed = parseBool(forceText);
    if (parsed === undefined) badRequestForce(forceText);
    force = parsed!;
  }
  const errors: FieldError[] = [];
  if (options === 'PatchOptions') {
    if (!apply && forceText !== null) {
      errors.push({ type: 'FieldValueForbidden', field: 'force', message: 'Forbidden: may not be specified for non-apply patch' });
    }
    if (apply && fieldManager === '') {
      errors.push({ type: 'FieldValueRequired', field: 'fieldManager', message: 'Required value: is required for apply patch' });
    }
  }
  if (Buffer.byteLength(fieldManager) > MAX_MANAGER_BYTES) {
    errors.push({ type: 'FieldValueTooLong', field: 'fieldManager', message: `Too long: may not be more than ${MAX_MANAGER_BYTES} bytes` });
  }
  let position = 0;
  for (const ch of fieldManager) {
    if (!PRINTABLE.test(ch)) {
      const code = ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
      errors.push({
        type: 'FieldValueInvalid',
        field: 'fieldManager',
        message: `Invalid value: ${JSON.stringify(fieldManager)}: invalid character U+${code} (at position ${position})`,
      });
    }
    position += Buffer.byteLength(ch);
  }
  if (errors.length > 0) throw invalid(options, 'meta.k8s.io', '', errors);
  return { fieldManager, force };
}

function badRequestForce(text: string): never {
  throw badRequest(`strconv.ParseBool: parsing ${JSON.stringify(text)}: invalid syntax`);
}
