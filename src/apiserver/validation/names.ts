/**
 * Name and label checks with upstream's rules and messages, word for word
 * (apimachinery `pkg/util/validation/validation.go`, `pkg/api/validation/path/name.go`,
 * `pkg/apis/meta/v1/validation`, `pkg/api/validation/objectmeta.go`).
 *
 * The `…Errors` functions return one sentence per problem, empty when the value is valid; the
 * caller wraps them into field errors (`Invalid value: "Foo": <sentence>`).
 */
import type { FieldError } from '../resource.ts';
import { invalid, tooLong } from './field-errors.ts';

/** Lengths are in bytes, as Go's `len`; non-ASCII never passes the patterns anyway. */
function byteLength(value: string): number {
  return Buffer.byteLength(value, 'utf8');
}

/** Upstream's `MaxLenError`. */
function maxLenError(length: number): string {
  return `must be no more than ${length} characters`;
}

/**
 * Upstream's `RegexError`, including its odd spacing between examples:
 * `(e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '…')`.
 */
function regexError(message: string, pattern: string, ...examples: string[]): string {
  if (examples.length === 0) return `${message} (regex used for validation is '${pattern}')`;
  const shown = examples.map((e) => `'${e}', `).join(' or ');
  return `${message} (e.g. ${shown}regex used for validation is '${pattern}')`;
}

const DNS1123_LABEL_FMT = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
const DNS1123_LABEL_RE = new RegExp(`^${DNS1123_LABEL_FMT}$`);

const DNS1123_SUBDOMAIN_FMT = `${DNS1123_LABEL_FMT}(\\.${DNS1123_LABEL_FMT})*`;
const DNS1123_SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
const DNS1123_SUBDOMAIN_RE = new RegExp(`^${DNS1123_SUBDOMAIN_FMT}$`);

const DNS1035_LABEL_FMT = '[a-z]([-a-z0-9]*[a-z0-9])?';
const DNS1035_LABEL_MSG =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";
const DNS1035_LABEL_RE = new RegExp(`^${DNS1035_LABEL_FMT}$`);

const QUALIFIED_NAME_FMT = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const QUALIFIED_NAME_MSG =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const QUALIFIED_NAME_RE = new RegExp(`^${QUALIFIED_NAME_FMT}$`);

const LABEL_VALUE_FMT = `(${QUALIFIED_NAME_FMT})?`;
const LABEL_VALUE_MSG =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_VALUE_RE = new RegExp(`^${LABEL_VALUE_FMT}$`);

/** Longest DNS label (RFC 1123 / RFC 1035), label value, and name part of a qualified name. */
export const DNS1123_LABEL_MAX_LENGTH = 63;
/** Longest DNS subdomain (RFC 1123): the usual object-name limit. */
export const DNS1123_SUBDOMAIN_MAX_LENGTH = 253;
const LABEL_VALUE_MAX_LENGTH = 63;
const QUALIFIED_NAME_MAX_LENGTH = 63;
/** Upstream's limit on the total size of an object's annotations (keys plus values): 256 KiB. */
export const TOTAL_ANNOTATION_SIZE_LIMIT_BYTES = 256 * 1024;

/**
 * RFC 1123 subdomain (≤ 253 characters, lower-case alphanumerics, `-` and `.`): the rule for
 * most object names (Pods, ConfigMaps, Deployments, …).
 */
export function dns1123SubdomainErrors(value: string): string[] {
  const errors: string[] = [];
  if (byteLength(value) > DNS1123_SUBDOMAIN_MAX_LENGTH) errors.push(maxLenError(DNS1123_SUBDOMAIN_MAX_LENGTH));
  if (!DNS1123_SUBDOMAIN_RE.test(value)) {
    errors.push(regexError(DNS1123_SUBDOMAIN_MSG, DNS1123_SUBDOMAIN_FMT, 'example.com'));
  }
  return errors;
}

/** RFC 1123 label (≤ 63 characters, no dots): the rule for Namespace and Node-like names. */
export function dns1123LabelErrors(value: string): string[] {
  const errors: string[] = [];
  if (byteLength(value) > DNS1123_LABEL_MAX_LENGTH) errors.push(maxLenError(DNS1123_LABEL_MAX_LENGTH));
  if (!DNS1123_LABEL_RE.test(value)) {
    // A valid subdomain that is not a valid label can only be wrong for its dots.
    errors.push(
      DNS1123_SUBDOMAIN_RE.test(value)
        ? 'must not contain dots'
        : regexError(DNS1123_LABEL_MSG, DNS1123_LABEL_FMT, 'my-name', '123-abc'),
    );
  }
  return errors;
}

