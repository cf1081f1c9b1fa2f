/**
 * Errors of the kubelet's streaming server: each carries the HTTP status it is answered with,
 * as a metav1.Status.
 */

/** A request the kubelet server refuses or cannot serve. */
export class KubeletServerError extends Error {
  readonly code: number;
  readonly reason: string;

  constructor(code: number, reason: string, message: string) {
    super(message);
    this.name = 'KubeletServerError';
    this.code = code;
    this.reason = reason;
  }

  /** The metav1.Status of this error. */
  toStatus(): Record<string, unknown> {
    return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: this.message, reason: this.reason, code: this.code };
  }
}

/** 400 BadRequest. */
export function badRequest(message: string): KubeletServerError {
  return new KubeletServerError(400, 'BadRequest', message);
}

/** 404 NotFound. */
export function notFound(message: string): KubeletServerError {
  return new KubeletServerError(404, 'NotFound', message);
}
