/**
 * Sets of field paths, as structured-merge-diff's `fieldpath.Set`: a tree whose nodes are path
 * elements. A node may be a member (the path to it is in the set: a leaf field, a list element,
 * a map entry) and may have children; the two are independent, so owning `.spec.template` and
 * owning `.spec.template.spec.replicas` are different facts.
 *
 * FieldsV1 is the set written as JSON: each node is an object keyed by its children's
 * serialized path elements (`f:`, `k:`, `v:`, `i:`), a member leaf is `{}`, and a node that is
 * both a member and has children carries `".": {}` — written after its children, as upstream.
 */
import {
  comparePathElements,
  parsePathElement,
  PathElementSyntaxError,
  serializePathElement,
  type Path,
  type PathElement,
} from './path-element.ts';
import { isObject } from './json.ts';

interface Child {
  readonly pe: PathElement;
  readonly set: FieldSet;
}

/** A set of field paths. `insert` changes it; the set operations return new sets. */
export class FieldSet {
  // Created on first use: most nodes of a comparison's sets stay empty, or hold only members.
  #members: Map<string, PathElement> | undefined;
  #children: Map<string, Child> | undefined;

  /** A set holding the given paths. */
  static of(...paths: Path[]): FieldSet {
    const set = new FieldSet();
    for (const path of paths) set.insert(path);
    return set;
  }

  /**
   * Reads FieldsV1. Unknown kinds of path element are dropped, as upstream does; a malformed
   * one throws {@link PathElementSyntaxError}.
   */
  static fromJSON(fields: unknown): FieldSet {
    if (fields === undefined || fields === null) return new FieldSet();
    if (!isObject(fields)) throw new PathElementSyntaxError('FieldsV1 must be a JSON object');
    return FieldSet.#read(fields).set;
  }

