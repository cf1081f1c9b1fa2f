/**
 * Values walked with their {@link FieldSchema}, as structured-merge-diff's `typed` package does:
 * the field set a value mentions, the comparison of two values, the merge of an applied
 * configuration into a live object, and the removal of a set of fields.
 *
 * Values are plain JSON; `undefined` stands for an absent field. A `null` takes the shape of the
 * value on the other side (upstream reads it as the schema's type), so `x: null` then
 * `x: {a: 1}` adds `.x.a` but not `.x`.
 */
import { FieldSet } from './fields.ts';
import { compareStrings, isObject, jsonEqual, setOwn, type JsonObject } from './json.ts';
import { pathString, serializePathElement, type Path, type PathElement } from './path-element.ts';
import { fieldSchema, isStructField, itemSchema, type FieldSchema } from './schema.ts';

/** A value that does not fit its schema: a list element without its key, a duplicate key, … */
export class TypedValueError extends Error {
  override name = 'TypedValueError';
  /** Each problem as upstream words it: `.spec.containers: element 0: associative list …`. */
  readonly problems: string[];
  constructor(problems: string[]) {
    super(problems.length === 1 ? problems[0] : `errors:\n  ${problems.join('\n  ')}`);
    this.problems = problems;
  }
}

/** How strictly a value's lists are read. */
export interface ReadOptions {
  /**
   * Tolerate elements with the same key (a live object may hold them, since validation of some
   * lists allows them): the first one counts, the others are left alone. Default: an error.
   */
  allowDuplicates?: boolean;
}

type Shape = 'object' | 'list' | 'scalar';

function shapeOf(value: unknown): Shape | undefined {
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value)) return 'list';
  return isObject(value) ? 'object' : 'scalar';
}

/** The shape two values share, or `'mismatch'`; `undefined` and `null` take the other's shape. */
function commonShape(a: unknown, b: unknown): Shape | 'mismatch' {
  const sa = shapeOf(a);
  const sb = shapeOf(b);
  if (sa && sb && sa !== sb) return 'mismatch';
  return sa ?? sb ?? 'scalar';
}

function isEmptyContainer(value: unknown): boolean {
  if (value === undefined || value === null) return true;
  if (Array.isArray(value)) return value.length === 0;
  return isObject(value) && Object.keys(value).length === 0;
}

function isAtomicList(schema: FieldSchema): boolean {
  return schema.listType !== 'set' && schema.listType !== 'map';
}

/** The path element of a list item, or the reason there is none. */
function itemPathElement(schema: FieldSchema, item: unknown, index: number): PathElement | string {
  if (schema.listType === 'map') {
    if (item === null) return 'associative list with keys may not have a null element';
    if (!isObject(item)) return 'associative list with keys may not have non-map elements';
    const key: [string, unknown][] = [];
    for (const name of schema.keys ?? []) {
      if (Object.hasOwn(item, name)) key.push([name, item[name]]);
      else if (schema.keyDefaults && Object.hasOwn(schema.keyDefaults, name)) key.push([name, schema.keyDefaults[name]]);
      else return `associative list with keys has an element that omits key field ${JSON.stringify(name)} (and doesn't have default value)`;
    }
    key.sort(([a], [b]) => compareStrings(a, b));
    return { key };
  }
  if (schema.listType === 'set') {
    if (item === null) return "associative list without keys has an element that's an explicit null";
    if (Array.isArray(item)) return 'not supported: associative list with lists as elements';
    if (isObject(item)) return "associative list without keys has an element that's a map type";
    return { value: item };
  }
  return { index };
}

interface IndexedItem {
  readonly pe: PathElement;
  readonly id: string;
  readonly value: unknown;
}

/** A list's items with their path elements, in order; duplicates per `options`. */
function indexList(list: unknown, schema: FieldSchema, path: Path, options: ReadOptions, problems: string[]): IndexedItem[] {
  if (!Array.isArray(list)) return [];
  const seen = new Set<string>();
  const out: IndexedItem[] = [];
  list.forEach((item, i) => {
    const pe = itemPathElement(schema, item, i);
    if (typeof pe === 'string') {
      problems.push(`${pathString(path)}: element ${i}: ${pe}`);
      return;
    }
    const id = serializePathElement(pe);
    if (seen.has(id)) {
      if (!options.allowDuplicates) problems.push(`${pathString(path)}: duplicate entries for key ${pathString([pe])}`);
      return;
    }
    seen.add(id);
    out.push({ pe, id, value: item });
  });
  return out;
}

function fail(problems: string[]): void {
  if (problems.length > 0) throw new TypedValueError(problems);
}

// ---- Field sets ------------------------------------------------------------------------------

/**
 * The fields a value mentions (`ToFieldSet`): every scalar, atomic list and atomic object, every
 * list element, and every map entry; struct fields only through what they contain.
 */
