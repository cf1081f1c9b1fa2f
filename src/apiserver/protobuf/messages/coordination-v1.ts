/**
 * The messages of `k8s.io/api/coordination/v1` (protobuf package `k8s.io.api.coordination.v1`) that
 * Skiff decodes, transcribed from the `json` and `protobuf` struct tags and Go field types of
 * upstream's `types.go` (k8s.io/api v0.33). Field syntax: see `../schema.ts`.
 */
import type { MessageTable } from '../schema.ts';

/** `k8s.io/api/coordination/v1`, referenced from other tables as `coordinationv1.Name`. */
export const coordinationV1: MessageTable = {
  Lease: 'metadata=1:metav1.ObjectMeta spec=2:LeaseSpec',
  LeaseSpec: `
    holderIdentity=1:*string leaseDurationSeconds=2:*int32 acquireTime=3:*MicroTime renewTime=4:*MicroTime
    leaseTransitions=5:*int32 strategy=6:*string preferredHolder=7:*string
  `,
};
