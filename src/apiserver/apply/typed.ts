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
import { fieldElement, pathString, serializePathElement, type Path, type PathElement } from './path-element.ts';
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
function indexList(list: unknown, schema: FieldSchema, trail: Trail | undefined, options: ReadOptions, problems: string[]): IndexedItem[] {
  if (!Array.isArray(list)) return [];
  const seen = new Set<string>();
  const out: IndexedItem[] = [];
  list.forEach((item, i) => {
    const pe = itemPathElement(schema, item, i);
    if (typeof pe === 'string') {
      problems.push(`${pathString(pathOf(trail))}: element ${i}: ${pe}`);
      return;
    }
    const id = serializePathElement(pe);
    if (seen.has(id)) {
      if (!options.allowDuplicates) problems.push(`${pathString(pathOf(trail))}: duplicate entries for key ${pathString([pe])}`);
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

/** Where a walk is: the step into the current value and the trail to its parent. */
interface Trail {
  readonly up: Trail | undefined;
  readonly pe: PathElement;
}

function pathOf(trail: Trail | undefined): Path {
  const path: PathElement[] = [];
  for (let t = trail; t; t = t.up) path.push(t.pe);
  return path.reverse();
}

// ---- Field sets ------------------------------------------------------------------------------

/**
 * The fields a value mentions (`ToFieldSet`): every scalar, atomic list and atomic object, every
 * list element, and every map entry; struct fields only through what they contain.
 */
export function toFieldSet(value: unknown, schema: FieldSchema, options: ReadOptions = {}): FieldSet {
  const root = new FieldSet();
  const problems: string[] = [];
  // `parent` is the set node of the path to the parent value, `trail.pe` the step to this one.
  const walk = (v: unknown, s: FieldSchema, parent: FieldSet, trail: Trail | undefined): void => {
    const shape = shapeOf(v);
    if (shape === 'object' && !s.atomic) {
      const node = trail ? parent.child(trail.pe) : root;
      for (const [key, child] of Object.entries(v as JsonObject)) {
        const pe = fieldElement(key);
        walk(child, fieldSchema(s, key), node, { up: trail, pe });
        if (!isStructField(s, key)) node.add(pe);
      }
      return;
    }
    if (shape === 'list' && !isAtomicList(s)) {
      const node = trail ? parent.child(trail.pe) : root;
      for (const item of indexList(v, s, trail, options, problems)) {
        walk(item.value, itemSchema(s), node, { up: trail, pe: item.pe });
        node.add(item.pe);
      }
      return;
    }
    if (trail) parent.add(trail.pe);
  };
  walk(value, schema, root, undefined);
  fail(problems);
  return root;
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
type Triple = [added: FieldSet, modified: FieldSet, removed: FieldSet];

/**
 * A path of a comparison, with its node in each of the three sets, made in a set only when a
 * change below the path is recorded in that set.
 */
class Nodes implements Trail {
  readonly up: Nodes | undefined;
  readonly pe: PathElement;
  #added: FieldSet | undefined;
  #modified: FieldSet | undefined;
  #removed: FieldSet | undefined;
  constructor(up: Nodes | undefined, pe: PathElement) {
    this.up = up;
    this.pe = pe;
  }
  /** The node of the parent path in set `which`, where this path is recorded. */
  parent(roots: Triple, which: 0 | 1 | 2): FieldSet {
    return this.up ? this.up.node(roots, which) : roots[which];
  }
  /** This path's node in set `which`. */
  node(roots: Triple, which: 0 | 1 | 2): FieldSet {
    switch (which) {
      case 0:
        return (this.#added ??= this.parent(roots, 0).child(this.pe));
      case 1:
        return (this.#modified ??= this.parent(roots, 1).child(this.pe));
      default:
        return (this.#removed ??= this.parent(roots, 2).child(this.pe));
    }
  }
}

export function compare(lhs: unknown, rhs: unknown, schema: FieldSchema, options: ReadOptions = {}): Comparison {
  const added = new FieldSet();
  const modified = new FieldSet();
  const removed = new FieldSet();
  const problems: string[] = [];
  const read = { allowDuplicates: true, ...options };
  const roots: Triple = [added, modified, removed];
  const record = (at: Nodes | undefined, which: 0 | 1 | 2): void => {
    if (at) at.parent(roots, which).add(at.pe);
  };
  const leaf = (l: unknown, r: unknown, at: Nodes | undefined, zero: boolean): void => {
    // A field of the zero value is there even when absent, as an empty value.
    if (zero && l === undefined) l = isEmptyContainer(r) ? r : null;
    if (zero && r === undefined) r = isEmptyContainer(l) ? l : null;
    if (l === undefined) record(at, 0);
    else if (r === undefined) record(at, 2);
    else if (!jsonEqual(l, r)) record(at, 1);
  };
  const walk = (l: unknown, r: unknown, s: FieldSchema, at: Nodes | undefined, zero: boolean): void => {
    const shape = commonShape(l, r);
    if (shape === 'mismatch') {
      // One side is a container, the other a scalar: the field changed, and the container's
      // contents appeared or went.
      record(at, 1);
      if (shapeOf(l) !== 'scalar') walk(l, undefined, s, at, true);
      if (shapeOf(r) !== 'scalar') walk(undefined, r, s, at, true);
      return;
    }
    const both = isEmptyContainer(l) && isEmptyContainer(r);
    if (shape === 'object' && !s.atomic && !both) {
      const lo = isObject(l) ? l : {};
      const ro = isObject(r) ? r : {};
      for (const key of Object.keys(lo)) {
        const child = fieldSchema(s, key);
        walk(lo[key], Object.hasOwn(ro, key) ? ro[key] : undefined, child, new Nodes(at, fieldElement(key)), zero && child.zero === true);
      }
      for (const key of Object.keys(ro)) {
        if (Object.hasOwn(lo, key)) continue;
        const child = fieldSchema(s, key);
        walk(undefined, ro[key], child, new Nodes(at, fieldElement(key)), zero && child.zero === true);
      }
    } else if (shape === 'list' && !isAtomicList(s) && !both) {
      const left = indexList(l, s, at, read, problems);
      const right = indexList(r, s, at, read, problems);
      const rightById = new Map(right.map((item) => [item.id, item]));
      const leftIds = new Set(left.map((item) => item.id));
      const items = itemSchema(s);
      for (const item of left) walk(item.value, rightById.get(item.id)?.value, items, new Nodes(at, item.pe), false);
      for (const item of right) if (!leftIds.has(item.id)) walk(undefined, item.value, items, new Nodes(at, item.pe), false);
    } else {
      leaf(l, r, at, zero);
      return;
    }
    if (!zero) {
      if (l === undefined) record(at, 0);
      else if (r === undefined) record(at, 2);
    }
  };
  walk(lhs, rhs, schema, undefined, true);
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
  const walk = (l: unknown, r: unknown, s: FieldSchema, trail: Trail | undefined): unknown => {
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
        const merged = walk(value, Object.hasOwn(ro, key) ? ro[key] : undefined, fieldSchema(s, key), { up: trail, pe: fieldElement(key) });
        if (merged !== null || value === null) setOwn(out, key, merged);
      }
      for (const [key, value] of Object.entries(ro)) {
        if (!Object.hasOwn(lo, key) && value !== null) setOwn(out, key, value);
      }
      return out;
    }
    if (shape === 'list' && !isAtomicList(s) && !both) return mergeList(l as unknown[], r as unknown[], s, trail);
    return r;
  };
  const mergeList = (l: unknown[], r: unknown[], s: FieldSchema, trail: Trail | undefined): unknown[] => {
    const left = indexList(l, s, trail, { allowDuplicates: true }, problems);
    const right = indexList(r, s, trail, {}, problems);
    const leftById = new Map(left.map((item) => [item.id, item]));
    const rightById = new Map(right.map((item) => [item.id, item]));
    const items = itemSchema(s);
    const out: unknown[] = [];
    const add = (id: string, pe: PathElement) => {
      out.push(walk(leftById.get(id)?.value, rightById.get(id)?.value, items, { up: trail, pe }));
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
  const out = walk(lhs, rhs, schema, undefined);
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
        const pe = fieldElement(key);
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
