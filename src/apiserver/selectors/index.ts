/**
 * Selectors: label selectors (query-string syntax and `metav1.LabelSelector` objects) and field
 * selectors, with upstream's syntax, matching rules and error messages.
 */
export type { LabelSelector } from './label-selector.ts';
export { labelSelectorFromObject, parseLabelSelector } from './label-selector.ts';
export type { FieldRequirement } from './field-selector.ts';
export { fieldsMatch, formatFieldSelector, parseFieldSelector } from './field-selector.ts';
export { SelectorError } from './errors.ts';
