/** Errors of the container runtime (src/kubelet/runtime). */

/** Base class: a literal `name`, a stable `code`, the underlying `cause`. */
export class RuntimeError extends Error {
  override readonly name: string = 'RuntimeError';
  /** Stable machine-readable code, e.g. `NOT_FOUND`. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** A sandbox or container id the runtime does not know. */
export class NotFoundError extends RuntimeError {
  override readonly name = 'NotFoundError';

  constructor(kind: 'sandbox' | 'container', id: string) {
    super('NOT_FOUND', `${kind} "${id}" not found`);
  }
}

/** An operation the object's current state does not allow (e.g. start of a running container). */
export class InvalidStateError extends RuntimeError {
  override readonly name = 'InvalidStateError';

  constructor(message: string) {
    super('INVALID_STATE', message);
  }
}

/** An external program (runc, a CNI plugin, mount, ip) failed; `stderr` holds what it said. */
export class CommandError extends RuntimeError {
  override readonly name = 'CommandError';
  readonly exitCode: number | null;
  readonly stderr: string;

  constructor(command: string, exitCode: number | null, stderr: string) {
    super('COMMAND_FAILED', `${command} failed (exit ${exitCode ?? 'signal'}): ${stderr.trim().slice(0, 2000)}`);
    this.exitCode = exitCode;
    this.stderr = stderr;
  }
}

/** A CNI plugin returned an error result (CNI spec error object). */
export class CniError extends RuntimeError {
  override readonly name = 'CniError';
  readonly cniCode: number;

  constructor(plugin: string, command: string, cniCode: number, msg: string, details?: string) {
    super('CNI_FAILED', `CNI plugin "${plugin}" ${command} failed (code ${cniCode}): ${msg}${details ? `: ${details}` : ''}`);
    this.cniCode = cniCode;
  }
}

/** The container's process could not be started (bad command, missing binary, runc refused the spec). */
export class StartError extends RuntimeError {
  override readonly name = 'StartError';

  constructor(id: string, message: string) {
    super('START_FAILED', `Cannot start container "${id}": ${message}`);
  }
}

/** An execSync that ran past its timeout (the process was killed). */
export class ExecTimeoutError extends RuntimeError {
  override readonly name = 'ExecTimeoutError';

  constructor(id: string, timeoutMs: number) {
    super('EXEC_TIMEOUT', `exec in container "${id}" timed out after ${timeoutMs} ms`);
  }
}
