/**
 * `imagePullPolicy` as upstream: the API server's defaulting (`Always` for a `:latest` or untagged
 * image, `IfNotPresent` otherwise — a digest counts as a tag) and the kubelet's decision to pull.
 */
import { ImageNeverPullError } from './errors.ts';

/** The three policies of `container.imagePullPolicy`. */
export type ImagePullPolicy = 'Always' | 'IfNotPresent' | 'Never';

/** The default policy for an image, as upstream's `SetDefaults_Container`. */
export function defaultPullPolicy(image: string): ImagePullPolicy {
  // Upstream looks only at the last path segment: a `:` there is a tag (or `@` a digest).
  const last = image.slice(image.lastIndexOf('/') + 1);
  if (image.includes('@')) return 'IfNotPresent';
  const colon = last.lastIndexOf(':');
  if (colon === -1) return 'Always';
  return last.slice(colon + 1) === 'latest' ? 'Always' : 'IfNotPresent';
}

/**
 * Whether the kubelet must pull: always for `Always`, when absent for `IfNotPresent` (or no
 * policy); `Never` with the image absent throws.
 * @throws ImageNeverPullError
 */
export function shouldPull(policy: ImagePullPolicy | undefined, image: string, present: boolean): boolean {
  switch (policy ?? defaultPullPolicy(image)) {
    case 'Always':
      return true;
    case 'Never':
      if (!present) throw new ImageNeverPullError(image);
      return false;
    default:
      return !present;
  }
}
