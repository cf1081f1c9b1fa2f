/**
 * Validation of CustomResourceDefinitions as upstream's `apis/apiextensions/validation` does it,
 * with its field paths and messages.
 *
 * Upstream validates its internal form of a CRD, in which a schema, subresources or printer
 * columns that are identical in every version are moved to `spec.validation`,
 * `spec.subresources` and `spec.additionalPrinterColumns`. A real cluster therefore names a
 * single-version CRD's schema errors `spec.validation.openAPIV3Schema.…` and a multi-version
 * CRD's `spec.versions[1].schema.openAPIV3Schema.…`; so does this module.
 */
import type {
  CustomResourceColumnDefinition,
  CustomResourceConversion,
  CustomResourceDefinitionNames,
  CustomResourceSubresources,
  CustomResourceValidation,
} from 'kubernetes-types/apiextensions/v1.js';
import type { FieldError } from '../resource.ts';
import { dns1035LabelErrors, dns1123SubdomainErrors } from '../validation/index.ts';
import { goInvalid as invalid, goNotSupported as notSupported, goQuote } from './go-format.ts';
import { forbidden, required } from '../validation/index.ts';
import { jsonPathError } from './jsonpath.ts';
import { canonicalJson, hasDefault, type KubeSchema } from './schema.ts';
import { statusRootErrors, validateDefaults, validateOpenApiSchema, validateStructural } from './structural.ts';

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
const str = (value: unknown): string => (typeof value === 'string' ? value : '');
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const obj = (value: unknown): Json | undefined => (isObject(value) ? value : undefined);


/** Go's `%#v` of a `[]string`, as the stored-versions errors print it. */
function stringSlice(values: string[] | undefined): string {
  return values === undefined ? '[]string(nil)' : `[]string{${values.map(goQuote).join(', ')}}`;
}

// ---------------------------------------------------------------------------------------------
// Upstream's internal view of a v1 CRD

interface VersionView {
  name: string;
  served: boolean;
  storage: boolean;
  deprecated: boolean;
  deprecationWarning: string | undefined;
  schema: CustomResourceValidation | undefined;
  subresources: CustomResourceSubresources | undefined;
  columns: CustomResourceColumnDefinition[];
  selectableFields: unknown[];
}

interface SpecView {
  group: string;
  scope: string;
  names: Json;
  preserveUnknownFields: boolean;
  conversion: Json | undefined;
  versions: VersionView[];
  validation: CustomResourceValidation | undefined;
  subresources: CustomResourceSubresources | undefined;
  columns: CustomResourceColumnDefinition[];
}

function same(values: unknown[]): boolean {
  return values.every((v) => canonicalJson(v ?? null) === canonicalJson(values[0] ?? null));
}

/** The v1 spec as upstream validates it: per-version fields identical everywhere moved up. */
function specView(spec: Json): SpecView {
  const versions: VersionView[] = list(spec.versions).map((raw) => {
    const v = obj(raw) ?? {};
    return {
      name: str(v.name),
      served: v.served === true,
      storage: v.storage === true,
      deprecated: v.deprecated === true,
      deprecationWarning: typeof v.deprecationWarning === 'string' ? v.deprecationWarning : undefined,
      schema: obj(v.schema) as CustomResourceValidation | undefined,
      subresources: obj(v.subresources) as CustomResourceSubresources | undefined,
      columns: list(v.additionalPrinterColumns) as CustomResourceColumnDefinition[],
      selectableFields: list(v.selectableFields),
    };
  });
  const view: SpecView = {
    group: str(spec.group),
    scope: str(spec.scope),
    names: obj(spec.names) ?? {},
    preserveUnknownFields: spec.preserveUnknownFields === true,
    conversion: obj(spec.conversion),
    versions,
    validation: undefined,
    subresources: undefined,
    columns: [],
  };
  if (versions.length === 0) return view;
  if (same(versions.map((v) => v.schema))) {
    view.validation = versions[0]!.schema;
    for (const v of versions) v.schema = undefined;
  }
  if (same(versions.map((v) => v.subresources))) {
    view.subresources = versions[0]!.subresources;
    for (const v of versions) v.subresources = undefined;
  }
  if (same(versions.map((v) => v.columns))) {
    view.columns = versions[0]!.columns;
    for (const v of versions) v.columns = [];
  }
  return view;
}

