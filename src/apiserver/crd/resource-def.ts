/**
 * A CustomResourceDefinition turned into the {@link ResourceDef}s the API server serves, one per
 * served version, behaving as upstream's `customresource` registry does.
 */
import type { CustomResourceColumnDefinition, CustomResourceDefinition, CustomResourceDefinitionVersion } from 'kubernetes-types/apiextensions/v1.js';
import type { FieldError, KubeObject, PrinterColumn, ResourceDef, ScaleDef } from '../resource.ts';
import { errorValue, goPrint, goType } from './go-format.ts';
import { compileJsonPath, formatCell } from './jsonpath.ts';
import { applyDefaults, embeddedErrors, listTypeErrors, openApiErrors, pruneUnknownFields, type KubeSchema } from './schema.ts';

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Upstream's description of the default AGE column (ObjectMeta's `creationTimestamp` doc). */
const CREATION_TIMESTAMP_DESCRIPTION =
  'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata';

/** What a CRD without `additionalPrinterColumns` shows, as upstream: AGE. */
const DEFAULT_COLUMNS: CustomResourceColumnDefinition[] = [
  { name: 'Age', type: 'date', description: CREATION_TIMESTAMP_DESCRIPTION, jsonPath: '.metadata.creationTimestamp' },
];

const COLUMN_TYPES = new Set<PrinterColumn['type']>(['string', 'integer', 'number', 'boolean', 'date']);

function printerColumn(column: CustomResourceColumnDefinition): PrinterColumn | undefined {
  let evaluate: (object: unknown) => unknown[];
  try {
    evaluate = compileJsonPath(column.jsonPath);
  } catch {
    // Validation rejects such columns; one stored before that rule must not break the table.
    return undefined;
  }
  const type = column.type as PrinterColumn['type'];
  if (!COLUMN_TYPES.has(type)) return undefined;
  return {
    name: column.name,
    type,
    ...(column.format ? { format: column.format } : {}),
    description: column.description || `Custom resource definition column (in JSONPath format): ${column.jsonPath}`,
    // Tables carry any priority upstream; kubectl shows only 0 without -o wide.
    priority: (column.priority ?? 0) > 0 ? 1 : 0,
    cell: (object, now) => formatCell(evaluate(object), type, now),
  };
}

/** The fields of a simple `.a.b.c` path, as upstream's scale code splits them. */
function fieldsOf(path: string): string[] {
  return path.replace(/^\./, '').split('.');
}

type Nested = { found: true; value: unknown } | { found: false; error?: string };

/** apimachinery's `NestedFieldNoCopy`, with its accessor error for a non-object on the way. */
function nested(object: unknown, fields: string[]): Nested {
  let current: unknown = object;
  for (let i = 0; i < fields.length; i++) {
    if (!isObject(current)) {
      if (current === undefined || current === null) return { found: false };
      const at = `.${fields.slice(0, i).join('.')}`;
      return { found: false, error: `${at} accessor error: ${goPrint(current)} is of the type ${goType(current)}, expected map[string]interface{}` };
    }
    if (!Object.hasOwn(current, fields[i]!)) return { found: false };
    current = current[fields[i]!];
  }
  return { found: true, value: current };
}

/** apimachinery's `NestedInt64`: 0 when absent, an accessor error when not an integer. */
function nestedInt(object: unknown, path: string): { value: number; error?: string } {
  const fields = fieldsOf(path);
  const result = nested(object, fields);
  if (!result.found) return result.error ? { value: 0, error: result.error } : { value: 0 };
  const value = result.value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return { value };
  return {
    value: 0,
    error: `.${fields.join('.')} accessor error: ${goPrint(value)} is of the type ${goType(value)}, expected int64`,
  };
}

function nestedString(object: unknown, path: string): { value: string; error?: string } {
  const fields = fieldsOf(path);
  const result = nested(object, fields);
  if (!result.found) return result.error ? { value: '', error: result.error } : { value: '' };
  if (typeof result.value === 'string') return { value: result.value };
  return {
    value: '',
    error: `.${fields.join('.')} accessor error: ${goPrint(result.value)} is of the type ${goType(result.value)}, expected string`,
  };
}

function setNested(object: Json, path: string, value: unknown): void {
  const fields = fieldsOf(path);
  let current = object;
  for (const field of fields.slice(0, -1)) {
    if (!isObject(current[field])) current[field] = {};
    current = current[field] as Json;
  }
  current[fields.at(-1)!] = value;
}

function scaleDef(paths: { specReplicasPath: string; statusReplicasPath: string; labelSelectorPath?: string }): ScaleDef {
  return {
    specReplicas: (o) => nestedInt(o, paths.specReplicasPath).value,
    setSpecReplicas: (o, replicas) => {
      const copy = structuredClone(o);
      setNested(copy, paths.specReplicasPath, replicas);
      return copy;
    },
    statusReplicas: (o) => nestedInt(o, paths.statusReplicasPath).value,
    selector: (o) => (paths.labelSelectorPath ? nestedString(o, paths.labelSelectorPath).value : ''),
  };
}

const MAX_INT32 = 2147483647;

