/**
 * The messages of `k8s.io/api/scheduling/v1` (protobuf package `k8s.io.api.scheduling.v1`) that
 * Skiff decodes, transcribed from the `json` and `protobuf` struct tags and Go field types of
 * upstream's `types.go` (k8s.io/api v0.33). Field syntax: see `../schema.ts`.
 */
import type { MessageTable } from '../schema.ts';

/** `k8s.io/api/scheduling/v1`, referenced from other tables as `schedulingv1.Name`. */
export const schedulingV1: MessageTable = {
  PriorityClass: `
    metadata=1:metav1.ObjectMeta value=2:!int32 globalDefault=3:bool description=4:string
    preemptionPolicy=5:*string
  `,
};
