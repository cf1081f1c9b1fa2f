/**
 * The client's errors. An answer of 400 or above becomes an {@link ApiError} carrying the
 * server's `Status`, so callers test `error.code === 409` or `error.reason === 'AlreadyExists'`
 * rather than parsing messages.
 */

/** A Kubernetes `Status` body, as the API server sends with every error. */
export interface Status {
  kind?: 'Status';
  apiVersion?: string;
  status?: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  code?: number;
  details?: { name?: string; group?: string; kind?: string; causes?: { reason?: string; message?: string; field?: string }[]; retryAfterSeconds?: number };
}

/** The API answered with an error status. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  /** The HTTP status code (404, 409, 422, …). */
  readonly code: number;
  /** The Status reason (`NotFound`, `Conflict`, `AlreadyExists`, …); empty when the body had none. */
  readonly reason: string;
  readonly status: Status;

  constructor(method: string, path: string, code: number, body: unknown, options?: { cause?: unknown }) {
    const status: Status = isStatus(body) ? body : { message: typeof body === 'string' ? body : JSON.stringify(body) };
    super(`${method} ${path}: ${code} ${status.reason ?? ''}: ${status.message ?? ''}`.replace(/ +:/g, ':'), options);
    this.code = code;
    this.reason = status.reason ?? '';
    this.status = status;
  }
}

/** Whether `error` is an {@link ApiError} with the given HTTP code. */
export function isApiError(error: unknown, code?: number): error is ApiError {
  return error instanceof ApiError && (code === undefined || error.code === code);
}

function isStatus(body: unknown): body is Status {
  return typeof body === 'object' && body !== null && (body as { kind?: unknown }).kind === 'Status';
}
