/**
 * Strategic merge patch (`application/strategic-merge-patch+json`) over plain JSON values, with
 * the semantics of upstream's apimachinery `strategicpatch.StrategicMergeMapPatch`: what
 * `kubectl apply`, `kubectl patch`, `kubectl edit` and `kubectl set` send for built-in kinds.
 */
import { PatchError } from './errors.ts';
import { cloneJson, isJsonObject, setOwn } from '../json-value.ts';
import type { JsonObject } from '../json-value.ts';
import { fieldPatchMeta } from './patch-meta.ts';
import type { FieldPatchMeta, PatchMeta } from './patch-meta.ts';
import { orderElements } from './strategic-merge-order.ts';
import type { ElementIdentity } from './strategic-merge-order.ts';

const DIRECTIVE = '$patch';
const RETAIN_KEYS = '$retainKeys';
const DELETE_FROM_PRIMITIVE_LIST = '$deleteFromPrimitiveList';
const SET_ELEMENT_ORDER = '$setElementOrder';

/**
 * Applies a strategic merge patch to `document` and returns the result; neither input is
 * modified and the result shares no objects with them.
 *
 * Like a JSON merge patch, objects merge key by key and `null` deletes a key. Unlike it, a
 * list that `meta` declares as merging is merged: elements with a merge key (a container's
 * `name`) merge element by element, new ones taking their place in the order upstream gives
 * them (see {@link orderElements}); lists of scalars with the merge strategy (`finalizers`) are
 * ordered sets. Other lists are replaced. The patch may carry upstream's directives:
 * - `$patch: replace` (an object, or a list element: replace it whole), `$patch: delete` (an
 *   object becomes `{}`; a list element deletes the elements with its merge key);
 * - `$retainKeys: [...]` clears every key of the object not listed;
 * - `$deleteFromPrimitiveList/<field>: [...]` removes those scalars from the list `<field>`;
 * - `$setElementOrder/<field>: [...]` gives the order of the merged list `<field>`.
 * A patch value that lands where the document has nothing is taken as applied to an empty
 * value, so its `null`s vanish and its directives are obeyed rather than stored.
 *
 * @throws {PatchError} `PATCH_MALFORMED` when the patch itself is not valid: not an object, an
 * unknown directive (`unknown patch type: explode in map: map[$patch:explode]`), a directive
 * whose value has the wrong form, keys outside `$retainKeys`, or an order list that contradicts
 * its patch list. `PATCH_NOT_APPLICABLE` when it does not fit the document: a list element
 * without its merge key (`map: map[image:nginx] does not contain declared merge key: name`), a
 * list where the document has an object (or the reverse), lists whose elements differ in type.
 * @throws {TypeError} when `document` is not a JSON object.
 */
export function applyStrategicMergePatch(document: unknown, patch: unknown, meta: PatchMeta): unknown {
  if (!isJsonObject(document)) throw new TypeError(`the document to patch must be a JSON object, got ${typeName(document)}`);
  if (!isJsonObject(patch)) throw malformed(`a strategic merge patch must be a JSON object, got ${typeName(patch)}`);
  return mergeObject(cloneJson(document), patch, meta, '');
}

