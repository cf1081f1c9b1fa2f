/**
 * Small validation and JSON-reading helpers shared by the kinds: the field checks upstream
 * repeats across its `pkg/apis/<group>/validation` packages (non-negative numbers, ports,
 * config keys, label selectors, int-or-percent), worded as upstream words them.
 *
 * Objects arrive as plain JSON that only the kinds' own code has looked at, so every reader here
 * tolerates values of the wrong type instead of throwing.
 */
import type { FieldError, KubeObject } from '../resource.ts';
import { duplicate, forbidden, invalid, required } from '../validation/index.ts';
import { labelValueErrors, qualifiedNameErrors, validateLabels } from '../validation/index.ts';
import { labelSelectorFromObject } from '../selectors/index.ts';

/** A JSON object (not null, not an array). */
export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The value if it is an array, else an empty array. */
export function arrayOf(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** The entries of an array that are JSON objects, with their original indexes. */
export function objectsOf(value: unknown): [number, JsonObject][] {
  const out: [number, JsonObject][] = [];
  arrayOf(value).forEach((item, index) => {
    if (isObject(item)) out.push([index, item]);
  });
  return out;
}

/**
 * The object entries of a list field, typed as the caller expects them: the printers read
 * stored objects through `kubernetes-types`, and a list holding something else (which nothing
 * upstream would have decoded) must not break a whole table.
 */
export function listOf<T>(value: unknown): T[] {
  return arrayOf(value).filter(isObject) as T[];
}

/** `obj[key]`, creating an empty object there when absent or not an object. */
export function ensureObject(obj: JsonObject, key: string): JsonObject {
  const existing = obj[key];
  if (isObject(existing)) return existing;
  const created: JsonObject = {};
  obj[key] = created;
  return created;
}

/** The object's `spec`, created empty when missing (defaults fill it in place). */
export function specOf(object: KubeObject): JsonObject {
  return ensureObject(object, 'spec');
}

/** A string field, or '' when absent or not a string. */
export function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** Deep copy of plain JSON. */
export function clone<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

/**
 * Structural equality of plain JSON, ignoring object key order and treating a key whose value is
 * `undefined` as absent (as it would be after a JSON round trip).
 */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => deepEqual(item, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const keysA = Object.keys(a).filter((k) => a[k] !== undefined);
    const keysB = Object.keys(b).filter((k) => b[k] !== undefined);
    if (keysA.length !== keysB.length) return false;
    return keysA.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

/** Appends `[index]` or `.child` to a field path. */
export function at(path: string, child: string | number): string {
  return typeof child === 'number' ? `${path}[${child}]` : `${path}.${child}`;
}

/** Appends `[key]` (upstream's `Path.Key`) to a field path. */
export function key(path: string, k: string): string {
  return `${path}[${k}]`;
}

const NEGATIVE = 'must be greater than or equal to 0';

/** Upstream's `ValidateNonnegativeField`: `must be greater than or equal to 0`. */
export function nonNegative(value: unknown, field: string): FieldError[] {
  if (value === undefined || value === null) return [];
  if (typeof value !== 'number' || !Number.isInteger(value)) return [invalid(field, value, 'must be an integer')];
  return value < 0 ? [invalid(field, value, NEGATIVE)] : [];
}

/** Upstream's `InclusiveRangeError`. */
export function inclusiveRange(lo: number, hi: number): string {
  return `must be between ${lo} and ${hi}, inclusive`;
}

/** Upstream's `IsValidPortNum`: 1–65535. */
export function portNumErrors(port: number): string[] {
  return Number.isInteger(port) && port >= 1 && port <= 65535 ? [] : [inclusiveRange(1, 65535)];
}

/** Upstream's `IsValidPortName` (an IANA service name). */
export function portNameErrors(name: string): string[] {
  const errors: string[] = [];
  if (name.length > 15) errors.push('must be no more than 15 characters');
  if (!/^[-a-z0-9]+$/.test(name)) errors.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  if (!/[a-z]/.test(name)) errors.push('must contain at least one letter (a-z)');
  if (name.includes('--')) errors.push('must not contain consecutive hyphens');
  if (name.startsWith('-') || name.endsWith('-')) errors.push('must not begin or end with a hyphen');
  return errors;
}

/** A port given as a number or a named port (upstream's `ValidatePortNumOrName`). */
export function portNumOrNameErrors(value: unknown, field: string): FieldError[] {
  if (typeof value === 'number') return portNumErrors(value).map((m) => invalid(field, value, m));
  if (typeof value === 'string') return portNameErrors(value).map((m) => invalid(field, value, m));
  return [invalid(field, value, 'must be an integer or a port name')];
}

/** Protocols accepted on container and service ports, in upstream's (sorted) order. */
export const PORT_PROTOCOLS = ['SCTP', 'TCP', 'UDP'] as const;

const CONFIG_KEY_FMT = '[-._a-zA-Z0-9]+';
const CONFIG_KEY = new RegExp(`^${CONFIG_KEY_FMT}$`);

/** Upstream's `IsConfigMapKey`: keys of ConfigMap and Secret data. */
export function configKeyErrors(k: string): string[] {
  const errors: string[] = [];
  if (Buffer.byteLength(k, 'utf8') > 253) errors.push('must be no more than 253 characters');
  if (!CONFIG_KEY.test(k)) {
    errors.push(
      "a valid config key must consist of alphanumeric characters, '-', '_' or '.' " +
        `(e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '${CONFIG_KEY_FMT}')`,
    );
  }
  if (k === '.') errors.push("must not be '.'");
  else if (k === '..') errors.push("must not be '..'");
  else if (k.startsWith('..')) errors.push("must not start with '..'");
  return errors;
}

/**
 * Upstream's `ValidateLabelSelector` (strict: values must be label values): `matchLabels` as a
 * label map; each expression's operator, values and key, with paths like
 * `spec.selector.matchExpressions[0].operator`.
 */
export function validateLabelSelector(selector: unknown, field: string): FieldError[] {
  if (selector === undefined || selector === null) return [];
  if (!isObject(selector)) return [invalid(field, selector, 'must be a label selector object')];
  const errors = validateLabels(selector.matchLabels, at(field, 'matchLabels'));
  for (const [i, expression] of objectsOf(selector.matchExpressions)) {
    const path = at(at(field, 'matchExpressions'), i);
    const values = arrayOf(expression.values);
    switch (expression.operator) {
      case 'In':
      case 'NotIn':
        if (values.length === 0) {
          errors.push(required(at(path, 'values'), "must be specified when `operator` is 'In' or 'NotIn'"));
        }
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (values.length > 0) {
          errors.push(forbidden(at(path, 'values'), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
        }
        break;
      default:
        errors.push(invalid(at(path, 'operator'), expression.operator, 'not a valid selector operator'));
    }
    for (const m of qualifiedNameErrors(str(expression.key))) errors.push(invalid(at(path, 'key'), expression.key, m));
    values.forEach((v, j) => {
      for (const m of labelValueErrors(str(v))) errors.push(invalid(at(at(path, 'values'), j), v, m));
    });
  }
  return errors;
}

/** Whether a structured selector has neither match labels nor expressions. */
export function isEmptySelector(selector: JsonObject): boolean {
  const labels = isObject(selector.matchLabels) ? selector.matchLabels : undefined;
  return (labels === undefined || Object.keys(labels).length === 0) && arrayOf(selector.matchExpressions).length === 0;
}

/**
 * Whether a structured selector matches a label set; undefined when the selector cannot be
 * compiled (its errors are reported by {@link validateLabelSelector}).
 */
export function selectorMatches(selector: unknown, labels: unknown): boolean | undefined {
  try {
    const compiled = labelSelectorFromObject(selector as Parameters<typeof labelSelectorFromObject>[0]);
    return compiled.matches(stringMap(labels));
  } catch {
    return undefined;
  }
}

/** The string entries of a JSON object (labels, selectors, node selectors). */
export function stringMap(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isObject(value)) return out;
  for (const [k, v] of Object.entries(value)) if (typeof v === 'string') out[k] = v;
  return out;
}

/** Upstream's `ValidatePositiveIntOrPercent` plus the 100% cap (`IsNotMoreThan100Percent`). */
export function intOrPercentErrors(value: unknown, field: string, options: { max100: boolean }): FieldError[] {
  if (value === undefined || value === null) return [];
  if (typeof value === 'number') return nonNegative(value, field);
  if (typeof value !== 'string') return [invalid(field, value, "must be an integer or percentage (e.g '5%%')")];
  if (!/^[0-9]+%$/.test(value)) {
    return [invalid(field, value, "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')")];
  }
  if (options.max100 && Number(value.slice(0, -1)) > 100) return [invalid(field, value, 'must not be greater than 100%')];
  return [];
}

/** The numeric part of an int-or-percent (`25%` → 25, `3` → 3), 0 when unparseable. */
export function intOrPercentValue(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && /^[0-9]+%$/.test(value)) return Number(value.slice(0, -1));
  return 0;
}

/** Duplicate detection for names in a list: reports every repeat as `Duplicate value`. */
export function duplicates(names: [string, string][]): FieldError[] {
  const seen = new Set<string>();
  const errors: FieldError[] = [];
  for (const [name, field] of names) {
    if (seen.has(name)) errors.push(duplicate(field, name));
    else seen.add(name);
  }
  return errors;
}

/** `field: Not found: "x"` — upstream's `field.NotFound`. */
export function notFound(field: string, value: unknown): FieldError {
  return { type: 'FieldValueNotFound', field, message: `Not found: ${JSON.stringify(value)}` };
}
