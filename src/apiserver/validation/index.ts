/**
 * Validation shared by every kind: field-error constructors, name and label rules, object
 * metadata on create and update, and resource quantities — all worded as upstream words them.
 */
export * from './field-errors.ts';
export {
  DNS1123_LABEL_MAX_LENGTH,
  DNS1123_SUBDOMAIN_MAX_LENGTH,
  TOTAL_ANNOTATION_SIZE_LIMIT_BYTES,
  dns1035LabelErrors,
  dns1123LabelErrors,
  dns1123SubdomainErrors,
  isValidPathSegmentName,
  labelValueErrors,
  pathSegmentNameErrors,
  qualifiedNameErrors,
  validateAnnotations,
  validateLabels,
} from './names.ts';
export type { ObjectMetaOptions } from './object-meta.ts';
export { validateObjectMeta, validateObjectMetaUpdate } from './object-meta.ts';
export { parseQuantity, quantityErrors } from './quantity.ts';