/** Merges `patch` into `target`, a private copy, in place; returns the merged object. */
function mergeObject(target: JsonObject, patch: JsonObject, meta: PatchMeta | undefined, path: string): JsonObject {
  if (Object.hasOwn(patch, DIRECTIVE)) {
    const directive = patch[DIRECTIVE];
    if (directive === 'replace') {
      const rest: JsonObject = { ...patch };
      delete rest[DIRECTIVE];
      return mergeObject({}, rest, meta, path);
    }
    // Upstream empties the object rather than removing its key.
    if (directive === 'delete') return {};
    // `merge` is no exception: upstream accepts only `replace` and `delete` in an object.
    throw malformed(`unknown patch type: ${goString(directive)} in map: ${goString(patch)}`);
  }
  if (Object.hasOwn(patch, RETAIN_KEYS)) retainKeys(target, patch, path);
  const ordered = applyElementOrders(target, patch, meta, path);

  const deletions: [field: string, values: unknown][] = [];
  for (const [key, value] of Object.entries(patch)) {
    if (key === RETAIN_KEYS || key.startsWith(SET_ELEMENT_ORDER) || ordered.has(key)) continue;
    if (key.startsWith(DELETE_FROM_PRIMITIVE_LIST)) {
      deletions.push([directiveField(key, DELETE_FROM_PRIMITIVE_LIST, 'primitive list'), value]);
      continue;
    }
    if (value === null) {
      delete target[key];
      continue;
    }
    const current = Object.hasOwn(target, key) ? target[key] : null;
    setOwn(target, key, mergeValue(current, value, fieldPatchMeta(meta, key), join(path, key)));
  }
  // Deletions come after additions to the same list, as upstream does once the list is ordered.
  for (const [field, values] of deletions) deleteFromPrimitiveList(target, field, values, join(path, field));
  return target;
}

function mergeValue(current: unknown, value: unknown, field: FieldPatchMeta | undefined, path: string): unknown {
  if (current === null || current === undefined) return fresh(value, field, path);
  const had = typeName(current);
  const got = typeName(value);
  if (had !== got) {
    if (isContainer(current) || isContainer(value)) throw notApplicable(`${path}: expected a ${had}, but the patch has a ${got}`);
    // Scalars of another type simply replace (an int-or-string port: 8080 → "http").
    return value;
  }
  if (isJsonObject(current)) {
    return field?.strategy === 'replace' ? fresh(value, field, path) : mergeObject(current, value as JsonObject, field?.meta, path);
  }
  if (Array.isArray(current)) {
    return field?.strategy === 'merge' ? mergeList(current, value as unknown[], field, path) : fresh(value, field, path);
  }
  return value;
}

/** A patch value landing where the document has nothing: the patch applied to an empty value. */
function fresh(value: unknown, field: FieldPatchMeta | undefined, path: string): unknown {
  if (isJsonObject(value)) return mergeObject({}, value, field?.meta, path);
  if (!Array.isArray(value)) return value;
  if (field?.strategy === 'merge') return mergeList([], value, field, path);
  return value.map((element, index) => (isJsonObject(element) ? mergeObject({}, element, field?.meta, `${path}[${index}]`) : cloneJson(element)));
}

/** Merges a list with the merge strategy. `current` is a private copy; `patch` is not modified. */
function mergeList(current: unknown[], patch: unknown[], field: FieldPatchMeta, path: string): unknown[] {
  if (current.length === 0 && patch.length === 0) return current;
  const kind = elementType(current, patch, path);
  const mergeKey = field.mergeKey;
  if (kind !== 'map') {
    if (mergeKey !== undefined) throw notApplicable(`${path}: expected a list of maps with merge key ${mergeKey}, but it holds ${kind}s`);
    const merged = [...new Set([...current, ...patch])];
    return orderElements(merged, { wanted: patch, live: current, identity: scalarIdentity });
  }
  if (mergeKey === undefined) throw notApplicable(`${path}: cannot merge a list of maps without a merge key`);

  // Elements carrying `$patch` act on the whole list before the others merge.
  let live = current as JsonObject[];
  const elements: JsonObject[] = [];
  let replace = false;
  for (const element of patch as JsonObject[]) {
    if (!Object.hasOwn(element, DIRECTIVE)) {
      elements.push(element);
      continue;
    }
    const directive = element[DIRECTIVE];
    if (directive === 'delete') {
      const key = mergeKeyOf(element, mergeKey);
      live = live.filter((item) => !(Object.hasOwn(item, mergeKey) && item[mergeKey] === key));
    } else if (directive === 'replace') {
      replace = true;
    } else if (directive === 'merge') {
      throw malformed('merging lists cannot yet be specified in the patch');
    } else {
      throw malformed(`unknown patch type: ${goString(directive)} in map: ${goString(element)}`);
    }
  }
  const elementPath = (element: JsonObject) => `${path}[${mergeKey}=${goString(element[mergeKey])}]`;
  if (replace) {
    return elements.map((element) => {
      mergeKeyOf(element, mergeKey);
      return mergeObject({}, element, field.meta, elementPath(element));
    });
  }

  const merged: JsonObject[] = [...live];
  for (const element of elements) {
    const key = mergeKeyOf(element, mergeKey);
    // Searching `merged`, not `live`: a second patch element with the same key merges into the first.
    const index = merged.findIndex((item) => Object.hasOwn(item, mergeKey) && item[mergeKey] === key);
    if (index >= 0) merged[index] = mergeObject(merged[index], element, field.meta, elementPath(element));
    else merged.push(mergeObject({}, element, field.meta, elementPath(element)));
  }
  for (const item of live) mergeKeyOf(item, mergeKey);
  return orderElements(merged, { wanted: elements, live, identity: keyIdentity(mergeKey) });
}

