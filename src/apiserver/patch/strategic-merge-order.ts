/**
 * The element order of a list merged by strategic merge patch, as upstream decides it
 * (`normalizeElementOrder` and `mergeSortedSlice` in apimachinery's strategicpatch).
 */

/** What identifies an element: its merge-key value, or a scalar element itself. */
export type ElementIdentity = (element: unknown) => unknown;

/** What {@link orderElements} orders by. */
export interface OrderOptions {
  /** The order the client asked for: the `$setElementOrder` list, or else the patch list. */
  wanted: readonly unknown[];
  /** The list before the patch. */
  live: readonly unknown[];
  identity: ElementIdentity;
}

/**
 * Orders the elements of a merged list. Elements named in `wanted` keep that order; the others
 * ("server-only", e.g. a sidecar a controller added) keep their live order and are interleaved
 * with them: a server-only element goes first only when the live list had it before the wanted
 * element it is compared with. An element new to the list is in no live order, so it goes before
 * the server-only elements not yet placed: a patch adding one container without
 * `$setElementOrder` puts it first. That is upstream's result, kept so that lists come out as a
 * Kubernetes API server leaves them.
 */
export function orderElements(merged: readonly unknown[], { wanted, live, identity }: OrderOptions): unknown[] {
  const wantedIndex = firstIndexes(wanted, identity);
  const liveIndex = firstIndexes(live, identity);
  const fromPatch: unknown[] = [];
  const serverOnly: unknown[] = [];
  for (const element of merged) (wantedIndex.has(identity(element)) ? fromPatch : serverOnly).push(element);
  sortByIndex(fromPatch, wantedIndex, identity);
  sortByIndex(serverOnly, liveIndex, identity);

  const result: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < serverOnly.length && j < fromPatch.length) {
    const server = liveIndex.get(identity(serverOnly[i]));
    const patched = liveIndex.get(identity(fromPatch[j]));
    if (server !== undefined && patched !== undefined && server < patched) result.push(serverOnly[i++]);
    else result.push(fromPatch[j++]);
  }
  return result.concat(serverOnly.slice(i), fromPatch.slice(j));
}

/** Position of the first element with each identity (a later duplicate does not move it). */
function firstIndexes(list: readonly unknown[], identity: ElementIdentity): Map<unknown, number> {
  const indexes = new Map<unknown, number>();
  list.forEach((element, index) => {
    const id = identity(element);
    if (!indexes.has(id)) indexes.set(id, index);
  });
  return indexes;
}

/** Stable sort by position in `indexes`; elements it does not know keep their order, last. */
function sortByIndex(list: unknown[], indexes: Map<unknown, number>, identity: ElementIdentity): void {
  const position = (element: unknown) => indexes.get(identity(element)) ?? Number.POSITIVE_INFINITY;
  list.sort((a, b) => {
    const pa = position(a);
    const pb = position(b);
    return pa === pb ? 0 : pa < pb ? -1 : 1;
  });
}
