/**
 * Errors of the simulator. Each has a stable `code`; argument mistakes are `TypeError` /
 * `RangeError` as elsewhere.
 */

/** Base class of the simulator's errors. */
export class SimError extends Error {
  override readonly name: string = 'SimError';
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** A control command that does not parse, or names a node or pod the simulator does not run. */
export class SimCommandError extends SimError {
  override readonly name = 'SimCommandError';

  constructor(message: string) {
    super('ERR_SIM_COMMAND', message);
  }
}