/**
 * Handles every `$setElementOrder/<field>` of `patch`: merges the list `<field>` with its patch
 * list and puts the result in the order given. Returns the fields it handled.
 */
function applyElementOrders(target: JsonObject, patch: JsonObject, meta: PatchMeta | undefined, path: string): Set<string> {
  const handled = new Set<string>();
  for (const [key, order] of Object.entries(patch)) {
    if (!key.startsWith(SET_ELEMENT_ORDER)) continue;
    const field = directiveField(key, SET_ELEMENT_ORDER, 'setElementOrder list');
    const fieldPath = join(path, field);
    if (!Array.isArray(order)) throw malformed(`invalid patch format of setElementOrder list: ${key} must be a list, got ${typeName(order)}`);
    const hasPatchList = Object.hasOwn(patch, field);
    const patchList = hasPatchList ? patch[field] : [];
    if (!Array.isArray(patchList)) {
      throw malformed(`invalid patch format of setElementOrder list: ${fieldPath} must be a list next to ${key}, got ${typeName(patchList)}`);
    }
    const current = Object.hasOwn(target, field) ? target[field] : null;
    if (current !== null && !Array.isArray(current)) throw notApplicable(`${fieldPath}: expected a ${typeName(current)}, but the patch has a list`);
    handled.add(field);

    const listMeta = fieldPatchMeta(meta, field);
    if (listMeta?.strategy !== 'merge') {
      // Only merging lists have an order to keep; any other list is replaced as sent.
      if (hasPatchList) setOwn(target, field, fresh(patchList, listMeta, fieldPath));
      continue;
    }
    if (current === null && !hasPatchList) continue;
    const mergeKey = listMeta.mergeKey;
    if (mergeKey !== undefined) for (const entry of order) mergeKeyOf(entry, mergeKey);
    const identity = mergeKey === undefined ? scalarIdentity : keyIdentity(mergeKey);
    checkOrder(patchList, order, identity, mergeKey);

    const live = current ?? [];
    const merged = hasPatchList ? mergeList([...live], patchList, listMeta, fieldPath) : live;
    if (mergeKey !== undefined) for (const element of merged) mergeKeyOf(element, mergeKey);
    setOwn(target, field, orderElements(merged, { wanted: order, live, identity }));
  }
  return handled;
}

/** The patch list must list its elements (directives aside) in the order `$setElementOrder` gives. */
function checkOrder(patchList: unknown[], order: unknown[], identity: ElementIdentity, mergeKey: string | undefined): void {
  const elements = patchList.filter((element) => !(isJsonObject(element) && Object.hasOwn(element, DIRECTIVE)));
  if (mergeKey !== undefined) for (const element of elements) mergeKeyOf(element, mergeKey);
  let next = 0;
  for (const entry of order) {
    if (next === elements.length) break;
    if (identity(elements[next]) === identity(entry)) next++;
  }
  if (next < elements.length) {
    throw malformed(`The order in patch list: ${goString(patchList)} doesn't match ${SET_ELEMENT_ORDER} list: ${goString(order)}`);
  }
}