export function toFieldSet(value: unknown, schema: FieldSchema, options: ReadOptions = {}): FieldSet {
  const set = new FieldSet();
  const problems: string[] = [];
  const walk = (v: unknown, s: FieldSchema, path: PathElement[]): void => {
    const shape = shapeOf(v);
    if (shape === 'object' && !s.atomic) {
      for (const [key, child] of Object.entries(v as JsonObject)) {
        const childPath = [...path, { field: key }];
        walk(child, fieldSchema(s, key), childPath);
        if (!isStructField(s, key)) set.insert(childPath);
      }
      return;
    }
    if (shape === 'list' && !isAtomicList(s)) {
      for (const item of indexList(v, s, path, options, problems)) {
        const itemPath = [...path, item.pe];
        walk(item.value, itemSchema(s), itemPath);
        set.insert(itemPath);
      }
      return;
    }
    set.insert(path);
  };
  walk(value, schema, []);
  fail(problems);
  return set;
}

// ---- Comparison ------------------------------------------------------------------------------

/** What changed from one value to another (`typed.Comparison`). */
export interface Comparison {
  readonly added: FieldSet;
  readonly modified: FieldSet;
  readonly removed: FieldSet;
}

/** Whether a comparison found no change. */
export function isSame(c: Comparison): boolean {
  return c.added.isEmpty() && c.modified.isEmpty() && c.removed.isEmpty();
}

/**
 * Compares `lhs` (before) with `rhs` (after). Leaves (scalars, atomic values, empty containers)
 * are added, modified or removed; an object or list that appears or disappears as a whole is
 * added or removed itself too, unless it exists in the kind's zero value ({@link FieldSchema.zero}).
 */
export function compare(lhs: unknown, rhs: unknown, schema: FieldSchema, options: ReadOptions = {}): Comparison {
  const added = new FieldSet();
  const modified = new FieldSet();
  const removed = new FieldSet();
  const problems: string[] = [];
  const leaf = (l: unknown, r: unknown, path: Path, zero: boolean): void => {
    // A field of the zero value is there even when absent: as an empty value.
    if (zero && l === undefined) l = null;
    if (zero && r === undefined) r = null;
    if (l === undefined) added.insert(path);
    else if (r === undefined) removed.insert(path);
    else if (!jsonEqual(l, r) && !(isEmptyContainer(l) && isEmptyContainer(r) && (l === null || r === null))) modified.insert(path);
  };
  const walk = (l: unknown, r: unknown, s: FieldSchema, path: PathElement[], zero: boolean): void => {
    const shape = commonShape(l, r);
    if (shape === 'mismatch') {
      // One side is a container, the other a scalar: the field changed, and the container's
      // contents appeared or went.
      modified.insert(path);
      if (shapeOf(l) !== 'scalar') walk(l, undefined, s, path, true);
      if (shapeOf(r) !== 'scalar') walk(undefined, r, s, path, true);
      return;
    }
    const both = isEmptyContainer(l) && isEmptyContainer(r);
    if (shape === 'object' && !s.atomic && !both) {
      const lo = isObject(l) ? l : {};
      const ro = isObject(r) ? r : {};
      for (const key of Object.keys(lo)) {
        const child = fieldSchema(s, key);
        walk(lo[key], Object.hasOwn(ro, key) ? ro[key] : undefined, child, [...path, { field: key }], zero && child.zero === true);
      }
      for (const key of Object.keys(ro)) {
        if (Object.hasOwn(lo, key)) continue;
        const child = fieldSchema(s, key);
        walk(undefined, ro[key], child, [...path, { field: key }], zero && child.zero === true);
      }
    } else if (shape === 'list' && !isAtomicList(s) && !both) {
      const left = indexList(l, s, path, { allowDuplicates: true, ...options }, problems);
      const right = indexList(r, s, path, { allowDuplicates: true, ...options }, problems);
      const rightById = new Map(right.map((item) => [item.id, item]));
      const leftIds = new Set(left.map((item) => item.id));
      const items = itemSchema(s);
      for (const item of left) walk(item.value, rightById.get(item.id)?.value, items, [...path, item.pe], false);
      for (const item of right) if (!leftIds.has(item.id)) walk(undefined, item.value, items, [...path, item.pe], false);
    } else {
      leaf(l, r, path, zero);
      return;
    }
    if (!zero) {
      if (l === undefined) added.insert(path);
      else if (r === undefined) removed.insert(path);
    }
  };
  walk(lhs, rhs, schema, [], true);
  fail(problems);
  return { added, modified, removed };
}

// ---- Merge -----------------------------------------------------------------------------------

/**
 * Merges an applied configuration into a live object (`TypedValue.Merge`): the configuration's
 * leaves win, objects merge key by key, associative lists element by element (in an order that
 * follows the configuration for the elements both hold), atomic values are replaced. A `null`
 * in the configuration removes a scalar and leaves an object or list alone.
 */
