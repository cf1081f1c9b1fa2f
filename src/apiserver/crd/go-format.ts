/**
 * JSON values printed the way Go prints the decoded `interface{}` values upstream's code holds:
 * `%v` for printer-column cells (`map[a:1]`, `[x y]`, `1e+06`) and field-error values
 * (`Invalid value: map[string]interface {}{"a":1}`). Integral numbers are Go `int64`s, as
 * upstream's JSON decoder produces them; other numbers are `float64`s.
 */
import type { FieldError } from '../resource.ts';

/** Go's `%v` of a `float64`: shortest digits, exponent form below 1e-4 and from 1e+06 up. */
export function goFloat(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? '+Inf' : '-Inf';
  if (n === 0) return Object.is(n, -0) ? '-0' : '0';
  const [mantissa, exponentText] = n.toExponential().split('e') as [string, string];
  const exponent = Number(exponentText);
  // strconv's 'g' with the shortest precision switches to %e outside [-4, 6).
  if (exponent < -4 || exponent >= 6) {
    const sign = exponent < 0 ? '-' : '+';
    const digits = String(Math.abs(exponent)).padStart(2, '0');
    return `${mantissa}e${sign}${digits}`;
  }
  return String(n);
}

/** A JSON number as Go prints it: integral values as `int64`, others as `float64`. */
export function goNumber(n: number): string {
  return Number.isSafeInteger(n) ? String(n) : goFloat(n);
}

function sortedKeys(object: Record<string, unknown>): string[] {
  return Object.keys(object).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Go's `fmt.Fprint` of a decoded JSON value, as `kubectl`'s JSONPath printer (and a CRD's
 * string printer column) shows it: strings bare, `map[k:v k2:v2]` with sorted keys, `[a b]`,
 * `<nil>` for a nested null.
 */
export function goPrint(value: unknown): string {
  if (value === null || value === undefined) return '<nil>';
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return goNumber(value);
  if (typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `[${value.map(goPrint).join(' ')}]`;
  if (typeof value === 'object') {
    const object = value as Record<string, unknown>;
    return `map[${sortedKeys(object).map((k) => `${k}:${goPrint(object[k])}`).join(' ')}]`;
  }
  return String(value);
}

/** Go's `%q` of a string (JSON quoting matches it for everything printable). */
export function goQuote(s: string): string {
  return JSON.stringify(s);
}

/** Go's `%#v` of a decoded JSON value nested in a map or slice. */
function goSyntax(value: unknown): string {
  if (value === null || value === undefined) return 'interface {}(nil)';
  if (typeof value === 'string') return goQuote(value);
  if (typeof value === 'number') return goNumber(value);
  if (typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `[]interface {}{${value.map(goSyntax).join(', ')}}`;
  const object = value as Record<string, unknown>;
  return `map[string]interface {}{${sortedKeys(object).map((k) => `${goQuote(k)}:${goSyntax(object[k])}`).join(', ')}}`;
}

/**
 * A field error's bad value as upstream's `field.Error` prints it: `null` for nil, numbers and
 * booleans bare, strings quoted, maps and slices in Go syntax
 * (`map[string]interface {}{"name":"a"}`).
 */
export function errorValue(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return goQuote(value);
  if (typeof value === 'number') return goNumber(value);
  if (typeof value === 'boolean') return String(value);
  return goSyntax(value);
}

/** Go's `%T` of a decoded JSON value, for upstream's accessor errors. */
export function goType(value: unknown): string {
  if (value === null || value === undefined) return '<nil>';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'number') return Number.isSafeInteger(value) ? 'int64' : 'float64';
  if (typeof value === 'boolean') return 'bool';
  if (Array.isArray(value)) return '[]interface {}';
  return 'map[string]interface {}';
}

/** `field: Invalid value: <value as Go prints it>: detail`, upstream's `field.Invalid` for CRDs. */
export function goInvalid(field: string, value: unknown, detail: string): FieldError {
  return { type: 'FieldValueInvalid', field, message: `Invalid value: ${errorValue(value)}: ${detail}` };
}

/** `field: Unsupported value: <value>: supported values: "a", "b"`, with Go's quoting. */
export function goNotSupported(field: string, value: unknown, supported: string[]): FieldError {
  return { type: 'FieldValueNotSupported', field, message: `Unsupported value: ${errorValue(value)}: supported values: ${supported.map(goQuote).join(', ')}` };
}
