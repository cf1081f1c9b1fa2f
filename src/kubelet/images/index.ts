/**
 * Images for the node agent: pulling from OCI distribution registries (tags, digests, indexes,
 * bearer/basic auth, pull secrets), a content-addressed store with layers unpacked once for
 * overlayfs, archive import, pull policy and garbage collection.
 */
export { garbageCollectImages, type ImageGcOptions, type ImageGcResult } from './image-gc.ts';
export {
  ImageService,
  isImageId,
  type Image,
  type ImageConfig,
  type ImageServiceOptions,
  type ImageSource,
  type LayerProgress,
  type PullOptions,
  type RemoveResult,
} from './image-service.ts';
export { DockerKeyring, parseDockerConfig, type PullSecret, type RegistryCredentials } from './docker-config.ts';
export * from './errors.ts';
export { defaultPullPolicy, shouldPull, type ImagePullPolicy } from './pull-policy.ts';
export { familiarName, formatReference, parseReference, type ImageReference } from './reference.ts';
export { RegistryClient, isLoopbackRegistry, type RegistryClientOptions, type RepositoryLocation } from './registry-client.ts';
export { sha256Digest } from './content-store.ts';
export { chainIds } from './layer-store.ts';
export { readTar, writeTar, type TarEntry, type TarHeader, type TarWriteEntry } from './tar.ts';
export * as mediaTypes from './media-types.ts';
export type { Descriptor, Index, Manifest, ImageConfigFile, Platform } from './media-types.ts';