  /** One FieldsV1 node: its children, and whether it is itself a member of its parent. */
  static #read(fields: Record<string, unknown>): { set: FieldSet; member: boolean } {
    const set = new FieldSet();
    let member = false;
    for (const key in fields) {
      if (!Object.hasOwn(fields, key)) continue;
      const value = fields[key];
      if (key === '.') {
        member = true;
        continue;
      }
      const pe = parsePathElement(key);
      if (pe === undefined) continue;
      if (!isObject(value)) throw new PathElementSyntaxError(`the value of ${key} must be a JSON object`);
      const node = FieldSet.#read(value);
      const id = serializePathElement(pe);
      if (node.member) set.#memberMap().set(id, pe);
      if (!node.set.isEmpty()) {
        const existing = set.#children?.get(id);
        if (existing) existing.set.#addAll(node.set);
        else set.#childMap().set(id, { pe, set: node.set });
      }
    }
    // A node with nothing below it is a leaf, and so a member of its parent.
    if (set.isEmpty()) member = true;
    return { set, member };
  }

  /** Adds a path (and the nodes on the way to it). The empty path adds nothing. */
  insert(path: Path): this {
    if (path.length === 0) return this;
    let node: FieldSet = this;
    for (let i = 0; i < path.length - 1; i++) node = node.#descend(path[i]!);
    const last = path[path.length - 1]!;
    node.#memberMap().set(serializePathElement(last), last);
    return this;
  }

  /** Adds `pe` as a member of this node (the path to this node, then `pe`). */
  add(pe: PathElement): this {
    this.#memberMap().set(serializePathElement(pe), pe);
    return this;
  }

  /**
   * The node below `pe`, created empty when missing: for building a set while walking a value.
   * An empty node holds no path.
   */
  child(pe: PathElement): FieldSet {
    return this.#descend(pe);
  }

  /** Whether the path is a member. */
  has(path: Path): boolean {
    if (path.length === 0) return false;
    let node: FieldSet | undefined = this;
    for (let i = 0; i < path.length - 1 && node; i++) node = node.#children?.get(serializePathElement(path[i]!))?.set;
    return node !== undefined && node.#members?.has(serializePathElement(path[path.length - 1]!)) === true;
  }

  /** Whether the set holds no path at all. */
  isEmpty(): boolean {
    if (this.#members !== undefined && this.#members.size > 0) return false;
    if (this.#children !== undefined) for (const child of this.#children.values()) if (!child.set.isEmpty()) return false;
    return true;
  }

  /** Whether `pe` itself is a member of this node. */
  hasMember(pe: PathElement): boolean {
    return this.#members?.has(serializePathElement(pe)) === true;
  }

  /** The paths below `pe`, relative to it (empty when there are none). */
  withPrefix(pe: PathElement): FieldSet {
    return this.#children?.get(serializePathElement(pe))?.set ?? EMPTY;
  }

  /** Paths in either set. */
  union(other: FieldSet): FieldSet {
    const out = this.#copy();
    out.#addAll(other);
    return out;
  }

  /** Paths in both sets. */
  intersection(other: FieldSet): FieldSet {
    const out = new FieldSet();
    if (this.#members && other.#members) {
      for (const [k, pe] of this.#members) if (other.#members.has(k)) out.#memberMap().set(k, pe);
    }
    if (this.#children && other.#children) {
      for (const [k, child] of this.#children) {
        const theirs = other.#children.get(k);
        if (!theirs) continue;
        const both = child.set.intersection(theirs.set);
        if (!both.isEmpty()) out.#childMap().set(k, { pe: child.pe, set: both });
      }
    }
    return out;
  }

  /** Paths in this set and not in `other`. */
  difference(other: FieldSet): FieldSet {
    const out = new FieldSet();
    if (this.#members) {
      for (const [k, pe] of this.#members) if (other.#members?.has(k) !== true) out.#memberMap().set(k, pe);
    }
    if (this.#children) {
      for (const [k, child] of this.#children) {
        const theirs = other.#children?.get(k);
        const rest = theirs ? child.set.difference(theirs.set) : child.set.#copy();
        if (!rest.isEmpty()) out.#childMap().set(k, { pe: child.pe, set: rest });
      }
    }
    return out;
  }

  /**
   * Paths in this set that neither are in `other` nor lie below one of its members (upstream's
   * `RecursiveDifference`): removing `.status` removes everything under it.
   */
  recursiveDifference(other: FieldSet): FieldSet {
    const out = new FieldSet();
    if (this.#members) {
      for (const [k, pe] of this.#members) if (other.#members?.has(k) !== true) out.#memberMap().set(k, pe);
    }
    if (this.#children) {
      for (const [k, child] of this.#children) {
        if (other.#members?.has(k) === true) continue;
        const theirs = other.#children?.get(k);
        const rest = theirs ? child.set.recursiveDifference(theirs.set) : child.set.#copy();
        if (!rest.isEmpty()) out.#childMap().set(k, { pe: child.pe, set: rest });
      }
    }
    return out;
  }

  /** Whether some path is in both sets. */
  intersects(other: FieldSet): boolean {
    if (this.#members && other.#members) for (const k of this.#members.keys()) if (other.#members.has(k)) return true;
    if (this.#children && other.#children) {
      for (const [k, child] of this.#children) {
        const theirs = other.#children.get(k);
        if (theirs && child.set.intersects(theirs.set)) return true;
      }
    }
    return false;
  }

  /** Whether every path of this set is in `other` too. */
  isSubsetOf(other: FieldSet): boolean {
    if (this.#members) for (const k of this.#members.keys()) if (other.#members?.has(k) !== true) return false;
    if (this.#children) {
      for (const [k, child] of this.#children) {
        const theirs = other.#children?.get(k);
        if (theirs ? !child.set.isSubsetOf(theirs.set) : !child.set.isEmpty()) return false;
      }
    }
    return true;
  }

  /** Whether both sets hold the same paths. */
  equals(other: FieldSet): boolean {
    return this.difference(other).isEmpty() && other.difference(this).isEmpty();
  }

  /** Every member path, in upstream's iteration order (a node's members, then its children). */
  paths(): Path[] {
    const out: Path[] = [];
    this.#collect([], out);
    return out;
  }

  /** FieldsV1: the set as a JSON object, keys in upstream's order. */
  toJSON(): Record<string, unknown> {
    return this.#emit(false);
  }

  #memberMap(): Map<string, PathElement> {
    return (this.#members ??= new Map());
  }

  #childMap(): Map<string, Child> {
    return (this.#children ??= new Map());
  }

  #descend(pe: PathElement): FieldSet {
    const k = serializePathElement(pe);
    const children = this.#childMap();
    let child = children.get(k);
    if (!child) {
      child = { pe, set: new FieldSet() };
      children.set(k, child);
    }
    return child.set;
  }

  #copy(): FieldSet {
    const out = new FieldSet();
    out.#addAll(this);
    return out;
  }

  #addAll(other: FieldSet): void {
    if (other.#members) for (const [k, pe] of other.#members) this.#memberMap().set(k, pe);
    if (other.#children) {
      for (const [k, child] of other.#children) {
        const mine = this.#children?.get(k);
        if (mine) mine.set.#addAll(child.set);
        else this.#childMap().set(k, { pe: child.pe, set: child.set.#copy() });
      }
    }
  }

  #collect(prefix: PathElement[], out: Path[]): void {
    if (this.#members) for (const pe of sorted([...this.#members.values()])) out.push([...prefix, pe]);
    if (this.#children) for (const child of sortedChildren(this.#children)) child.set.#collect([...prefix, child.pe], out);
  }

  #emit(includeSelf: boolean): Record<string, unknown> {
    const nodes: { k: string; pe: PathElement; member: boolean; child: FieldSet | undefined }[] = [];
    // Where each member is, for a child of the same name: only a node with both needs it.
    const index = this.#members && this.#children ? new Map<string, number>() : undefined;
    if (this.#members) {
      for (const [k, pe] of this.#members) {
        index?.set(k, nodes.length);
        nodes.push({ k, pe, member: true, child: undefined });
      }
    }
    if (this.#children) {
      for (const [k, child] of this.#children) {
        if (child.set.isEmpty()) continue;
        const at = index?.get(k);
        if (at !== undefined) nodes[at]!.child = child.set;
        else nodes.push({ k, pe: child.pe, member: false, child: child.set });
      }
    }
    if (nodes.length > 1) nodes.sort((a, b) => comparePathElements(a.pe, b.pe));
    const out: Record<string, unknown> = {};
    for (const node of nodes) out[node.k] = node.child ? node.child.#emit(node.member) : {};
    if (includeSelf && nodes.length > 0) out['.'] = {};
    return out;
  }
}

const EMPTY = new FieldSet();

function sorted(pes: PathElement[]): PathElement[] {
  return pes.sort(comparePathElements);
}

function sortedChildren(children: Map<string, Child>): Child[] {
  return [...children.values()].sort((a, b) => comparePathElements(a.pe, b.pe));
}
