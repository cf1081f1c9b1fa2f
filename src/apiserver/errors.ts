/**
 * API errors. Everything the server rejects becomes a {@link StatusError}, and one function,
 * {@link toStatus}, turns any thrown value into the `Status` body a client receives: known
 * failures with their reason and code, anything unexpected as a 500 with no stack trace.
 */
import type { FieldError } from './resource.ts';

/** Upstream's `metav1.StatusReason` values that Skiff returns. */
export type StatusReason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Gone'
  | 'Invalid'
  | 'Expired'
  | 'MethodNotAllowed'
  | 'NotAcceptable'
  | 'UnsupportedMediaType'
  | 'RequestEntityTooLarge'
  | 'TooManyRequests'
  | 'InternalError'
  | 'Timeout'
  | 'ServiceUnavailable';

/** `metav1.StatusDetails`. */
export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: { reason: string; message: string; field?: string }[];
  retryAfterSeconds?: number;
}

/** A `metav1.Status` body. */
export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message?: string;
  reason?: StatusReason;
  details?: StatusDetails;
  code: number;
}

/** An error the API reports to its client as a `Status`. */
export class StatusError extends Error {
  override name = 'StatusError';
  readonly code: number;
  readonly reason: StatusReason;
  readonly details: StatusDetails | undefined;
  constructor(code: number, reason: StatusReason, message: string, details?: StatusDetails) {
    super(message);
    this.code = code;
    this.reason = reason;
    this.details = details;
  }

  /** The `Status` body for this error. */
  toStatus(): Status {
    const status: Status = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      code: this.code,
    };
    if (this.details) status.details = this.details;
    return status;
  }
}

/** Identifies an object in messages: the resource (`pods`, `deployments.apps`) and name. */
export interface ObjectRef {
  /** Plural resource name. */
  resource: string;
  /** API group, '' for core. */
  group: string;
  name: string;
}

function qualified(ref: Pick<ObjectRef, 'resource' | 'group'>): string {
  return ref.group === '' ? ref.resource : `${ref.resource}.${ref.group}`;
}

/** 404: `pods "web" not found`. */
export function notFound(ref: ObjectRef): StatusError {
  return new StatusError(404, 'NotFound', `${qualified(ref)} "${ref.name}" not found`, {
    name: ref.name,
    ...(ref.group ? { group: ref.group } : {}),
    kind: ref.resource,
  });
}

/** 409: `pods "web" already exists`. */
export function alreadyExists(ref: ObjectRef): StatusError {
  return new StatusError(409, 'AlreadyExists', `${qualified(ref)} "${ref.name}" already exists`, {
    name: ref.name,
    ...(ref.group ? { group: ref.group } : {}),
    kind: ref.resource,
  });
}

/** 409: a write lost an optimistic-concurrency race. */
export function conflict(ref: ObjectRef, detail?: string): StatusError {
  const why =
    detail ?? 'the object has been modified; please apply your changes to the latest version and try again';
  return new StatusError(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(ref)} "${ref.name}": ${why}`, {
    name: ref.name,
    ...(ref.group ? { group: ref.group } : {}),
    kind: ref.resource,
  });
}

/** 422: `Deployment.apps "web" is invalid: spec.replicas: Invalid value: -1: …`. */
export function invalid(kind: string, group: string, name: string, errors: FieldError[]): StatusError {
  const qualifiedKind = group === '' ? kind : `${kind}.${group}`;
  const parts = errors.map((e) => `${e.field}: ${e.message}`);
  const summary = parts.length === 1 ? parts[0] : `[${parts.join(', ')}]`;
  return new StatusError(422, 'Invalid', `${qualifiedKind} "${name}" is invalid: ${summary}`, {
    name,
    ...(group ? { group } : {}),
    kind,
    causes: errors.map((e) => ({ reason: e.type, message: e.message, field: e.field })),
  });
}

/** 400 with the given message. */
export function badRequest(message: string): StatusError {
  return new StatusError(400, 'BadRequest', message);
}

/** 403 with the given message. */
export function forbidden(message: string, details?: StatusDetails): StatusError {
  return new StatusError(403, 'Forbidden', message, details);
}

/** 405: the resource does not support the verb. */
export function methodNotAllowed(): StatusError {
  return new StatusError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
}

/** 410: a watch or list asked for history the server no longer has. */
export function expired(message: string): StatusError {
  return new StatusError(410, 'Expired', message);
}

/** 413: a request body over the limit. */
export function tooLarge(limit: number): StatusError {
  return new StatusError(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${limit}`);
}

/** 415: a request body in a format the server cannot read. */
export function unsupportedMediaType(contentType: string): StatusError {
  return new StatusError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/merge-patch+json, application/json-patch+json (got "${contentType}")`);
}

/** The Status for anything thrown while serving a request. Unknown errors become a bare 500. */
export function toStatus(error: unknown): Status {
  if (error instanceof StatusError) return error.toStatus();
  return new StatusError(500, 'InternalError', 'Internal error occurred: an unexpected error happened while serving the request').toStatus();
}
