/** The one error the selector parsers throw. */

/**
 * A label or field selector that does not parse or names an invalid key, value or operator.
 * The message is upstream's (`unable to parse requirement: …`, `invalid selector: …`), so the
 * API edge can return it verbatim in a 400 `BadRequest` Status.
 */
export class SelectorError extends Error {
  override name = 'SelectorError';
  readonly code = 'SELECTOR_INVALID';
}