function subresourcesFor(view: SpecView, version: VersionView): CustomResourceSubresources | undefined {
  return view.versions.some((v) => v.subresources !== undefined) ? version.subresources : view.subresources;
}

function schemasOf(view: SpecView): KubeSchema[] {
  return [view.validation, ...view.versions.map((v) => v.schema)]
    .map((v) => v?.openAPIV3Schema as KubeSchema | undefined)
    .filter((s): s is KubeSchema => s !== undefined);
}

function schemaHas(schema: KubeSchema | undefined, predicate: (s: KubeSchema) => boolean): boolean {
  if (!schema) return false;
  if (predicate(schema)) return true;
  const nested: (KubeSchema | undefined)[] = [
    ...(Array.isArray(schema.items) ? schema.items : [schema.items]),
    ...(schema.allOf ?? []),
    ...(schema.anyOf ?? []),
    ...(schema.oneOf ?? []),
    schema.not,
    ...Object.values(schema.properties ?? {}),
    obj(schema.additionalProperties) as KubeSchema | undefined,
  ];
  return nested.some((s) => schemaHas(s, predicate));
}

// ---------------------------------------------------------------------------------------------
// Parts

function dns1035(value: string): string {
  return dns1035LabelErrors(value).join(',');
}

/** Upstream's `ValidateCustomResourceDefinitionNames` (for `spec.names` and `status.acceptedNames`). */
function namesErrors(names: Json | CustomResourceDefinitionNames, path: string): FieldError[] {
  const errors: FieldError[] = [];
  const n = names as Json;
  const plural = str(n.plural);
  const singular = str(n.singular);
  const kind = str(n.kind);
  const listKind = str(n.listKind);
  if (plural && dns1035(plural)) errors.push(invalid(`${path}.plural`, plural, dns1035(plural)));
  if (singular && dns1035(singular)) errors.push(invalid(`${path}.singular`, singular, dns1035(singular)));
  const mixedCase = 'may have mixed case, but should otherwise match: ';
  if (kind && dns1035(kind.toLowerCase())) errors.push(invalid(`${path}.kind`, kind, mixedCase + dns1035(kind.toLowerCase())));
  if (listKind && dns1035(listKind.toLowerCase())) {
    errors.push(invalid(`${path}.listKind`, listKind, mixedCase + dns1035(listKind.toLowerCase())));
  }
  list(n.shortNames).forEach((s, i) => {
    const problems = dns1035(str(s));
    if (problems) errors.push(invalid(`${path}.shortNames[${i}]`, s, problems));
  });
  if (kind && kind === listKind) errors.push(invalid(`${path}.listKind`, listKind, 'kind and listKind may not be the same'));
  list(n.categories).forEach((c, i) => {
    const problems = dns1035(str(c));
    if (problems) errors.push(invalid(`${path}.categories[${i}]`, c, problems));
  });
  return errors;
}

function simpleJsonPathErrors(s: string, path: string): FieldError[] {
  if (s.length === 0) return [invalid(path, s, 'must not be empty')];
  if (s[0] !== '.') return [invalid(path, s, 'must be a simple json path starting with .')];
  return [];
}

function subresourcesErrors(subresources: CustomResourceSubresources | undefined, path: string): FieldError[] {
  const scale = obj(subresources?.scale);
  if (!scale) return [];
  const errors: FieldError[] = [];
  const specPath = str(scale.specReplicasPath);
  const statusPath = str(scale.statusReplicasPath);
  if (specPath === '') {
    errors.push(required(`${path}.scale.specReplicasPath`));
  } else {
    const e = simpleJsonPathErrors(specPath, `${path}.scale.specReplicasPath`);
    if (e.length > 0) errors.push(...e);
    else if (!specPath.startsWith('.spec.')) errors.push(invalid(`${path}.scale.specReplicasPath`, specPath, 'should be a json path under .spec'));
  }
  if (statusPath === '') {
    errors.push(required(`${path}.scale.statusReplicasPath`));
  } else {
    const e = simpleJsonPathErrors(statusPath, `${path}.scale.statusReplicasPath`);
    if (e.length > 0) errors.push(...e);
    else if (!statusPath.startsWith('.status.')) {
      errors.push(invalid(`${path}.scale.statusReplicasPath`, statusPath, 'should be a json path under .status'));
    }
  }
  const selectorPath = str(scale.labelSelectorPath);
  if (selectorPath !== '') {
    const e = simpleJsonPathErrors(selectorPath, `${path}.scale.labelSelectorPath`);
    if (e.length > 0) errors.push(...e);
    else if (!selectorPath.startsWith('.spec.') && !selectorPath.startsWith('.status.')) {
      errors.push(invalid(`${path}.scale.labelSelectorPath`, selectorPath, 'should be a json path under either .spec or .status'));
    }
  }
  return errors;
}

