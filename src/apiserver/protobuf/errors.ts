/** Errors of protobuf body decoding. */

/**
 * Why a protobuf body could not be decoded:
 * - `BAD_MAGIC`: the body does not start with `k8s\0`, so it is not a Kubernetes protobuf object;
 * - `TRUNCATED`: a length, varint or fixed-size value runs past the end of its message;
 * - `MALFORMED`: the bytes are not valid protobuf for the message (bad tag, wrong wire type,
 *   invalid UTF-8, an `IntOrString` of unknown type, a `RawExtension` that is not JSON, …);
 * - `UNSUPPORTED_KIND`: the bytes are fine but Skiff has no message table for the object's
 *   apiVersion and kind.
 *
 * The API server answers `UNSUPPORTED_KIND` with 415 Unsupported Media Type (the client may
 * retry as JSON) and every other code with 400 Bad Request.
 */
export type ProtobufErrorCode = 'BAD_MAGIC' | 'TRUNCATED' | 'MALFORMED' | 'UNSUPPORTED_KIND';

/** A protobuf body that could not be decoded; `code` says why and stays stable. */
export class ProtobufError extends Error {
  override name = 'ProtobufError';
  readonly code: ProtobufErrorCode;
  constructor(code: ProtobufErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
