/**
 * JSON Patch (RFC 6902, `application/json-patch+json`) over plain JSON values, with the
 * behaviour Kubernetes clients rely on from upstream's evanphx/json-patch: negative array
 * indices count from the end, `test` of an absent value against `null` passes, and errors name
 * the operation and the path.
 */
import { PatchError } from './errors.ts';
import { cloneJson, isJsonObject, jsonEqual, setOwn } from '../json-value.ts';
import type { JsonObject } from '../json-value.ts';

/** Upstream's limit on operations in one JSON patch. */
const MAX_OPERATIONS = 10000;

const OPERATIONS = ['add', 'remove', 'replace', 'move', 'copy', 'test'] as const;
type OpName = (typeof OPERATIONS)[number];

interface Operation {
  op: OpName;
  path: string;
  from: string;
  value: unknown;
}

/**
 * Applies a JSON patch and returns the patched document.
 *
 * The input document and the operations are never modified, and the result shares no objects
 * with either; operations apply in order, and if one fails nothing is returned (there is no
 * partial result). Paths are JSON pointers (RFC 6901: `/metadata/labels/app`, `~1` for `/`,
 * `~0` for `~`, `""` for the whole document); `-` as the last array index appends.
 *
 * @throws {PatchError} `PATCH_MALFORMED` when `operations` is not a list of operation objects
 * with a known `op` and the members it needs; `PATCH_NOT_APPLICABLE` when an operation does not
 * fit the document, e.g. `replace operation does not apply: doc is missing path: /spec/foo` or
 * `testing value /metadata/labels/a failed`.
 */
export function applyJsonPatch(document: unknown, operations: unknown): unknown {
  const ops = decodeOperations(operations);
  let root = cloneJson(document);
  for (const op of ops) root = applyOperation(root, op);
  return root;
}

function malformed(message: string): PatchError {
  return new PatchError(message, { code: 'PATCH_MALFORMED' });
}

function decodeOperations(operations: unknown): Operation[] {
  if (!Array.isArray(operations)) {
    throw malformed(`a JSON patch must be a list of operations, got ${describe(operations)}`);
  }
  if (operations.length > MAX_OPERATIONS) {
    throw malformed(`The allowed maximum operations in a JSON patch is ${MAX_OPERATIONS}, got ${operations.length}`);
  }
  return (operations as unknown[]).map((raw, index) => {
    if (!isJsonObject(raw)) throw malformed(`operation ${index} must be an object, got ${describe(raw)}`);
    const op = raw.op;
    if (typeof op !== 'string' || !(OPERATIONS as readonly string[]).includes(op)) {
      throw malformed(
        `operation ${index} has unsupported op ${describe(op)}: must be one of ${OPERATIONS.join(', ')}`,
      );
    }
    const path = pointerMember(raw, 'path', op, index);
    const from = op === 'move' || op === 'copy' ? pointerMember(raw, 'from', op, index) : '';
    if ((op === 'add' || op === 'replace' || op === 'test') && !Object.hasOwn(raw, 'value')) {
      throw malformed(`${op} operation ${index} (path ${path}) is missing "value"`);
    }
    return { op: op as OpName, path, from, value: raw.value };
  });
}

function pointerMember(raw: JsonObject, member: 'path' | 'from', op: string, index: number): string {
  const pointer = raw[member];
  if (typeof pointer !== 'string') {
    throw malformed(`${op} operation ${index} is missing ${JSON.stringify(member)} (a JSON pointer string)`);
  }
  if (pointer !== '' && !pointer.startsWith('/')) {
    throw malformed(`${op} operation ${index} has invalid ${member} ${JSON.stringify(pointer)}: a JSON pointer must be empty or start with "/"`);
  }
  return pointer;
}

function describe(value: unknown): string {
  return value === undefined ? 'nothing' : (JSON.stringify(value) ?? String(value));
}

/** RFC 6901 reference tokens; `~01` is `~1`, hence one pass over both escapes. */
function tokens(pointer: string): string[] {
  return pointer
    .split('/')
    .slice(1)
    .map((token) => token.replace(/~[01]/g, (escape) => (escape === '~1' ? '/' : '~')));
}

type Container = unknown[] | JsonObject;

/**
 * The array position a token names, or undefined. Negative indices count from the end, as
 * upstream's (`-1` is the last element; for `add`, the end). `size` is the number of valid
 * positions: the length, or length + 1 for insertion.
 */
function arrayIndex(token: string, size: number): number | undefined {
  if (!/^-?[0-9]+$/.test(token)) return undefined;
  let index = Number(token);
  if (index < 0) index += size;
  return index >= 0 && index < size ? index : undefined;
}

