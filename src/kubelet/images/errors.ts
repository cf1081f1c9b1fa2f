/**
 * Errors of the image service. Each has a literal `name`, a stable `code` and, where one exists,
 * the `cause`. Argument mistakes (a reference that does not parse, a bad option) are
 * `TypeError` / `RangeError` as elsewhere. The kubelet maps {@link ImagePullError} and its
 * subclasses to the `ErrImagePull` waiting reason, {@link InvalidImageNameError} to
 * `InvalidImageName` and {@link ImageNeverPullError} to `ErrImageNeverPull`.
 */

/** Base class of the image service's errors. */
export class ImageError extends Error {
  override readonly name: string = 'ImageError';
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** An image reference that does not parse (upstream's `InvalidImageName`). */
export class InvalidImageNameError extends ImageError {
  override readonly name = 'InvalidImageNameError';

  constructor(message: string) {
    super('ERR_INVALID_IMAGE_NAME', message);
  }
}

/** Pulling failed; the subclasses say why. */
export class ImagePullError extends ImageError {
  override readonly name: string = 'ImagePullError';

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** The registry could not be reached (connection refused, DNS, TLS, time-out). */
export class RegistryUnreachableError extends ImagePullError {
  override readonly name = 'RegistryUnreachableError';

  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_REGISTRY_UNREACHABLE', message, options);
  }
}

/** The registry refused the credentials, or asked for credentials that were not given. */
export class RegistryAuthError extends ImagePullError {
  override readonly name = 'RegistryAuthError';

  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_REGISTRY_AUTH', message, options);
  }
}

/** The registry has no such repository, tag or digest (HTTP 404 / MANIFEST_UNKNOWN). */
export class ManifestNotFoundError extends ImagePullError {
  override readonly name = 'ManifestNotFoundError';

  constructor(message: string) {
    super('ERR_MANIFEST_NOT_FOUND', message);
  }
}

/** Any other unexpected answer from the registry (status code, media type, malformed JSON). */
export class RegistryResponseError extends ImagePullError {
  override readonly name = 'RegistryResponseError';
  /** The HTTP status, when the error came from one. */
  readonly status: number | undefined;

  constructor(message: string, options?: { status?: number; cause?: unknown }) {
    super('ERR_REGISTRY_RESPONSE', message, { cause: options?.cause });
    this.status = options?.status;
  }
}

/** Content whose sha256 (or size) is not what its descriptor says. Nothing is stored. */
export class DigestMismatchError extends ImagePullError {
  override readonly name = 'DigestMismatchError';
  readonly expected: string;
  readonly actual: string;

  constructor(what: string, expected: string, actual: string) {
    super('ERR_DIGEST_MISMATCH', `${what}: content has digest ${actual}, expected ${expected}; refused and not stored`);
    this.expected = expected;
    this.actual = actual;
  }
}

/** An image index with no manifest for the wanted platform. */
export class PlatformNotFoundError extends ImagePullError {
  override readonly name = 'PlatformNotFoundError';

  constructor(message: string) {
    super('ERR_PLATFORM_NOT_FOUND', message);
  }
}

/** A layer archive that cannot be applied (corrupt tar, path escaping the layer, bad compression). */
export class LayerUnpackError extends ImageError {
  override readonly name = 'LayerUnpackError';

  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_LAYER_UNPACK', message, options);
  }
}

/** An image archive (`skiff image import`) that is neither a valid OCI layout nor a `docker save` tar. */
export class ImageArchiveError extends ImageError {
  override readonly name = 'ImageArchiveError';

  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_IMAGE_ARCHIVE', message, options);
  }
}

/** No image in the store matches the reference or id. */
export class ImageNotFoundError extends ImageError {
  override readonly name = 'ImageNotFoundError';

  constructor(ref: string) {
    super('ERR_IMAGE_NOT_FOUND', `image "${ref}" not found in the image store`);
  }
}

/** `imagePullPolicy: Never` and the image is not present (upstream's `ErrImageNeverPull`). */
export class ImageNeverPullError extends ImageError {
  override readonly name = 'ImageNeverPullError';

  constructor(ref: string) {
    super('ERR_IMAGE_NEVER_PULL', `container image "${ref}" is not present with pull policy of Never`);
  }
}

/** Removing an image that a container still uses. */
export class ImageInUseError extends ImageError {
  override readonly name = 'ImageInUseError';

  constructor(ref: string) {
    super('ERR_IMAGE_IN_USE', `image "${ref}" is in use by a container`);
  }
}
