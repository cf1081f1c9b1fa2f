/**
 * Turns `labelSelector` and `fieldSelector` query parameters into one object filter, with
 * upstream's errors: a malformed selector or an unsupported field label is a 400.
 */
import { badRequest } from './errors.ts';
import type { KubeObject, ResourceDef } from './resource.ts';
import { fieldsMatch, parseFieldSelector, parseLabelSelector, SelectorError } from './selectors/index.ts';
import { everything, type ObjectFilter } from './watch-cache.ts';

/** The filter for a list or watch of `def`. */
export function buildFilter(def: ResourceDef, labelSelector: string, fieldSelector: string): ObjectFilter {
  let labels;
  let fields;
  try {
    labels = labelSelector.trim() === '' ? undefined : parseLabelSelector(labelSelector);
    fields = fieldSelector.trim() === '' ? undefined : parseFieldSelector(fieldSelector);
  } catch (error) {
    if (error instanceof SelectorError) throw badRequest(error.message);
    throw error;
  }
  const getters = def.fieldSelectors ?? {};
  if (fields) {
    for (const r of fields) {
      if (r.field !== 'metadata.name' && r.field !== 'metadata.namespace' && !(r.field in getters)) {
        throw badRequest(`field label not supported: ${r.field}`);
      }
    }
  }
  if (!labels && !fields) return everything;
  const get = (object: KubeObject) => (field: string): string | undefined => {
    if (field === 'metadata.name') return object.metadata?.name ?? '';
    if (field === 'metadata.namespace') return object.metadata?.namespace ?? '';
    return getters[field]?.(object);
  };
  return (object) =>
    (!labels || labels.matches(object.metadata?.labels)) && (!fields || fieldsMatch(fields, get(object)));
}
