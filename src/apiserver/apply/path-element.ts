/**
 * One step of a field path, as structured-merge-diff's `fieldpath.PathElement`: a field of an
 * object, the element of an associative list with these key values, the element of a set with
 * this value, or the element at an index of an atomic-ish list. Their FieldsV1 spelling is
 * `f:<name>`, `k:{"name":"web"}`, `v:<json>` and `i:<index>`.
 */
import { compareStrings, compareValues, goJson, goJsonString, isObject, valueString } from './json.ts';

/** A step of a path. Key fields are sorted by name. */
export type PathElement =
  | { readonly field: string }
  | { readonly key: readonly (readonly [string, unknown])[] }
  | { readonly value: unknown }
  | { readonly index: number };

/** A path from the object's root. */
export type Path = readonly PathElement[];

function order(pe: PathElement): number {
  if ('field' in pe) return 0;
  if ('key' in pe) return 1;
  if ('value' in pe) return 2;
  return 3;
}

/** structured-merge-diff's order: fields, then keys, then values, then indexes. */
export function comparePathElements(a: PathElement, b: PathElement): number {
  const oa = order(a);
  const ob = order(b);
  if (oa !== ob) return oa < ob ? -1 : 1;
  if ('field' in a) return compareStrings(a.field, (b as { field: string }).field);
  if ('key' in a) {
    const x = a.key;
    const y = (b as { key: readonly (readonly [string, unknown])[] }).key;
    for (let i = 0; i < Math.min(x.length, y.length); i++) {
      const c = compareStrings(x[i]![0], y[i]![0]) || compareValues(x[i]![1], y[i]![1]);
      if (c !== 0) return c;
    }
    return x.length < y.length ? -1 : x.length > y.length ? 1 : 0;
  }
  if ('value' in a) return compareValues(a.value, (b as { value: unknown }).value);
  const i = a.index;
  const j = (b as { index: number }).index;
  return i < j ? -1 : i > j ? 1 : 0;
}

/** Lexical order of paths. */
export function comparePaths(a: Path, b: Path): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const c = comparePathElements(a[i]!, b[i]!);
    if (c !== 0) return c;
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}

// Path elements are immutable, and sets look keys and values up by their text again and again.
const serialized = new WeakMap<PathElement, string>();

/** The FieldsV1 key of a step: `f:replicas`, `k:{"name":"web"}`, `v:"a"`, `i:0`. */
export function serializePathElement(pe: PathElement): string {
  let text = serialized.get(pe);
  if (text === undefined) {
    if ('field' in pe) text = `f:${pe.field}`;
    else if ('key' in pe) text = `k:{${pe.key.map(([name, value]) => `${goJsonString(name)}:${goJson(value)}`).join(',')}}`;
    else if ('value' in pe) text = `v:${goJson(pe.value)}`;
    else text = `i:${pe.index}`;
    serialized.set(pe, text);
  }
  return text;
}

const fields = new Map<string, PathElement>();

/**
 * The step to field `name`. Steps are shared: the same few field names come up in every
 * object, and a shared step keeps its FieldsV1 text.
 */
export function fieldElement(name: string): PathElement {
  let pe = fields.get(name);
  if (pe === undefined) {
    if (fields.size >= CACHE_LIMIT) fields.clear();
    pe = { field: name };
    fields.set(name, pe);
  }
  return pe;
}

/** Bound of the caches of shared steps (they are cleared when full). */
const CACHE_LIMIT = 10_000;

const parsed = new Map<string, PathElement | undefined>();

/** Thrown for a FieldsV1 key that cannot be read. */
export class PathElementSyntaxError extends Error {
  override name = 'PathElementSyntaxError';
}

/**
 * Reads a FieldsV1 key. Returns `undefined` for a kind of step this version does not know
 * (upstream drops those rather than fail); throws {@link PathElementSyntaxError} for a broken one.
 */
export function parsePathElement(s: string): PathElement | undefined {
  if (parsed.has(s)) return parsed.get(s);
  const pe = parse(s);
  if (parsed.size >= CACHE_LIMIT) parsed.clear();
  parsed.set(s, pe);
  return pe;
}

function parse(s: string): PathElement | undefined {
  if (s.length < 2) throw new PathElementSyntaxError('key must be 2 characters long:');
  if (s[1] !== ':') throw new PathElementSyntaxError(`missing colon: ${s}`);
  const body = s.slice(2);
  switch (s[0]) {
    case 'f':
      return fieldElement(body);
    case 'v':
      return { value: parseJson(body) };
    case 'k': {
      const fields = parseJson(body);
      if (!isObject(fields)) throw new PathElementSyntaxError(`key of ${s} is not a JSON object`);
      return { key: Object.entries(fields).sort(([a], [b]) => compareStrings(a, b)) };
    }
    case 'i': {
      if (!/^-?[0-9]+$/.test(body)) throw new PathElementSyntaxError(`invalid index in ${s}`);
      return { index: Number(body) };
    }
    default:
      return undefined;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new PathElementSyntaxError((error as Error).message);
  }
}

/** A step as upstream prints it in messages: `.name`, `[name="web"]`, `[="a"]`, `[0]`. */
export function pathElementString(pe: PathElement): string {
  if ('field' in pe) return `.${pe.field}`;
  if ('key' in pe) return `[${pe.key.map(([name, value]) => `${name}=${valueString(value)}`).join(',')}]`;
  if ('value' in pe) return `[=${valueString(pe.value)}]`;
  return `[${pe.index}]`;
}

/** A path as upstream prints it: `.spec.template.spec.containers[name="web"].image`. */
export function pathString(path: Path): string {
  return path.map(pathElementString).join('');
}