export function merge(lhs: unknown, rhs: unknown, schema: FieldSchema): unknown {
  const problems: string[] = [];
  const walk = (l: unknown, r: unknown, s: FieldSchema, path: Path): unknown => {
    if (r === undefined) return l;
    if (l === undefined || l === null) return r;
    const shape = commonShape(l, r);
    if (shape === 'mismatch') return r;
    if (r === null) return shape === 'scalar' ? null : l;
    const both = isEmptyContainer(l) && isEmptyContainer(r);
    if (shape === 'object' && !s.atomic && !both) {
      const lo = l as JsonObject;
      const ro = r as JsonObject;
      const out: JsonObject = {};
      for (const [key, value] of Object.entries(lo)) {
        const merged = walk(value, Object.hasOwn(ro, key) ? ro[key] : undefined, fieldSchema(s, key), [...path, { field: key }]);
        if (merged !== null || value === null) setOwn(out, key, merged);
      }
      for (const [key, value] of Object.entries(ro)) {
        if (!Object.hasOwn(lo, key) && value !== null) setOwn(out, key, value);
      }
      return out;
    }
    if (shape === 'list' && !isAtomicList(s) && !both) return mergeList(l as unknown[], r as unknown[], s, path);
    return r;
  };
  const mergeList = (l: unknown[], r: unknown[], s: FieldSchema, path: Path): unknown[] => {
    const left = indexList(l, s, path, { allowDuplicates: true }, problems);
    const right = indexList(r, s, path, {}, problems);
    const leftById = new Map(left.map((item) => [item.id, item]));
    const rightById = new Map(right.map((item) => [item.id, item]));
    const items = itemSchema(s);
    const out: unknown[] = [];
    const add = (id: string, pe: PathElement) => {
      out.push(walk(leftById.get(id)?.value, rightById.get(id)?.value, items, [...path, pe]));
    };
    // structured-merge-diff's order: elements both sides hold come in the configuration's
    // order, live-only elements stay where they were relative to them, new ones follow their
    // configuration neighbours.
    const shared = right.filter((item) => leftById.has(item.id)).map((item) => item.id);
    let next = 0;
    let li = 0;
    let ri = 0;
    while (li < left.length || ri < right.length) {
      if (li < left.length && ri < right.length) {
        const l0 = left[li]!;
        if (l0.id === right[ri]!.id) {
          add(l0.id, l0.pe);
          li++;
          ri++;
          next++;
          continue;
        }
        if (rightById.has(l0.id) && next < shared.length && shared[next] !== l0.id) {
          li++;
          continue;
        }
      }
      if (li < left.length && !rightById.has(left[li]!.id)) {
        add(left[li]!.id, left[li]!.pe);
        li++;
        continue;
      }
      if (ri < right.length) {
        const r0 = right[ri]!;
        add(r0.id, r0.pe);
        ri++;
        if (next < shared.length && shared[next] === r0.id) next++;
      } else {
        li++;
      }
    }
    // Elements of the live list that could not be indexed (duplicates) stay as they were.
    if (Array.isArray(l) && left.length < l.length) {
      const indexed = new Set(left.map((item) => item.value));
      for (const item of l) if (!indexed.has(item)) out.push(item);
    }
    return out;
  };
  const out = walk(lhs, rhs, schema, []);
  fail(problems);
  return out;
}

// ---- Removal ---------------------------------------------------------------------------------

/**
 * The value without the fields of `toRemove` (`TypedValue.RemoveItems`): each map entry, struct
 * field or list element in the set goes, with everything under it. An object or list that only
 * held removed fields goes too (upstream's Go types drop the empty value).
 */
export function removeItems(value: unknown, toRemove: FieldSet, schema: FieldSchema): unknown {
  const walk = (v: unknown, remove: FieldSet, s: FieldSchema): unknown => {
    if (isObject(v) && !s.atomic) {
      const out: JsonObject = {};
      let changed = false;
      for (const [key, child] of Object.entries(v)) {
        const pe = { field: key };
        if (remove.hasMember(pe)) {
          changed = true;
          continue;
        }
        const below = remove.withPrefix(pe);
        if (below.isEmpty()) {
          setOwn(out, key, child);
          continue;
        }
        const kept = walk(child, below, fieldSchema(s, key));
        if (kept === undefined) changed = true;
        else setOwn(out, key, kept);
      }
      return changed && Object.keys(out).length === 0 ? undefined : out;
    }
    if (Array.isArray(v) && !isAtomicList(s)) {
      const out: unknown[] = [];
      let changed = false;
      v.forEach((item, i) => {
        const pe = itemPathElement(s, item, i);
        if (typeof pe === 'string') {
          out.push(item);
          return;
        }
        if (remove.hasMember(pe)) {
          changed = true;
          return;
        }
        const below = remove.withPrefix(pe);
        out.push(below.isEmpty() ? item : (walk(item, below, itemSchema(s)) ?? {}));
      });
      return changed && out.length === 0 ? undefined : out;
    }
    return v;
  };
  return walk(value, toRemove, schema);
}
