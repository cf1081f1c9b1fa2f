/** Errors of the cluster's certificates. */

/** Base of every PKI error. `code` is stable; `cause` carries the underlying error if any. */
export class PkiError extends Error {
  override name = 'PkiError';
  readonly code: string = 'PKI_ERROR';
}

/**
 * The CA on disk exists but cannot be used: its key is missing, unreadable, not the certificate's
 * key, or of a kind Skiff cannot sign with. Skiff never replaces such a CA by itself, because every
 * kubeconfig, join token and node of the cluster trusts it; an operator must repair or remove it.
 */
export class InvalidCaError extends PkiError {
  override name = 'InvalidCaError';
  override readonly code = 'INVALID_CA';
  /** The directory holding the CA files. */
  readonly dir: string;
  constructor(dir: string, problem: string, options?: ErrorOptions) {
    super(`Cannot use the cluster CA in "${dir}": ${problem}`, options);
    this.dir = dir;
  }
}