const COLUMN_TYPES = ['boolean', 'date', 'integer', 'number', 'string'];
const COLUMN_FORMATS = ['byte', 'date', 'date-time', 'double', 'float', 'int32', 'int64', 'password'];

/**
 * A printer column. Beyond upstream (which only asks for a leading `.`), the JSONPath must
 * parse: upstream would accept such a CRD and then fail to serve tables for it.
 */
function columnErrors(column: CustomResourceColumnDefinition, path: string): FieldError[] {
  const errors: FieldError[] = [];
  const c = column as unknown as Json;
  const type = str(c.type);
  const format = str(c.format);
  const jsonPath = str(c.jsonPath);
  if (!str(c.name)) errors.push(required(`${path}.name`));
  if (!type) errors.push(required(`${path}.type`, `must be one of ${COLUMN_TYPES.join(',')}`));
  else if (!COLUMN_TYPES.includes(type)) errors.push(invalid(`${path}.type`, type, `must be one of ${COLUMN_TYPES.join(',')}`));
  if (format && !COLUMN_FORMATS.includes(format)) errors.push(invalid(`${path}.format`, format, `must be one of ${COLUMN_FORMATS.join(',')}`));
  if (!jsonPath) {
    errors.push(required(`${path}.JSONPath`));
  } else {
    const e = simpleJsonPathErrors(jsonPath, `${path}.JSONPath`);
    errors.push(...e);
    const parseError = e.length === 0 ? jsonPathError(jsonPath) : undefined;
    if (parseError) errors.push(invalid(`${path}.JSONPath`, jsonPath, `must be a valid JSONPath: ${parseError}`));
  }
  return errors;
}

/** Upstream's `validateCustomResourceDefinitionValidation` for one schema at `path`. */
function schemaErrors(validation: CustomResourceValidation | undefined, statusEnabled: boolean, path: string): FieldError[] {
  const schema = validation?.openAPIV3Schema as KubeSchema | undefined;
  if (!schema) return [];
  const at = `${path}.openAPIV3Schema`;
  const errors: FieldError[] = [];
  if (statusEnabled) errors.push(...statusRootErrors(schema, path));
  if (schema.nullable) errors.push(forbidden(`${at}.nullable`, 'nullable cannot be true at the root'));
  const structural = validateStructural(schema, at);
  errors.push(...(structural.length > 0 ? structural : validateDefaults(schema, at)));
  errors.push(...validateOpenApiSchema(schema, at));
  return errors;
}

function deprecationWarningErrors(version: VersionView): string[] {
  const warning = version.deprecationWarning;
  if (!version.deprecated && warning !== undefined) return ['can only be set for deprecated versions'];
  if (warning === undefined) return [];
  const errors: string[] = [];
  if (Buffer.byteLength(warning) > 256) errors.push('must be <= 256 characters long');
  if (warning.length === 0) errors.push('must not be an empty string');
  const bad = /[^\p{L}\p{M}\p{N}\p{P}\p{S} ]/u.exec(warning);
  if (bad) {
    const index = Buffer.byteLength(warning.slice(0, bad.index));
    errors.push(`must only contain printable UTF-8 characters; non-printable character found at index ${index}`);
  }
  return errors;
}

function versionErrors(view: SpecView, version: VersionView, path: string): FieldError[] {
  const errors: FieldError[] = [];
  for (const e of deprecationWarningErrors(version)) errors.push(invalid(`${path}.deprecationWarning`, version.deprecationWarning ?? null, e));
  const subresources = subresourcesFor(view, version);
  errors.push(...schemaErrors(version.schema, subresources?.status !== undefined, `${path}.schema`));
  errors.push(...subresourcesErrors(version.subresources, `${path}.subresources`));
  version.columns.forEach((c, i) => errors.push(...columnErrors(c, `${path}.additionalPrinterColumns[${i}]`)));
  version.selectableFields.forEach((f, i) => {
    if (!str(obj(f)?.jsonPath)) errors.push(required(`${path}.selectableFields[${i}].jsonPath`));
  });
  return errors;
}

