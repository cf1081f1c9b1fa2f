/**
 * Field management and server-side apply, as upstream's field manager and
 * structured-merge-diff: `metadata.managedFields` (FieldsV1) for every write, `Apply` merges with
 * ownership, conflicts and pruning. Pure functions over plain JSON objects; the API handler and
 * object store call them while they read, modify and write.
 */
export { keepTimesOfNoop, LAST_APPLIED_ANNOTATION, serverSideApply, type ApplyOptions } from './apply.ts';
export { ApplyConflictError, type Conflict } from './errors.ts';
export { FieldSet } from './fields.ts';
export {
  decodeManagedFields,
  describeManager,
  encodeManagedFields,
  ManagedFieldsError,
  type ManagedFieldsEntry,
  type ManagerFields,
} from './managed-fields.ts';
export { managerOptions, managerOrUserAgent, type ManagerOptions } from './manager.ts';
export { pathString, type Path, type PathElement } from './path-element.ts';
export { builtinSchema, customResourceSchema, schemaForKind, type FieldSchema } from './schema.ts';
export { recordUpdate, type UpdateOptions } from './update.ts';
