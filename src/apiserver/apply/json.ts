/**
 * Plain JSON values as structured-merge-diff sees them (internal to `apply/`): its total order of
 * values, its equality, and Go's JSON text for the values inside FieldsV1 keys.
 */

import { cloneJson, isJsonObject, jsonEqual, setOwn, type JsonObject } from '../json-value.ts';

export { cloneJson, jsonEqual, setOwn, type JsonObject };

/** A JSON object: not null, not an array. */
export const isObject = isJsonObject;

/**
 * Go's string order (UTF-8 bytes), which is code point order. UTF-16 code units differ from it
 * only where a surrogate meets a unit at or above U+E000, so those units are shifted first.
 */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      x += x >= 0xe000 ? -0x800 : 0x2000;
      y += y >= 0xe000 ? -0x800 : 0x2000;
    }
    return x < y ? -1 : 1;
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}

/** The kinds of value structured-merge-diff orders: numbers, strings, bools, lists, maps, null. */
function rank(value: unknown): number {
  if (typeof value === 'number') return Number.isInteger(value) ? 1 : 0;
  if (typeof value === 'string') return 2;
  if (typeof value === 'boolean') return 3;
  if (Array.isArray(value)) return 4;
  if (isObject(value)) return 5;
  return 6;
}

/**
 * structured-merge-diff's total order of values (`value.Compare`): floats and ints compare
 * numerically and come first, then strings, bools, lists, maps, and null last.
 */
export function compareValues(a: unknown, b: unknown): number {
  const ra = rank(a);
  const rb = rank(b);
  if (ra <= 1 && rb <= 1) {
    const x = a as number;
    const y = b as number;
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (ra !== rb) return ra < rb ? -1 : 1;
  switch (ra) {
    case 2:
      return compareStrings(a as string, b as string);
    case 3:
      return a === b ? 0 : a ? 1 : -1;
    case 4: {
      const x = a as unknown[];
      const y = b as unknown[];
      for (let i = 0; i < Math.min(x.length, y.length); i++) {
        const c = compareValues(x[i], y[i]);
        if (c !== 0) return c;
      }
      return x.length - y.length < 0 ? -1 : x.length > y.length ? 1 : 0;
    }
    case 5: {
      // Maps compare as their sorted (key, value) lists.
      const x = a as JsonObject;
      const y = b as JsonObject;
      const kx = Object.keys(x).sort(compareStrings);
      const ky = Object.keys(y).sort(compareStrings);
      for (let i = 0; i < Math.min(kx.length, ky.length); i++) {
        const c = compareStrings(kx[i]!, ky[i]!) || compareValues(x[kx[i]!], y[ky[i]!]);
        if (c !== 0) return c;
      }
      return kx.length < ky.length ? -1 : kx.length > ky.length ? 1 : 0;
    }
    default:
      return 0;
  }
}

// Go's encoding/json escapes HTML-sensitive characters and the JS line separators, and writes
// \b and \f as \u escapes; JSON.stringify does neither.
const GO_ESCAPES: Record<string, string> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
  '\\b': '\\u0008',
  '\\f': '\\u000c',
};

const NEEDS_ESCAPING = /["\\<>&\u0000-\u001f\u2028\u2029\ud800-\udfff]/;

/** A string as Go's encoding/json writes it. */
export function goJsonString(s: string): string {
  if (!NEEDS_ESCAPING.test(s)) return `"${s}"`;
  // Escape sequences are matched whole, so an escaped backslash before a `b` stays as it is.
  return JSON.stringify(s).replace(/\\.|[<>&\u2028\u2029]/g, (m) => GO_ESCAPES[m] ?? m);
}

/** A value as Go's encoding/json writes an `interface{}`: map keys sorted. */
export function goJson(value: unknown): string {
  if (typeof value === 'string') return goJsonString(value);
  if (Array.isArray(value)) return `[${value.map(goJson).join(',')}]`;
  if (isObject(value)) {
    const keys = Object.keys(value).sort(compareStrings);
    return `{${keys.map((k) => `${goJsonString(k)}:${goJson(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/**
 * A value as structured-merge-diff prints it in a path (`value.ToString`): strings quoted,
 * numbers and bools bare, lists in brackets, maps as `k=v` pairs.
 */
export function valueString(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(valueString).join(',')}]`;
  if (isObject(value)) return Object.entries(value).map(([k, v]) => `${k}=${valueString(v)}`).join('');
  return String(value);
}
