/**
 * Resource kinds are data. A {@link ResourceDef} says everything the API server needs to serve
 * one kind: where it lives in the URL space and in storage, how it is named in discovery, how
 * it is defaulted, validated and printed. Built-in kinds are defined in `kinds/`; custom
 * resources will produce the same shape from a CustomResourceDefinition.
 */

/** A Kubernetes object as it travels through the server: plain JSON. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  [field: string]: unknown;
}

/** The part of `metadata` the server itself reads and writes. */
export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: unknown[];
  managedFields?: unknown[];
  [field: string]: unknown;
}

/**
 * One invalid field, as reported in a 422 `Invalid` Status's `details.causes`.
 * `type` is upstream's cause type (`FieldValueRequired`, `FieldValueInvalid`, …); `field` is a
 * path such as `spec.containers[0].image` or `metadata.labels`.
 */
export interface FieldError {
  type: FieldErrorType;
  field: string;
  /** The human sentence, e.g. `Required value` or `Invalid value: "Foo": a lowercase RFC 1123 …`. */
  message: string;
}

/** Upstream's `metav1.CauseType` values used for field errors. */
export type FieldErrorType =
  | 'FieldValueRequired'
  | 'FieldValueInvalid'
  | 'FieldValueNotSupported'
  | 'FieldValueDuplicate'
  | 'FieldValueForbidden'
  | 'FieldValueTooLong'
  | 'FieldValueTooMany'
  | 'FieldValueTypeInvalid'
  | 'FieldValueNotFound';

/** A column of `kubectl get` output, served as a `meta.k8s.io/v1` Table column. */
export interface PrinterColumn {
  /** Header as kubectl prints it upper-cased: `Name`, `Ready`, `Status`, `Age`, … */
  name: string;
  /** OpenAPI type of the cell: `string`, `integer`, `number`, `boolean`, `date`. */
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  /** OpenAPI format; `name` marks the column kubectl treats as the object's name. */
  format?: string;
  description: string;
  /** 0 = always shown; 1 = shown only with `-o wide`. */
  priority: 0 | 1;
  /** The cell for one object; `now` is the server clock (for AGE-like columns). */
  cell: (object: KubeObject, now: Date) => string | number | boolean | null;
}

/** Where a resource's `scale` subresource reads and writes replica counts. */
export interface ScaleDef {
  /** Reads `spec.replicas` (the desired count). */
  specReplicas: (object: KubeObject) => number;
  /** Returns a copy of the object with `spec.replicas` set. */
  setSpecReplicas: (object: KubeObject, replicas: number) => KubeObject;
  /** Reads `status.replicas` (the observed count); 0 when absent. */
  statusReplicas: (object: KubeObject) => number;
  /** The label selector in string form (`app=web,tier in (a,b)`), for `status.selector`. */
  selector: (object: KubeObject) => string;
}

/** Everything the API server knows about one kind. */
export interface ResourceDef {
  /** API group; `''` for the core group. */
  group: string;
  version: string;
  kind: string;
  /**
   * The version objects are stored in, when the kind is served in several versions sharing one
   * storage (custom resources); objects are converted to `version` on the way out. Default:
   * `version`.
   */
  storageVersion?: string;
  /** Lower-case plural used in URLs and storage keys: `pods`, `deployments`. */
  plural: string;
  /** Lower-case singular: `pod`. */
  singular: string;
  /** `kubectl` short names: `po`, `deploy`. */
  shortNames: string[];
  /** Discovery categories: `all` makes `kubectl get all` include the kind. */
  categories: string[];
  namespaced: boolean;
  /** Verbs beyond the standard set are not supported; set false for read-only kinds. */
  subresources: {
    /** A `status` subresource exists: main updates keep the stored status, status updates
     * keep everything but status. */
    status?: boolean;
    scale?: ScaleDef;
  };
  /**
   * Whether `metadata.generation` is maintained: 1 on create, +1 on every change outside
   * `metadata` and `status`. True for kinds with a spec that controllers observe.
   */
  generation: boolean;
  /** Columns for Table output after the name column (Name comes first automatically). */
  printerColumns: PrinterColumn[];
  /**
   * Fills defaults in place (upstream's `SetDefaults_*`). Runs on create and update, before
   * validation, on the incoming object.
   */
  defaults?: (object: KubeObject) => void;
  /**
   * Kind-specific validation. `old` is the stored object on update (for immutable fields),
   * undefined on create. Object metadata (name, labels, …) is validated by the server for every
   * kind; this validates the rest.
   */
  validate?: (object: KubeObject, old: KubeObject | undefined) => FieldError[];
  /**
   * Adjusts a new object before it is first stored (upstream's `PrepareForCreate`), e.g. a
   * Pod's initial `status.phase: Pending`. Runs after defaults, before validation.
   */
  prepareForCreate?: (object: KubeObject) => void;
  /**
   * Adjusts an update of the main resource before defaulting and validation (upstream's
   * `PrepareForUpdate`): keeps what clients may leave out or may not change, e.g. a Service's
   * allocated ClusterIP. `old` is the stored object; `object` may be changed in place.
   */
  prepareForUpdate?: (object: KubeObject, old: KubeObject) => void;
  /**
   * Field selectors beyond `metadata.name` and `metadata.namespace` (which every kind has):
   * field path → value getter. Selecting on any other field is a 400, as upstream.
   */
  fieldSelectors?: Record<string, (object: KubeObject) => string>;
  /**
   * Paths of the fields in `object` that the kind does not define (`spec.foo`), for server-side
   * field validation: refused under `fieldValidation=Strict`, warned about under `Warn`. Kinds
   * without a schema to check against leave it undefined.
   */
  unknownFields?: (object: KubeObject) => string[];
  /**
   * JSON type mismatches in `object` (`data` given as a list), each a sentence as Go's decoder
   * words it. Any mismatch makes the write a 400, whatever `fieldValidation` says, as upstream
   * fails to decode such a body.
   */
  typeErrors?: (object: KubeObject) => string[];
  /**
   * Marks a create-only kind (TokenReview, SubjectAccessReview, …): a POST is answered with the
   * object this returns (the request with its `status` filled in) and nothing is stored; every
   * other verb is 405.
   */
  review?: (object: KubeObject) => KubeObject;
  /**
   * Storage time to live in seconds (Events: 3600). Objects expire and are deleted by the
   * store after this long without an update.
   */
  ttlSeconds?: number;
  /**
   * The kind's OpenAPI v3 schema when it is not a built-in type (a CRD version's
   * `openAPIV3Schema`), published at `/openapi/v3` and `/openapi/v2`. Built-in kinds leave it
   * unset: their schemas are generated from `kubernetes-types`.
   */
  openapiSchema?: unknown;
}

/** `apps/v1`, or `v1` for the core group. */
export function groupVersion(def: Pick<ResourceDef, 'group' | 'version'>): string {
  return def.group === '' ? def.version : `${def.group}/${def.version}`;
}