function child(container: unknown, token: string): { found: boolean; value?: unknown } {
  if (Array.isArray(container)) {
    const index = arrayIndex(token, container.length);
    return index === undefined ? { found: false } : { found: true, value: container[index] };
  }
  if (isJsonObject(container) && Object.hasOwn(container, token)) return { found: true, value: container[token] };
  return { found: false };
}

/** The container holding the pointer's last token, or undefined when the path to it is missing. */
function parentOf(root: unknown, path: string[]): Container | undefined {
  let current = root;
  for (const token of path.slice(0, -1)) {
    const next = child(current, token);
    if (!next.found) return undefined;
    current = next.value;
  }
  return Array.isArray(current) || isJsonObject(current) ? current : undefined;
}

function notApplicable(op: string, detail: string): PatchError {
  return new PatchError(`${op} operation does not apply: ${detail}`);
}

/** Inserts `value` at `pointer` (RFC 6902 `add`); returns the new root. */
function add(root: unknown, pointer: string, value: unknown, op: string, missing: string): unknown {
  if (pointer === '') return value;
  const path = tokens(pointer);
  const parent = parentOf(root, path);
  if (!parent) throw notApplicable(op, `doc is missing ${missing}: ${pointer}`);
  const key = path.at(-1)!;
  if (Array.isArray(parent)) {
    if (key === '-') {
      parent.push(value);
      return root;
    }
    const index = arrayIndex(key, parent.length + 1);
    if (index === undefined) throw notApplicable(op, `invalid array index ${JSON.stringify(key)} in path: ${pointer}`);
    parent.splice(index, 0, value);
  } else {
    setOwn(parent, key, value);
  }
  return root;
}

/** Removes and returns the value at `pointer`; throws when it is not there. */
function remove(root: unknown, pointer: string, op: string, missing: string): unknown {
  const path = tokens(pointer);
  const parent = parentOf(root, path);
  if (!parent) throw notApplicable(op, `doc is missing ${missing}: ${pointer}`);
  const key = path.at(-1)!;
  if (Array.isArray(parent)) {
    const index = arrayIndex(key, parent.length);
    if (index === undefined) throw notApplicable(op, `invalid array index ${JSON.stringify(key)} in path: ${pointer}`);
    return parent.splice(index, 1)[0];
  }
  if (!Object.hasOwn(parent, key)) throw notApplicable(op, `doc is missing key: ${pointer}`);
  const value = parent[key];
  delete parent[key];
  return value;
}

/** The value at `pointer`; throws when it is not there. */
function get(root: unknown, pointer: string, op: string, missing: string): unknown {
  if (pointer === '') return root;
  const path = tokens(pointer);
  const parent = parentOf(root, path);
  const found = parent ? child(parent, path.at(-1)!) : { found: false };
  if (!found.found) throw notApplicable(op, `doc is missing ${missing}: ${pointer}`);
  return found.value;
}

function applyOperation(root: unknown, { op, path, from, value }: Operation): unknown {
  switch (op) {
    case 'add':
      return add(root, path, cloneJson(value), op, 'path');
    case 'remove':
      if (path === '') throw notApplicable(op, 'the whole document cannot be removed');
      remove(root, path, op, 'path');
      return root;
    case 'replace': {
      if (path === '') return cloneJson(value);
      const keys = tokens(path);
      const parent = parentOf(root, keys);
      if (!parent) throw notApplicable(op, `doc is missing path: ${path}`);
      const key = keys.at(-1)!;
      if (Array.isArray(parent)) {
        const index = arrayIndex(key, parent.length);
        if (index === undefined) throw notApplicable(op, `invalid array index ${JSON.stringify(key)} in path: ${path}`);
        parent[index] = cloneJson(value);
      } else {
        if (!Object.hasOwn(parent, key)) throw notApplicable(op, `doc is missing key: ${path}`);
        setOwn(parent, key, cloneJson(value));
      }
      return root;
    }
    case 'move': {
      if (from === path) return root;
      // RFC 6902 §4.4: a value cannot be moved into one of its own children.
      if (path.startsWith(`${from}/`)) {
        throw notApplicable(op, `cannot move ${from || 'the whole document'} into its own child ${path}`);
      }
      const moved = get(root, from, op, 'from path');
      remove(root, from, op, 'from path');
      return add(root, path, moved, op, 'destination path');
    }
    case 'copy': {
      const copied = cloneJson(get(root, from, op, 'from path'));
      return add(root, path, copied, op, 'destination path');
    }
    case 'test': {
      let actual: unknown;
      if (path === '') {
        actual = root;
      } else {
        const keys = tokens(path);
        const parent = parentOf(root, keys);
        if (!parent) throw new PatchError(`test operation does not apply: doc is missing path: ${path}`);
        actual = child(parent, keys.at(-1)!).value;
      }
      // As upstream, an absent value tests equal to null.
      if (!jsonEqual(actual ?? null, value ?? null)) throw new PatchError(`testing value ${path} failed`);
      return root;
    }
  }
}