function retainKeys(target: JsonObject, patch: JsonObject, path: string): void {
  const keys = patch[RETAIN_KEYS];
  if (!Array.isArray(keys)) throw malformed(`invalid patch format of retainKeys: ${RETAIN_KEYS} must be a list, got ${typeName(keys)}`);
  const retained = new Set<unknown>(keys);
  for (const [key, value] of Object.entries(patch)) {
    if (key === RETAIN_KEYS || value === null || key.startsWith(DELETE_FROM_PRIMITIVE_LIST) || key.startsWith(SET_ELEMENT_ORDER)) continue;
    if (!retained.has(key)) {
      const where = path === '' ? '' : ` at ${path}`;
      throw malformed(`invalid patch format of retainKeys: ${key}${where} is in the patch but not in ${RETAIN_KEYS} ${goString(keys)}`);
    }
  }
  for (const key of Object.keys(target)) if (!retained.has(key)) delete target[key];
}

function deleteFromPrimitiveList(target: JsonObject, field: string, values: unknown, path: string): void {
  if (!Array.isArray(values)) {
    throw malformed(`invalid patch format of primitive list: ${DELETE_FROM_PRIMITIVE_LIST}/${field} must be a list, got ${typeName(values)}`);
  }
  const current = Object.hasOwn(target, field) ? target[field] : null;
  // Nothing to delete from. (Upstream would store the deletion list here instead.)
  if (current === null) return;
  if (!Array.isArray(current)) throw notApplicable(`${path}: expected a ${typeName(current)}, but the patch deletes from it as a list`);
  setOwn(target, field, current.filter((element) => !values.includes(element)));
}

/** `<prefix>/<field>` → `<field>`. */
function directiveField(key: string, prefix: string, what: string): string {
  if (!key.startsWith(`${prefix}/`)) throw malformed(`invalid patch format of ${what}: unexpected key ${key}`);
  return key.slice(prefix.length + 1);
}

/**
 * The one element type of a merging list and its patch; lists of lists and lists mixing types
 * cannot be merged.
 */
function elementType(current: unknown[], patch: unknown[], path: string): string {
  let kind: string | undefined;
  for (const element of [...current, ...patch]) {
    const type = typeName(element);
    if (type === 'list') throw notApplicable(`${path}: lists of lists are not supported`);
    if (kind === undefined) kind = type;
    else if (kind !== type) throw notApplicable(`${path}: list element types are not identical: ${goString([current, patch])}`);
  }
  return kind ?? 'map';
}

function mergeKeyOf(element: unknown, mergeKey: string): unknown {
  if (!isJsonObject(element)) throw notApplicable(`expected a map with merge key ${mergeKey}, but received a ${typeName(element)}: ${goString(element)}`);
  if (!Object.hasOwn(element, mergeKey)) throw notApplicable(`map: ${goString(element)} does not contain declared merge key: ${mergeKey}`);
  return element[mergeKey];
}

const scalarIdentity: ElementIdentity = (element) => element;

function keyIdentity(mergeKey: string): ElementIdentity {
  return (element) => (isJsonObject(element) && Object.hasOwn(element, mergeKey) ? element[mergeKey] : undefined);
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function isContainer(value: unknown): boolean {
  return typeof value === 'object' && value !== null;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'list';
  if (typeof value === 'object') return 'map';
  return typeof value;
}

/** A value as Go's `%v` prints it, so messages read as upstream's: `map[image:nginx name:web]`. */
function goString(value: unknown): string {
  if (value === null || value === undefined) return '<nil>';
  if (Array.isArray(value)) return `[${value.map(goString).join(' ')}]`;
  if (isJsonObject(value)) {
    const entries = Object.keys(value).sort().map((key) => `${key}:${goString(value[key])}`);
    return `map[${entries.join(' ')}]`;
  }
  return String(value);
}

function malformed(message: string): PatchError {
  return new PatchError(message, { code: 'PATCH_MALFORMED' });
}

function notApplicable(message: string): PatchError {
  return new PatchError(message, { code: 'PATCH_NOT_APPLICABLE' });
}
