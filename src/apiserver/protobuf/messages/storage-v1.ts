/**
 * The messages of `k8s.io/api/storage/v1` (protobuf package `k8s.io.api.storage.v1`) that
 * Skiff decodes, transcribed from the `json` and `protobuf` struct tags and Go field types of
 * upstream's `types.go` (k8s.io/api v0.33). Field syntax: see `../schema.ts`.
 */
import type { MessageTable } from '../schema.ts';

/** `k8s.io/api/storage/v1`, referenced from other tables as `storagev1.Name`. */
export const storageV1: MessageTable = {
  StorageClass: `
    metadata=1:metav1.ObjectMeta provisioner=2:!string parameters=3:{string} reclaimPolicy=4:*string
    mountOptions=5:[]string allowVolumeExpansion=6:*bool volumeBindingMode=7:*string
    allowedTopologies=8:[]corev1.TopologySelectorTerm
  `,
};
