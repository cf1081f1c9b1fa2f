/** The one error the patch functions throw. */

/**
 * A patch that cannot be applied. `code` tells the API edge which Status to answer with, as
 * upstream's patch handler does: `PATCH_MALFORMED` (the patch itself is not a valid RFC 6902
 * document: 400 `BadRequest`) or `PATCH_NOT_APPLICABLE` (a valid patch that does not apply to
 * this object, such as a missing path or a failed `test`: 422 `Invalid`).
 */
export class PatchError extends Error {
  override name = 'PatchError';
  readonly code: 'PATCH_MALFORMED' | 'PATCH_NOT_APPLICABLE';
  constructor(message: string, options: { code?: 'PATCH_MALFORMED' | 'PATCH_NOT_APPLICABLE'; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code ?? 'PATCH_NOT_APPLICABLE';
  }
}