function replicasErrors(object: KubeObject, path: string): FieldError[] {
  const { value, error } = nestedInt(object, path);
  if (error) return [{ type: 'FieldValueInvalid', field: path, message: `Invalid value: ${value}: ${error}` }];
  if (value < 0) return [{ type: 'FieldValueInvalid', field: path, message: `Invalid value: ${value}: should be a non-negative integer` }];
  if (value > MAX_INT32) {
    return [{ type: 'FieldValueInvalid', field: path, message: `Invalid value: ${value}: should be less than or equal to ${MAX_INT32}` }];
  }
  return [];
}

/** The replica counts and selector the scale subresource reads must be readable, as upstream checks. */
function scaleErrors(object: KubeObject, paths: { specReplicasPath: string; statusReplicasPath: string; labelSelectorPath?: string }): FieldError[] {
  const errors = [...replicasErrors(object, paths.specReplicasPath), ...replicasErrors(object, paths.statusReplicasPath)];
  if (paths.labelSelectorPath) {
    const { value, error } = nestedString(object, paths.labelSelectorPath);
    if (error) errors.push({ type: 'FieldValueInvalid', field: paths.labelSelectorPath, message: `Invalid value: ${errorValue(value)}: ${error}` });
  }
  return errors;
}

/** Selectable fields become field selectors: `.spec.color` selects as `spec.color`. */
function fieldSelectors(version: CustomResourceDefinitionVersion): Record<string, (object: KubeObject) => string> | undefined {
  const fields = version.selectableFields ?? [];
  if (fields.length === 0) return undefined;
  const selectors: Record<string, (object: KubeObject) => string> = {};
  for (const { jsonPath } of fields) {
    const fieldPath = jsonPath.replace(/^\./, '');
    selectors[fieldPath] = (object) => {
      const found = nested(object, fieldsOf(jsonPath));
      if (!found.found || found.value === null || typeof found.value === 'object') return '';
      return String(found.value);
    };
  }
  return selectors;
}

function resourceDef(crd: CustomResourceDefinition, version: CustomResourceDefinitionVersion): ResourceDef {
  const { spec } = crd;
  const names = spec.names;
  const schema = version.schema?.openAPIV3Schema as KubeSchema | undefined;
  const scale = version.subresources?.scale;
  const statusSubresource = version.subresources?.status !== undefined;
  const columns = (version.additionalPrinterColumns?.length ? version.additionalPrinterColumns : DEFAULT_COLUMNS)
    .map(printerColumn)
    .filter((c): c is PrinterColumn => c !== undefined);
  const selectors = fieldSelectors(version);
  return {
    group: spec.group,
    version: version.name,
    kind: names.kind,
    plural: names.plural,
    singular: names.singular || names.kind.toLowerCase(),
    shortNames: names.shortNames ?? [],
    categories: names.categories ?? [],
    namespaced: spec.scope === 'Namespaced',
    subresources: {
      ...(statusSubresource ? { status: true } : {}),
      ...(scale ? { scale: scaleDef(scale) } : {}),
    },
    generation: true,
    printerColumns: columns,
    defaults: schema
      ? (object) => {
          pruneUnknownFields(object, schema);
          applyDefaults(object, schema);
        }
      : undefined,
    ...(schema ? { unknownFields: (object: KubeObject) => pruneUnknownFields(structuredClone(object), schema) } : {}),
    // Upstream's order: the schema, the scale paths, embedded resources, list types.
    validate: (object) => [
      ...(schema ? openApiErrors(object, schema, { name: '' }) : []),
      ...(scale ? scaleErrors(object, scale) : []),
      ...(schema ? [...embeddedErrors(object, schema, ''), ...listTypeErrors(object, schema, '')] : []),
    ],
    // Creating cannot set status when it is a subresource, as upstream.
    prepareForCreate: statusSubresource ? (object) => void delete object.status : undefined,
    ...(selectors ? { fieldSelectors: selectors } : {}),
    ...(schema ? { openapiSchema: schema } : {}),
  };
}

/**
 * The kinds a CustomResourceDefinition defines: one {@link ResourceDef} per served version, with
 * the CRD's names, scope, `status` and `scale` subresources (the scale paths read and written
 * as upstream does, 0 when absent), printer columns (AGE when the version declares none),
 * selectable fields as field selectors, and the version's schema for defaulting (pruning unknown
 * fields, then `default`s) and validation (the schema, then readable scale paths).
 *
 * `generation: true` approximates upstream, which bumps a custom resource's generation on any
 * change outside `metadata`: with the status subresource that is what the server does, since
 * status changes go through `/status`; without it upstream also counts status changes.
 * Custom resources have no protobuf form and no strategic-merge-patch metadata: upstream answers
 * a strategic merge patch of a custom resource with 415 (JSON patch, merge patch and apply only).
 */
export function resourceDefsFromCrd(crd: CustomResourceDefinition): ResourceDef[] {
  const storage = crd.spec.versions.find((v) => v.storage)?.name;
  return crd.spec.versions
    .filter((v) => v.served)
    .map((v) => ({ ...resourceDef(crd, v), ...(storage && storage !== v.name ? { storageVersion: storage } : {}) }));
}