const ACCEPTED_REVIEW_VERSIONS = ['v1', 'v1beta1'];

function conversionErrors(conversion: Json | undefined, path: string): FieldError[] {
  if (!conversion) return [];
  const c = conversion as CustomResourceConversion & Json;
  const errors: FieldError[] = [];
  const strategy = str(c.strategy);
  if (strategy === '') errors.push(required(`${path}.strategy`));
  else if (strategy !== 'None' && strategy !== 'Webhook') errors.push(notSupported(`${path}.strategy`, strategy, ['None', 'Webhook']));
  const webhook = obj(c.webhook);
  const clientConfig = obj(webhook?.clientConfig);
  const reviewVersions = webhook ? list(webhook.conversionReviewVersions).map(str) : [];
  if (strategy === 'Webhook') {
    if (!clientConfig) {
      errors.push(required(`${path}.webhookClientConfig`, 'required when strategy is set to Webhook'));
    } else {
      const url = clientConfig.url;
      const service = obj(clientConfig.service);
      if ((url === undefined) === (service === undefined)) {
        errors.push(required(`${path}.webhookClientConfig`, 'exactly one of url or service is required'));
      } else if (typeof url === 'string') {
        if (!/^https:\/\//.test(url)) errors.push(invalid(`${path}.webhookClientConfig.url`, url, "'https' is the only allowed URL scheme"));
      } else if (service) {
        const at = `${path}.webhookClientConfig.service`;
        if (!str(service.name)) errors.push(required(`${at}.name`, 'service name is required'));
        if (!str(service.namespace)) errors.push(required(`${at}.namespace`, 'service namespace is required'));
        const port = service.port;
        if (typeof port === 'number' && (port < 1 || port > 65535)) {
          errors.push(invalid(`${at}.port`, port, 'port is not valid: must be between 1 and 65535, inclusive'));
        }
      }
    }
    const at = `${path}.conversionReviewVersions`;
    if (reviewVersions.length === 0) {
      errors.push(required(at));
    } else {
      const seen = new Set<string>();
      reviewVersions.forEach((v, i) => {
        if (seen.has(v)) {
          errors.push(invalid(`${at}[${i}]`, v, 'duplicate version'));
          return;
        }
        seen.add(v);
        for (const problem of dns1035LabelErrors(v)) errors.push(invalid(`${at}[${i}]`, v, problem));
      });
      if (!reviewVersions.some((v) => ACCEPTED_REVIEW_VERSIONS.includes(v))) {
        errors.push({
          type: 'FieldValueInvalid',
          field: at,
          message: `Invalid value: ${stringSlice(reviewVersions)}: must include at least one of ${ACCEPTED_REVIEW_VERSIONS.join(', ')}`,
        });
      }
    }
  } else {
    if (clientConfig) errors.push(forbidden(`${path}.webhookClientConfig`, 'should not be set when strategy is not set to Webhook'));
    if (reviewVersions.length > 0) {
      errors.push(forbidden(`${path}.conversionReviewVersions`, 'should not be set when strategy is not set to Webhook'));
    }
  }
  return errors;
}

function specErrors(view: SpecView, requireOpenAPISchema: boolean): FieldError[] {
  const errors: FieldError[] = [];
  if (!view.group) errors.push(required('spec.group'));
  else if (dns1123SubdomainErrors(view.group).length > 0) errors.push(invalid('spec.group', view.group, dns1123SubdomainErrors(view.group).join(',')));
  else if (view.group.split('.').length < 2) errors.push(invalid('spec.group', view.group, 'should be a domain with at least one dot'));

  if (!view.scope) errors.push(required('spec.scope'));
  else if (view.scope !== 'Cluster' && view.scope !== 'Namespaced') errors.push(notSupported('spec.scope', view.scope, ['Cluster', 'Namespaced']));

  if (requireOpenAPISchema && !view.validation?.openAPIV3Schema) {
    view.versions.forEach((v, i) => {
      if (!v.schema?.openAPIV3Schema) errors.push(required(`spec.versions[${i}].schema.openAPIV3Schema`, 'schemas are required'));
    });
  }
  if (view.preserveUnknownFields && schemasOf(view).some((s) => schemaHas(s, hasDefault))) {
    errors.push(invalid('spec.preserveUnknownFields', true, 'must be false in order to use defaults in the schema'));
  }

  let storage = 0;
  const names = new Set<string>();
  let unique = true;
  view.versions.forEach((v, i) => {
    if (v.storage) storage++;
    if (names.has(v.name)) unique = false;
    names.add(v.name);
    const problems = dns1035(v.name);
    if (problems) errors.push(invalid(`spec.versions[${i}].name`, v.name, problems));
    errors.push(...versionErrors(view, v, `spec.versions[${i}]`));
  });
  const versionsValue = view.versions.map((v) => v.name);
  if (!unique) errors.push(invalid('spec.versions', versionsValue, 'must contain unique version names'));
  if (storage !== 1) errors.push(invalid('spec.versions', versionsValue, 'must have exactly one version marked as storage version'));

  for (const field of ['plural', 'singular', 'kind', 'listKind']) {
    if (!str(view.names[field])) errors.push(required(`spec.names.${field}`));
  }
  errors.push(...namesErrors(view.names, 'spec.names'));
  const anyStatus = view.subresources?.status !== undefined || view.versions.some((v) => v.subresources?.status !== undefined);
  errors.push(...schemaErrors(view.validation, anyStatus, 'spec.validation'));
  errors.push(...subresourcesErrors(view.subresources, 'spec.subresources'));
  view.columns.forEach((c, i) => errors.push(...columnErrors(c, `spec.additionalPrinterColumns[${i}]`)));

  const strategy = str(view.conversion?.strategy);
  if (view.conversion && strategy !== 'None' && view.preserveUnknownFields) {
    errors.push(invalid('spec.conversion.strategy', strategy, 'must be None if spec.preserveUnknownFields is true'));
  }
  errors.push(...conversionErrors(view.conversion, 'spec.conversion'));
  return errors;
}

function storedVersionsErrors(status: Json, view: SpecView): FieldError[] {
  const path = 'status.storedVersions';
  const stored = Array.isArray(status.storedVersions) ? status.storedVersions.map(str) : undefined;
  if (!stored || stored.length === 0) {
    return [{ type: 'FieldValueInvalid', field: path, message: `Invalid value: ${stringSlice(stored)}: must have at least one stored version` }];
  }
  const errors: FieldError[] = [];
  const remaining = new Map(stored.map((v, i) => [v, i]));
  for (const v of view.versions) {
    if (v.storage && !remaining.has(v.name)) {
      errors.push({ type: 'FieldValueInvalid', field: path, message: `Invalid value: ${stringSlice(stored)}: must have the storage version ${v.name}` });
    }
    remaining.delete(v.name);
  }
  for (const [v, i] of remaining) {
    errors.push(
      invalid(
        `${path}[${i}]`,
        v,
        `missing from spec.versions; ${v} was previously a storage version, and must remain in spec.versions until a storage migration ensures no data remains persisted in ${v} and removes ${v} from status.storedVersions`,
      ),
    );
  }
  return errors;
}

const APPROVAL_ANNOTATION = 'api-approved.kubernetes.io';

function isProtectedGroup(group: string): boolean {
  return group === 'k8s.io' || group.endsWith('.k8s.io') || group === 'kubernetes.io' || group.endsWith('.kubernetes.io');
}

type ApprovalState = 'invalid' | 'approved' | 'bypassed' | 'missing';

function approvalState(annotations: Json | undefined): [ApprovalState, string] {
  const annotation = str(annotations?.[APPROVAL_ANNOTATION]);
  if (annotation === '') {
    return ['missing', `protected groups must have approval annotation ${goQuote(APPROVAL_ANNOTATION)}, see https://github.com/kubernetes/enhancements/pull/1111`];
  }
  if (annotation.startsWith('unapproved')) return ['bypassed', `not approved: ${goQuote(annotation)}`];
  let approved = false;
  try {
    const url = new URL(annotation);
    approved = url.host !== '' && url.protocol !== '';
  } catch {
    approved = false;
  }
  if (approved) return ['approved', `approved in ${annotation}`];
  return [
    'invalid',
    `protected groups must have approval annotation ${goQuote(APPROVAL_ANNOTATION)} with either a URL or a reason starting with "unapproved", see https://github.com/kubernetes/enhancements/pull/1111`,
  ];
}

/** CRDs in `*.k8s.io` and `*.kubernetes.io` need the `api-approved.kubernetes.io` annotation. */
function apiApprovalErrors(crd: Json, old: Json | undefined): FieldError[] {
  const group = str(obj(crd.spec)?.group);
  if (!isProtectedGroup(group)) return [];
  const annotations = obj(obj(crd.metadata)?.annotations);
  const [state, reason] = approvalState(annotations);
  // An unchanged state never fails, so controllers that only touch the spec keep working.
  if (old && approvalState(obj(obj(old.metadata)?.annotations))[0] === state) return [];
  const field = `metadata.annotations[${APPROVAL_ANNOTATION}]`;
  if (state === 'invalid') return [invalid(field, str(annotations?.[APPROVAL_ANNOTATION]), reason)];
  if (state === 'missing') return [required(field, reason)];
  return [];
}

/**
 * Whether `spec.scope` and `spec.names.kind` are frozen: upstream freezes them once the CRD is
 * `Established`. Skiff serves a CRD as soon as it is stored, so only an explicit
 * `Established` condition that is not `True` leaves them open.
 */
function established(old: Json): boolean {
  const condition = list(obj(old.status)?.conditions).map(obj).find((c) => c?.type === 'Established');
  return condition === undefined || condition.status === 'True';
}

/**
 * Validates a CustomResourceDefinition (`apiextensions.k8s.io/v1`) as upstream does on create
 * (`old` undefined) and update: the name is `<plural>.<group>`; group, scope, names, versions
 * (exactly one storage version, DNS-1035 names), each schema structural with valid, pruned
 * defaults and supported OpenAPI features, subresources' JSONPaths, printer columns, conversion,
 * `status.storedVersions`, API approval for `*.k8s.io` groups; on update `spec.group` and
 * `spec.names.plural` never change and `spec.scope` and `spec.names.kind` are frozen once
 * established. Object metadata is the server's to validate.
 */
export function validateCustomResourceDefinition(crd: Json, old: Json | undefined): FieldError[] {
  const spec = obj(crd.spec) ?? {};
  const view = specView(spec);
  const errors: FieldError[] = [];

  const name = str(obj(crd.metadata)?.name);
  const plural = str(view.names.plural);
  if (name && name !== `${plural}.${view.group}`) errors.push(invalid('metadata.name', name, 'must be spec.names.plural+"."+spec.group'));

  // Upstream does not tighten validation of stored CRDs: a schema-less version stays allowed.
  const oldView = old ? specView(obj(old.spec) ?? {}) : undefined;
  const requireSchemas = !oldView || oldView.validation?.openAPIV3Schema !== undefined || oldView.versions.every((v) => v.schema?.openAPIV3Schema);
  errors.push(...specErrors(view, requireSchemas));

  if (old && oldView) {
    const immutable = (field: string, value: unknown, oldValue: unknown) => {
      if (canonicalJson(value ?? null) !== canonicalJson(oldValue ?? null)) errors.push(invalid(field, value ?? '', 'field is immutable'));
    };
    if (established(old)) {
      immutable('spec.scope', view.scope, oldView.scope);
      immutable('spec.names.kind', str(view.names.kind), str(oldView.names.kind));
    }
    immutable('spec.group', view.group, oldView.group);
    immutable('spec.names.plural', plural, str(oldView.names.plural));
  }

  const status = obj(crd.status) ?? {};
  errors.push(...namesErrors(obj(status.acceptedNames) ?? {}, 'status.acceptedNames'));
  errors.push(...storedVersionsErrors(status, view));
  errors.push(...apiApprovalErrors(crd, old));
  const oldPreserve = old ? obj(old.spec)?.preserveUnknownFields === true : false;
  if (!oldPreserve && view.preserveUnknownFields) {
    errors.push(invalid('spec.preserveUnknownFields', true, 'cannot set to true, set x-kubernetes-preserve-unknown-fields to true in openAPIV3Schema instead'));
  }
  return errors;
}
