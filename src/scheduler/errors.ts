/** Errors of the scheduler component. */

/** Base class: a stable `code`, the underlying `cause`. */
export class SchedulerError extends Error {
  override readonly name: string = 'SchedulerError';
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** A binding the API refused or that failed in transit. */
export class BindError extends SchedulerError {
  override readonly name = 'BindError';

  constructor(pod: string, node: string, cause: unknown) {
    super('BIND_FAILED', `Cannot bind pod "${pod}" to node "${node}": ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}