/** RFC 1035 label (≤ 63 characters, starts with a letter): the rule for Service names. */
export function dns1035LabelErrors(value: string): string[] {
  const errors: string[] = [];
  if (byteLength(value) > DNS1123_LABEL_MAX_LENGTH) errors.push(maxLenError(DNS1123_LABEL_MAX_LENGTH));
  if (!DNS1035_LABEL_RE.test(value)) {
    errors.push(regexError(DNS1035_LABEL_MSG, DNS1035_LABEL_FMT, 'my-name', 'abc-123'));
  }
  return errors;
}

/**
 * Qualified name (`[prefix/]name`): a name of ≤ 63 alphanumerics, `-`, `_`, `.`, optionally
 * after a DNS-subdomain prefix and `/`. The rule for label and annotation keys and finalizers.
 */
export function qualifiedNameErrors(value: string): string[] {
  const errors: string[] = [];
  const parts = value.split('/');
  let name: string;
  if (parts.length === 1) {
    name = parts[0]!;
  } else if (parts.length === 2) {
    const prefix = parts[0]!;
    name = parts[1]!;
    if (prefix.length === 0) errors.push('prefix part must be non-empty');
    else errors.push(...dns1123SubdomainErrors(prefix).map((e) => `prefix part ${e}`));
  } else {
    return [
      `a qualified name ${regexError(QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, 'MyName', 'my.name', '123-abc')}` +
        " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    ];
  }
  if (name.length === 0) errors.push('name part must be non-empty');
  else if (byteLength(name) > QUALIFIED_NAME_MAX_LENGTH) errors.push(`name part ${maxLenError(QUALIFIED_NAME_MAX_LENGTH)}`);
  if (!QUALIFIED_NAME_RE.test(name)) {
    errors.push(`name part ${regexError(QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, 'MyName', 'my.name', '123-abc')}`);
  }
  return errors;
}

/** Label value: empty, or ≤ 63 alphanumerics, `-`, `_`, `.` starting and ending alphanumeric. */
export function labelValueErrors(value: string): string[] {
  const errors: string[] = [];
  if (byteLength(value) > LABEL_VALUE_MAX_LENGTH) errors.push(maxLenError(LABEL_VALUE_MAX_LENGTH));
  if (!LABEL_VALUE_RE.test(value)) {
    errors.push(regexError(LABEL_VALUE_MSG, LABEL_VALUE_FMT, 'MyValue', 'my_value', '12345'));
  }
  return errors;
}

/**
 * Names that must be usable as one URL path segment (every object name, whatever its kind's
 * own rule): not `.` or `..`, no `/` or `%`. Upstream's `IsValidPathSegmentName`.
 */
export function isValidPathSegmentName(value: string): string[] {
  if (value === '.' || value === '..') return [`may not be '${value}'`];
  const errors: string[] = [];
  for (const forbidden of ['/', '%']) {
    if (value.includes(forbidden)) errors.push(`may not contain '${forbidden}'`);
  }
  return errors;
}

/** Same as {@link isValidPathSegmentName}, named like the other checks here. */
export const pathSegmentNameErrors = isValidPathSegmentName;

function isStringMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Validates `metadata.labels` (or any label map, e.g. a pod template's): keys are qualified
 * names, values label values. Errors carry `field` itself, not a per-key path, as upstream.
 * `undefined`/`null` is valid (no labels).
 */
export function validateLabels(labels: unknown, field: string): FieldError[] {
  if (labels === undefined || labels === null) return [];
  if (!isStringMap(labels)) return [invalid(field, labels, 'must be a map of string keys to string values')];
  const errors: FieldError[] = [];
  for (const [key, value] of Object.entries(labels)) {
    for (const message of qualifiedNameErrors(key)) errors.push(invalid(field, key, message));
    if (typeof value !== 'string') {
      errors.push(invalid(field, value, 'label values must be strings'));
      continue;
    }
    for (const message of labelValueErrors(value)) errors.push(invalid(field, value, message));
  }
  return errors;
}

/**
 * Validates `metadata.annotations`: keys are qualified names compared case-insensitively (so
 * `Example.com/Key` is fine), values any string, and all keys plus values at most 256 KiB
 * (`Too long: may not be more than 262144 bytes`).
 */
export function validateAnnotations(annotations: unknown, field: string): FieldError[] {
  if (annotations === undefined || annotations === null) return [];
  if (!isStringMap(annotations)) {
    return [invalid(field, annotations, 'must be a map of string keys to string values')];
  }
  const errors: FieldError[] = [];
  let size = 0;
  for (const [key, value] of Object.entries(annotations)) {
    for (const message of qualifiedNameErrors(key.toLowerCase())) errors.push(invalid(field, key, message));
    if (typeof value !== 'string') {
      errors.push(invalid(field, value, 'annotation values must be strings'));
      continue;
    }
    size += byteLength(key) + byteLength(value);
  }
  if (size > TOTAL_ANNOTATION_SIZE_LIMIT_BYTES) errors.push(tooLong(field, TOTAL_ANNOTATION_SIZE_LIMIT_BYTES));
  return errors;
}
