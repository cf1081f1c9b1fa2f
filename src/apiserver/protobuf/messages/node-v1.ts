/**
 * The messages of `k8s.io/api/node/v1` (protobuf package `k8s.io.api.node.v1`) that
 * Skiff decodes, transcribed from the `json` and `protobuf` struct tags and Go field types of
 * upstream's `types.go` (k8s.io/api v0.33). Field syntax: see `../schema.ts`.
 */
import type { MessageTable } from '../schema.ts';

/** `k8s.io/api/node/v1`, referenced from other tables as `nodev1.Name`. */
export const nodeV1: MessageTable = {
  Overhead: 'podFixed=1:{Quantity}',
  RuntimeClass: `
    metadata=1:metav1.ObjectMeta handler=2:!string overhead=3:*Overhead scheduling=4:*Scheduling
  `,
  Scheduling: 'nodeSelector=1:{string} tolerations=2:[]corev1.Toleration',
};
