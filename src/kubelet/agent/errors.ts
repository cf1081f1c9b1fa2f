/**
 * Errors of the kubelet's pod workers. Each has a literal `name`, a stable `code` and, where it
 * maps to one, the container `reason` the pod status shows (`CreateContainerConfigError`, …).
 */

/** Base class of the agent's errors. */
export class KubeletError extends Error {
  override readonly name: string = 'KubeletError';
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/**
 * A container's configuration cannot be built (a missing ConfigMap key, `runAsNonRoot` with a
 * root user): the container waits with reason `CreateContainerConfigError`.
 */
export class ContainerConfigError extends KubeletError {
  override readonly name = 'ContainerConfigError';

  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_CREATE_CONTAINER_CONFIG', message, options);
  }
}

/** A volume could not be set up (event `FailedMount`); the pod's containers wait. */
export class VolumeError extends KubeletError {
  override readonly name = 'VolumeError';

  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_VOLUME', message, options);
  }
}
