/**
 * Custom resources: CustomResourceDefinitions validated as upstream validates them, and turned
 * into the {@link ResourceDef}s that serve their kinds — structural-schema validation,
 * defaulting and pruning, printer columns through kubectl's JSONPath.
 */
export { validateCustomResourceDefinition } from './crd-validation.ts';
export { compileJsonPath, evaluateJsonPath, formatCell, jsonPathError } from './jsonpath.ts';
export { resourceDefsFromCrd } from './resource-def.ts';
export { applyDefaults, pruneUnknownFields, validateAgainstSchema, type KubeSchema } from './schema.ts';
